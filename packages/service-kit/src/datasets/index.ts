export {
  type DataYamlResult,
  labelFolderFor,
  parseDataYaml,
  type YoloConfig,
  type YoloSplit,
} from './yoloDataYaml.ts';

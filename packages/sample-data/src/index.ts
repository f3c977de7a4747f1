export type {
  CommonOptions,
  DatasetEntry,
  SampleDataset,
  SampleDatasetFormat,
  Split,
} from './dataset.ts';
export { writeDirectory } from './directory.ts';
export type { ImagefolderOptions } from './imagefolder.ts';
export { generateImagefolder } from './imagefolder.ts';
export type { Rgb, RgbImage } from './png.ts';
export { createImage, encodePng, getPixel, setPixel } from './png.ts';
export type { Random } from './random.ts';
export { createRandom } from './random.ts';
export type { ClassStyle, DrawnShape, PixelBox, Shape, ShapeKind } from './scene.ts';
export { CLASS_PALETTE, renderScene } from './scene.ts';
export type { YoloOptions } from './yolo.ts';
export { generateYolo } from './yolo.ts';
export { writeZip, zipBuffer } from './zip.ts';

export {
  createS3Client,
  ensureBucket,
  formatS3Uri,
  parseS3Uri,
  type S3Location,
  type S3Settings,
} from './client.ts';
export { type EmbeddedS3, startEmbeddedS3 } from './embedded.ts';
export { type PresignedUrl, type PresignRequest, presignObjectUrl } from './presign.ts';

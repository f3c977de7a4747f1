// The platform's API client for browsers and Node: fetch and web streams only (Node-only helpers: `./node`).

export type { Middleware } from 'openapi-fetch';
export {
  type ArtifactDownload,
  createVtpClient,
  unwrap,
  type VtpClient,
  type VtpClientOptions,
} from './client.ts';
export type { FollowOptions } from './follow.ts';
export type { components, paths } from './generated/backend.ts';
export { describeProblem, VtpApiError } from './problem.ts';
export * from './types.ts';
export type { DatasetUpload, UploadProgress } from './upload.ts';

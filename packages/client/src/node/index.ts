// Node-only helpers of `@vtp/client`: datasets read (or zipped) from disk, artifacts written to disk.
import type { VtpClient } from '../client.ts';
import type { Dataset, DatasetFormat } from '../types.ts';
import type { UploadProgress } from '../upload.ts';
import { openDatasetSource } from './datasetSource.ts';

export {
  type DatasetSource,
  EmptyDatasetFolderError,
  openDatasetSource,
  zipDirectory,
} from './datasetSource.ts';
export { type DownloadedArtifact, downloadArtifactToFile } from './downloadToFile.ts';

/** Uploads a `.zip` file, or a folder zipped on the fly, streamed from disk with progress. */
export async function uploadDatasetFrom(
  vtp: VtpClient,
  path: string,
  options: {
    name: string;
    format: DatasetFormat;
    onProgress?: (progress: UploadProgress) => void;
    signal?: AbortSignal;
  },
): Promise<Dataset> {
  const source = await openDatasetSource(path);
  return vtp.uploadDataset({
    ...options,
    file: source.stream,
    size: source.size,
    filename: source.filename,
  });
}

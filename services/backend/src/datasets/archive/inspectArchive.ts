import type { DatasetFormat, ImageCounts } from '@vtp/shared-schemas';
import type { ZipFile } from 'yauzl';
import { archiveError } from './archiveError.ts';
import { readCentralDirectory } from './centralDirectory.ts';
import { datasetTree, findDatasetRoot } from './datasetTree.ts';
import { IMAGEFOLDER_TOP_FOLDERS, inspectImageFolder } from './imageFolder.ts';
import { type ArchiveLimits, DEFAULT_ARCHIVE_LIMITS } from './limits.ts';
import { inspectYolo, YOLO_TOP_FOLDERS } from './yolo.ts';

export interface DatasetSummary {
  /** Where the dataset sits inside the archive: '' or the one wrapping folder, with its slash ('mydata/'). */
  root: string;
  classNames: string[];
  imageCounts: ImageCounts;
}

/**
 * Checks that `zip` (from openZipFromS3 / openZipFromBuffer) is a safe, reasonably sized dataset of `format`
 * and summarises it. The central directory is checked whole before any content is read; then only data.yaml
 * and YOLO label files are read, never images. Closes `zip`.
 *
 * Throws InputError (422) with `issues` naming each file: `invalid_archive`, `unsafe_archive`,
 * `archive_too_large` or `invalid_dataset`; a storage failure propagates as ArchiveSourceError.
 */
export async function inspectArchive(
  zip: ZipFile,
  format: DatasetFormat,
  limits: ArchiveLimits = DEFAULT_ARCHIVE_LIMITS,
): Promise<DatasetSummary> {
  try {
    const listing = await readCentralDirectory(zip, limits);
    const root = findDatasetRoot(listing, format === 'yolo' ? YOLO_TOP_FOLDERS : IMAGEFOLDER_TOP_FOLDERS);
    const tree = datasetTree(zip, listing, root);
    const summary = format === 'yolo' ? await inspectYolo(tree, limits) : inspectImageFolder(tree);
    if (summary.classNames.length > limits.maxClasses) {
      throw archiveError('invalid_dataset', 'The dataset has too many classes', [
        {
          path: root + (format === 'yolo' ? 'data.yaml' : 'train/'),
          message: `has ${summary.classNames.length} classes, above the limit of ${limits.maxClasses}`,
        },
      ]);
    }
    return { root, ...summary };
  } finally {
    zip.close();
  }
}

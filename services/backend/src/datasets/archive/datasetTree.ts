import type { ZipFile } from 'yauzl';
import type { ArchiveListing } from './centralDirectory.ts';
import { readEntry } from './readEntry.ts';

/** The dataset's files relative to its root folder, which format checks walk without caring about wrapping. */
export interface DatasetTree {
  /** '' or the one folder wrapping everything, with its slash ('mydata/'). */
  root: string;
  /** Relative file path -> declared uncompressed size, in central-directory order (usually storage order). */
  files: ReadonlyMap<string, number>;
  /** Relative folders that have their own entry, with a trailing slash. */
  folders: ReadonlySet<string>;
  /** Reads a .txt/.yaml/.yml file whole, at most `maxBytes`. */
  read(relativePath: string, maxBytes: number): Promise<Buffer>;
}

/**
 * Zipping a folder (Finder, Explorer, `zip -r mydata.zip mydata`) wraps everything in it. A single top-level
 * folder is taken as that wrapper unless its name is one the format itself puts at the top (`images/` for
 * YOLO, `train/` for imagefolder), where it is the dataset's own structure with parts missing.
 */
export function findDatasetRoot(listing: ArchiveListing, formatTopFolders: readonly string[]): string {
  const paths = [...listing.files.keys(), ...listing.folders];
  const first = paths[0];
  if (first === undefined || !first.includes('/')) return '';
  const root = first.slice(0, first.indexOf('/') + 1);
  if (formatTopFolders.includes(root.slice(0, -1))) return '';
  return paths.every((path) => path.startsWith(root)) ? root : '';
}

export function datasetTree(zip: ZipFile, listing: ArchiveListing, root: string): DatasetTree {
  const files = new Map<string, number>();
  for (const [path, size] of listing.files) files.set(path.slice(root.length), size);
  const folders = new Set<string>();
  for (const folder of listing.folders) if (folder !== root) folders.add(folder.slice(root.length));
  return {
    root,
    files,
    folders,
    read(relativePath, maxBytes) {
      const path = root + relativePath;
      const entry = listing.textEntries.get(path);
      if (!entry) throw new Error(`${path} is not a text entry of this archive`);
      return readEntry(zip, entry, path, maxBytes);
    },
  };
}

import { readdir } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * Zipping a folder (Finder, Explorer, `zip -r mydata.zip mydata`) wraps everything in it. A lone top-level
 * folder is taken as that wrapper unless its name is one the format itself puts at the top (`images` for YOLO,
 * `train` for imagefolder): the same rule the backend applied when it accepted the upload.
 */
export async function findDatasetRoot(
  extracted: string,
  formatTopFolders: readonly string[],
): Promise<string> {
  const top = await readdir(extracted, { withFileTypes: true });
  const only = top[0];
  if (top.length !== 1 || !only?.isDirectory() || formatTopFolders.includes(only.name)) return extracted;
  return join(extracted, only.name);
}

// The entry-safety and junk rules are shared with the trainers, which extract what the backend accepted.
export { isJunk, unsafeEntryFault } from '@vtp/service-kit/zip';

const IMAGE_EXTENSION = /\.(jpe?g|png|bmp|webp)$/i;
export const IMAGE_EXTENSIONS_TEXT = '.jpg, .jpeg, .png, .bmp or .webp';

export function isImage(path: string): boolean {
  return IMAGE_EXTENSION.test(path);
}

/** The path without its extension: what pairs an image with its YOLO label. */
export function stem(path: string): string {
  const dot = path.lastIndexOf('.');
  return dot > path.lastIndexOf('/') ? path.slice(0, dot) : path;
}

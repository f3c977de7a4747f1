import { crc32, deflateRawSync } from 'node:zlib';
import { ZipFile } from 'yazl';

/** Test support: zips built by yazl (a real archiver) and, for names yazl refuses, written byte by byte. */

/** path -> content; `null` adds a folder entry. */
export type ZipContent = Record<string, string | Buffer | null>;

export async function buildZip(content: ZipContent): Promise<Buffer> {
  const zip = new ZipFile();
  for (const [path, data] of Object.entries(content)) {
    if (data === null) zip.addEmptyDirectory(path);
    else zip.addBuffer(Buffer.from(data), path);
  }
  zip.end();
  const chunks: Buffer[] = [];
  for await (const chunk of zip.outputStream as AsyncIterable<Buffer>) chunks.push(chunk);
  return Buffer.concat(chunks);
}

export interface CraftedEntry {
  name: string;
  data?: string;
  deflate?: boolean;
  /** Uncompressed size written in the headers, when it should lie. */
  declaredSize?: number;
  /** Unix mode in the external attributes (e.g. 0o120777 for a symlink). */
  unixMode?: number;
  encrypted?: boolean;
}

/** A minimal zip (local headers, central directory, end record) that writes whatever names it is given. */
export function craftZip(entries: CraftedEntry[]): Buffer {
  const parts: Buffer[] = [];
  const directory: Buffer[] = [];
  let offset = 0;
  for (const entry of entries) {
    const name = Buffer.from(entry.name);
    const raw = Buffer.from(entry.data ?? '');
    const body = entry.deflate ? deflateRawSync(raw) : raw;
    const flags = 0x800 | (entry.encrypted ? 1 : 0);
    const fields = [flags, entry.deflate ? 8 : 0, 0, 0] as const; // flags, method, time, date
    const sizes = [crc32(raw), body.length, entry.declaredSize ?? raw.length] as const;

    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    writeAll(local, 6, fields, 2);
    writeAll(local, 14, sizes, 4);
    local.writeUInt16LE(name.length, 26);

    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE((3 << 8) | 20, 4); // made by Unix, so the mode bits count
    central.writeUInt16LE(20, 6);
    writeAll(central, 8, fields, 2);
    writeAll(central, 16, sizes, 4);
    central.writeUInt16LE(name.length, 28);
    central.writeUInt32LE(((entry.unixMode ?? 0o100644) << 16) >>> 0, 38);
    central.writeUInt32LE(offset, 42);

    parts.push(local, name, body);
    directory.push(central, name);
    offset += local.length + name.length + body.length;
  }
  const centralDirectory = Buffer.concat(directory);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(entries.length, 8);
  end.writeUInt16LE(entries.length, 10);
  end.writeUInt32LE(centralDirectory.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...parts, centralDirectory, end]);
}

function writeAll(buffer: Buffer, at: number, values: readonly number[], width: 2 | 4): void {
  for (const [i, value] of values.entries()) buffer.writeUIntLE(value, at + i * width, width);
}

/** Bytes that stand in for an image: the inspector judges images by name and never decodes them. */
export const IMAGE = Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10, 0x4a, 0x46, 0x49, 0x46]);

/** A valid YOLO dataset: two classes, a background image in train, one image in val. */
export function yoloDataset(overrides: ZipContent = {}): ZipContent {
  return {
    'data.yaml': 'names: [cat, dog]\n',
    'images/train/a.jpg': IMAGE,
    'images/train/b.PNG': IMAGE,
    'images/val/c.jpg': IMAGE,
    'labels/train/a.txt': '0 0.5 0.5 0.2 0.2\n1 0.1 0.1 0.05 0.05\n',
    'labels/val/c.txt': '1 0.3 0.3 0.1 0.1\n',
    ...overrides,
  };
}

/** A valid imagefolder dataset: classes cat and dog, val holding only dog. */
export function imageFolderDataset(overrides: ZipContent = {}): ZipContent {
  return {
    'train/dog/1.jpg': IMAGE,
    'train/cat/1.jpg': IMAGE,
    'train/cat/2.png': IMAGE,
    'val/dog/3.jpg': IMAGE,
    ...overrides,
  };
}

/** Prefixes every path, as zipping a folder does. */
export function wrapped(folder: string, content: ZipContent): ZipContent {
  return Object.fromEntries(Object.entries(content).map(([path, data]) => [`${folder}/${path}`, data]));
}

import { Transform } from 'node:stream';

/** Bytes of a file's start that tell the formats apart. */
const HEAD_BYTES = 9;

/**
 * Whether a file of `bytes` bytes starting with `head` can be a PyTorch file (torch.save's zip, or its legacy
 * pickle) or a .safetensors file (the 8-byte little-endian length of its JSON header, which opens with '{'). Only
 * a cheap filter, so that junk is refused without starting Python: the trainer's check_weights.py reads the file
 * itself and has the last word.
 */
export function looksLikeWeights(head: Buffer, bytes: number): boolean {
  if (head.subarray(0, 4).equals(Buffer.from('PK\x03\x04', 'latin1'))) return true;
  if (head[0] === 0x80) return true;
  if (head.length < HEAD_BYTES || head[8] !== 0x7b) return false;
  const headerBytes = head.readBigUInt64LE(0);
  return headerBytes > 0n && headerBytes <= BigInt(bytes - 8);
}

/** A pass-through that keeps the first bytes of what flows through it. */
export function headTap(): { tap: Transform; head: () => Buffer } {
  let head = Buffer.alloc(0);
  const tap = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      if (head.length < HEAD_BYTES) head = Buffer.concat([head, chunk]).subarray(0, HEAD_BYTES);
      done(null, chunk);
    },
  });
  return { tap, head: () => head };
}

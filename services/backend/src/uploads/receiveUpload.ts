import { createHash } from 'node:crypto';
import { PassThrough, pipeline, Transform } from 'node:stream';
import {
  BadRequestError,
  InputError,
  PayloadTooLargeError,
  parseInput,
  UnsupportedMediaTypeError,
} from '@vtp/service-kit';
import { UploadSize } from '@vtp/shared-schemas';
import busboy from 'busboy';
import type { Request } from 'express';

export interface ReceivedUpload {
  fields: Record<string, string>;
  bytes: number;
  sha256: string;
  filename: string;
}

/** What is uploaded, for the messages a refused upload gets. */
export interface UploadShape {
  /** 'dataset', 'weights file'. */
  what: string;
  /** The form fields besides `file`, as the message lists them: '`name` and `format`'. */
  fields: string;
  /** What `file` must hold: 'the dataset as a .zip'. */
  file: string;
  maxBytes: number;
}

/**
 * Reads a multipart upload, handing its one `file` part to `store` as a stream while counting and hashing it,
 * so the file is never held whole. Rejects a second file, a missing file and anything past `maxBytes`.
 * A `size` field sent before the file is handed to `store` too (it can then write the object in one request),
 * and the file must hold exactly that many bytes: the stream fails the moment it cannot.
 * `store` has already written what it could when this throws: the caller cleans up.
 */
export function receiveUpload(
  req: Request,
  shape: UploadShape,
  store: (body: PassThrough, bytes: number | undefined) => Promise<void>,
): Promise<ReceivedUpload> {
  if (!req.is('multipart/form-data')) {
    return Promise.reject(
      new UnsupportedMediaTypeError(
        `Upload the ${shape.what} as multipart/form-data with fields ${shape.fields} and \`file\``,
      ),
    );
  }
  const { maxBytes } = shape;
  const tooLargeError = () =>
    new PayloadTooLargeError(
      `The ${shape.what} is larger than the ${maxBytes}-byte limit`,
      'upload_too_large',
    );
  return new Promise((resolve, reject) => {
    const fields: Record<string, string> = {};
    let stored: Promise<void> | undefined;
    let file: { bytes: number; hash: ReturnType<typeof createHash>; filename: string } | undefined;
    let tooLarge = false;
    /** The file is not the size its `size` field declared (the stream was stopped for it). */
    let wrongSize: InputError | undefined;
    let failed = false;
    const fail = (err: Error) => {
      if (failed) return;
      failed = true;
      req.unpipe(parser);
      req.resume();
      // The store must settle before the caller cleans up what it wrote.
      void (stored ?? Promise.resolve()).catch(() => undefined).then(() => reject(err));
    };

    let parser: busboy.Busboy;
    try {
      parser = busboy({
        headers: req.headers,
        limits: { files: 1, fileSize: maxBytes, fields: 20, fieldSize: 10_000 },
      });
    } catch (err) {
      // A content type busboy cannot parse, such as multipart without a boundary.
      reject(
        new BadRequestError(`Malformed multipart body: ${(err as Error).message}`, 'malformed_multipart'),
      );
      return;
    }
    parser.on('field', (name, value) => {
      fields[name] = value;
    });
    parser.on('file', (name, stream, info) => {
      if (name !== 'file') {
        stream.resume();
        fail(
          new InputError(`Unexpected file field "${name}"`, [
            { path: `body.${name}`, message: 'only `file` may carry a file' },
          ]),
        );
        return;
      }
      let declared: number | undefined;
      try {
        declared = declaredSize(fields);
      } catch (err) {
        stream.resume();
        fail(err as Error);
        return;
      }
      if (declared !== undefined && declared > maxBytes) {
        stream.resume();
        tooLarge = true;
        fail(tooLargeError());
        return;
      }
      const current = { bytes: 0, hash: createHash('sha256'), filename: info.filename ?? '' };
      file = current;
      const meter = new Transform({
        transform(chunk: Buffer, _enc, done) {
          current.bytes += chunk.length;
          current.hash.update(chunk);
          if (declared !== undefined && current.bytes > declared) {
            wrongSize = sizeMismatch(declared, `more than ${declared}`);
            done(wrongSize);
            return;
          }
          done(null, chunk);
        },
        flush(done) {
          // A short file must fail before its end reaches the store: an object request of a declared length
          // would wait for the missing bytes.
          if (declared !== undefined && current.bytes !== declared)
            wrongSize = sizeMismatch(declared, String(current.bytes));
          done(wrongSize);
        },
      });
      stream.on('limit', () => {
        tooLarge = true;
        meter.destroy(tooLargeError());
      });
      const body = new PassThrough();
      // A body cut short fails the file stream too ("Unexpected end of form"): pipeline hands every stream's
      // error to `body`, so the store stops, and the parser's own error event names the fault.
      pipeline(stream, meter, body, () => undefined);
      stored = store(body, declared);
      stored.catch((err: Error) => fail(tooLarge ? tooLargeError() : (wrongSize ?? err)));
    });
    parser.on('filesLimit', () =>
      fail(
        new InputError('Upload exactly one file', [
          { path: 'body.file', message: 'more than one file sent' },
        ]),
      ),
    );
    parser.on('error', (err: Error) =>
      fail(new BadRequestError(`Malformed multipart body: ${err.message}`, 'malformed_multipart')),
    );
    parser.on('close', () => {
      if (failed) return;
      if (!file || !stored) {
        fail(
          new InputError(`No ${shape.what} in the upload`, [
            { path: 'body.file', message: `required: ${shape.file}` },
          ]),
        );
        return;
      }
      const done = file;
      stored.then(
        () => {
          if (failed) return;
          // A `size` sent after the file could not steer the store, but must be true all the same.
          const declared = declaredSize(fields);
          if (declared !== undefined && declared !== done.bytes) {
            fail(sizeMismatch(declared, String(done.bytes)));
            return;
          }
          resolve({ fields, bytes: done.bytes, sha256: done.hash.digest('hex'), filename: done.filename });
        },
        () => undefined,
      );
    });
    req.on('aborted', () => fail(new BadRequestError('The upload was interrupted', 'upload_aborted')));
    req.pipe(parser);
  });
}

/** The `size` field, when the upload sent one. */
function declaredSize(fields: Record<string, string>): number | undefined {
  if (fields.size === undefined) return undefined;
  return parseInput(UploadSize, fields.size, 'body.size');
}

function sizeMismatch(declared: number, held: string): InputError {
  return new InputError(`The file holds ${held} bytes, not the ${declared} its \`size\` field declared`, [
    { path: 'body.file', message: `holds ${held} bytes; \`size\` said ${declared}` },
  ]);
}

/**
 * Runs `work` (bounded by its own time limit) after an upload's body has arrived, with the connection's idle
 * timeout off meanwhile: nothing moves on the socket while the server works, and the client is not stalled.
 */
export async function whileConnectionQuiet<T>(req: Request, work: () => Promise<T>): Promise<T> {
  const idleMs = req.socket.timeout ?? 0;
  req.socket.setTimeout(0);
  try {
    return await work();
  } finally {
    if (!req.socket.destroyed) req.socket.setTimeout(idleMs);
  }
}

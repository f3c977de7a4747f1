import type { DatasetFormat } from './types.ts';

const SLICE_BYTES = 64 * 1024;

/** How much of an upload has been sent; `total` is unknown for a stream of unknown length. */
export interface UploadProgress {
  loaded: number;
  total: number | undefined;
}

/** A dataset to upload: `POST /v1/datasets`. */
export interface DatasetUpload {
  name: string;
  format: DatasetFormat;
  /** The .zip: a Blob or File, or a stream (from `@vtp/client/node`: a file, or a folder zipped on the fly). */
  file: Blob | ReadableStream<Uint8Array>;
  /** The stream's length in bytes when known (a Blob knows its own): the progress `total`. */
  size?: number | undefined;
  /** The file name the server is told (default `dataset.zip`). */
  filename?: string | undefined;
  onProgress?: ((progress: UploadProgress) => void) | undefined;
  signal?: AbortSignal | undefined;
}

/** What came back, read whole: the caller parses it (a dataset, or a problem). */
export interface RawAnswer {
  status: number;
  statusText: string;
  text: string;
}

/**
 * Sends the multipart upload. Browsers stream a request body only over HTTP/2, so there a Blob goes through
 * XMLHttpRequest, whose upload events give the progress; elsewhere (Node) the body is streamed with fetch,
 * counted as fetch pulls it, so a large file is never held in memory.
 */
export function sendUpload(url: string, headers: Record<string, string>, upload: DatasetUpload) {
  const Xhr = (globalThis as { XMLHttpRequest?: new () => Xhr }).XMLHttpRequest;
  if (upload.file instanceof Blob && Xhr) return sendWithXhr(Xhr, url, headers, upload, upload.file);
  return sendWithFetch(url, headers, upload);
}

/** What the upload uses of a browser's XMLHttpRequest (declared here: Node programs type-check without DOM). */
interface Xhr {
  open(method: string, url: string): void;
  setRequestHeader(name: string, value: string): void;
  send(body: FormData): void;
  abort(): void;
  upload: { onprogress: ((e: { loaded: number; total: number; lengthComputable: boolean }) => void) | null };
  onload: (() => void) | null;
  onerror: (() => void) | null;
  onabort: (() => void) | null;
  readonly status: number;
  readonly statusText: string;
  readonly responseText: string;
}

function sendWithXhr(
  Xhr: new () => Xhr,
  url: string,
  headers: Record<string, string>,
  upload: DatasetUpload,
  file: Blob,
): Promise<RawAnswer> {
  const form = new FormData();
  form.set('name', upload.name);
  form.set('format', upload.format);
  // Its length before the file: the server streams it to storage in one request.
  form.set('size', String(file.size));
  form.set('file', file, upload.filename ?? 'dataset.zip');
  return new Promise((resolve, reject) => {
    const xhr = new Xhr();
    xhr.open('POST', url);
    for (const [name, value] of Object.entries(headers)) xhr.setRequestHeader(name, value);
    xhr.upload.onprogress = (e) =>
      upload.onProgress?.({ loaded: e.loaded, total: e.lengthComputable ? e.total : file.size });
    xhr.onload = () => resolve({ status: xhr.status, statusText: xhr.statusText, text: xhr.responseText });
    xhr.onerror = () => reject(new TypeError(`upload to ${url} failed: network error`));
    xhr.onabort = () => reject(upload.signal?.reason ?? new DOMException('aborted', 'AbortError'));
    upload.signal?.addEventListener('abort', () => xhr.abort(), { once: true });
    xhr.send(form);
  });
}

async function sendWithFetch(
  url: string,
  headers: Record<string, string>,
  upload: DatasetUpload,
): Promise<RawAnswer> {
  const boundary = `vtp-${crypto.randomUUID()}`;
  const encoder = new TextEncoder();
  const filename = (upload.filename ?? 'dataset.zip').replace(/["\r\n]/g, '_');
  const field = (name: string, value: string) =>
    `--${boundary}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`;
  const total = upload.file instanceof Blob ? upload.file.size : upload.size;
  // A known length goes before the file: the server streams it to storage in one request.
  const size = total === undefined ? '' : field('size', String(total));
  const head = encoder.encode(
    `${field('name', upload.name)}${field('format', upload.format)}${size}--${boundary}\r\n` +
      `Content-Disposition: form-data; name="file"; filename="${filename}"\r\nContent-Type: application/zip\r\n\r\n`,
  );
  const tail = encoder.encode(`\r\n--${boundary}--\r\n`);
  const reader = (upload.file instanceof Blob ? upload.file.stream() : upload.file).getReader();
  let loaded = 0;
  let sentHead = false;
  // A Blob may hand over its bytes in one piece: sent in slices, so progress moves as they go out.
  let pending: Uint8Array = new Uint8Array(0);
  const body = new ReadableStream<Uint8Array>({
    async pull(controller) {
      if (!sentHead) {
        sentHead = true;
        controller.enqueue(head);
        return;
      }
      if (pending.byteLength === 0) {
        const { done, value } = await reader.read();
        if (done) {
          controller.enqueue(tail);
          controller.close();
          return;
        }
        pending = value;
      }
      const slice = pending.subarray(0, SLICE_BYTES);
      pending = pending.subarray(slice.byteLength);
      loaded += slice.byteLength;
      controller.enqueue(slice);
      upload.onProgress?.({ loaded, total });
    },
    cancel: (reason) => reader.cancel(reason),
  });
  const response = await fetch(url, {
    method: 'POST',
    headers: { ...headers, 'content-type': `multipart/form-data; boundary=${boundary}` },
    body,
    duplex: 'half',
    signal: upload.signal ?? null,
  } as RequestInit);
  return { status: response.status, statusText: response.statusText, text: await response.text() };
}

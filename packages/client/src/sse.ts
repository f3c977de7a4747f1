import { type EventSourceMessage, EventSourceParserStream } from 'eventsource-parser/stream';

/** The messages of a Server-Sent Events body; `onRetry` hears the server's reconnection delay. */
export async function* readSse(
  body: ReadableStream<Uint8Array>,
  onRetry: (ms: number) => void,
): AsyncGenerator<EventSourceMessage> {
  const messages = body
    .pipeThrough(new TextDecoderStream() as TransformStream<Uint8Array, string>)
    .pipeThrough(new EventSourceParserStream({ onRetry }));
  const reader = messages.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      yield value;
    }
  } finally {
    // An early exit (the job ended, the caller stopped) must close the connection.
    await reader.cancel().catch(() => undefined);
  }
}

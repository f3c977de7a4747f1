import { describe, expect, it } from 'vitest';
import { LineSplitter, parseRunnerLine } from './protocol.ts';

const epochLine = JSON.stringify({ type: 'epoch', epoch: 1, totalEpochs: 2, metrics: { 'train/loss': 0.5 } });

describe('LineSplitter', () => {
  it('joins a line split across chunks, wherever the cut falls', () => {
    const whole = `${epochLine}\n{"type":"started","totalEpochs":2}\n`;
    for (let cut = 1; cut < whole.length; cut++) {
      const lines = new LineSplitter();
      const got = [
        ...lines.push(Buffer.from(whole.slice(0, cut))),
        ...lines.push(Buffer.from(whole.slice(cut))),
        ...lines.end(),
      ];
      expect(got).toEqual([epochLine, '{"type":"started","totalEpochs":2}']);
    }
  });

  it('keeps a multi-byte character whole when a chunk ends inside it', () => {
    const bytes = Buffer.from('classe: café ☕\n');
    const cut = bytes.indexOf(Buffer.from('☕')) + 1;
    const lines = new LineSplitter();
    expect([...lines.push(bytes.subarray(0, cut)), ...lines.push(bytes.subarray(cut))]).toEqual([
      'classe: café ☕',
    ]);
  });

  it('gives the last line when the stream ends without a newline, and drops blank and CR endings', () => {
    const lines = new LineSplitter();
    expect(lines.push(Buffer.from('a\r\n\n   \nb'))).toEqual(['a']);
    expect(lines.end()).toEqual(['b']);
  });

  it('cuts a line that never ends instead of growing without bound', () => {
    const lines = new LineSplitter(10);
    expect(lines.push(Buffer.from('x'.repeat(25)))).toEqual(['x'.repeat(10), 'x'.repeat(10)]);
    expect(lines.end()).toEqual(['x'.repeat(5)]);
  });
});

describe('parseRunnerLine', () => {
  it('parses each protocol event', () => {
    expect(parseRunnerLine(epochLine)).toEqual({
      type: 'epoch',
      epoch: 1,
      totalEpochs: 2,
      metrics: { 'train/loss': 0.5 },
    });
    expect(
      parseRunnerLine('{"type":"error","code":"out_of_memory","message":"CUDA out of memory"}'),
    ).toMatchObject({
      type: 'error',
      code: 'out_of_memory',
    });
    const snapshot = {
      kind: 'last',
      path: '/o/snapshots/3.last.last.pt',
      sha256: 'f'.repeat(64),
      bytes: 9,
      epoch: 3,
    };
    expect(
      parseRunnerLine(JSON.stringify({ type: 'checkpoint', epoch: 3, files: [snapshot] })),
    ).toMatchObject({
      type: 'checkpoint',
      epoch: 3,
    });
    // A file named without its snapshot's digest is not a checkpoint the trainer may upload.
    expect(
      parseRunnerLine(
        '{"type":"checkpoint","epoch":3,"files":[{"kind":"last","path":"/o/weights/last.pt"}]}',
      ),
    ).toMatchObject({ type: 'stray' });
  });

  it('turns junk into stray log lines instead of failing', () => {
    for (const junk of [
      'Ultralytics 8.4 🚀 Python-3.11',
      '{"type": "epoch", "partial',
      '{"type":"epoch","epoch":0,"totalEpochs":2,"metrics":{}}', // epochs are 1-based
      '{"type":"warp-drive"}',
      '[1, 2, 3]',
      'null',
    ]) {
      expect(parseRunnerLine(junk)).toEqual({ type: 'stray', line: junk });
    }
  });
});

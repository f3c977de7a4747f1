import { describe, expect, it } from 'vitest';
import { OutputLines } from './outputLines.ts';

describe('OutputLines', () => {
  it('joins lines split across chunks and keeps only the final state of a redrawn progress bar', () => {
    const lines: string[] = [];
    const output = new OutputLines((line) => lines.push(line));
    output.write('Epoch 1/2: 10%\rEpoch 1/2: 5');
    output.write('0%\rEpoch 1/2: 100% loss 0.5\nval ');
    output.write('top1 0.9\n\n   \n');
    output.write('no newline at the end');
    output.end();
    expect(lines).toEqual(['Epoch 1/2: 100% loss 0.5', 'val top1 0.9', 'no newline at the end']);
  });

  it('cuts a very long line', () => {
    const lines: string[] = [];
    const output = new OutputLines((line) => lines.push(line));
    output.write(`${'x'.repeat(5000)}\n`);
    expect(lines[0]).toHaveLength(2001);
  });
});

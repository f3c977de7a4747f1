import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '../../../packages/trainer-runtime/src/paths.ts';
import { resolvePython } from '../../../packages/trainer-runtime/src/python-env/index.ts';

const run = promisify(execFile);

/**
 * Ultralytics' AMP check compares FP32 and AMP inference of yolo26n.pt, which it downloads when missing. On CUDA
 * the runner keeps AMP on without that download. A model on PyTorch's `meta` device takes the very path a CUDA
 * model takes past the CPU exit, so this runs here without a GPU (and without a network).
 */
describe("Ultralytics' AMP check in the runner", () => {
  it('keeps AMP on at once, as Ultralytics does offline, without trying to download its check weights', async () => {
    const script = `
import tempfile, time
from ultralytics_offline import prepare_offline, keep_amp_check_offline
prepare_offline(tempfile.mkdtemp())
import torch
from ultralytics.engine import trainer
from ultralytics.utils import WEIGHTS_DIR
keep_amp_check_offline()
started = time.monotonic()
amp = trainer.check_amp(torch.nn.Linear(2, 2, device="meta"))
print(f"amp={amp} seconds={time.monotonic() - started:.3f} weights={(WEIGHTS_DIR / 'yolo26n.pt').exists()}")
`;
    const python = resolvePython(repoRoot);
    if (!python) throw new Error('No Python environment: run `npm run python:env`');
    const { stdout, stderr } = await run(python, ['-c', script], {
      cwd: join(repoRoot, 'services/trainer-ultralytics/runner'),
      timeout: 60_000,
    });
    const [, amp, seconds, weights] = /amp=(\w+) seconds=([\d.]+) weights=(\w+)/.exec(stdout) ?? [];
    expect(amp).toBe('True');
    expect(weights).toBe('False'); // nothing was fetched
    expect(Number(seconds)).toBeLessThan(5); // no connection attempt waited on
    expect(stdout + stderr).toContain('Offline and unable to download YOLO26n for AMP checks');
  });
});

"""A stand-in runner that speaks the runner protocol (see packages/trainer-runtime) without any framework, so the
supervisor is tested against a real process: protocol lines on stdout, a log on stderr, signals, a child process
in its group, and exit codes. What it does comes from its hyperparameters:

  epochs         epochs to "train"; each writes outputDir/last.ckpt and best.ckpt and reports them
  epochSeconds   how long one epoch takes
  behaviour      "complete" | "error" | "killed" (SIGKILLs itself) | "ignore-sigterm" | "junk" (stray stdout lines)
                 | "silent-exit" (exits 3 without a word) | "rewrite" (right after each checkpoint is reported,
                 rewrites its files in place, shorter, as Ultralytics strips its .pt files)
  exportFails    with `export` in the config: the exporter raises instead of writing its file

Checkpoints are reported as snapshots taken by vtp_runner.Snapshots, as the real runners do. With `export` in the
config they go through vtp_runner.Runner, as in the real runners, and its end exports with a stand-in exporter;
with `exportOnly` it only exports its initial weights, as Runner.export_only does for the real ones.

FAKE_RUNNER_PID_FILE, when set, receives "<runner pid> <child pid>".
"""

import argparse
import json
import os
import signal
import subprocess
import sys
import time

from vtp_runner import CheckpointFile, Protocol, Runner, RunnerError, Snapshots, load_config

parser = argparse.ArgumentParser()
parser.add_argument("--config", required=True)
config_path = parser.parse_args().config
config = json.load(open(config_path))
hp = config["hyperparameters"]
behaviour = hp["behaviour"]
output = config["outputDir"]
snapshots = Snapshots(config["snapshotDir"])
# With exports the run reports its checkpoints and its end through vtp_runner.Runner, as the real runners do.
runner = Runner(Protocol(sys.stdout)) if config.get("export") else None
if runner is not None:
    runner.use_snapshot_dir(config["snapshotDir"])


def export(source, target):
    if hp.get("exportFails"):
        raise RuntimeError("unsupported operator for this opset")
    with open(source, "rb") as f, open(target, "wb") as out:
        out.write(b"exported " + f.read())


if config.get("exportOnly"):
    try:
        runner.export_only(load_config(config_path), {"onnx": export})
    except RunnerError as e:  # as vtp_runner.run reports it
        runner.error(e.code, e.message)
        sys.exit(1)
    sys.exit(0)


def emit(event):
    sys.stdout.write(json.dumps(event) + "\n")
    sys.stdout.flush()


def log(line):
    sys.stderr.write(line + "\n")
    sys.stderr.flush()


cancelled = False


def on_sigterm(signum, frame):
    global cancelled
    cancelled = True


signal.signal(signal.SIGTERM, signal.SIG_IGN if behaviour == "ignore-sigterm" else on_sigterm)
# A child in the runner's process group, as dataloader workers would be.
child = subprocess.Popen(["sleep", "600"])
if os.environ.get("FAKE_RUNNER_PID_FILE"):
    with open(os.environ["FAKE_RUNNER_PID_FILE"], "w") as f:
        f.write(f"{os.getpid()} {child.pid}")

files = []
log(f"fake runner for {config['jobId']} on {config['datasetDir']}")
emit({"type": "started", "totalEpochs": hp["epochs"], "frameworkVersion": "fake-1.0", "device": "cpu"})
if behaviour == "junk":
    print("this is not a protocol line", flush=True)
    sys.stdout.write('{"type": "epoch", "partial json\n')
    sys.stdout.flush()
if behaviour == "error":
    emit({"type": "error", "code": "invalid_dataset", "message": "labels/train/a.txt: class 7 out of range"})
    sys.exit(1)
if behaviour == "silent-exit":
    sys.exit(3)
if behaviour == "killed":
    os.kill(os.getpid(), signal.SIGKILL)

for epoch in range(1, hp["epochs"] + 1):
    deadline = time.time() + hp["epochSeconds"]
    while time.time() < deadline:
        if cancelled:
            # A dataloader worker must still serve the batch in hand: the SIGTERM was the runner's alone.
            log(f"worker {'alive' if child.poll() is None else 'gone'} when the runner stopped")
            emit({"type": "cancelled", "epoch": epoch - 1, "files": files})
            sys.exit(130)
        time.sleep(0.02)
    log(f"epoch {epoch} done")
    emit({"type": "epoch", "epoch": epoch, "totalEpochs": hp["epochs"], "metrics": {"train/loss": 1.0 / epoch}})
    checkpoints = [CheckpointFile(kind, os.path.join(output, f"{kind}.ckpt")) for kind in ("last", "best")]
    for checkpoint in checkpoints:
        with open(checkpoint.path, "w") as f:
            f.write(f"{checkpoint.kind} checkpoint of epoch {epoch}\n" * 1000)
    if runner is not None:
        runner.checkpoint(epoch, checkpoints)
    else:
        files = [s.to_json() for s in snapshots.take(checkpoints, epoch)]
        emit({"type": "checkpoint", "epoch": epoch, "files": files})
    if behaviour == "rewrite":
        for checkpoint in checkpoints:
            with open(checkpoint.path, "r+") as f:
                f.truncate(0)
                f.write("stripped\n")

if runner is not None:
    exports = {fmt: export for fmt in config["export"]}
    runner.completed({"train/loss": 1.0 / hp["epochs"]}, list(reversed(checkpoints)), exports=exports)
    sys.exit(0)
final = [s.to_json() for s in snapshots.take(list(reversed(checkpoints)), None)]
emit({"type": "completed", "metrics": {"train/loss": 1.0 / hp["epochs"]}, "files": final})
sys.exit(0)

"""Plumbing shared by the trainers' Python runners (see the runner protocol in packages/trainer-runtime).

- stdout carries only protocol lines (one JSON object per line); everything else, the framework's prints and
  progress bars included, goes to stderr, which is the training log.
- SIGTERM (or SIGINT) only raises a flag: the training loop calls `check_cancelled()` at batch boundaries, so
  checkpoints are never cut in half.
- The runner dies with its parent (the trainer service, or the warm zygote it was forked from, which dies with the
  trainer) so no training outlives it.
- Every failure ends as one `error` event with a stable code, never as a traceback on stdout.

Import this module and call `run()` before importing torch or a framework: it moves fd 1 first. (A runner forked
from the warm zygote, vtp_zygote.py, finds them imported already; whatever they hold writes to fd 1, which `run()`
points at the log all the same.)
"""

from __future__ import annotations

import argparse
import ctypes
import hashlib
import json
import math
import os
import signal
import sys
import threading
import time
import traceback
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, NoReturn

EXIT_COMPLETED = 0
EXIT_FAILED = 1
EXIT_CANCELLED = 130
EXIT_PARENT_GONE = 137

# JobError.message in packages/shared-schemas allows 4000 characters.
MAX_MESSAGE_CHARS = 4000
PARENT_POLL_SECONDS = 1.0
DEVICES = ("auto", "cpu", "cuda")
# ExportFormat in packages/shared-schemas/src/events.ts
EXPORT_FORMATS = ("onnx",)


class RunnerError(Exception):
    """A failure the runner understands; `code` is one of the protocol's error codes."""

    code = "framework_error"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InvalidDataset(RunnerError):
    code = "invalid_dataset"

    def __init__(self, message: str, path: str) -> None:
        super().__init__(f"{message}: {path}")
        self.path = path


class InvalidConfiguration(RunnerError):
    code = "invalid_configuration"


class Cancelled(BaseException):
    """Raised at a batch boundary after SIGTERM. A BaseException, so frameworks' `except Exception` let it pass."""


@dataclass(frozen=True)
class CheckpointFile:
    kind: str  # "best" | "last"
    path: str
    # True when the framework only ever replaces the file by renaming a new one over it: a hard link is then a
    # consistent snapshot at no cost. Otherwise (Ultralytics rewrites its .pt files in place) it is copied.
    replaced_atomically: bool = False


# Writes the checkpoint at the first path, exported, to the second path.
Exporter = Callable[[str, str], None]


@dataclass(frozen=True)
class Snapshot:
    """A checkpoint frozen between two saves: the trainer uploads this file, which nothing writes any more."""

    kind: str
    path: str
    sha256: str
    bytes: int
    epoch: int

    def to_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "path": self.path, "sha256": self.sha256, "bytes": self.bytes, "epoch": self.epoch}


COPY_CHUNK_BYTES = 4 * 1024 * 1024


def copy_and_hash(source: str, target: str) -> str:
    digest = hashlib.sha256()
    with open(source, "rb") as src, open(target, "xb") as dst:
        while chunk := src.read(COPY_CHUNK_BYTES):
            digest.update(chunk)
            dst.write(chunk)
    return digest.hexdigest()


def hash_file(path: str) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(COPY_CHUNK_BYTES):
            digest.update(chunk)
    return digest.hexdigest()


class Snapshots:
    """Takes snapshots of checkpoints from inside the training process, where the framework's save has returned
    and its next one cannot start: the trainer service never reads a file the framework may be rewriting. An
    unchanged file keeps its earlier snapshot. The trainer deletes snapshots once newer ones are uploaded."""

    def __init__(self, directory: str) -> None:
        self._directory = directory
        self._taken: dict[str, tuple[tuple[int, int, int], Snapshot]] = {}
        self._count = 0

    def take(self, files: Iterable[CheckpointFile], epoch: int | None) -> list[Snapshot]:
        """Snapshots of the files that exist. `epoch` None: the training state of each file's previous snapshot
        (a file rewritten after the loop, as Ultralytics strips its optimizer, holds the same epoch's weights)."""
        snapshots: list[Snapshot] = []
        for f in files:
            try:
                st = os.stat(f.path)
            except FileNotFoundError:
                continue
            identity = (st.st_ino, st.st_size, st.st_mtime_ns)
            previous = self._taken.get(f.kind)
            if previous is not None and previous[0] == identity:
                snapshots.append(previous[1])
                continue
            self._count += 1
            os.makedirs(self._directory, exist_ok=True)
            target = os.path.join(self._directory, f"{self._count}.{f.kind}.{os.path.basename(f.path)}")
            if f.replaced_atomically:
                os.link(f.path, target)
                sha256 = hash_file(target)
            else:
                sha256 = copy_and_hash(f.path, target)
            taken_at = epoch if epoch is not None else (previous[1].epoch if previous else 0)
            snapshot = Snapshot(f.kind, target, sha256, os.path.getsize(target), taken_at)
            self._taken[f.kind] = (identity, snapshot)
            snapshots.append(snapshot)
        return snapshots

    def export(self, source: Snapshot, fmt: str, exporter: Exporter) -> Snapshot:
        """The snapshot `source` exported to `fmt`: a file of its own in the snapshot folder, hashed once written."""
        self._count += 1
        target = os.path.join(self._directory, f"{self._count}.{fmt}.{source.kind}.{fmt}")
        exporter(source.path, target)
        return Snapshot(fmt, target, hash_file(target), os.path.getsize(target), source.epoch)


@dataclass(frozen=True)
class ResumeConfig:
    """Where an earlier attempt of the job stopped: continue from `last` (weights, optimizer, epoch); `best` is the
    best checkpoint so far, kept unless the training beats it."""

    epoch: int
    last: str
    best: str | None


@dataclass(frozen=True)
class JobConfig:
    job_id: str
    model: str
    dataset_dir: str
    data_yaml: str | None
    output_dir: str
    snapshot_dir: str
    hyperparameters: dict[str, Any]
    initial_weights: str | None
    device: str
    resume: ResumeConfig | None = None
    # Formats to export the best checkpoint to after the training (EXPORT_FORMATS).
    export: tuple[str, ...] = ()
    # Train nothing: export `initial_weights` to the `export` formats (see Runner.export_only).
    export_only: bool = False


class Protocol:
    """Writes protocol events, one JSON object per line, to the real stdout and flushes each one."""

    def __init__(self, stream: Any) -> None:
        self._stream = stream
        self._lock = threading.Lock()

    def emit(self, event: dict[str, Any]) -> None:
        line = json.dumps(event, allow_nan=False, separators=(",", ":"), ensure_ascii=False)
        with self._lock:
            self._stream.write(line + "\n")
            self._stream.flush()


def take_over_stdout() -> Protocol:
    """Keep a private copy of fd 1 for the protocol and point fd 1 at stderr, so that anything else that writes to
    stdout (print, logging handlers, tqdm, C extensions) lands in the log instead of corrupting the protocol."""
    sys.stdout.flush()
    protocol_fd = os.dup(1)  # not inheritable: child processes never get the protocol stream
    os.dup2(2, 1)
    return Protocol(os.fdopen(protocol_fd, "w", encoding="utf-8", buffering=1))


class Runner:
    """One training run's connection to the trainer service: events out, cancellation in."""

    def __init__(self, protocol: Protocol) -> None:
        self._protocol = protocol
        self._cancel_requested = threading.Event()
        self._snapshots: Snapshots | None = None
        self.completed_epochs = 0
        self.checkpoint_snapshots: list[Snapshot] = []

    def use_snapshot_dir(self, directory: str) -> None:
        self._snapshots = Snapshots(directory)

    def _take(self, files: Iterable[CheckpointFile], epoch: int | None) -> list[Snapshot]:
        if self._snapshots is None:
            raise RuntimeError("checkpoints reported before the runner knew its snapshot dir")
        return self._snapshots.take(files, epoch)

    # --- cancellation -------------------------------------------------------------------------------------------
    def request_cancel(self, signum: int, _frame: object = None) -> None:
        if not self._cancel_requested.is_set():
            # os.write, not print: a handler that prints while the main thread prints hits "reentrant call".
            name = signal.Signals(signum).name
            os.write(2, f"[vtp-runner] received {name}: stopping at the next batch boundary\n".encode())
        self._cancel_requested.set()

    def check_cancelled(self) -> None:
        if self._cancel_requested.is_set():
            raise Cancelled()

    # --- events -------------------------------------------------------------------------------------------------
    def started(self, total_epochs: int, framework_version: str, torch_version: str, device: str) -> None:
        self._protocol.emit(
            {
                "type": "started",
                "totalEpochs": total_epochs,
                "frameworkVersion": framework_version,
                "torchVersion": torch_version,
                "device": device,
            }
        )

    def epoch(self, epoch: int, total_epochs: int, metrics: dict[str, Any]) -> None:
        self._protocol.emit(
            {"type": "epoch", "epoch": epoch, "totalEpochs": total_epochs, "metrics": finite_metrics(metrics)}
        )

    def checkpoint(self, epoch: int, files: Iterable[CheckpointFile]) -> None:
        """Call right after the framework saved (its save has returned): the files are snapshotted here."""
        snapshots = self._take(files, epoch)
        self.completed_epochs = epoch
        self.checkpoint_snapshots = snapshots
        if snapshots:
            self._protocol.emit({"type": "checkpoint", "epoch": epoch, "files": [s.to_json() for s in snapshots]})

    def completed(
        self,
        metrics: dict[str, Any],
        files: Sequence[CheckpointFile],
        load: Callable[[str], object] | None = None,
        exports: dict[str, Exporter] | None = None,
    ) -> None:
        """Call once the framework's training call has returned (its last rewrite of the files is done). `load`
        reads a checkpoint with the framework: the first snapshot (the best) must load before it is reported.
        `exports` (format -> exporter) are run on that snapshot; one that fails is reported as a warning, never as
        the training's failure: the checkpoints stand."""
        snapshots = self._take(files, None)
        if load is not None and snapshots:
            try:
                load(snapshots[0].path)
            except Exception as e:
                raise RunnerError(f"the final {snapshots[0].kind} checkpoint does not load: {describe(e)}") from e
        exported, warnings = self._export(snapshots[0] if snapshots else None, exports or {})
        self._protocol.emit(
            {
                "type": "completed",
                "metrics": finite_metrics(metrics),
                "files": [s.to_json() for s in snapshots + exported],
                "warnings": warnings,
            }
        )

    def _export(self, best: Snapshot | None, exports: dict[str, Exporter]) -> tuple[list[Snapshot], list[str]]:
        exported: list[Snapshot] = []
        warnings: list[str] = []
        for fmt, exporter in exports.items():
            if best is None:
                warnings.append(f"{fmt} export skipped: the training left no checkpoint")
                continue
            self.check_cancelled()
            started = time.monotonic()
            try:
                snapshot = self._snapshots.export(best, fmt, exporter)  # type: ignore[union-attr]
            except Exception as e:  # noqa: BLE001 - an export never fails the training it exports
                traceback.print_exc(file=sys.stderr)
                warnings.append(truncate(f"{fmt} export of the {best.kind} checkpoint failed: {describe(e)}"))
                continue
            seconds = time.monotonic() - started
            log(f"exported the {best.kind} checkpoint to {fmt} in {seconds:.1f}s: {snapshot.bytes} bytes")
            exported.append(snapshot)
        return exported, warnings

    def export_only(self, config: JobConfig, exporters: dict[str, Exporter]) -> None:
        """An export-only run: the job's initial weights (an earlier job's best checkpoint) exported to each of
        its formats, reported as the completed event's only files. Here the export is the whole job: a failure
        fails it."""
        if config.initial_weights is None or not os.path.isfile(config.initial_weights):
            raise InvalidConfiguration("an export-only run needs the checkpoint to export (initialWeights)")
        if not config.export:
            raise InvalidConfiguration("an export-only run needs at least one format in 'export'")
        source = self._take([CheckpointFile("best", config.initial_weights)], 0)[0]
        exported = []
        for fmt in config.export:
            self.check_cancelled()
            started = time.monotonic()
            try:
                snapshot = self._snapshots.export(source, fmt, exporters[fmt])  # type: ignore[union-attr]
            except Exception as e:
                raise RunnerError(f"{fmt} export of the checkpoint failed: {describe(e)}") from e
            seconds = time.monotonic() - started
            log(f"exported the checkpoint to {fmt} in {seconds:.1f}s: {snapshot.bytes} bytes")
            exported.append(snapshot)
        self._protocol.emit({"type": "completed", "metrics": {}, "files": [s.to_json() for s in exported]})

    def cancelled(self) -> None:
        """Reports the snapshots of the last completed epoch: consistent, and resumable."""
        self._protocol.emit(
            {
                "type": "cancelled",
                "epoch": self.completed_epochs,
                "files": [s.to_json() for s in self.checkpoint_snapshots],
            }
        )

    def error(self, code: str, message: str) -> None:
        self._protocol.emit({"type": "error", "code": code, "message": truncate(message)})


def finite_metrics(metrics: dict[str, Any]) -> dict[str, float]:
    """Only finite numbers: the protocol (and JSON) has no NaN or Infinity."""
    result: dict[str, float] = {}
    for name, value in metrics.items():
        try:
            number = float(value)
        except (TypeError, ValueError):
            continue
        if math.isfinite(number):
            result[str(name)] = number
    return result


def truncate(message: str) -> str:
    if len(message) <= MAX_MESSAGE_CHARS:
        return message
    half = MAX_MESSAGE_CHARS // 2 - 10
    return f"{message[:half]} [...] {message[-half:]}"


def log(message: str) -> None:
    print(f"[vtp-runner] {message}", file=sys.stderr, flush=True)


# --- parent death -----------------------------------------------------------------------------------------------
PR_SET_PDEATHSIG = 1


def die_with_parent() -> None:
    """Exit when the trainer service dies, even by SIGKILL: the kernel's parent-death signal where there is one
    (Linux), and a poll of getppid() that also covers the window before prctl took effect."""
    original_parent = os.getppid()
    if sys.platform.startswith("linux"):
        try:
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        except (OSError, AttributeError) as e:  # no prctl: the poll below still works
            log(f"prctl(PR_SET_PDEATHSIG) unavailable ({e}); relying on polling the parent")

    def watch() -> None:
        while True:
            if os.getppid() != original_parent:
                os._exit(EXIT_PARENT_GONE)
            time.sleep(PARENT_POLL_SECONDS)

    if os.getppid() != original_parent:
        os._exit(EXIT_PARENT_GONE)
    threading.Thread(target=watch, name="vtp-parent-watch", daemon=True).start()


# --- errors -----------------------------------------------------------------------------------------------------
OOM_MESSAGE_FRAGMENTS = (
    "out of memory",
    "can't allocate memory",
    "cannot allocate memory",
    "cublas_status_alloc_failed",
)
# Framework errors that are really a bad hyperparameter combination: (fragment of the message, what to change).
CONFIGURATION_ERRORS = (
    (  # torch, from any model with BatchNorm
        "Expected more than 1 value per channel when training",
        "a batch of one sample reached a BatchNorm layer: raise hyperparameters.batch or imgsz, or add images",
    ),
    (  # Ultralytics checks the same before training, in its own words
        "gives BatchNorm a single value per channel",
        "raise hyperparameters.batch or imgsz, or add images",
    ),
)


def exception_chain(exc: BaseException) -> list[BaseException]:
    chain: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and current not in chain:
        chain.append(current)
        current = current.__cause__ or current.__context__
    return chain


def is_out_of_memory(exc: BaseException) -> bool:
    if isinstance(exc, MemoryError):
        return True
    if any(cls.__name__ == "OutOfMemoryError" for cls in type(exc).__mro__):  # torch.OutOfMemoryError and cuda's
        return True
    return isinstance(exc, RuntimeError) and any(f in str(exc).lower() for f in OOM_MESSAGE_FRAGMENTS)


def describe(exc: BaseException) -> str:
    cls = type(exc)
    name = cls.__name__ if cls.__module__ == "builtins" else f"{cls.__module__}.{cls.__qualname__}"
    text = str(exc).strip()
    return f"{name}: {text}" if text else name


def classify(exc: BaseException) -> tuple[str, str]:
    """(protocol error code, message) for an exception that ended the run."""
    chain = exception_chain(exc)
    for e in chain:
        if isinstance(e, RunnerError):
            return e.code, e.message
    for e in chain:
        if is_out_of_memory(e):
            return "out_of_memory", describe(e)
    for e in chain:
        for fragment, hint in CONFIGURATION_ERRORS:
            if fragment in str(e):
                return "invalid_configuration", f"{describe(e)} ({hint})"
    return "framework_error", describe(exc)


# --- configuration ----------------------------------------------------------------------------------------------
def load_config(path: str) -> JobConfig:
    try:
        with open(path, encoding="utf-8") as f:
            raw = json.load(f)
    except (OSError, ValueError) as e:
        raise InvalidConfiguration(f"cannot read config {path}: {e}") from e
    if not isinstance(raw, dict):
        raise InvalidConfiguration(f"config {path} must hold a JSON object")

    def field(name: str, kinds: tuple[type, ...], optional: bool = False) -> Any:
        value = raw.get(name)
        if value is None and optional:
            return None
        if not isinstance(value, kinds) or value == "":
            raise InvalidConfiguration(f"config field '{name}' is missing or has the wrong type")
        return value

    def absolute_path(name: str, optional: bool = False) -> str | None:
        value = field(name, (str,), optional)
        if value is not None and not os.path.isabs(value):
            raise InvalidConfiguration(f"config field '{name}' must be an absolute path, got {value!r}")
        return value

    device = field("device", (str,))
    if device not in DEVICES:
        raise InvalidConfiguration(f"config field 'device' must be one of {', '.join(DEVICES)}, got {device!r}")
    resume = None
    raw_resume = field("resume", (dict,), optional=True)
    if raw_resume is not None:
        epoch, last, best = raw_resume.get("epoch"), raw_resume.get("last"), raw_resume.get("best")
        if not isinstance(epoch, int) or epoch < 1 or not isinstance(last, str) or not os.path.isabs(last):
            raise InvalidConfiguration("config field 'resume' needs an epoch >= 1 and the absolute path of 'last'")
        if best is not None and (not isinstance(best, str) or not os.path.isabs(best)):
            raise InvalidConfiguration("config field 'resume.best' must be an absolute path")
        resume = ResumeConfig(epoch, last, best)
    export = field("export", (list,), optional=True) or []
    export_only = raw.get("exportOnly") is True
    unknown = [fmt for fmt in export if fmt not in EXPORT_FORMATS]
    if unknown:
        raise InvalidConfiguration(f"config field 'export' may hold {', '.join(EXPORT_FORMATS)}, got {unknown!r}")
    return JobConfig(
        job_id=field("jobId", (str,)),
        model=field("model", (str,)),
        dataset_dir=absolute_path("datasetDir"),  # type: ignore[arg-type]
        data_yaml=absolute_path("dataYaml", optional=True),
        output_dir=absolute_path("outputDir"),  # type: ignore[arg-type]
        snapshot_dir=absolute_path("snapshotDir"),  # type: ignore[arg-type]
        hyperparameters=field("hyperparameters", (dict,)),
        initial_weights=absolute_path("initialWeights", optional=True),
        device=device,
        resume=resume,
        export=tuple(export),
        export_only=export_only,
    )


@dataclass(frozen=True)
class Omittable:
    """A hyperparameter the request may leave out: the runner then decides (from the device, say)."""

    kind: Any


def check_hyperparameters(values: dict[str, Any], spec: dict[str, Any]) -> dict[str, Any]:
    """Check the hyperparameters against `spec` (name -> int | float | bool | tuple of allowed strings, or
    Omittable of one): every name present with the right type, nothing unknown. The TypeScript side applies the
    defaults, so only an Omittable one may be absent."""
    unknown = sorted(set(values) - set(spec))
    if unknown:
        raise InvalidConfiguration(f"unknown hyperparameters: {', '.join(unknown)}")
    checked: dict[str, Any] = {}
    for name, declared in spec.items():
        kind = declared.kind if isinstance(declared, Omittable) else declared
        if name not in values:
            if isinstance(declared, Omittable):
                continue
            raise InvalidConfiguration(f"hyperparameters.{name} is missing")
        value = values[name]
        if isinstance(kind, tuple):
            ok = value in kind
            expected = f"one of {', '.join(map(str, kind))}"
        elif kind is float:
            ok = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
            expected = "a number"
            value = float(value) if ok else value
        elif kind is int:
            ok = isinstance(value, int) and not isinstance(value, bool)
            expected = "an integer"
        else:
            ok = isinstance(value, kind)
            expected = kind.__name__
        if not ok:
            raise InvalidConfiguration(f"hyperparameters.{name} must be {expected}, got {value!r}")
        checked[name] = value
    return checked


def resolve_device(requested: str) -> str:
    """'auto' is CUDA when torch sees a GPU, else the CPU; 'cuda' without a GPU is a configuration error."""
    import torch

    available = torch.cuda.is_available()
    if requested == "auto":
        return "cuda" if available else "cpu"
    if requested == "cuda" and not available:
        built_with = torch.version.cuda or "none"
        raise InvalidConfiguration(
            f"device 'cuda' requested but torch {torch.__version__} sees no CUDA GPU (built with CUDA {built_with})"
        )
    return requested


# --- entry point ------------------------------------------------------------------------------------------------
def parse_arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Run one training and report it as JSON lines on stdout.")
    parser.add_argument("--config", required=True, help="absolute path of the job's config.json")
    try:
        return parser.parse_args()
    except SystemExit as e:  # argparse has printed the usage to stderr
        raise InvalidConfiguration(f"bad command line {sys.argv[1:]}: expected --config <path>") from e


def run(train: Callable[[Runner, JobConfig], None]) -> NoReturn:
    """Parse `--config`, set up the protocol, signals and parent watch, run `train`, and exit with the protocol's
    exit code after exactly one terminal event (`train` emits `completed` itself)."""
    protocol = take_over_stdout()
    runner = Runner(protocol)
    signal.signal(signal.SIGTERM, runner.request_cancel)
    signal.signal(signal.SIGINT, runner.request_cancel)
    die_with_parent()

    try:
        config = load_config(parse_arguments().config)
        runner.use_snapshot_dir(config.snapshot_dir)
        runner.check_cancelled()
        train(runner, config)
        exit_code = EXIT_COMPLETED
    except Cancelled:
        runner.cancelled()
        exit_code = EXIT_CANCELLED
    except BaseException as e:  # noqa: BLE001 - every failure must end as one error event
        traceback.print_exc(file=sys.stderr)
        code, message = classify(e)
        runner.error(code, message)
        exit_code = EXIT_FAILED
    sys.stderr.flush()
    # os._exit: no interpreter teardown that could hang on framework threads after the terminal event.
    os._exit(exit_code)


def run_once(command: Callable[[], dict[str, Any]]) -> NoReturn:
    """For one-shot tools such as predict.py: print `command`'s result, or {"error": {code, message}}, as the one
    line on stdout, and exit 0 or 1."""
    protocol = take_over_stdout()
    try:
        protocol.emit(command())
        exit_code = EXIT_COMPLETED
    except BaseException as e:  # noqa: BLE001 - the caller reads one JSON line whatever happens
        traceback.print_exc(file=sys.stderr)
        code, message = classify(e)
        protocol.emit({"error": {"code": code, "message": truncate(message)}})
        exit_code = EXIT_FAILED
    sys.stderr.flush()
    os._exit(exit_code)

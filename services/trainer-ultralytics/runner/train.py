"""Trains an Ultralytics YOLO detector for one job and reports it over the runner protocol.

Usage: python -u train.py --config <config.json>   (PYTHONPATH must hold packages/trainer-runtime/python)
Honours YOLO_CONFIG_DIR (default: <cwd>/.ultralytics, created with the fonts Ultralytics would download).
"""

from __future__ import annotations

import os
import re
import shutil
import sys
from pathlib import Path
from typing import Any

import vtp_runner
from vtp_runner import (
    CheckpointFile,
    InvalidConfiguration,
    InvalidDataset,
    JobConfig,
    Omittable,
    Runner,
    RunnerError,
)

# packages/shared-schemas/src/hyperparameters.ts, UltralyticsHyperparameters
HYPERPARAMETERS: dict[str, Any] = {
    "epochs": int,
    "imgsz": int,
    "batch": int,
    "seed": int,
    "lr0": float,
    "lrf": float,
    "momentum": float,
    "weight_decay": float,
    "optimizer": ("SGD", "Adam", "AdamW", "NAdam", "RAdam", "RMSProp", "auto"),
    "patience": int,
    "warmup_epochs": float,
    "cos_lr": bool,
    "mosaic": float,
    "fliplr": float,
    "workers": Omittable(int),
    "amp": Omittable(bool),
}
# A catalog name such as "yolo11n": Ultralytics builds it from its own <name>.yaml, no path, no download.
MODEL_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]*$")


class EpochReporter:
    """Ultralytics callbacks that turn its training loop into protocol events and honour cancellation.

    on_fit_epoch_end runs after each epoch's validation and checkpoint save, and once more after the loop for the
    final evaluation of best.pt (with trainer.epoch one past the last epoch): only the first kind is an epoch.
    """

    def __init__(self, runner: Runner, weights_dir: Path) -> None:
        self._runner = runner
        self._files = [
            CheckpointFile("last", str(weights_dir / "last.pt")),
            CheckpointFile("best", str(weights_dir / "best.pt")),
        ]
        self._trained_epoch: int | None = None
        self._loop_finished = False
        self.best_metrics: dict[str, float] = {}
        self.last_metrics: dict[str, float] = {}

    def callbacks(self) -> dict[str, Any]:
        return {
            "on_pretrain_routine_end": self._check_cancelled,
            "on_train_start": self._check_cancelled,
            "on_train_epoch_start": self._check_cancelled,
            # Raising here (not trainer.stop) keeps the previous epoch's last.pt resumable: a stop would run
            # final_eval, which strips the optimizer from last.pt.
            "on_train_batch_end": self._check_cancelled,
            "on_val_batch_end": self._check_cancelled_in_loop,
            "on_train_epoch_end": self._train_epoch_end,
            "on_fit_epoch_end": self._fit_epoch_end,
        }

    def _check_cancelled(self, _trainer: Any) -> None:
        self._runner.check_cancelled()

    def _check_cancelled_in_loop(self, _validator: Any) -> None:
        if not self._loop_finished:  # the final evaluation runs after the last epoch: let it finish
            self._runner.check_cancelled()

    def _train_epoch_end(self, trainer: Any) -> None:
        self._trained_epoch = trainer.epoch

    def _fit_epoch_end(self, trainer: Any) -> None:
        if trainer.epoch != self._trained_epoch:
            return
        self._trained_epoch = None
        epoch = trainer.epoch + 1
        metrics = epoch_metrics(trainer)
        self._runner.epoch(epoch, trainer.epochs, metrics)
        self.last_metrics = metrics
        if trainer.best_fitness == trainer.fitness:  # the test save_model() uses to write best.pt
            self.best_metrics = metrics
        self._runner.checkpoint(epoch, self._files)
        if trainer.stop:
            self._loop_finished = True

    def final_files(self) -> list[CheckpointFile]:
        return list(reversed(self._files))  # best first


def epoch_metrics(trainer: Any) -> dict[str, float]:
    metrics: dict[str, float] = {}
    if trainer.tloss is not None:
        metrics.update(trainer.label_loss_items(trainer.tloss, prefix="train"))
    metrics.update(trainer.metrics or {})
    learning_rates = list((getattr(trainer, "lr", None) or {}).values())
    if learning_rates:
        metrics["lr"] = learning_rates[0]  # param group 0 (weights); groups differ only during bias warmup
    return metrics


def check_config(config: JobConfig) -> dict[str, Any]:
    hp = vtp_runner.check_hyperparameters(config.hyperparameters, HYPERPARAMETERS)
    if not MODEL_NAME.match(config.model):
        raise InvalidConfiguration(f"model {config.model!r} is not a catalog name such as 'yolo11n'")
    if config.data_yaml is None:
        raise InvalidConfiguration("config field 'dataYaml' is required for Ultralytics")
    if config.initial_weights is not None and not os.path.isfile(config.initial_weights):
        raise InvalidConfiguration(f"initialWeights not found: {config.initial_weights}")
    if config.resume is not None and not os.path.isfile(config.resume.last):
        raise InvalidConfiguration(f"the checkpoint to resume from is missing: {config.resume.last}")
    return hp


def speed_settings(hp: dict[str, Any], device: str) -> dict[str, Any]:
    """Loader workers and mixed precision: Ultralytics' own defaults on CUDA (8 workers, AMP after its check). On
    the CPU Ultralytics itself loads in the training process and keeps AMP off whatever is asked; saying so here
    keeps the log true. A user's `workers`/`amp` win; they leave `hp` for `train()`."""
    from ultralytics.cfg import DEFAULT_CFG

    on_cuda = device == "cuda"
    return {
        "workers": hp.pop("workers", DEFAULT_CFG.workers if on_cuda else 0),
        "amp": hp.pop("amp", DEFAULT_CFG.amp if on_cuda else False),
    }


def build_model(name: str, initial_weights: str | None) -> Any:
    from ultralytics import YOLO
    from ultralytics.nn.tasks import load_checkpoint

    try:
        model = YOLO(f"{name}.yaml")
    except Exception as e:
        raise InvalidConfiguration(f"unknown Ultralytics model {name!r} ({vtp_runner.describe(e)})") from e
    if initial_weights is not None:  # read it now so a bad file is a configuration error, not a crash mid-setup
        try:
            load_checkpoint(initial_weights)
        except Exception as e:
            raise InvalidConfiguration(
                f"initialWeights is not an Ultralytics checkpoint: {initial_weights} ({vtp_runner.describe(e)})"
            ) from e
    return model


def resumable_model(last: str) -> Any:
    """The model of an earlier attempt's last.pt, which still holds its optimizer and epoch."""
    from ultralytics import YOLO

    try:
        return YOLO(last)
    except Exception as e:
        raise RunnerError(f"the checkpoint to resume from does not load: {last} ({vtp_runner.describe(e)})") from e


def finish_resumed(runner: Runner, config: JobConfig, reporter: EpochReporter, weights_dir: Path, device: str) -> None:
    import torch
    import ultralytics
    from ultralytics.nn.tasks import load_checkpoint

    assert config.resume is not None
    weights_dir.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(config.resume.last, weights_dir / "last.pt")
    shutil.copyfile(config.resume.best or config.resume.last, weights_dir / "best.pt")
    runner.started(config.resume.epoch, ultralytics.__version__, torch.__version__, device)
    metrics = load_checkpoint(str(weights_dir / "best.pt"))[1].get("train_metrics") or {}
    runner.completed(metrics, reporter.final_files(), load=load_checkpoint, exports=exporters(config))


def export_onnx(checkpoint: str, target: str) -> None:
    """Ultralytics' own exporter: the training's image size, opset for this torch, graph simplified by onnxslim, and
    the model's class names, stride and image size as metadata (what YOLO("best.onnx") reads back). It writes next
    to the checkpoint; the file then moves to `target`."""
    from ultralytics import YOLO

    written = YOLO(checkpoint).export(format="onnx", device="cpu", verbose=False)
    os.replace(written, target)


# vtp_runner.EXPORT_FORMATS, each exported from the best checkpoint after the training.
EXPORTERS: dict[str, vtp_runner.Exporter] = {"onnx": export_onnx}


def import_offline() -> None:
    """Imports Ultralytics with every online feature off. Forked from the warm zygote (preload.py), it is already
    imported and offline with the zygote's config dir; rewriting the settings file it shares with other trainings
    would gain nothing."""
    if "ultralytics" in sys.modules:
        return
    from ultralytics_offline import disable_online_features, prepare_offline

    settings_dir = prepare_offline(os.environ.get("YOLO_CONFIG_DIR") or os.path.join(os.getcwd(), ".ultralytics"))
    import ultralytics  # noqa: F401

    disable_online_features(settings_dir)


def train(runner: Runner, config: JobConfig) -> None:
    if config.export_only:
        import_offline()
        runner.export_only(config, EXPORTERS)
        return
    hp = check_config(config)
    from ultralytics_offline import keep_amp_check_offline
    from yolo_dataset import check_yolo_dataset

    dataset = check_yolo_dataset(config.data_yaml)  # type: ignore[arg-type]
    vtp_runner.log(f"dataset: {len(dataset.class_names)} classes, images {dataset.image_counts}")
    runner.check_cancelled()

    import_offline()
    import torch
    import ultralytics

    device = vtp_runner.resolve_device(config.device)
    output_dir = Path(config.output_dir)
    weights_dir = output_dir / "weights"
    reporter = EpochReporter(runner, weights_dir)
    resume = config.resume
    if resume is not None and resume.epoch >= hp["epochs"]:
        # The earlier attempt trained every epoch and stopped after its last save: its checkpoints are the result.
        finish_resumed(runner, config, reporter, weights_dir, device)
        return
    model = resumable_model(resume.last) if resume is not None else build_model(config.model, config.initial_weights)
    if resume is not None and resume.best is not None:
        weights_dir.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(resume.best, weights_dir / "best.pt")  # kept unless a resumed epoch beats it
    for event, callback in reporter.callbacks().items():
        model.add_callback(event, callback)
    runner.check_cancelled()

    runner.started(hp["epochs"], ultralytics.__version__, torch.__version__, device)
    speed = speed_settings(hp, device)
    keep_amp_check_offline()
    vtp_runner.log(f"dataloader workers: {speed['workers']}, mixed precision: {speed['amp']}")
    common = {
        "data": config.data_yaml,
        "device": "0" if device == "cuda" else "cpu",
        "workers": speed["workers"],
        "plots": False,
        "val": True,
    }
    try:
        if resume is not None:
            vtp_runner.log(f"resuming after epoch {resume.epoch} from {resume.last}")
            # Ultralytics takes every other setting (epochs, optimizer, lr...) from the checkpoint's own arguments.
            model.train(resume=True, save_dir=str(output_dir), **common)
        else:
            model.train(
                **hp,
                **common,
                amp=speed["amp"],
                pretrained=config.initial_weights or False,
                project=str(output_dir.parent),
                name=output_dir.name,  # weights land in outputDir/weights/
                exist_ok=True,
            )
    except RuntimeError as e:
        if str(e).startswith("Dataset '"):  # BaseTrainer.get_dataset wraps every dataset problem this way
            raise InvalidDataset(str(e), config.data_yaml) from e  # type: ignore[arg-type]
        raise
    # After train() returned: final_eval has stripped the optimizer from both files, their last rewrite.
    from ultralytics.nn.tasks import load_checkpoint

    runner.completed(
        reporter.best_metrics or reporter.last_metrics,
        reporter.final_files(),
        load=load_checkpoint,
        exports=exporters(config),
    )


def exporters(config: JobConfig) -> dict[str, vtp_runner.Exporter]:
    return {fmt: EXPORTERS[fmt] for fmt in config.export}


if __name__ == "__main__":
    vtp_runner.run(train)

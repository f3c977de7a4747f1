"""Trains a timm image classifier for one job and reports it over the runner protocol.

Usage: python -u train.py --config <config.json>   (PYTHONPATH must hold packages/trainer-runtime/python)
Writes outputDir/last.pth.tar every epoch and outputDir/best.pth.tar when val top-1 improves (see save_checkpoint).
"""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path
from typing import Any

import vtp_runner
from onnx_model import export_onnx
from vtp_runner import CheckpointFile, InvalidConfiguration, JobConfig, Omittable, Runner

# packages/shared-schemas/src/hyperparameters.ts, TimmHyperparameters
HYPERPARAMETERS: dict[str, Any] = {
    "epochs": int,
    "imgsz": int,
    "batch": int,
    "seed": int,
    "lr": float,
    "opt": ("sgd", "momentum", "adam", "adamw", "lamb", "rmsprop"),
    "sched": ("cosine", "step", "plateau", "none"),
    "weight_decay": float,
    "momentum": float,
    "warmup_epochs": int,
    "smoothing": float,
    "drop_rate": float,
    "workers": Omittable(int),
    "amp": Omittable(bool),
}
# timm train.py's own defaults: 4 loader workers (-j), AMP only when asked for (--amp).
TIMM_WORKERS = 4
# "none" means a constant learning rate; timm's "constant" is that, and unlike no scheduler it honours warmup.
TIMM_SCHEDULERS = {"cosine": "cosine", "step": "step", "plateau": "plateau", "none": "constant"}
TOP5_MIN_CLASSES = 5
# vtp_runner.EXPORT_FORMATS, each exported from the best checkpoint after the training.
EXPORTERS: dict[str, vtp_runner.Exporter] = {"onnx": export_onnx}


def check_config(config: JobConfig) -> dict[str, Any]:
    hp = vtp_runner.check_hyperparameters(config.hyperparameters, HYPERPARAMETERS)
    if hp["warmup_epochs"] and hp["warmup_epochs"] >= hp["epochs"]:
        raise InvalidConfiguration(
            f"hyperparameters.warmup_epochs ({hp['warmup_epochs']}) must be less than epochs ({hp['epochs']}):"
            " the learning rate would never leave warmup"
        )
    if config.initial_weights is not None and not os.path.isfile(config.initial_weights):
        raise InvalidConfiguration(f"initialWeights not found: {config.initial_weights}")
    if config.resume is not None and not os.path.isfile(config.resume.last):
        raise InvalidConfiguration(f"the checkpoint to resume from is missing: {config.resume.last}")
    return hp


def build_model(name: str, num_classes: int, drop_rate: float, initial_weights: str | None) -> Any:
    import timm

    if not timm.is_model(name):
        raise InvalidConfiguration(f"unknown timm model {name!r}")
    model = timm.create_model(name, pretrained=False, num_classes=num_classes, drop_rate=drop_rate)
    if initial_weights is not None:
        load_initial_weights(model, initial_weights)
    return model


def load_initial_weights(model: Any, path: str) -> None:
    """Load a checkpoint's weights, rebuilding the classifier head when its class count differs."""
    import vtp_weights
    from weights_load import read_timm_state_dict

    try:
        # This runner's .pth.tar ("state_dict"), timm's own checkpoints, bare state dicts, .safetensors files.
        state = read_timm_state_dict(path, vtp_weights.read_safetensors, vtp_weights.torch_load)
    except Exception as e:
        raise InvalidConfiguration(f"initialWeights cannot be read: {path} ({vtp_runner.describe(e)})") from e
    if state is None:
        raise InvalidConfiguration(f"initialWeights hold no state dict: {path}")
    classifiers = model.pretrained_cfg.get("classifier") or ()
    head_keys = {
        f"{c}.{p}" for c in ([classifiers] if isinstance(classifiers, str) else classifiers) for p in ("weight", "bias")
    }
    own = model.state_dict()
    for key in head_keys:
        if key in state and key in own and state[key].shape != own[key].shape:
            del state[key]  # another class count: keep the new, randomly initialised head
    try:
        result = model.load_state_dict(state, strict=False)
    except RuntimeError as e:
        raise InvalidConfiguration(f"initialWeights do not fit {model.pretrained_cfg.get('architecture')}: {e}") from e
    missing = [k for k in result.missing_keys if k not in head_keys]
    if missing or result.unexpected_keys:
        raise InvalidConfiguration(
            f"initialWeights do not fit {model.pretrained_cfg.get('architecture')}: "
            f"missing {missing[:5]}, unexpected {result.unexpected_keys[:5]}"
        )
    vtp_runner.log(f"loaded initial weights from {path}")


def speed_settings(hp: dict[str, Any], device: str) -> tuple[int, bool]:
    """Loader workers and mixed precision: timm's defaults on CUDA; on the CPU the training itself uses every core,
    so loading stays in this process, and AMP (a CUDA feature here) stays off. A user's `workers`/`amp` win."""
    on_cuda = device == "cuda"
    workers = hp.get("workers", TIMM_WORKERS if on_cuda else 0)
    amp = bool(hp.get("amp", False)) and on_cuda
    if hp.get("amp") and not on_cuda:
        vtp_runner.log("amp: mixed precision needs CUDA; training in fp32 on the CPU")
    return workers, amp


def make_loaders(dataset: Any, model: Any, hp: dict[str, Any], workers: int) -> tuple[Any, Any, dict[str, Any]]:
    import torch
    from timm.data import create_dataset, create_transform, resolve_data_config

    data_config = resolve_data_config({"input_size": (3, hp["imgsz"], hp["imgsz"])}, model=model)
    class_map = {name: index for index, name in enumerate(dataset.class_names)}

    def split(folder: str, training: bool) -> Any:
        # search_split=False: the split folder is given, timm must not look for another one
        return create_dataset(
            "",
            root=folder,
            search_split=False,
            class_map=class_map,
            is_training=training,
            transform=create_transform(**data_config, is_training=training),
        )

    train_set, val_set = split(dataset.train_dir, True), split(dataset.val_dir, False)
    batch = hp["batch"]
    train_loader = torch.utils.data.DataLoader(
        train_set,
        batch_size=batch,
        shuffle=True,
        # Loader processes are children of the runner, in its process group: they go when it goes.
        num_workers=workers,
        drop_last=len(train_set) % batch == 1,  # a last batch of one sample breaks BatchNorm
        generator=torch.Generator().manual_seed(hp["seed"]),
    )
    val_loader = torch.utils.data.DataLoader(val_set, batch_size=batch, shuffle=False, num_workers=workers)
    return train_loader, val_loader, data_config


def train_one_epoch(
    runner: Runner, model: Any, loader: Any, loss_fn: Any, optimizer: Any, device: str, scaler: Any
) -> float:
    """One pass over the training set; with a GradScaler enabled, forward in float16 autocast (AMP)."""
    import torch
    from timm.utils import AverageMeter

    model.train()
    loss_meter = AverageMeter()
    for images, targets in loader:
        runner.check_cancelled()
        images, targets = images.to(device), targets.to(device)
        with torch.autocast(device_type=device, dtype=torch.float16, enabled=scaler.is_enabled()):
            loss = loss_fn(model(images), targets)
        optimizer.zero_grad()
        scaler.scale(loss).backward()
        scaler.step(optimizer)
        scaler.update()
        loss_meter.update(loss.item(), images.size(0))
    return loss_meter.avg


def validate(runner: Runner, model: Any, loader: Any, num_classes: int, device: str) -> dict[str, float]:
    import torch
    from timm.utils import AverageMeter, accuracy

    model.eval()
    loss_fn = torch.nn.CrossEntropyLoss()
    with_top5 = num_classes >= TOP5_MIN_CLASSES
    meters = {"val/loss": AverageMeter(), "val/top1": AverageMeter(), "val/top5": AverageMeter()}
    with torch.no_grad():
        for images, targets in loader:
            runner.check_cancelled()
            images, targets = images.to(device), targets.to(device)
            output = model(images)
            top1, top5 = accuracy(output, targets, topk=(1, 5 if with_top5 else 1))
            n = images.size(0)
            meters["val/loss"].update(loss_fn(output, targets).item(), n)
            meters["val/top1"].update(top1.item(), n)
            meters["val/top5"].update(top5.item(), n)
    if not with_top5:
        del meters["val/top5"]
    return {name: meter.avg for name, meter in meters.items()}


def save_checkpoint(path: Path, payload: dict[str, Any]) -> None:
    """Write next to the target, then rename: a kill mid-save never leaves a truncated checkpoint."""
    import torch

    partial = path.with_name(path.name + ".partial")
    torch.save(payload, partial)
    os.replace(partial, path)


def resume_state(
    config: JobConfig, model: Any, optimizer: Any, scheduler: Any, last: Path, best: Path
) -> tuple[float, dict[str, Any], int]:
    """Continue an earlier attempt from its last checkpoint: weights, optimizer and scheduler state, the epoch, and
    the best result so far (whose checkpoint is kept unless a resumed epoch beats it)."""
    import torch

    assert config.resume is not None
    try:
        # The platform wrote this file (an earlier attempt of this job): it carries optimizer state, not only tensors.
        checkpoint = torch.load(config.resume.last, map_location="cpu", weights_only=False)
        model.load_state_dict(checkpoint["state_dict"])
        optimizer.load_state_dict(checkpoint["optimizer"])
        scheduler.load_state_dict(checkpoint["scheduler"])
        epoch = int(checkpoint["epoch"])
    except Exception as e:
        raise vtp_runner.RunnerError(
            f"the checkpoint to resume from does not load: {config.resume.last} ({vtp_runner.describe(e)})"
        ) from e
    # Checkpoints from before the best result was recorded in them: the resumed epoch's own result stands in.
    recorded = checkpoint.get("best") or {"top1": checkpoint["metrics"]["val/top1"], "metrics": checkpoint["metrics"]}
    shutil.copyfile(config.resume.last, last)  # the result as it stands, should no epoch be left to train
    shutil.copyfile(config.resume.best or config.resume.last, best)
    vtp_runner.log(f"resuming after epoch {epoch} from {config.resume.last} (best val/top1 {recorded['top1']:.2f})")
    return float(recorded["top1"]), dict(recorded["metrics"]), epoch + 1


def train(runner: Runner, config: JobConfig) -> None:
    if config.export_only:
        runner.export_only(config, EXPORTERS)
        return
    hp = check_config(config)
    from imagefolder_dataset import check_imagefolder_dataset

    dataset = check_imagefolder_dataset(config.dataset_dir)
    vtp_runner.log(f"dataset: {len(dataset.class_names)} classes, images {dataset.image_counts}")
    runner.check_cancelled()

    os.environ.setdefault("HF_HUB_OFFLINE", "1")  # nothing here needs the hub; make sure nothing tries
    import timm
    import torch
    from timm.loss import LabelSmoothingCrossEntropy
    from timm.optim import create_optimizer_v2
    from timm.scheduler import create_scheduler_v2
    from timm.utils import random_seed

    device = vtp_runner.resolve_device(config.device)
    random_seed(hp["seed"])
    num_classes = len(dataset.class_names)
    model = build_model(config.model, num_classes, hp["drop_rate"], config.initial_weights).to(device)
    workers, amp = speed_settings(hp, device)
    vtp_runner.log(f"loader workers: {workers}, mixed precision: {amp}")
    train_loader, val_loader, data_config = make_loaders(dataset, model, hp, workers)
    scaler = torch.amp.GradScaler(device, enabled=amp)
    optimizer = create_optimizer_v2(
        model, opt=hp["opt"], lr=hp["lr"], weight_decay=hp["weight_decay"], momentum=hp["momentum"]
    )
    scheduler, _ = create_scheduler_v2(
        optimizer, sched=TIMM_SCHEDULERS[hp["sched"]], num_epochs=hp["epochs"], warmup_epochs=hp["warmup_epochs"]
    )
    smoothing = hp["smoothing"]
    loss_fn = LabelSmoothingCrossEntropy(smoothing=smoothing) if smoothing > 0 else torch.nn.CrossEntropyLoss()
    loss_fn = loss_fn.to(device)

    output_dir = Path(config.output_dir)
    output_dir.mkdir(parents=True, exist_ok=True)
    last, best = output_dir / "last.pth.tar", output_dir / "best.pth.tar"
    # save_checkpoint renames a finished file over the old one: snapshots are hard links.
    files = [
        CheckpointFile("last", str(last), replaced_atomically=True),
        CheckpointFile("best", str(best), replaced_atomically=True),
    ]
    runner.check_cancelled()

    epochs = hp["epochs"]
    best_top1, best_metrics, first_epoch = -1.0, {}, 1
    if config.resume is not None:
        best_top1, best_metrics, first_epoch = resume_state(config, model, optimizer, scheduler, last, best)
    runner.started(epochs, timm.__version__, torch.__version__, device)
    for epoch in range(first_epoch, epochs + 1):
        started = time.monotonic()
        lr = optimizer.param_groups[0]["lr"]  # the rate this epoch trains at (the scheduler set it)
        train_loss = train_one_epoch(runner, model, train_loader, loss_fn, optimizer, device, scaler)
        metrics = {"train/loss": train_loss, **validate(runner, model, val_loader, num_classes, device), "lr": lr}
        scheduler.step(epoch, metrics["val/top1"])  # per epoch, as timm's train.py; plateau watches top-1
        runner.epoch(epoch, epochs, metrics)

        checkpoint = {
            "state_dict": model.state_dict(),
            "optimizer": optimizer.state_dict(),
            "scheduler": scheduler.state_dict(),
            "epoch": epoch,
            "arch": config.model,
            "num_classes": num_classes,
            "class_names": dataset.class_names,
            "imgsz": hp["imgsz"],
            "mean": list(data_config["mean"]),
            "std": list(data_config["std"]),
            "interpolation": data_config["interpolation"],
            "crop_pct": data_config["crop_pct"],
            "crop_mode": data_config["crop_mode"],
            "metrics": metrics,
            # What a resumed attempt must beat: the best result up to and with this epoch.
            "best": {
                "top1": max(best_top1, metrics["val/top1"]),
                "metrics": metrics if metrics["val/top1"] > best_top1 else best_metrics,
            },
            "hyperparameters": hp,
            "timm_version": timm.__version__,
        }
        save_checkpoint(last, checkpoint)
        if metrics["val/top1"] > best_top1:
            best_top1, best_metrics = metrics["val/top1"], metrics
            save_checkpoint(best, checkpoint)
        runner.checkpoint(epoch, files)
        vtp_runner.log(f"epoch {epoch}/{epochs} in {time.monotonic() - started:.1f}s: {metrics}")
    def load_final(path: str) -> None:
        final = timm.create_model(config.model, pretrained=False, num_classes=num_classes)
        final.load_state_dict(torch.load(path, map_location="cpu", weights_only=False)["state_dict"])

    exports = {fmt: EXPORTERS[fmt] for fmt in config.export}
    runner.completed(best_metrics, list(reversed(files)), load=load_final, exports=exports)


if __name__ == "__main__":
    vtp_runner.run(train)

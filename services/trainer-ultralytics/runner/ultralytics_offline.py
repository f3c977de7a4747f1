"""Keeps Ultralytics off the network (read from Ultralytics' own sources: `is_online` and YOLO_OFFLINE in
ultralytics/utils/__init__.py, `check_font` in ultralytics/utils/checks.py).

`prepare_offline` must run before `import ultralytics`: the online check and the config dir are read at import.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

# check_font() looks for these in $YOLO_CONFIG_DIR/Ultralytics and otherwise asks GitHub for them on every
# detection training (whatever `plots` and YOLO_OFFLINE say). Any TTF will do.
FONT_NAMES = ("Arial.ttf", "Arial.Unicode.ttf")
INTEGRATIONS_OFF = {
    "sync": False,  # anonymous usage events
    "api_key": "",  # Ultralytics Platform streaming
    "clearml": False,
    "comet": False,
    "dvc": False,
    "mlflow": False,
    "raytune": False,
    "tensorboard": False,
    "wandb": False,
    "vscode_msg": False,
    "openvino_msg": False,
}


def local_font() -> Path:
    """matplotlib's DejaVuSans.ttf, found without importing matplotlib."""
    spec = importlib.util.find_spec("matplotlib")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("matplotlib is not installed: no local TTF to stand in for Ultralytics' Arial.ttf")
    font = Path(next(iter(spec.submodule_search_locations))) / "mpl-data" / "fonts" / "ttf" / "DejaVuSans.ttf"
    if not font.is_file():
        raise RuntimeError(f"matplotlib's font is missing: {font}")
    return font


def prepare_offline(config_dir: str) -> Path:
    """Set the environment Ultralytics reads at import and put the fonts where it looks. Returns the settings dir."""
    os.environ["YOLO_OFFLINE"] = "true"  # no DNS check at import; ONLINE=False gates update checks and events
    os.environ["YOLO_AUTOINSTALL"] = "false"
    os.environ["ULTRALYTICS_SKIP_REQUIREMENTS_CHECKS"] = "1"
    os.environ["YOLO_CONFIG_DIR"] = config_dir
    os.environ.pop("ULTRALYTICS_API_KEY", None)  # would turn on Platform streaming
    settings_dir = Path(config_dir) / "Ultralytics"
    settings_dir.mkdir(parents=True, exist_ok=True)
    font = local_font()
    for name in FONT_NAMES:
        target = settings_dir / name
        if not target.is_file():
            shutil.copyfile(font, target)
    return settings_dir


def disable_online_features(settings_dir: Path) -> None:
    """Turn off sync, Platform and every integration, and keep Ultralytics' own dirs inside the job's config dir."""
    from ultralytics import settings

    wanted = {
        **INTEGRATIONS_OFF,
        "datasets_dir": str(settings_dir / "datasets"),
        "weights_dir": str(settings_dir / "weights"),
        "runs_dir": str(settings_dir / "runs"),
    }
    settings.update({key: value for key, value in wanted.items() if key in settings})


@contextmanager
def local_assets_only() -> Iterator[None]:
    """Ultralytics fetches a missing asset from GitHub (`attempt_download_asset`, imported where it is used); here
    a missing one fails at once as being offline, instead of waiting on a network that egress rules may drop."""
    from ultralytics.utils import downloads

    fetch = downloads.attempt_download_asset

    def local(file, *args, **kwargs):  # type: ignore[no-untyped-def]
        if Path(str(file)).is_file():
            return str(file)
        raise ConnectionError(f"{file} is not here, and this training is offline")

    downloads.attempt_download_asset = local
    try:
        yield
    finally:
        downloads.attempt_download_asset = fetch


def keep_amp_check_offline() -> None:
    """Ultralytics decides AMP with `check_amp`: off on CPU and on GPUs known to misbehave with it, then an FP32 vs
    AMP comparison on yolo26n.pt, downloaded when missing; offline, it keeps AMP on. Here the check runs as is,
    except that the download fails at once: on CUDA, AMP stays on without touching the network."""
    from ultralytics.engine import trainer

    check = trainer.check_amp

    def check_amp(model):  # type: ignore[no-untyped-def]
        with local_assets_only():
            return check(model)

    trainer.check_amp = check_amp

"""Checks that an uploaded file is Ultralytics YOLO weights the named catalog model can start from; prints one JSON
line: {"format", "numClasses", "classNames", "tensors"}, or {"error": {"code", "message"}} (code `invalid_weights`
when the file is at fault).

Usage: python check_weights.py --file <path> --model yolo11n [--max-memory-bytes N]
(PYTHONPATH must hold packages/trainer-runtime/python; the trainer runs it in a process of its own, with a time limit)
"""

from __future__ import annotations

import os
from typing import Any

import vtp_runner
import vtp_weights
from vtp_weights import InvalidWeights

# The classes an Ultralytics checkpoint pickles: its model's layers, and the namespace of its training arguments.
ULTRALYTICS_MODULES = ("ultralytics.nn.", "ultralytics.utils.IterableSimpleNamespace")


def check(file: str, model: str) -> dict[str, Any]:
    if vtp_weights.file_format(file) == "safetensors":
        raise InvalidWeights(
            "a .safetensors file holds bare tensors; Ultralytics starts from its own .pt checkpoints (a timm file?)"
        )
    from ultralytics_offline import disable_online_features, prepare_offline

    settings_dir = prepare_offline(os.environ.get("YOLO_CONFIG_DIR") or os.path.join(os.getcwd(), ".ultralytics"))
    import torch
    from ultralytics.nn.tasks import DetectionModel

    disable_online_features(settings_dir)
    checkpoint = vtp_weights.torch_load(file, ULTRALYTICS_MODULES)
    found = checkpoint.get("ema") or checkpoint.get("model") if isinstance(checkpoint, dict) else None
    if not isinstance(found, torch.nn.Module):
        kind = "a bare state dict of tensors (a timm or torchvision file?)" if is_state_dict(checkpoint) else "no model"
        raise InvalidWeights(f"not an Ultralytics checkpoint: it holds {kind}, not a YOLO model under 'model'")
    if not isinstance(found, DetectionModel) or type(found).__name__ != "DetectionModel":
        raise InvalidWeights(f"not a detection model: the checkpoint holds a {type(found).__name__}")
    num_classes = int(found.yaml.get("nc") or len(found.names))
    try:
        expected = DetectionModel(f"{model}.yaml", nc=num_classes, verbose=False)
    except Exception as e:  # noqa: BLE001 - a name the catalog has but this Ultralytics lacks
        raise vtp_runner.InvalidConfiguration(f"unknown Ultralytics model {model!r} ({vtp_runner.describe(e)})") from e
    state = found.state_dict()
    vtp_weights.compare_state_dicts(expected.state_dict(), state, model)
    names = found.names
    class_names = [str(names[i]) for i in sorted(names)] if isinstance(names, dict) else [str(n) for n in names]
    return {"format": "pytorch", "numClasses": num_classes, "classNames": class_names, "tensors": len(state)}


def is_state_dict(value: Any) -> bool:
    import torch

    return isinstance(value, dict) and bool(value) and all(isinstance(v, torch.Tensor) for v in value.values())


def main() -> dict[str, Any]:
    args = vtp_weights.parse_arguments()
    vtp_weights.sandbox(args.max_memory_bytes)
    return check(args.file, args.model)


if __name__ == "__main__":
    vtp_runner.run_once(main)

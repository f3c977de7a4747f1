"""Checks that an uploaded file is timm weights the named catalog model can start from: a state dict (bare, or under
`state_dict`/`model`/`state_dict_ema` as timm's own checkpoints keep it) in a .safetensors file or a PyTorch file
read with weights_only. Prints one JSON line: {"format", "numClasses", "classNames", "tensors"}, or
{"error": {"code", "message"}} (code `invalid_weights` when the file is at fault).

Usage: python check_weights.py --file <path> --model test_resnet [--max-memory-bytes N]
(PYTHONPATH must hold packages/trainer-runtime/python; the trainer runs it in a process of its own, with a time limit)
"""

from __future__ import annotations

from typing import Any

import vtp_runner
import vtp_weights
from vtp_weights import InvalidWeights


def read_state_dict(file: str) -> dict[str, Any]:
    """The file's tensors the way the timm runner loads initial weights (weights_load.read_timm_state_dict)."""
    from weights_load import read_timm_state_dict

    state = read_timm_state_dict(file, vtp_weights.read_safetensors, vtp_weights.torch_load)
    if state is None:
        raise InvalidWeights("not a timm state dict: the file holds no tensors by name (an Ultralytics checkpoint?)")
    return state


def check(file: str, model: str) -> dict[str, Any]:
    import timm

    if not timm.is_model(model):
        raise vtp_runner.InvalidConfiguration(f"unknown timm model {model!r}")
    state = read_state_dict(file)
    expected = timm.create_model(model, pretrained=False)
    heads = head_keys(expected)
    vtp_weights.compare_state_dicts(expected.state_dict(), state, model, ignore=heads)
    weight = next((state[k] for k in sorted(heads) if k.endswith(".weight") and k in state), None)
    num_classes = int(weight.shape[0]) if weight is not None else None
    return {"format": vtp_weights.file_format(file), "numClasses": num_classes, "classNames": None, "tensors": len(state)}


def head_keys(model: Any) -> frozenset[str]:
    """The classifier's tensors, whose shape depends on the class count: a training rebuilds them."""
    classifiers = model.pretrained_cfg.get("classifier") or ()
    names = [classifiers] if isinstance(classifiers, str) else list(classifiers)
    return frozenset(f"{c}.{p}" for c in names for p in ("weight", "bias"))


def main() -> dict[str, Any]:
    args = vtp_weights.parse_arguments()
    vtp_weights.sandbox(args.max_memory_bytes)
    return check(args.file, args.model)


if __name__ == "__main__":
    vtp_runner.run_once(main)

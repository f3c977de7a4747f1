"""How the timm runner reads starting weights, shared by train.py and check_weights.py so that what the upload check
accepts is exactly what a training loads."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

# Where timm's and this runner's checkpoints keep the state dict; the EMA weights first, as timm's load_state_dict.
STATE_DICT_KEYS = ("state_dict_ema", "model_ema", "state_dict", "model")


def read_timm_state_dict(
    path: str, read_safetensors: Callable[[str], dict[str, Any]], torch_load: Callable[[str], Any]
) -> dict[str, Any] | None:
    """The state dict of a .safetensors file or of a PyTorch file (bare, or under one of STATE_DICT_KEYS), with
    DataParallel's `module.` prefix removed; None when the file holds no tensors by name. The format is read from
    the file's first bytes, not its name."""
    import torch
    from timm.models import clean_state_dict
    from vtp_weights import file_format

    content = read_safetensors(path) if file_format(path) == "safetensors" else torch_load(path)
    if isinstance(content, dict):
        key = next((k for k in STATE_DICT_KEYS if isinstance(content.get(k), dict)), None)
        content = content[key] if key else content
    if not isinstance(content, dict) or not content:
        return None
    if not all(isinstance(k, str) and isinstance(v, torch.Tensor) for k, v in content.items()):
        return None
    return clean_state_dict(content)

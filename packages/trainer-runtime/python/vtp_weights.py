"""Reading a user's uploaded weights file as data, never as code, for the trainers' check_weights.py.

A `.pt`/`.pth` is a pickle: a plain `torch.load` would run whatever it names. Here every file is read either with
safetensors (tensors only) or with `torch.load(weights_only=True)`, which refuses every global not allowed
explicitly; a framework that pickles its model classes (Ultralytics) names the modules whose classes it may
allow, and anything else the file needs is refused by name. The check runs in a process of its own with a memory
limit and no sockets (`sandbox()`); the trainer adds the time limit.
"""

from __future__ import annotations

import importlib
import os
import resource
import struct
import sys
from collections.abc import Sequence
from typing import Any

from vtp_runner import RunnerError, describe


class InvalidWeights(RunnerError):
    """The file is not weights this framework and model can start from; the message says what is wrong."""

    code = "invalid_weights"


ZIP_MAGIC = b"PK\x03\x04"
# A safetensors file starts with the 8-byte little-endian length of its JSON header, which opens with '{'.
SAFETENSORS_MAX_HEADER = 100 * 1024 * 1024
# Globals always allowed besides torch's own weights-only set: plain containers and numpy arrays, which
# checkpoints carry in their metadata (training results, arguments).
COMMON_SAFE_GLOBALS = (
    "collections.OrderedDict",
    "builtins.set",
    "types.SimpleNamespace",
    "numpy.core.multiarray._reconstruct",
    "numpy._core.multiarray._reconstruct",
    "numpy.core.multiarray.scalar",
    "numpy._core.multiarray.scalar",
    "numpy.ndarray",
    "numpy.dtype",
)


def sandbox(memory_bytes: int) -> None:
    """Called first, before torch is imported: caps the address space and takes sockets away, so a hostile file
    can neither exhaust the machine nor reach the network while it is read."""
    if memory_bytes > 0:
        resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))

    # An audit hook cannot be removed, and sees every call through Python's socket module, whoever makes it.
    sys.addaudithook(refuse_network)


NETWORK_EVENTS = frozenset({"socket.connect", "socket.bind", "socket.sendto", "socket.sendmsg", "socket.getaddrinfo"})


def refuse_network(event: str, _args: tuple[Any, ...]) -> None:
    if event in NETWORK_EVENTS:
        raise PermissionError(f"network access is disabled while weights are checked ({event})")


def file_format(path: str) -> str:
    """'pytorch' (torch.save's zip, or its legacy pickle), 'safetensors', or InvalidWeights."""
    with open(path, "rb") as f:
        head = f.read(9)
    if head.startswith(ZIP_MAGIC):
        return "pytorch"
    if len(head) == 9 and head[8:9] == b"{":
        (header_bytes,) = struct.unpack("<Q", head[:8])
        if 0 < header_bytes <= min(SAFETENSORS_MAX_HEADER, os.path.getsize(path) - 8):
            return "safetensors"
    if head[:1] == b"\x80":  # a pickle protocol opcode: torch's legacy (pre-1.6) format
        return "pytorch"
    raise InvalidWeights("the file is neither a PyTorch checkpoint (.pt/.pth) nor a .safetensors file")


def read_safetensors(path: str) -> dict[str, Any]:
    from safetensors.torch import load_file

    try:
        return load_file(path, device="cpu")
    except Exception as e:  # noqa: BLE001 - any failure to parse is a corrupt file
        raise InvalidWeights(f"the .safetensors file cannot be read: {describe(e)}") from e


def torch_load(path: str, allowed_modules: Sequence[str] = ()) -> Any:
    """`torch.load(weights_only=True)`, allowing besides torch's own set the common containers and the classes of
    `allowed_modules` (module prefixes such as 'ultralytics.nn.'). A file that needs anything else is refused
    naming it; one from another framework says which."""
    import torch

    try:
        needed = torch.serialization.get_unsafe_globals_in_checkpoint(path)
    except Exception as e:  # noqa: BLE001 - not a readable torch file
        raise InvalidWeights(f"the file is not a readable PyTorch checkpoint: {describe(e)}") from e
    refused = [name for name in needed if not allowed(name, allowed_modules)]
    if refused:
        ultralytics = any(name.startswith("ultralytics.") for name in refused)
        raise InvalidWeights(
            f"the checkpoint needs code that a weights-only load does not run: {', '.join(sorted(refused)[:5])}"
            + (" (an Ultralytics checkpoint: upload it with framework ultralytics)" if ultralytics else "")
        )
    globals_ = [resolve(name) for name in needed]
    try:
        with torch.serialization.safe_globals(globals_):
            return torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:  # noqa: BLE001 - truncated or corrupt data
        raise InvalidWeights(f"the PyTorch checkpoint cannot be read: {describe(e)}") from e


def allowed(name: str, allowed_modules: Sequence[str]) -> bool:
    if name in COMMON_SAFE_GLOBALS or name.startswith("torch.nn.modules.") or name.startswith("numpy.dtypes."):
        return True
    return any(name.startswith(prefix) for prefix in allowed_modules)


def resolve(name: str) -> Any:
    module_name, _, attribute = name.rpartition(".")
    try:
        return getattr(importlib.import_module(module_name), attribute)
    except (ImportError, AttributeError) as e:
        raise InvalidWeights(f"the checkpoint names {name}, which this framework version does not have") from e


def compare_state_dicts(
    expected: dict[str, Any], found: dict[str, Any], model: str, ignore: frozenset[str] = frozenset()
) -> None:
    """Every tensor of the named model must be in the file with its shape (except `ignore`, the parts that
    depend on the class count), and the file must hold nothing else: otherwise it is another architecture."""
    missing = sorted(k for k in expected if k not in found and k not in ignore)
    unexpected = sorted(k for k in found if k not in expected)
    mismatched = sorted(
        f"{k} {list(found[k].shape)} (expected {list(expected[k].shape)})"
        for k in expected
        if k in found and k not in ignore and tuple(found[k].shape) != tuple(expected[k].shape)
    )
    if missing or unexpected or mismatched:
        parts = []
        if mismatched:
            parts.append(f"{len(mismatched)} tensors of another shape, e.g. {', '.join(mismatched[:3])}")
        if missing:
            parts.append(f"{len(missing)} missing, e.g. {', '.join(missing[:3])}")
        if unexpected:
            parts.append(f"{len(unexpected)} not in {model}, e.g. {', '.join(unexpected[:3])}")
        raise InvalidWeights(f"the weights do not fit {model}: {'; '.join(parts)}")


def parse_arguments() -> Any:
    import argparse

    parser = argparse.ArgumentParser(description="Check an uploaded weights file; print one JSON line.")
    parser.add_argument("--file", required=True)
    parser.add_argument("--model", required=True)
    parser.add_argument("--max-memory-bytes", type=int, default=0)
    args = parser.parse_args()
    if not os.path.isfile(args.file):
        raise InvalidWeights(f"file not found: {args.file}")
    return args

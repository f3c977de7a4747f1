"""A checkpoint of this trainer as an ONNX model, and back: `export_onnx` writes it with `torch.onnx.export`,
`OnnxClassifier` runs it with onnxruntime. The ONNX file carries what a user needs to feed it (class names, input
size and the normalisation of the training's transforms) as metadata, so it is usable without the checkpoint.
"""

from __future__ import annotations

import json
from typing import Any

# Input and output names of the exported graph; the batch dimension is dynamic.
INPUT_NAME = "images"
OUTPUT_NAME = "logits"
# 17: supported by every onnxruntime of the last years, and enough for the ops of timm's models.
OPSET = 17
# What predict.py's transforms need, taken from the checkpoint (train.py writes these keys).
PREPROCESSING_KEYS = ("imgsz", "mean", "std", "interpolation", "crop_pct", "crop_mode")
# How far the ONNX logits may stray from PyTorch's on the export's self-check (float32, reordered arithmetic).
SELF_CHECK_TOLERANCE = 1e-3


def load_checkpoint(path: str) -> tuple[Any, dict[str, Any]]:
    """The model of a checkpoint this trainer wrote, in eval mode on the CPU, and the checkpoint itself."""
    import timm
    import torch

    # weights_only: a checkpoint is data, never code (train.py writes only tensors, numbers, strings, lists)
    checkpoint = torch.load(path, map_location="cpu", weights_only=True)
    model = timm.create_model(checkpoint["arch"], pretrained=False, num_classes=checkpoint["num_classes"])
    model.load_state_dict(checkpoint["state_dict"])
    return model.eval(), checkpoint


def export_onnx(checkpoint_path: str, target: str) -> None:
    """Exports the checkpoint at `checkpoint_path` to `target`, then checks the file: the ONNX checker passes and
    onnxruntime's logits match PyTorch's on a sample input (a wrong export fails here, not in the user's hands)."""
    import onnx
    import torch

    model, checkpoint = load_checkpoint(checkpoint_path)
    size = int(checkpoint["imgsz"])
    sample = torch.rand(2, 3, size, size, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        expected = model(sample).numpy()
        # dynamo=False: the TorchScript-based exporter, as Ultralytics uses; the dynamo one needs onnxscript.
        torch.onnx.export(
            model,
            (sample[:1],),
            target,
            input_names=[INPUT_NAME],
            output_names=[OUTPUT_NAME],
            dynamic_axes={INPUT_NAME: {0: "batch"}, OUTPUT_NAME: {0: "batch"}},
            opset_version=OPSET,
            dynamo=False,
        )
    exported = onnx.load(target)
    metadata = {
        "framework": "timm",
        "arch": checkpoint["arch"],
        "class_names": json.dumps(checkpoint["class_names"]),
        **{key: json.dumps(checkpoint[key]) for key in PREPROCESSING_KEYS},
    }
    for key, value in metadata.items():
        exported.metadata_props.add(key=key, value=value)
    onnx.checker.check_model(exported)
    onnx.save(exported, target)

    actual = OnnxClassifier(target).logits(sample.numpy())
    difference = float(abs(actual - expected).max())
    if difference > SELF_CHECK_TOLERANCE:
        raise RuntimeError(f"the ONNX model's logits differ from PyTorch's by {difference:.2e} on a sample input")


class OnnxClassifier:
    """An exported classifier run by onnxruntime on the CPU, with its preprocessing from the file's metadata."""

    def __init__(self, path: str) -> None:
        import onnxruntime

        self._session = onnxruntime.InferenceSession(path, providers=["CPUExecutionProvider"])
        raw = self._session.get_modelmeta().custom_metadata_map
        self.class_names: list[str] = json.loads(raw["class_names"])
        self.preprocessing: dict[str, Any] = {key: json.loads(raw[key]) for key in PREPROCESSING_KEYS}

    def logits(self, batch: Any) -> Any:
        """(N, classes) logits for a float32 (N, 3, H, W) batch already transformed."""
        return self._session.run([OUTPUT_NAME], {INPUT_NAME: batch.astype("float32")})[0]

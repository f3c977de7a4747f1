"""Checks that a job's ONNX export predicts what its PyTorch checkpoint predicts, on sample images; prints one JSON
line with the comparison and exits 0 (the calling test asserts on it).

Usage: python onnx_parity.py --framework ultralytics|timm --checkpoint best.pt --onnx best.onnx IMAGE...
(PYTHONPATH must hold packages/trainer-runtime/python and the framework's runner folder)

- timm: the checkpoint in PyTorch and the ONNX file in onnxruntime (onnx_model.OnnxClassifier, preprocessed from
  the file's own metadata), the same class on every image and the largest difference of any class probability.
- ultralytics: `YOLO(checkpoint)` and `YOLO(onnx)`, whose backend for .onnx files is onnxruntime, through the same
  predict path (letterbox, NMS). Per image the threshold is half the PyTorch model's top confidence, so that even an
  undertrained model yields boxes to compare: same count, same classes, IoU of each pair, confidence differences.
  And the raw head outputs of every anchor (box in pixels, class scores) on the same letterboxed input, which do
  not depend on how well the model learned.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from typing import Any


def timm_parity(checkpoint: str, onnx_path: str, images: list[str]) -> dict[str, Any]:
    import torch
    from onnx_model import OnnxClassifier, load_checkpoint
    from predict import load_image, softmax

    model, stored = load_checkpoint(checkpoint)
    classifier = OnnxClassifier(onnx_path)
    results = []
    for image in images:
        with torch.no_grad():
            expected = model(load_image(image, stored, None)).softmax(dim=1)[0].tolist()
        actual = softmax(classifier.logits(load_image(image, classifier.preprocessing, None).numpy())[0].tolist())
        results.append(
            {
                "image": os.path.basename(image),
                "torch": max(range(len(expected)), key=expected.__getitem__),
                "onnx": max(range(len(actual)), key=actual.__getitem__),
                "maxProbabilityDifference": max(abs(a - b) for a, b in zip(expected, actual, strict=True)),
            }
        )
    return {
        "images": len(results),
        "sameClass": sum(r["torch"] == r["onnx"] for r in results),
        "maxProbabilityDifference": max(r["maxProbabilityDifference"] for r in results),
        "classNames": classifier.class_names,
        "results": results,
    }


def iou(a: list[float], b: list[float]) -> float:
    width = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    height = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = width * height
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 1.0


def yolo_parity(checkpoint: str, onnx_path: str, images: list[str]) -> dict[str, Any]:
    from ultralytics_offline import disable_online_features, prepare_offline

    with tempfile.TemporaryDirectory(prefix="vtp-yolo-config-") as scratch:
        settings_dir = prepare_offline(scratch)
        from ultralytics import YOLO

        disable_online_features(settings_dir)
        torch_model, onnx_model = YOLO(checkpoint), YOLO(onnx_path, task="detect")
        imgsz = torch_model.overrides.get("imgsz", 640)

        def boxes(model: Any, image: str, conf: float, max_det: int = 300) -> list[tuple[int, float, list[float]]]:
            found = model.predict(
                image, conf=conf, imgsz=imgsz, device="cpu", max_det=max_det, save=False, verbose=False
            )[0].boxes
            return list(zip(found.cls.int().tolist(), found.conf.tolist(), found.xyxy.tolist(), strict=True))

        raw = raw_outputs(checkpoint, onnx_path, imgsz)
        results = []
        for image in images:
            raw_difference = raw(image)
            top = boxes(torch_model, image, 1e-9, max_det=1)
            threshold = top[0][1] / 2 if top else 0.25
            expected, actual = boxes(torch_model, image, threshold), boxes(onnx_model, image, threshold)
            pairs = list(zip(expected, actual, strict=False))
            results.append(
                {
                    "image": os.path.basename(image),
                    "threshold": threshold,
                    "torchBoxes": len(expected),
                    "onnxBoxes": len(actual),
                    "sameClasses": len(expected) == len(actual) and all(e[0] == a[0] for e, a in pairs),
                    "minIoU": min((iou(e[2], a[2]) for e, a in pairs), default=1.0),
                    "maxConfidenceDifference": max((abs(e[1] - a[1]) for e, a in pairs), default=0.0),
                    **raw_difference,
                }
            )
    return {
        "images": len(results),
        "boxes": sum(r["torchBoxes"] for r in results),
        "sameBoxesAndClasses": sum(r["sameClasses"] and r["torchBoxes"] == r["onnxBoxes"] for r in results),
        "minIoU": min(r["minIoU"] for r in results),
        "maxConfidenceDifference": max(r["maxConfidenceDifference"] for r in results),
        "maxRawBoxDifference": max(r["maxRawBoxDifference"] for r in results),
        "maxRawScoreDifference": max(r["maxRawScoreDifference"] for r in results),
        "results": results,
    }


def raw_outputs(checkpoint: str, onnx_path: str, imgsz: int) -> Any:
    """A function of an image: the largest differences between the two models' raw outputs over all anchors."""
    import cv2
    import torch
    from ultralytics.data.augment import LetterBox
    from ultralytics.nn.autobackend import AutoBackend

    cpu = torch.device("cpu")
    torch_backend, onnx_backend = AutoBackend(checkpoint, device=cpu, fuse=True), AutoBackend(onnx_path, device=cpu)
    letterbox = LetterBox((imgsz, imgsz), auto=False)

    def compare(image: str) -> dict[str, float]:
        pixels = letterbox(image=cv2.imread(image))[..., ::-1].transpose(2, 0, 1).copy()  # BGR HWC -> RGB CHW
        batch = torch.from_numpy(pixels).float().unsqueeze(0) / 255
        with torch.no_grad():
            expected, actual = (first(backend(batch)) for backend in (torch_backend, onnx_backend))
        return {
            "maxRawBoxDifference": float((expected[:, :4] - actual[:, :4]).abs().max()),
            "maxRawScoreDifference": float((expected[:, 4:] - actual[:, 4:]).abs().max()),
        }

    return compare


def first(output: Any) -> Any:
    """The (batch, 4 + classes, anchors) prediction: PyTorch's detect head also returns its feature maps."""
    import torch

    return torch.as_tensor(output[0] if isinstance(output, (list, tuple)) else output)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--framework", choices=("ultralytics", "timm"), required=True)
    parser.add_argument("--checkpoint", required=True)
    parser.add_argument("--onnx", required=True)
    parser.add_argument("images", nargs="+")
    args = parser.parse_args()
    # The frameworks print to stdout; only the result goes there.
    protocol = os.fdopen(os.dup(1), "w")
    os.dup2(2, 1)
    compare = yolo_parity if args.framework == "ultralytics" else timm_parity
    protocol.write(json.dumps(compare(args.checkpoint, args.onnx, args.images)) + "\n")
    protocol.flush()
    sys.stderr.flush()


if __name__ == "__main__":
    main()

"""Loads a checkpoint this trainer wrote, or its ONNX export, and classifies one image; prints one JSON line:
{"class_index": int, "class_name": str, "probabilities": [float per class]}, or {"error": {"code", "message"}}.

Usage: python predict.py --checkpoint best.pth.tar|best.onnx --image img.png [--imgsz N] [--device cpu|cuda|auto]
(an .onnx file runs in onnxruntime on the CPU, preprocessed as its metadata says)
(PYTHONPATH must hold packages/trainer-runtime/python)
"""

from __future__ import annotations

import argparse
import math
import os
from typing import Any

import vtp_runner


def parse_arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checkpoint", required=True)
    parser.add_argument("--image", required=True)
    parser.add_argument("--imgsz", type=int, help="default: the size the checkpoint was trained at")
    parser.add_argument("--device", choices=vtp_runner.DEVICES, default="cpu")
    return parser.parse_args()


def predict(args: argparse.Namespace) -> dict[str, Any]:
    for path in (args.checkpoint, args.image):
        if not os.path.isfile(path):
            raise vtp_runner.InvalidConfiguration(f"file not found: {path}")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    if args.checkpoint.endswith(".onnx"):
        from onnx_model import OnnxClassifier

        classifier = OnnxClassifier(args.checkpoint)
        batch = load_image(args.image, classifier.preprocessing, args.imgsz)
        logits = classifier.logits(batch.numpy())
        probabilities = softmax(logits[0].tolist())
        class_names = classifier.class_names
    else:
        import torch
        from onnx_model import load_checkpoint

        device = vtp_runner.resolve_device(args.device)
        model, checkpoint = load_checkpoint(args.checkpoint)
        batch = load_image(args.image, checkpoint, args.imgsz)
        with torch.no_grad():
            probabilities = model.to(device)(batch.to(device)).softmax(dim=1)[0].tolist()
        class_names = checkpoint["class_names"]
    index = max(range(len(probabilities)), key=probabilities.__getitem__)
    return {"class_index": index, "class_name": class_names[index], "probabilities": probabilities}


def load_image(path: str, preprocessing: dict[str, Any], imgsz: int | None) -> Any:
    """The image as a (1, 3, H, W) tensor, transformed as the training validated (train.py's data config)."""
    from PIL import Image
    from timm.data import create_transform

    size = imgsz or preprocessing["imgsz"]
    transform = create_transform(
        input_size=(3, size, size),
        is_training=False,
        interpolation=preprocessing["interpolation"],
        mean=tuple(preprocessing["mean"]),
        std=tuple(preprocessing["std"]),
        crop_pct=preprocessing["crop_pct"],
        crop_mode=preprocessing["crop_mode"],
    )
    with Image.open(path) as image:
        return transform(image.convert("RGB")).unsqueeze(0)


def softmax(logits: list[float]) -> list[float]:
    top = max(logits)
    exps = [math.exp(v - top) for v in logits]
    total = sum(exps)
    return [v / total for v in exps]


if __name__ == "__main__":
    arguments = parse_arguments()
    vtp_runner.run_once(lambda: predict(arguments))

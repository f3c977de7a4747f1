"""Loads a checkpoint this trainer wrote and classifies one image; prints one JSON line:
{"class_index": int, "class_name": str, "probabilities": [float per class]}, or {"error": {"code", "message"}}.

Usage: python predict.py --checkpoint best.pth.tar --image img.png [--imgsz N] [--device cpu|cuda|auto]
(PYTHONPATH must hold packages/trainer-runtime/python)
"""

from __future__ import annotations

import argparse
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
    import timm
    import torch
    from PIL import Image
    from timm.data import create_transform

    device = vtp_runner.resolve_device(args.device)
    # weights_only: a checkpoint is data, never code (this runner writes only tensors, numbers, strings, lists)
    checkpoint = torch.load(args.checkpoint, map_location="cpu", weights_only=True)
    model = timm.create_model(checkpoint["arch"], pretrained=False, num_classes=checkpoint["num_classes"])
    model.load_state_dict(checkpoint["state_dict"])
    model.to(device).eval()
    size = args.imgsz or checkpoint["imgsz"]
    transform = create_transform(
        input_size=(3, size, size),
        is_training=False,
        interpolation=checkpoint["interpolation"],
        mean=tuple(checkpoint["mean"]),
        std=tuple(checkpoint["std"]),
        crop_pct=checkpoint["crop_pct"],
        crop_mode=checkpoint["crop_mode"],
    )
    with Image.open(args.image) as image:
        batch = transform(image.convert("RGB")).unsqueeze(0).to(device)
    with torch.no_grad():
        probabilities = model(batch).softmax(dim=1)[0].tolist()
    index = max(range(len(probabilities)), key=probabilities.__getitem__)
    return {"class_index": index, "class_name": checkpoint["class_names"][index], "probabilities": probabilities}


if __name__ == "__main__":
    arguments = parse_arguments()
    vtp_runner.run_once(lambda: predict(arguments))

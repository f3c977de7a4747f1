"""Loads a checkpoint this trainer wrote and detects objects in one image; prints one JSON line:
{"boxes": [{"cls": int, "conf": float, "xyxy": [x1, y1, x2, y2]}, ...]}, or {"error": {"code", "message"}}.

Usage: python predict.py --checkpoint best.pt --image img.png [--imgsz N] [--conf 0.25] [--device cpu|cuda|auto]
(PYTHONPATH must hold packages/trainer-runtime/python)
"""

from __future__ import annotations

import argparse
import os
import tempfile
from typing import Any

import vtp_runner


def parse_arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checkpoint", required=True)
    parser.add_argument("--image", required=True)
    parser.add_argument("--imgsz", type=int, help="default: the size the checkpoint was trained at")
    parser.add_argument("--conf", type=float, default=0.25, help="minimum confidence of a box")
    parser.add_argument("--device", choices=vtp_runner.DEVICES, default="cpu")
    return parser.parse_args()


def predict(args: argparse.Namespace) -> dict[str, Any]:
    for path in (args.checkpoint, args.image):
        if not os.path.isfile(path):
            raise vtp_runner.InvalidConfiguration(f"file not found: {path}")
    from ultralytics_offline import disable_online_features, prepare_offline

    with tempfile.TemporaryDirectory(prefix="vtp-yolo-config-") as scratch:
        settings_dir = prepare_offline(os.environ.get("YOLO_CONFIG_DIR") or scratch)
        from ultralytics import YOLO

        disable_online_features(settings_dir)
        device = vtp_runner.resolve_device(args.device)
        model = YOLO(args.checkpoint)
        options = {"imgsz": args.imgsz} if args.imgsz else {}
        result = model.predict(
            args.image, conf=args.conf, device="0" if device == "cuda" else "cpu", save=False, verbose=False, **options
        )[0]
        boxes = result.boxes
        return {
            "boxes": [
                {"cls": int(c), "conf": float(p), "xyxy": [float(v) for v in xyxy]}
                for c, p, xyxy in zip(boxes.cls.tolist(), boxes.conf.tolist(), boxes.xyxy.tolist(), strict=True)
            ]
        }


if __name__ == "__main__":
    arguments = parse_arguments()
    vtp_runner.run_once(lambda: predict(arguments))

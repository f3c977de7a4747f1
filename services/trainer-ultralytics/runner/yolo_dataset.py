"""Checks a YOLO detection dataset before Ultralytics sees it: Ultralytics skips bad images and label lines with a
warning, or fails with a message that does not name the file; the job should fail naming it instead."""

from __future__ import annotations

import os
from dataclasses import dataclass

import yaml
from PIL import Image
from vtp_runner import InvalidDataset

# Ultralytics' IMG_FORMATS (ultralytics/data/utils.py), compared in lower case as it does.
IMAGE_SUFFIXES = {".bmp", ".dng", ".jpeg", ".jpg", ".mpo", ".png", ".tif", ".tiff", ".webp", ".pfm", ".heic"}
MIN_IMAGE_SIDE = 10  # Ultralytics drops smaller images as corrupt
SPLITS = ("train", "val")


@dataclass(frozen=True)
class YoloDataset:
    class_names: list[str]
    image_counts: dict[str, int]


def check_yolo_dataset(data_yaml: str) -> YoloDataset:
    data = read_data_yaml(data_yaml)
    names = class_names(data, data_yaml)
    root = data.get("path")
    if not isinstance(root, str) or not os.path.isabs(root) or not os.path.isdir(root):
        raise InvalidDataset(f"data.yaml 'path' must be an existing absolute folder, got {root!r}", data_yaml)
    counts = {}
    for split in SPLITS:
        relative = data.get(split)
        if not isinstance(relative, str) or not relative:
            raise InvalidDataset(f"data.yaml has no '{split}' folder", data_yaml)
        folder = os.path.join(root, relative)
        if not os.path.isdir(folder):
            raise InvalidDataset(f"the '{split}' image folder does not exist", folder)
        images = list_images(folder)
        if not images:
            raise InvalidDataset(f"no images ({', '.join(sorted(IMAGE_SUFFIXES))}) in the '{split}' folder", folder)
        for image in images:
            check_image(image)
            label = label_path(image)
            if os.path.isfile(label):  # no label file = an image with no objects, as in Ultralytics
                check_label_file(label, len(names))
        counts[split] = len(images)
    return YoloDataset(class_names=names, image_counts=counts)


def read_data_yaml(path: str) -> dict:
    if not os.path.isfile(path):
        raise InvalidDataset("data.yaml not found", path)
    try:
        with open(path, encoding="utf-8") as f:
            data = yaml.safe_load(f)
    except (OSError, yaml.YAMLError) as e:
        raise InvalidDataset(f"data.yaml is not readable YAML ({e})", path) from e
    if not isinstance(data, dict):
        raise InvalidDataset("data.yaml must be a mapping", path)
    if "download" in data:  # Ultralytics would run it when a split is missing
        raise InvalidDataset("data.yaml must not have a 'download' key", path)
    return data


def class_names(data: dict, data_yaml: str) -> list[str]:
    names = data.get("names")
    if isinstance(names, dict) and sorted(names) == list(range(len(names))):
        names = [names[i] for i in range(len(names))]
    if not isinstance(names, list) or not names or not all(isinstance(n, str) and n for n in names):
        raise InvalidDataset("data.yaml 'names' must be a non-empty list (or 0..n-1 mapping) of class names", data_yaml)
    return names


def list_images(folder: str) -> list[str]:
    found = []
    for directory, _, files in os.walk(folder):
        found.extend(os.path.join(directory, f) for f in files if os.path.splitext(f)[1].lower() in IMAGE_SUFFIXES)
    return sorted(found)


def label_path(image: str) -> str:
    """Ultralytics' img2label_paths: the last /images/ becomes /labels/, the suffix .txt."""
    images_part, labels_part = f"{os.sep}images{os.sep}", f"{os.sep}labels{os.sep}"
    return os.path.splitext(labels_part.join(image.rsplit(images_part, 1)))[0] + ".txt"


def check_image(path: str) -> None:
    try:
        with Image.open(path) as image:
            image.verify()
            width, height = image.size
    except Exception as e:  # PIL raises many types for broken files
        raise InvalidDataset(f"unreadable image ({e})", path) from e
    if min(width, height) < MIN_IMAGE_SIDE:
        raise InvalidDataset(f"image is {width}x{height}, smaller than {MIN_IMAGE_SIDE} px on a side", path)


def check_label_file(path: str, class_count: int) -> None:
    with open(path, encoding="utf-8") as f:
        for number, line in enumerate(f, start=1):
            fields = line.split()
            if not fields:
                continue
            where = f"{path}:{number}"
            if len(fields) != 5:
                raise InvalidDataset(
                    f"expected 'class x_center y_center width height', got {len(fields)} values", where
                )
            try:
                values = [float(v) for v in fields]
            except ValueError as e:
                raise InvalidDataset(f"label values must be numbers ({e})", where) from e
            cls = values[0]
            if not cls.is_integer() or not 0 <= cls < class_count:
                raise InvalidDataset(f"class {fields[0]} is not one of 0..{class_count - 1}", where)
            if not all(0.0 <= v <= 1.0 for v in values[1:]):
                raise InvalidDataset("box coordinates must be normalised to 0..1", where)

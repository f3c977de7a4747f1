"""Checks an imagefolder dataset (train/<class>/*, val/<class>/*) before timm sees it. timm would silently use the
dataset root when a split folder is missing, take any nested folder for a class, drop val classes it did not see in
train, and skip unreadable images with a warning; the job should fail naming the path instead."""

from __future__ import annotations

import os
from dataclasses import dataclass

from PIL import Image
from vtp_runner import InvalidDataset

# timm's ImageFolder reader (timm/data/readers/img_extensions.py) compares the lower-cased suffix with these.
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg")


@dataclass(frozen=True)
class ImageFolderDataset:
    train_dir: str
    val_dir: str
    class_names: list[str]  # index order: sorted folder names of train/
    image_counts: dict[str, int]


def check_imagefolder_dataset(root: str) -> ImageFolderDataset:
    if not os.path.isdir(root):
        raise InvalidDataset("dataset folder not found", root)
    train_dir, val_dir = os.path.join(root, "train"), os.path.join(root, "val")
    train = class_images(train_dir, "train")
    val = class_images(val_dir, "val")
    for name, images in train.items():
        if not images:
            raise InvalidDataset(
                f"class '{name}' has no training images ({', '.join(IMAGE_SUFFIXES)})", os.path.join(train_dir, name)
            )
    for name in val:
        if name not in train:
            raise InvalidDataset(f"class '{name}' is in val but not in train", os.path.join(val_dir, name))
    if len(train) < 2:
        raise InvalidDataset("a classifier needs at least 2 classes (one folder each)", train_dir)
    if not any(val.values()):
        raise InvalidDataset(f"no validation images ({', '.join(IMAGE_SUFFIXES)})", val_dir)
    for images in (*train.values(), *val.values()):
        for image in images:
            check_image(image)
    return ImageFolderDataset(
        train_dir=train_dir,
        val_dir=val_dir,
        class_names=sorted(train),
        image_counts={"train": sum(map(len, train.values())), "val": sum(map(len, val.values()))},
    )


def class_images(split_dir: str, split: str) -> dict[str, list[str]]:
    """{class folder name: its image paths}, refusing layouts timm would misread."""
    if not os.path.isdir(split_dir):
        raise InvalidDataset(f"the '{split}' folder does not exist", split_dir)
    classes: dict[str, list[str]] = {}
    for entry in sorted(os.scandir(split_dir), key=lambda e: e.name):
        if entry.name.startswith("."):
            continue
        if not entry.is_dir():
            if is_image(entry.name):
                raise InvalidDataset("images must be inside a class folder", entry.path)
            continue
        images = []
        for item in sorted(os.scandir(entry.path), key=lambda e: e.name):
            if item.is_dir() and not item.name.startswith("."):
                raise InvalidDataset(
                    "class folders must not contain folders (timm would read them as classes)", item.path
                )
            if item.is_file() and is_image(item.name):
                images.append(item.path)
        classes[entry.name] = images
    if not classes:
        raise InvalidDataset(f"the '{split}' folder has no class folders", split_dir)
    return classes


def is_image(name: str) -> bool:
    return os.path.splitext(name)[1].lower() in IMAGE_SUFFIXES


def check_image(path: str) -> None:
    try:
        with Image.open(path) as image:
            image.verify()
    except Exception as e:  # PIL raises many types for broken files
        raise InvalidDataset(f"unreadable image ({e})", path) from e

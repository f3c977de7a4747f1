"""What the warm zygote (vtp_zygote.py) imports once, so that each training forked from it starts at once: the
modules train.py imports, none of which starts a thread or touches CUDA. Nothing here may run a torch op either:
the OpenMP thread pool it starts does not survive a fork (the forked training would hang in its first op).

Ultralytics reads its config dir (settings, fonts) and its offline switch at import: they are the zygote's own
(YOLO_CONFIG_DIR of its scratch folder), made offline here exactly as a cold runner makes its job's; a forked
training keeps them (see `train` in train.py).
"""

import os

import vtp_runner  # noqa: F401
import yolo_dataset  # noqa: F401
from ultralytics_offline import disable_online_features, prepare_offline

settings_dir = prepare_offline(os.environ.get("YOLO_CONFIG_DIR") or os.path.join(os.getcwd(), ".ultralytics"))
import torch  # noqa: E402, F401
import ultralytics  # noqa: E402, F401
import ultralytics.engine.trainer  # noqa: E402, F401
import ultralytics.models.yolo  # noqa: E402, F401
import ultralytics.nn.tasks  # noqa: E402, F401

disable_online_features(settings_dir)

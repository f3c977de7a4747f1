"""What the warm zygote (vtp_zygote.py) imports once, so that each training forked from it starts at once: the
modules train.py imports, none of which starts a thread or touches CUDA. Nothing here may run a torch op either:
the OpenMP thread pool it starts does not survive a fork (the forked training would hang in its first op)."""

import imagefolder_dataset  # noqa: F401
import timm  # noqa: F401
import timm.data  # noqa: F401
import timm.loss  # noqa: F401
import timm.optim  # noqa: F401
import timm.scheduler  # noqa: F401
import timm.utils  # noqa: F401
import torch  # noqa: F401
import vtp_runner  # noqa: F401

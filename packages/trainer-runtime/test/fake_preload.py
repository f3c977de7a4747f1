"""The fake runner's preload for the warm zygote: its one import (the real ones import torch and the framework)."""

import vtp_runner  # noqa: F401

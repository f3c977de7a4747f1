"""Stands in for a trainer's check_weights.py under the system python3 (no framework): the model name says what it
does, so the tests can see how the trainer treats each ending of a check."""

import json
import os
import signal
import sys
import time

arguments = dict(zip(sys.argv[1::2], sys.argv[2::2]))
model = arguments["--model"]
with open(arguments["--file"], "rb") as f:
    content = f.read()
if model == "fits":
    print(json.dumps({"format": "safetensors", "numClasses": 3, "classNames": None, "tensors": len(content)}))
elif model == "misfits":
    print(json.dumps({"error": {"code": "invalid_weights", "message": "the weights do not fit misfits"}}))
elif model == "hangs":
    with open(os.path.join(os.getcwd(), "..", "hanging.pid"), "w") as f:
        f.write(str(os.getpid()))
    time.sleep(600)
elif model == "crashes":
    os.kill(os.getpid(), signal.SIGSEGV)

import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { trainerPython } from './training.ts';

const run = promisify(execFile);

/**
 * Test weights made by the real frameworks in the trainers' Python environment (nothing downloaded): fresh models
 * saved the way users' files come (a YOLO .pt, timm state dicts as .pth and .safetensors), another architecture, a
 * truncated file, and a pickle that would run a command if it were ever unpickled unsafely.
 */
const CRAFT_WEIGHTS = `
import os, sys, torch
out = sys.argv[1]
os.environ["YOLO_CONFIG_DIR"] = out
os.environ["YOLO_OFFLINE"] = "true"
from ultralytics import YOLO
YOLO("yolo11n.yaml").save(os.path.join(out, "yolo11n.pt"))
YOLO("yolov8n.yaml").save(os.path.join(out, "yolov8n.pt"))
import timm
from safetensors.torch import save_file
state = timm.create_model("test_resnet", pretrained=False).state_dict()
torch.save(state, os.path.join(out, "test_resnet.pth"))
save_file(state, os.path.join(out, "test_resnet.safetensors"))
torch.save(timm.create_model("test_efficientnet", pretrained=False).state_dict(), os.path.join(out, "test_efficientnet.pth"))
with open(os.path.join(out, "yolo11n.pt"), "rb") as f:
    whole = f.read()
with open(os.path.join(out, "truncated.pt"), "wb") as f:
    f.write(whole[: len(whole) // 2])
with open(os.path.join(out, "junk.bin"), "wb") as f:
    f.write(b"12345678{ not weights at all")
class Payload:
    def __reduce__(self):
        return (os.system, ("touch " + os.path.join(out, "PAYLOAD_RAN"),))
torch.save({"model": Payload()}, os.path.join(out, "payload.pt"))
`;

/** Writes the test weights files into `dir` (about 10 s: Python importing torch and both frameworks). */
export async function craftWeights(dir: string): Promise<void> {
  await run(trainerPython(), ['-c', CRAFT_WEIGHTS, dir], { timeout: 120_000 });
}

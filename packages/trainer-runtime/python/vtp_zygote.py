"""A warm start for runners: imports torch and the framework once, then forks a ready process per training.

Usage: python -u vtp_zygote.py --preload <file.py> --socket <unix socket of the trainer> --title-space <filler>

The trainer sends one JSON request per line on stdin ({"type": "fork", "id", "script", "argv", "cwd", "env"}); the
zygote answers on stdout with one JSON line per fact: "ready" once the preload has run, then per request "forked"
(with the pid) or "refused" (with why: the trainer then spawns a fresh interpreter), and "exited" (code or
signal) when it has reaped that runner.

A runner shows the command line a spawned one would have (`python -u <script> --config <file>`, what `ps`,
`pgrep -f` and the soak look for): it writes it over the memory the kernel reads /proc/<pid>/cmdline from, the
zygote's own arguments, which --title-space makes long enough.

Each runner gets its own process group, as a spawned one would: the trainer signals its whole group. Its stdout
and stderr are two connections to the trainer's socket, opened by the zygote before the fork and each starting
with a "<id> <stream>" header line, then placed on fd 1 and 2 so dataloader workers inherit them too. The
zygote never starts a thread nor initialises CUDA (either makes a fork unsafe: it checks before each one) and runs
no torch op (GNU OpenMP's thread pool does not survive a fork: a forked child hangs in its first parallel op, which
no check can see coming, so the preload must not start one). It dies with the trainer, and its runners with it.
"""

from __future__ import annotations

import argparse
import ctypes
import json
import os
import runpy
import select
import signal
import socket
import sys
import threading
import traceback
from typing import Any

PR_SET_PDEATHSIG = 1
EXIT_PARENT_GONE = 137
PARENT_POLL_SECONDS = 1.0

_libc = ctypes.CDLL(None, use_errno=True) if sys.platform.startswith("linux") else None


def prctl(option: int, value: Any) -> None:
    if _libc is not None:
        _libc.prctl(option, value, 0, 0, 0)


def die_with_parent(parent: int) -> None:
    """SIGKILL when the parent dies (no thread to poll: the zygote's loop and the runner's own watch do that)."""
    prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != parent:  # it died before prctl took effect
        os._exit(EXIT_PARENT_GONE)


def set_command_line(args: list[str]) -> bool:
    """Writes `args` where the kernel reads this process's /proc/<pid>/cmdline (from arg_start to arg_end in
    /proc/self/stat, Linux 3.5+), NUL-padded; false when they do not fit. Python copied its arguments at start-up
    and the C library keeps only argv[0] from there, which callers leave as it is (the interpreter)."""
    try:
        with open("/proc/self/stat", encoding="utf-8") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        start, end = int(fields[45]), int(fields[46])  # fields 48 and 49, counted from the state (field 3)
    except (OSError, IndexError, ValueError):
        return False
    data = b"\0".join(arg.encode() for arg in args) + b"\0"
    if start <= 0 or len(data) > end - start:
        return False
    ctypes.memmove(start, data.ljust(end - start, b"\0"), end - start)
    return True


def send(message: dict[str, Any]) -> None:
    os.write(1, (json.dumps(message) + "\n").encode())


def fork_hazard() -> str | None:
    """Why forking now would hand the runner a broken copy, if it would."""
    if threading.active_count() != 1:
        names = ", ".join(t.name for t in threading.enumerate())
        return f"the zygote runs {threading.active_count()} Python threads ({names}); a fork copies none but the caller"
    torch = sys.modules.get("torch")
    if torch is not None and torch.cuda.is_initialized():
        return "the zygote has initialised CUDA, which a forked child cannot use"
    if cuda_driver_loaded():
        return "the zygote has loaded the CUDA driver (libcuda), which a forked child cannot use"
    return None


def cuda_driver_loaded() -> bool:
    """Whether libcuda is mapped: the CUDA runtime loads it when first asked anything (even a device count)."""
    try:
        with open("/proc/self/maps", encoding="utf-8") as maps:
            return any(os.path.basename(line.split()[-1]).startswith("libcuda.so") for line in maps if "/" in line)
    except OSError:
        return False


def connect(path: str, request_id: str, stream: str) -> socket.socket:
    conn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    conn.connect(path)
    conn.sendall(f"{request_id} {stream}\n".encode())
    return conn


def exit_code_of(exc: SystemExit) -> int:
    """What the interpreter would exit with for `sys.exit(exc.code)`."""
    if exc.code is None:
        return 0
    if isinstance(exc.code, int):
        return exc.code
    print(exc.code, file=sys.stderr)
    return 1


def become_runner(request: dict[str, Any], zygote: int, streams: list[socket.socket], closing: list[int]) -> None:
    """In the child: the process `python -u <script> <argv>` would have been, in cwd with env. Never returns."""
    os.setpgid(0, 0)  # its own group (the zygote sets it too, so no signal can find the child outside it)
    die_with_parent(zygote)
    signal.set_wakeup_fd(-1)
    for fd in closing:
        os.close(fd)
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    os.close(null)
    for fd, conn in zip((1, 2), streams):
        os.dup2(conn.fileno(), fd)
        conn.close()
    script = request["script"]
    if not set_command_line([sys.orig_argv[0], "-u", script, *request["argv"]]):
        print("[vtp-zygote] the runner's command line does not fit; it shows the zygote's", file=sys.stderr)
    os.chdir(request["cwd"])
    os.environ.clear()
    os.environ.update(request["env"])
    sys.argv = [script, *request["argv"]]
    sys.path[0] = os.path.dirname(script)  # as `python <script>` sets it
    # Forked children share the zygote's random state; a fresh interpreter would draw its own seeds.
    if "numpy" in sys.modules:
        sys.modules["numpy"].random.seed()
    if "torch" in sys.modules:
        sys.modules["torch"].seed()
    try:
        runpy.run_path(script, run_name="__main__")
        code = 0
    except SystemExit as e:
        code = exit_code_of(e)
    except BaseException:  # noqa: BLE001 - as the interpreter would: the traceback to stderr, exit 1
        traceback.print_exc()
        code = 1
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


class Zygote:
    def __init__(self, socket_path: str) -> None:
        self._socket_path = socket_path
        self._pid = os.getpid()
        self._children: dict[int, str] = {}
        self._wake_read, self._wake_write = os.pipe()
        os.set_blocking(self._wake_write, False)
        signal.signal(signal.SIGCHLD, lambda *_: None)  # the wake-up fd does the work
        signal.set_wakeup_fd(self._wake_write)

    def fork(self, request: dict[str, Any]) -> None:
        request_id = request["id"]
        hazard = fork_hazard()
        if hazard is not None:
            send({"type": "refused", "id": request_id, "reason": hazard})
            return
        try:
            streams = [connect(self._socket_path, request_id, name) for name in ("stdout", "stderr")]
        except OSError as e:
            send({"type": "refused", "id": request_id, "reason": f"cannot reach the trainer's socket: {e}"})
            return
        pid = os.fork()
        if pid == 0:
            try:
                become_runner(request, self._pid, streams, [self._wake_read, self._wake_write])
            finally:
                os._exit(1)  # become_runner itself failed: its traceback is on the runner's stderr
        try:
            os.setpgid(pid, pid)
        except OSError:
            pass  # the child got there first
        for conn in streams:
            conn.close()
        self._children[pid] = request_id
        send({"type": "forked", "id": request_id, "pid": pid})

    def reap(self) -> None:
        while self._children:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            request_id = self._children.pop(pid, None)
            if request_id is None:
                continue
            if os.WIFSIGNALED(status):
                code, name = None, signal.Signals(os.WTERMSIG(status)).name
            else:
                code, name = os.waitstatus_to_exitcode(status), None
            send({"type": "exited", "id": request_id, "pid": pid, "code": code, "signal": name})

    def serve(self, parent: int) -> None:
        pending = b""
        while True:
            readable, _, _ = select.select([0, self._wake_read], [], [], PARENT_POLL_SECONDS)
            if os.getppid() != parent:
                os._exit(EXIT_PARENT_GONE)
            if self._wake_read in readable:
                os.read(self._wake_read, 4096)
            self.reap()
            if 0 not in readable:
                continue
            chunk = os.read(0, 65536)
            if not chunk:
                return  # the trainer closed our stdin: it is shutting down
            pending += chunk
            *lines, pending = pending.split(b"\n")
            for line in lines:
                if line.strip():
                    self.fork(json.loads(line))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preload", required=True, help="Python file run once: imports torch and the framework")
    parser.add_argument("--socket", required=True, help="the trainer's Unix socket for the runners' output")
    parser.add_argument("--title-space", required=True, help="filler: room for the runners' command lines")
    args = parser.parse_args()
    set_command_line(sys.orig_argv[: sys.orig_argv.index("--title-space")])  # ps shows the zygote without it
    parent = os.getppid()
    die_with_parent(parent)
    # Anything printed while preloading goes to the zygote's log, never into its messages.
    messages = os.dup(1)
    os.dup2(2, 1)
    zygote = Zygote(args.socket)
    sys.path[0] = os.path.dirname(os.path.abspath(args.preload))  # its neighbours import as the runner's would
    # A CUDA check while importing (torch.cuda.is_available()) asks NVML instead of initialising the driver.
    os.environ["PYTORCH_NVML_BASED_CUDA_CHECK"] = "1"
    runpy.run_path(args.preload, run_name="vtp_preload")
    os.dup2(messages, 1)
    os.close(messages)
    hazard = fork_hazard()
    if hazard is not None:
        print(f"[vtp-zygote] the preload left the zygote unable to fork: {hazard}", file=sys.stderr, flush=True)
        sys.exit(1)
    send({"type": "ready", "pid": os.getpid()})
    zygote.serve(parent)


if __name__ == "__main__":
    main()

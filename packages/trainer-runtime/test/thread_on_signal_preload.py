"""A preload that makes its zygote unsafe to fork on request: SIGUSR1 starts a thread in it, as a careless
preload or library might, and the zygote must then refuse to fork (a fork copies only the calling thread)."""

import signal
import threading
import time


def start_thread(_signum: int, _frame: object) -> None:
    threading.Thread(target=lambda: time.sleep(3600), name="stray-thread", daemon=True).start()


signal.signal(signal.SIGUSR1, start_thread)

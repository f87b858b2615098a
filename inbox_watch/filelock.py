"""An exclusive lock shared by processes through a lock file, re-entrant within one process.

A small replacement for the ``filelock`` package, whose import alone (about 50 ms, most of it
asyncio) cost more than an idle sync's own work. POSIX ``flock`` where available, ``msvcrt``
byte locking on Windows. The lock is released by the kernel if the process dies.
"""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]
    import msvcrt


class LockTimeout(Exception):
    """Raised when another process holds the lock for longer than the timeout."""


class FileLock:
    """``with lock:`` or ``acquire()`` / ``release()``; nested use in one thread is counted."""

    def __init__(self, path: str | Path, timeout: float = 30.0) -> None:
        self.path = str(path)
        self.timeout = timeout
        self._thread_lock = threading.RLock()
        self._depth = 0
        self._fd: int | None = None

    def acquire(self) -> None:
        deadline = time.monotonic() + self.timeout
        if not self._thread_lock.acquire(timeout=self.timeout):
            raise LockTimeout(self.path)
        try:
            if self._depth == 0:
                self._fd = self._lock_file(deadline)
            self._depth += 1
        except BaseException:
            self._thread_lock.release()
            raise

    def _lock_file(self, deadline: float) -> int:
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            while True:
                try:
                    if fcntl is not None:
                        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    else:  # pragma: no cover - Windows
                        msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
                    return fd
                except OSError:
                    if time.monotonic() >= deadline:
                        raise LockTimeout(self.path) from None
                    time.sleep(0.005)
        except BaseException:
            os.close(fd)
            raise

    def release(self) -> None:
        if self._depth == 0:
            raise RuntimeError("release of a lock that is not held")
        self._depth -= 1
        if self._depth == 0 and self._fd is not None:
            fd, self._fd = self._fd, None
            try:
                if fcntl is not None:
                    fcntl.flock(fd, fcntl.LOCK_UN)
                else:  # pragma: no cover - Windows
                    os.lseek(fd, 0, os.SEEK_SET)
                    msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)
            finally:
                os.close(fd)
        self._thread_lock.release()

    def __enter__(self) -> FileLock:
        self.acquire()
        return self

    def __exit__(self, *_: object) -> None:
        self.release()

"""Locks that die with their process: one bulk run per state folder, one worker per order.

StateLock keeps a second bulk run off a state folder; OrderLocks keeps every other ccw-agent
process of the user on this host (and every other worker) off an order while it is worked on.
Both are exclusive flocks, so a crash or `kill -9` releases them.
"""

from __future__ import annotations

import asyncio
import fcntl
import hashlib
import os
import stat
import tempfile
import time
from contextlib import suppress
from pathlib import Path
from types import TracebackType
from typing import Self

from agent.bulk.signals import wait_for_event
from agent.bulk.storage import describe, guarded, make_folder
from pages.errors import LockHeld, OrderBusy, StorageError
from pages.orders import order_key

LOCK_FILE = "lock"


class StateLock:
    """Hold the state folder for this process; a second holder gets LockHeld naming the PID."""

    def __init__(self, state_dir: str | Path) -> None:
        self.state_dir = Path(state_dir)
        self.path = self.state_dir / LOCK_FILE
        self._fd: int | None = None

    def acquire(self) -> None:
        make_folder(self.state_dir)
        with guarded("lock the state folder with", self.path):
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 32, 0).decode("ascii", "replace").strip() or "unknown"
            os.close(fd)
            raise LockHeld(
                f"another ccw-agent run (PID {holder}) is using the state folder "
                f"{self.state_dir}; wait for it to end, or give this run another state folder "
                "(CCW_STATE_DIR)"
            ) from None
        # The file is never deleted: removing it would let two processes lock two different inodes.
        try:
            with guarded("lock the state folder with", self.path):
                os.ftruncate(fd, 0)
                os.pwrite(fd, f"{os.getpid()}\n".encode("ascii"), 0)
                os.fsync(fd)
        except BaseException:
            os.close(fd)
            raise
        self._fd = fd

    def release(self) -> None:
        if self._fd is None:
            return
        os.ftruncate(self._fd, 0)
        fcntl.flock(self._fd, fcntl.LOCK_UN)
        os.close(self._fd)
        self._fd = None

    def __enter__(self) -> Self:
        self.acquire()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.release()


ORDER_LOCK_POLL_S = 0.2


def order_lock_dir() -> Path:
    """The host-wide folder of order locks, private to this user (mode 0700).

    `$XDG_RUNTIME_DIR/ccw-agent/orders` when the session has a runtime folder, else
    `<temp folder>/ccw-agent-<uid>/orders`. Every ccw-agent process of the user on this host
    finds the same folder, whatever its state folder. A folder there that another user owns or
    can write to is refused rather than trusted.
    """
    runtime = os.environ.get("XDG_RUNTIME_DIR")
    base = (
        Path(runtime) / "ccw-agent"
        if runtime
        else Path(tempfile.gettempdir()) / f"ccw-agent-{os.getuid()}"
    )
    folder = base / "orders"
    with guarded("create the order-lock folder", folder):
        for path in (base, folder):
            with suppress(FileExistsError):
                path.mkdir(mode=0o700, parents=True)
            found = os.lstat(path)
            if (
                not stat.S_ISDIR(found.st_mode)
                or found.st_uid != os.getuid()
                or found.st_mode & 0o077
            ):
                raise StorageError(
                    f"the order-lock folder {path} is not a private folder of this user (a "
                    "directory it owns, mode 0700); remove it, or set XDG_RUNTIME_DIR"
                )
    return folder


class OrderLocks:
    """The orders one worker is working on: an exclusive flock per order, held until released.

    One lock file per order and portal in `order_lock_dir()`, named by the order's key (ASCII
    digits without leading zeros), so that the same order under two spellings is one lock, and
    every process of the user on this host honours it (two state folders, or `assign` during a
    `bulk`). A lock held elsewhere is waited for up to `wait_s` seconds, then OrderBusy. The lock
    dies with its process; its file is removed on release, so the folder does not grow.
    """

    def __init__(
        self,
        portal: str,
        *,
        wait_s: float,
        stop: asyncio.Event | None = None,
        folder: Path | None = None,
    ) -> None:
        self.portal = portal
        self.wait_s = wait_s
        self.stop = stop or asyncio.Event()
        self._folder = folder
        self._held: dict[str, tuple[int, Path]] = {}

    def path(self, key: str) -> Path:
        if self._folder is None:
            self._folder = order_lock_dir()
        portal = hashlib.sha256(self.portal.encode("utf-8")).hexdigest()[:12]
        return self._folder / f"{key}-{portal}.lock"

    async def hold(self, number: str) -> None:
        """Lock the order (a no-op if this object holds it already); OrderBusy after the wait."""
        key = order_key(number)
        if key in self._held:
            return
        path = self.path(key)
        deadline = time.monotonic() + self.wait_s
        while True:
            with guarded("lock the order in", path):
                fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                holder = os.pread(fd, 32, 0).decode("ascii", "replace").strip()
                os.close(fd)
                if time.monotonic() >= deadline or await wait_for_event(
                    self.stop, ORDER_LOCK_POLL_S
                ):
                    raise OrderBusy(self._busy(key, holder)) from None
                continue
            except OSError as exc:
                os.close(fd)
                raise StorageError(f"cannot lock the order in {path}: {describe(exc)}") from exc
            if _same_file(fd, path):
                break
            # The last holder removed the file after this one opened it: that lock guards
            # nothing another process can find, so take the one at the path now.
            os.close(fd)
        self._held[key] = (fd, path)
        with guarded("lock the order in", path):
            os.ftruncate(fd, 0)
            os.pwrite(fd, f"{os.getpid()}\n".encode("ascii"), 0)

    def _busy(self, key: str, holder: str) -> str:
        who = (
            "another worker of this process"
            if holder == str(os.getpid())
            else f"another ccw-agent process (PID {holder or 'unknown'})"
        )
        return (
            f"{who} is working on order {key}; waited {self.wait_s:g} s for it. Nothing was "
            "done to the order here: run it again once the other one has finished"
        )

    def release_all(self) -> None:
        for fd, path in self._held.values():
            # Removed while still locked, so that no one can lock this file after us.
            with suppress(FileNotFoundError):
                path.unlink()
            os.close(fd)
        self._held.clear()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.release_all()


def _same_file(fd: int, path: Path) -> bool:
    try:
        found = os.stat(path, follow_symlinks=False)
    except FileNotFoundError:
        return False
    mine = os.fstat(fd)
    return (found.st_dev, found.st_ino) == (mine.st_dev, mine.st_ino)

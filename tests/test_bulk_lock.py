"""The locks: one bulk run per state folder, one process per order on the host; both die with it."""

from __future__ import annotations

import asyncio
import os
import stat
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import pytest

from agent.bulk.lock import LOCK_FILE, OrderLocks, StateLock, order_lock_dir
from pages.errors import LockHeld, OrderBusy, StorageError


def test_the_holder_writes_its_pid_and_a_second_holder_is_refused(tmp_path: Path) -> None:
    state = tmp_path / "state"

    with StateLock(state):
        assert (state / LOCK_FILE).read_text() == f"{os.getpid()}\n"
        with pytest.raises(LockHeld) as caught, StateLock(state):
            pass

    assert str(caught.value) == (
        f"another ccw-agent run (PID {os.getpid()}) is using the state folder {state}; "
        "wait for it to end, or give this run another state folder (CCW_STATE_DIR)"
    )


def test_a_released_lock_can_be_taken_again(tmp_path: Path) -> None:
    with StateLock(tmp_path):
        pass

    with StateLock(tmp_path) as again:
        assert again.path.read_text() == f"{os.getpid()}\n"
    assert again.path.read_text() == ""


def test_the_lock_dies_with_the_process_that_held_it(tmp_path: Path) -> None:
    script = textwrap.dedent(
        f"""
        import sys
        from agent.bulk.lock import StateLock
        StateLock({str(tmp_path)!r}).acquire()
        print("held", flush=True)
        sys.stdin.read()  # hold until killed
        """
    )
    with subprocess.Popen(
        [sys.executable, "-c", script], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    ) as holder:
        try:
            assert holder.stdout is not None
            assert holder.stdout.readline() == "held\n"
            with pytest.raises(LockHeld, match=rf"\(PID {holder.pid}\)"), StateLock(tmp_path):
                pass
        finally:
            holder.kill()

    with StateLock(tmp_path) as mine:
        assert mine.path.read_text() == f"{os.getpid()}\n"


# --- one process per order on the host ---------------------------------------------------------


@pytest.fixture
def lock_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Order locks in a runtime folder of this test's own (a subprocess inherits it)."""
    runtime = tmp_path / "run"
    runtime.mkdir(mode=0o700)
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(runtime))
    return runtime / "ccw-agent" / "orders"


def hold_in_another_process(number: str, portal: str = "ccw.example") -> subprocess.Popen[str]:
    script = textwrap.dedent(
        f"""
        import asyncio, sys
        from agent.bulk.lock import OrderLocks
        locks = OrderLocks({portal!r}, wait_s=0)
        asyncio.run(locks.hold({number!r}))
        print("held", flush=True)
        sys.stdin.read()  # hold until killed
        """
    )
    holder = subprocess.Popen(
        [sys.executable, "-c", script], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    assert holder.stdout is not None
    assert holder.stdout.readline() == "held\n"
    return holder


async def test_an_order_held_by_another_process_is_refused_after_a_bounded_wait(
    lock_dir: Path,
) -> None:
    with hold_in_another_process("110000012") as holder:
        try:
            # The same order spelt with a leading zero is the same lock.
            locks = OrderLocks("ccw.example", wait_s=0.5)
            started = time.monotonic()
            with pytest.raises(OrderBusy) as caught:
                await locks.hold("0110000012")
            waited = time.monotonic() - started
            # Another order, or the same number on another portal, is free.
            with (
                OrderLocks("ccw.example", wait_s=0) as free,
                OrderLocks("staging", wait_s=0) as other,
            ):
                await free.hold("110000013")
                await other.hold("110000012")
        finally:
            holder.kill()

    assert str(caught.value) == (
        f"another ccw-agent process (PID {holder.pid}) is working on order 110000012; waited "
        "0.5 s for it. Nothing was done to the order here: run it again once the other one "
        "has finished"
    )
    assert 0.5 <= waited < 5
    # Killed, its lock is gone: the order can be taken at once.
    with OrderLocks("ccw.example", wait_s=0) as after:
        await after.hold("110000012")


async def test_a_lock_is_waited_for_and_its_file_removed_on_release(lock_dir: Path) -> None:
    first = OrderLocks("ccw.example", wait_s=0)
    await first.hold("110000012")
    await first.hold("110000012")  # holding it again is a no-op
    assert [p.name for p in lock_dir.iterdir()] == [first.path("110000012").name]
    asyncio.get_running_loop().call_later(0.3, first.release_all)

    with OrderLocks("ccw.example", wait_s=10) as second:
        await second.hold("110000012")  # waits until the first lets go
        assert first.path("110000012").read_text() == f"{os.getpid()}\n"
        with pytest.raises(OrderBusy, match="^another worker of this process is working on "):
            await OrderLocks("ccw.example", wait_s=0).hold("110000012")

    assert list(lock_dir.iterdir()) == []
    assert stat.S_IMODE(lock_dir.stat().st_mode) == 0o700


async def test_a_stop_request_ends_the_wait(lock_dir: Path) -> None:
    stop = asyncio.Event()
    with OrderLocks("ccw.example", wait_s=0) as first:
        await first.hold("110000012")
        asyncio.get_running_loop().call_later(0.2, stop.set)
        started = time.monotonic()
        with pytest.raises(OrderBusy):
            await OrderLocks("ccw.example", wait_s=60, stop=stop).hold("110000012")
    assert time.monotonic() - started < 5


def test_a_lock_folder_others_could_write_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    runtime = tmp_path / "run"
    (runtime / "ccw-agent").mkdir(parents=True)
    (runtime / "ccw-agent").chmod(0o777)
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(runtime))

    with pytest.raises(StorageError, match=r"ccw-agent is not a private folder of this user"):
        order_lock_dir()


def test_without_a_runtime_folder_the_locks_are_in_a_private_temp_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("XDG_RUNTIME_DIR", raising=False)
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))

    folder = order_lock_dir()

    assert folder == tmp_path / f"ccw-agent-{os.getuid()}" / "orders"
    assert stat.S_IMODE(folder.parent.stat().st_mode) == 0o700


def test_a_state_folder_under_a_file_is_a_storage_error(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("")
    with pytest.raises(StorageError, match="^cannot create the folder .*file/state: Not a dir"):
        StateLock(tmp_path / "file" / "state").acquire()

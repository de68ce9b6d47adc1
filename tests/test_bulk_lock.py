"""The state-folder lock: one bulk run per folder, naming the holder, gone when it dies."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from agent.bulk.lock import LOCK_FILE, StateLock
from agent.errors import LockHeld


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

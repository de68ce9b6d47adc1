"""The bulk run's own files: a failing disk or folder as one StorageError, and atomic writes."""

from __future__ import annotations

import os
import sqlite3
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import IO

from pages.errors import StorageError


def describe(exc: BaseException) -> str:
    """An OSError's or SQLite's reason in a few words, without the path (the caller names it)."""
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    return str(exc) or type(exc).__name__


@contextmanager
def guarded(what: str, path: Path | str) -> Iterator[None]:
    """Turn an OSError or a SQLite error inside into StorageError: "cannot <what> <path>: why"."""
    try:
        yield
    except (OSError, sqlite3.Error) as exc:
        raise StorageError(f"cannot {what} {path}: {describe(exc)}") from exc


def make_folder(path: Path) -> None:
    """mkdir -p, as a StorageError naming the folder when it cannot be made."""
    with guarded("create the folder", path):
        try:
            path.mkdir(parents=True, exist_ok=True)
        except FileExistsError as exc:
            raise StorageError(
                f"cannot create the folder {path}: a file of that name is in the way"
            ) from exc


class AtomicText:
    """Text written beside `path` and renamed over it only by `commit()`: never half a file."""

    def __init__(self, path: Path, encoding: str) -> None:
        self.path = path
        make_folder(path.parent)
        with guarded("write", path):
            handle, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        self._temporary = Path(name)
        self._stream: IO[str] = os.fdopen(handle, "w", encoding=encoding, newline="")

    def write(self, text: str) -> int:
        with guarded("write", self.path):
            return self._stream.write(text)

    def flush_to_disk(self) -> None:
        """Everything written reaches the disk (a full disk shows here at the latest)."""
        with guarded("write", self.path):
            self._stream.flush()
            os.fsync(self._stream.fileno())
            self._stream.close()

    def commit(self) -> None:
        with guarded("write", self.path):
            os.replace(self._temporary, self.path)

    def discard(self) -> None:
        with suppress(OSError):  # closing flushes, and a full disk refuses that again
            self._stream.close()
        self._temporary.unlink(missing_ok=True)


@contextmanager
def atomic_files(paths: Sequence[Path], encodings: Sequence[str]) -> Iterator[list[AtomicText]]:
    """One AtomicText per path; on a clean exit all are flushed to disk, then all renamed.

    If anything fails, every temporary file is removed and no path is touched (the failure is a
    StorageError naming the file concerned).
    """
    files: list[AtomicText] = []
    try:
        for path, encoding in zip(paths, encodings, strict=True):
            files.append(AtomicText(path, encoding))
        yield files
        for file in files:
            file.flush_to_disk()
        for file in files:
            file.commit()
    finally:
        for file in files:
            file.discard()  # after a commit there is nothing left to remove

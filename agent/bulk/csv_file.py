"""A bulk CSV's bytes as records: a regular file of bounded size, UTF-8, its delimiter guessed.

Every byte read is added to a fingerprint, so that a file read again can be refused when its
bytes changed in between.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import os
import re
import stat
from collections.abc import Callable, Iterator, Sequence
from itertools import chain
from pathlib import Path
from typing import IO

from agent.bulk.problems import InvalidCsv, Problem, refused

MAX_FILE_BYTES = 50 * 1024 * 1024  # documented in docs/bulk.md
CHUNK_BYTES = 64 * 1024
_UTF8_BOM = b"\xef\xbb\xbf"
_UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")
_DELIMITERS = (",", ";", "\t")  # in order of preference when the header uses as many of each
_LINE_END = re.compile(r"\r\n|\r|\n")  # only these: csv must see U+2028 and friends as text


class Fingerprint:
    """The file's SHA-256, and one digest per chunk to recognise the same bytes when read again."""

    def __init__(self, expected: Sequence[bytes] | None = None) -> None:
        self.expected = expected
        self.chunks: list[bytes] = []
        self.sha256 = hashlib.sha256()

    def add(self, data: bytes, name: str) -> None:
        digest = hashlib.sha256(data).digest()
        index = len(self.chunks)
        if self.expected is not None and (
            index >= len(self.expected) or self.expected[index] != digest
        ):
            raise changed(name)
        self.chunks.append(digest)
        self.sha256.update(data)

    def end(self, name: str) -> None:
        if self.expected is not None and len(self.chunks) != len(self.expected):
            raise changed(name)


def changed(name: str) -> InvalidCsv:
    """The file refused because its bytes are not those read before."""
    return InvalidCsv(
        [Problem(name, None, None, "changed while it was being read; run the command again")]
    )


def _file_kind(mode: int) -> str | None:
    """What a non-regular file is, in words; None for a regular file."""
    kinds: tuple[tuple[Callable[[int], bool], str], ...] = (
        (stat.S_ISDIR, "a folder"),
        (stat.S_ISFIFO, "a named pipe (FIFO)"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
        (stat.S_ISSOCK, "a socket"),
    )
    if stat.S_ISREG(mode):
        return None
    return next((words for test, words in kinds if test(mode)), "not a regular file")


def _check_file(info: os.stat_result, path: Path, name: str) -> None:
    kind = _file_kind(info.st_mode)
    if kind is not None:
        raise refused(name, f"{path} is {kind}, not a file; give the path of a CSV file")
    if info.st_size > MAX_FILE_BYTES:
        raise refused(name, _too_large(info.st_size))


def _too_large(size: int) -> str:
    limit = MAX_FILE_BYTES // (1024 * 1024)
    return (
        f"is {size / (1024 * 1024):.1f} MiB; the limit is {limit} MiB, so split it into "
        "smaller files"
    )


def _open(path: Path, name: str) -> IO[bytes]:
    """The file opened for reading, if it is a regular file of a sane size; never blocks."""
    try:
        _check_file(os.stat(path), path, name)
        # O_NONBLOCK: should a FIFO take the file's place after the check, opening it does not
        # wait for a writer; fstat below then refuses it.
        descriptor = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError as exc:
        raise refused(name, f"cannot be read: {exc.strerror}") from exc
    try:
        _check_file(os.fstat(descriptor), path, name)
        return open(descriptor, "rb")
    except BaseException:
        os.close(descriptor)
        raise


def _chunks(path: Path, name: str, fingerprint: Fingerprint) -> Iterator[bytes]:
    """The file's bytes, CHUNK_BYTES at a time, each added to the fingerprint first."""
    with _open(path, name) as stream:
        total = 0
        while True:
            try:
                data = stream.read(CHUNK_BYTES)
            except OSError as exc:
                raise refused(name, f"cannot be read: {exc.strerror}") from exc
            if not data:
                break
            total += len(data)
            if total > MAX_FILE_BYTES:
                raise refused(name, _too_large(total))
            fingerprint.add(data, name)
            yield data
    fingerprint.end(name)


def _utf16_without_bom(data: bytes) -> bool:
    """Text whose every other byte is NUL: ASCII characters in UTF-16, little or big endian."""
    sample = data[:4096]
    pairs = len(sample) // 2
    if pairs < 2:
        return False
    even, odd = sample[0::2].count(0), sample[1::2].count(0)
    return max(even, odd) >= pairs * 0.3 and min(even, odd) * 4 <= max(even, odd)


def _text(chunks: Iterator[bytes], name: str) -> Iterator[str]:
    """The file decoded as UTF-8 (a byte-order mark dropped), one piece per chunk."""
    first = next(chunks, b"")
    if first.startswith(_UTF16_BOMS) or _utf16_without_bom(first):
        raise refused(name, "is UTF-16 text; save it as 'CSV UTF-8' instead")
    offset = len(_UTF8_BOM) if first.startswith(_UTF8_BOM) else 0  # of the next byte decoded
    decoder = codecs.getincrementaldecoder("utf-8")()
    newlines = 0  # in the bytes decoded so far
    pieces: Iterator[bytes | None] = chain([first[offset:]], chunks, [None])  # None: the end
    del first
    for data in pieces:
        kept = len(decoder.getstate()[0])  # bytes of a character cut at the last chunk's end
        try:
            text = decoder.decode(data or b"", final=data is None)
        except UnicodeDecodeError as exc:
            # exc.start counts in the bytes kept from the last chunk, then in this one.
            at = offset - kept + exc.start
            row = newlines + (data or b"")[: max(0, exc.start - kept)].count(b"\n") + 1
            message = (
                f"is not UTF-8 text: byte 0x{exc.object[exc.start]:02x} at byte offset {at} "
                "cannot be decoded; save the file as 'CSV UTF-8'"
            )
            yield exc.object[: exc.start].decode("utf-8")  # the rows before it are good
            raise InvalidCsv([Problem(name, row, None, message)]) from exc
        if data:
            offset += len(data)
            newlines += data.count(b"\n")
        yield text


def _lines(pieces: Iterator[str]) -> Iterator[str]:
    """Lines with their endings (CR LF, CR or LF only), across the pieces' boundaries."""
    carry: list[str] = []  # the start of a line, in parts: joined once, however long it is
    for piece in pieces:
        if carry and carry[-1].endswith("\r") and not piece.startswith("\n"):
            yield "".join(carry)  # a CR alone at the end of the last piece ended its line
            carry.clear()
        start = 0
        for match in _LINE_END.finditer(piece):
            if match.group() == "\r" and match.end() == len(piece):
                break  # perhaps the first half of a CR LF: the next piece tells
            carry.append(piece[start : match.end()])
            yield "".join(carry)
            carry.clear()
            start = match.end()
        if start < len(piece):
            carry.append(piece[start:])
    if carry:
        yield "".join(carry)


def _delimiter(first_line: str) -> str:
    """Comma, semicolon or tab, whichever the header line uses most outside quotes."""
    unquoted = re.sub(r'"[^"]*"', "", first_line)
    counts = {delimiter: unquoted.count(delimiter) for delimiter in _DELIMITERS}
    return max(_DELIMITERS, key=lambda delimiter: counts[delimiter])  # first of the best


def read_records(
    path: Path, name: str, fingerprint: Fingerprint
) -> Iterator[tuple[int, list[str]]]:
    """(spreadsheet row, cells) of each record, the header first."""
    lines = _lines(_text(_chunks(path, name, fingerprint), name))
    first = next(lines, "")
    reader = csv.reader(chain([first], lines), delimiter=_delimiter(first), strict=True)
    number = 0
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            message = f"is not valid CSV here ({exc}); check the quotes in this row"
            if "end of data" in str(exc):
                message = "a quoted cell that starts in this row is never closed"
            raise InvalidCsv([Problem(name, number + 1, None, message)]) from exc
        number += 1
        yield number, cells

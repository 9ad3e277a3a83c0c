"""Line-level decoding shared by every reader: UTF-8 text, line numbers, bad bytes as Problems."""

from __future__ import annotations

import codecs
import math
import re
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from gradestore.readers.records import Problem

UTF8_BOM = b"\xef\xbb\xbf"
BINARY_FILE = "binary file, not UTF-8 text"
# The longest line a grade file may have (a real row is under 1 KiB): a longer line is a bad
# row and is skipped without being held in memory.
MAX_LINE_BYTES = 1 << 20
LINE_TOO_LONG = f"line is longer than {MAX_LINE_BYTES // (1 << 20)} MiB"
NAME_WITHOUT_COMMA = "name has no comma ('Last, First'): read as a last name"
# Characters that would break a line or a terminal if shown: C0 and C1 controls, DEL and the
# Unicode line and paragraph separators. A name holding one is a bad row, so every export of
# the store reads back and every name shows on one line.
_CONTROL_CHARACTER = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")
# How much of a file's start decides whether it is binary (as git and grep do).
BINARY_SAMPLE_SIZE = 8192
# Control bytes that no text file holds; tab, LF, VT, FF, CR and ESC do occur in text.
_BINARY_BYTES = bytes([*range(0x00, 0x09), *range(0x0E, 0x1B), *range(0x1C, 0x20)])
_TEXT_BYTES = bytes(byte for byte in range(256) if byte not in _BINARY_BYTES)
# A "clean" file (the CSV fast path) has no control character but its line endings.
_CLEAN_BYTES = bytes(byte for byte in _TEXT_BYTES if byte not in b"\t\x0b\x0c\x1b\x7f")
# UTF-8 of the C1 controls and of the line and paragraph separators.
_UNCLEAN_SEQUENCES = re.compile(b"\xc2[\x80-\x9f]|\xe2\x80[\xa8\xa9]")


def iter_decoded_lines(path: Path, display_path: str) -> Iterator[tuple[int, str, Problem | None]]:
    """Yield ``(line number, text, problem)`` for each line of ``path``, streaming.

    Lines are split on ``\\n`` only and keep their endings, so CSV parsing and line numbers match
    what an editor shows. A line with a NUL byte or bytes that are not UTF-8 comes with an error
    (and its text decoded with replacement characters). A binary file gets one error at its first
    bad line and nothing after it: reporting every line of a spreadsheet or zip helps nobody.
    """
    with open(path, "rb") as stream:
        sample = stream.read(BINARY_SAMPLE_SIZE)
        binary = _looks_binary(sample)
        stream.seek(0)
        offset = 0
        for number, (raw, length) in enumerate(_bounded_lines(stream), start=1):
            too_long = length > len(raw)  # its bytes were skipped
            if number == 1 and raw.startswith(UTF8_BOM):
                raw = raw[len(UTF8_BOM) :]
                offset += len(UTF8_BOM)
            if too_long:
                if binary and offset < BINARY_SAMPLE_SIZE:
                    yield number, "", Problem(display_path, number, _binary_message(sample))
                    return
                yield number, "\n", Problem(display_path, number, LINE_TOO_LONG)
                offset += length
                continue
            text, reason = _decode_line(raw)
            if reason is None:
                yield number, text, None
            elif binary and offset < BINARY_SAMPLE_SIZE:
                yield number, text, Problem(display_path, number, _binary_message(sample))
                return
            else:
                yield number, text, Problem(display_path, number, reason)
            offset += len(raw)


def _bounded_lines(stream: BinaryIO) -> Iterator[tuple[bytes, int]]:
    """Each line with its length in bytes; a line over MAX_LINE_BYTES (not counting its line
    break) is skipped unread, its bytes given as empty, so one huge line never sits in memory."""
    while raw := stream.readline(MAX_LINE_BYTES + 1):
        if len(raw) <= MAX_LINE_BYTES or raw.endswith(b"\n"):
            yield raw, len(raw)
            continue
        length = len(raw)
        while not raw.endswith(b"\n"):
            raw = stream.readline(1 << 20)
            if not raw:
                break
            length += len(raw)
        yield b"", length


def is_clean_text_file(path: Path) -> bool:
    """True when the whole file is UTF-8 text with no control character but CR LF or LF line
    endings, and no line longer than MAX_LINE_BYTES.

    Such a file can go straight to ``csv.reader`` (fast); any other file is read line by line
    so that each bad byte is reported at its line. Costs one streamed read of the file.
    """
    decoder = codecs.getincrementaldecoder("utf-8")()
    previous_ended_with_cr = False
    line_length = 0  # of the line that runs into the next chunk
    tail = b""  # the end of the previous chunk, where a multi-byte character may begin
    try:
        with open(path, "rb") as stream:
            while chunk := stream.read(1 << 20):
                decoder.decode(chunk)
                if chunk.translate(None, _CLEAN_BYTES):
                    return False
                # Every unclean sequence begins with 0xC2 or 0xE2: two one-byte searches
                # (memchr) spare the regular expression, a step per byte, most chunks.
                window = tail + chunk
                if (b"\xc2" in window or b"\xe2" in window) and _UNCLEAN_SEQUENCES.search(window):
                    return False
                tail = chunk[-2:]
                line_length = _longest_line(chunk, line_length)
                if line_length > MAX_LINE_BYTES:
                    return False
                if previous_ended_with_cr and not chunk.startswith(b"\n"):
                    return False
                if chunk.count(b"\r") != chunk.count(b"\r\n") + chunk.endswith(b"\r"):
                    return False
                previous_ended_with_cr = chunk.endswith(b"\r")
            decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return not previous_ended_with_cr


def _longest_line(chunk: bytes, carried: int) -> int:
    """The length of the line still open at the chunk's end (``carried``: its length before
    the chunk), or of the line that ended in the chunk when that one is too long."""
    first = chunk.find(b"\n")
    if first < 0:
        return carried + len(chunk)
    if carried + first > MAX_LINE_BYTES:
        return carried + first
    # Lines wholly inside the chunk are shorter than the chunk (1 MiB) itself.
    return len(chunk) - chunk.rfind(b"\n") - 1


def is_binary_file_problem(problem: Problem) -> bool:
    """True for the problem after which :func:`iter_decoded_lines` yields nothing more."""
    return problem.message.startswith(BINARY_FILE)


def has_control_character(value: str) -> bool:
    """True when ``value`` holds a line break, a tab or another control character."""
    return _CONTROL_CHARACTER.search(value) is not None


def control_character_error(**values: str | None) -> str | None:
    """A bad row's reason when one of the named values holds a control character."""
    for name, value in values.items():
        if value and _CONTROL_CHARACTER.search(value):
            return f"{name} holds a line break, tab or other control character"
    return None


def split_full_name(value: str, *, at_last_comma: bool = False) -> tuple[str, str, bool]:
    """Split ``"Last, First"`` at its first comma into ``(last, first, had_comma)``, trimmed.

    Without a comma the whole value is the last name (the caller warns), as design.md says.
    ``at_last_comma`` splits at the last one instead (the .lst files gradestore writes, so that
    a last name like ``Smith, Jr.`` reads back).
    """
    last, comma, first = value.rpartition(",") if at_last_comma else value.partition(",")
    if at_last_comma and not comma:
        last, first = first, last  # rpartition puts an unsplit value last
    return last.strip(), first.strip(), bool(comma)


def _decode_line(raw: bytes) -> tuple[str, str | None]:
    """The line's text and, when it is bad, why (NUL first: it marks binary data)."""
    nul = raw.find(b"\x00")
    if nul >= 0:
        return raw.decode(
            "utf-8", errors="replace"
        ), f"NUL byte in line (column {_column(raw, nul)})"
    try:
        return raw.decode("utf-8"), None
    except UnicodeDecodeError as exc:
        reason = (
            f"bytes that are not UTF-8 (byte 0x{raw[exc.start]:02x} "
            f"at column {_column(raw, exc.start)})"
        )
        return raw.decode("utf-8", errors="replace"), reason


def _column(raw: bytes, index: int) -> int:
    """1-based character column of byte ``index``, as an editor counts it."""
    return len(raw[:index].decode("utf-8", errors="replace")) + 1


def _looks_binary(sample: bytes) -> bool:
    """A NUL or another control byte in the first 8 KiB means binary data, not mis-encoded text.

    A stray Latin-1 byte does not count: such a file gets an error at each line that holds one,
    which tells the user where to look.
    """
    return bool(sample.translate(None, delete=_TEXT_BYTES))


def _binary_message(sample: bytes) -> str:
    if sample.startswith((b"\xff\xfe", b"\xfe\xff")):
        return f"{BINARY_FILE} (it looks like UTF-16: save it as UTF-8)"
    return BINARY_FILE


def parse_credit_hours(value: str) -> tuple[float | None, str | None]:
    """``(hours, None)`` for a finite, non-negative number, else ``(None, why)`` for a message."""
    try:
        hours = float(value)
    except ValueError:
        return None, f"{value!r} is not a number"
    if not math.isfinite(hours) or hours < 0:
        return None, f"{value!r} is not a non-negative number"
    return hours, None

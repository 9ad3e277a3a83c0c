"""The fast path of the canonical CSV: a plain file parsed by pandas' C reader, in blocks.

"Plain" is a clean UTF-8 file (see ``is_clean_text_file``) without a quote character, whose
every line has the header's number of fields, and whose every row is one that the careful
reader (``canonical_csv``) would take as it stands: no bad row, no warning but the header's, no
value longer than the store keeps, no student with two names, no section with two terms.
Anything else raises :class:`NotPlainCsv` (perhaps after some blocks were given), and the
caller reads the file again with the careful reader, which has the exact ``FILE:LINE``
messages. Without quotes a line is a row, so a row's line is its position in the file.

Blocks hold plain lists (no pandas type leaves this module); pandas and numpy are imported
only when a file is read this way.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from gradestore.grades import GradeScale
from gradestore.readers.canonical_csv import _Columns, _GradeDialect, _read_header
from gradestore.readers.records import Problem
from gradestore.readers.text import UTF8_BOM, is_clean_text_file

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt
    import pandas as pd

# Files smaller than this are read by the careful reader: importing pandas would cost more.
MIN_FILE_BYTES = 1 << 20
# How much of the file one block holds (cut at a line end): about 18,000 rows.
BLOCK_BYTES = 1 << 20


class NotPlainCsv(Exception):
    """The file needs the careful reader (its messages are exact); the reason is for tests."""


@dataclass(frozen=True, slots=True)
class PlainSection:
    """One section as a block shows it: where first seen, rows, the first hours and term."""

    name: str
    line: int
    rows: int
    credit_hours: float | None
    term: str | None


@dataclass(frozen=True, slots=True)
class PlainBlock:
    """The rows of one block, column by column (trimmed), and what it says about each
    student (first row in the block) and section.

    ``section_codes`` and ``student_codes`` give, per row, the position of its section in
    ``section_summaries`` and of its student in ``students`` (the direct load maps them to
    keys with one array look-up instead of a dictionary look-up per row)."""

    lines: list[int]
    sections: list[str]
    student_ids: list[str]
    grades: list[str]
    students: list[tuple[str, str, str, int]]  # student_id, last name, first name, line
    section_summaries: list[PlainSection]
    memberships: list[tuple[str, str]]  # (section, group), each once
    section_codes: npt.NDArray[np.intp]
    student_codes: npt.NDArray[np.intp]


def is_plain_candidate(path: Path) -> bool:
    """Large enough for the fast path to pay, and clean text (one streamed read)."""
    return path.stat().st_size >= MIN_FILE_BYTES and is_clean_text_file(path)


def read_plain_csv(
    path: Path, display: str, lengths: Mapping[str, int], *, scale: GradeScale
) -> Iterator[Problem | PlainBlock]:
    """The header's warnings, then the file's blocks; raises NotPlainCsv (see the module).

    ``lengths``: the longest value the store keeps per column (``section``, ``student_id``...).
    """
    with open(path, "rb") as stream:
        header_line = stream.readline()
        if not header_line.endswith(b"\n") or b'"' in header_line:
            raise NotPlainCsv("no plain header line")
        row = next(csv.reader([header_line.removeprefix(UTF8_BOM).decode()], _GradeDialect))
        columns, problems = _read_header(row, display)
        if columns is None or any(not problem.is_warning for problem in problems):
            raise NotPlainCsv("header error")
        if not columns.split_names:  # before pandas is imported: `Last, First` needs quotes
            raise NotPlainCsv("a name column")
        yield from problems
        reader = _BlockReader(columns, frozenset(scale.letters), lengths)
        first_line, rest = 2, b""
        while True:
            chunk = stream.read(BLOCK_BYTES)
            data = rest + chunk
            if not chunk:
                rest = b""
            else:
                cut = data.rfind(b"\n") + 1
                data, rest = data[:cut], data[cut:]
            if data:
                block, count = reader.read(data, first_line)
                first_line += count
                if block is not None:
                    yield block
            if not chunk:
                return


class _BlockReader:
    """Parses and checks blocks of whole lines against one header."""

    def __init__(
        self, columns: _Columns, letters: frozenset[str], lengths: Mapping[str, int]
    ) -> None:
        self.columns = columns
        self.letters = letters
        self.lengths = lengths
        self.hours: dict[str, float | None] = {"": None}

    def read(self, data: bytes, first_line: int) -> tuple[PlainBlock | None, int]:
        """The block of ``data`` (whole lines, the first being line ``first_line``), and how
        many lines it held; None when they are all blank."""
        if b'"' in data:
            raise NotPlainCsv("a quote")
        lines, fields = _line_fields(data)
        frame = self._parse(data, lines)
        index = self.columns.index
        strip = _may_need_strip(data)
        values = {
            name: frame[position].str.strip() if strip else frame[position]
            for name, position in index.items()
        }
        blank = _all_empty(list(values.values()))
        if blank.any():  # a row is blank when every field is, not only the known columns
            others = [frame[p][blank].str.strip() for p in frame.columns if p not in index.values()]
            blank[blank] = _all_empty(others) if others else True
        if (fields != self.columns.width)[~blank.to_numpy()].any():
            raise NotPlainCsv("a line with another number of fields")
        if blank.all():
            return None, lines
        if blank.any():
            values = {name: column[~blank] for name, column in values.items()}
        return self._block(values, first_line), lines

    def _parse(self, data: bytes, lines: int) -> pd.DataFrame:
        import pandas as pd

        try:
            frame = pd.read_csv(
                io.BytesIO(data),
                header=None,
                names=list(range(self.columns.width)),
                dtype=str,
                na_filter=False,
                skip_blank_lines=False,
                quoting=csv.QUOTE_NONE,
                engine="c",
                encoding="utf-8",
            )
        except (pd.errors.ParserError, ValueError) as error:
            raise NotPlainCsv(f"pandas: {error}") from None
        if len(frame) != lines:
            raise NotPlainCsv("rows are not lines")
        return frame

    def _block(self, values: dict[str, pd.Series], first_line: int) -> PlainBlock:
        section, student, grade = values["section"], values["student_id"], values["grade"]
        last, first = self._names(values)
        group = values.get("group")
        term = values.get("term")
        good = (section != "") & (student != "") & grade.isin(self.letters)
        if not good.all():
            raise NotPlainCsv("a row the careful reader checks")
        for name, column in (
            ("section", section),
            ("student_id", student),
            ("last_name", last),
            ("first_name", first),
            ("group", group),
            ("term", term),
        ):
            if column is not None and column.str.len().max() > self.lengths[name]:
                raise NotPlainCsv(f"a {name} too long")
        lines = (section.index.to_numpy() + first_line).tolist()
        hours = self._hours(values.get("credit_hours"))
        student_codes, students = _students(student, last, first, first_line)
        section_codes, summaries = _sections(section, hours, term, first_line)
        return PlainBlock(
            lines=lines,
            sections=section.tolist(),
            student_ids=student.tolist(),
            grades=grade.tolist(),
            students=students,
            section_summaries=summaries,
            memberships=_memberships(section, group),
            section_codes=section_codes,
            student_codes=student_codes,
        )

    def _names(self, values: dict[str, pd.Series]) -> tuple[pd.Series, pd.Series]:
        """Last and first names from their two columns (a ``name`` column holds a comma, so
        it is quoted: not plain)."""
        if not self.columns.split_names:
            raise NotPlainCsv("a name column")
        last, first = values["last_name"], values["first_name"]
        if not ((last != "") & (first != "")).all():
            raise NotPlainCsv("an empty name")
        return last, first

    def _hours(self, column: pd.Series | None) -> pd.Series | None:
        """Credit hours as the careful reader takes them (Python's float, finite, >= 0)."""
        if column is None:
            return None
        for text in column.unique().tolist():
            if text not in self.hours:
                try:
                    value = float(text)
                except ValueError:
                    raise NotPlainCsv("bad credit hours") from None
                if not (math.isfinite(value) and value >= 0):
                    raise NotPlainCsv("bad credit hours")
                self.hours[text] = value
        return column.map(self.hours)


# Where a value may begin or end with a space that str.strip() takes off: an ASCII space beside
# a comma or a line end, or any of the other Unicode white space (U+00A0, U+1680, U+2000-U+200A,
# U+202F, U+205F, U+3000; the controls are not in a clean file) anywhere in the block.
_SPACE_EDGES = (b" ,", b", ", b" \n", b"\n ", b" \r")
_OTHER_SPACES = (b"\xc2\xa0", b"\xe1\x9a\x80", b"\xe2\x80", b"\xe2\x81\x9f", b"\xe3\x80\x80")


def _may_need_strip(data: bytes) -> bool:
    """False when no value of the block can hold white space at its start or end (the
    common case), so the columns need no strip(), a Python call per value."""
    if data.startswith(b" ") or data.endswith(b" "):
        return True
    return any(edge in data for edge in _SPACE_EDGES + _OTHER_SPACES)


def _line_fields(data: bytes) -> tuple[int, npt.NDArray[np.intp]]:
    """How many lines ``data`` holds, and the number of fields of each."""
    import numpy as np

    array = np.frombuffer(data, dtype=np.uint8)
    ends = np.flatnonzero(array == 10)
    if not data.endswith(b"\n"):  # the file's last line, without a line break
        ends = np.append(ends, len(data))
    commas = np.flatnonzero(array == 44)
    before_end = np.searchsorted(commas, ends)
    per_line = np.diff(before_end, prepend=0)
    return len(ends), per_line + 1


def _all_empty(columns: list[pd.Series]) -> pd.Series:
    blank = columns[0] == ""
    for column in columns[1:]:
        blank &= column == ""
    return blank


def _first_rows(column: pd.Series) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.intp], list[str]]:
    """Per row the position of its value among the column's distinct values (in order of
    first appearance), the row of each value's first appearance, and the values."""
    import numpy as np
    import pandas as pd

    codes, uniques = pd.factorize(column)
    first = np.unique(codes, return_index=True)[1]
    return codes, first, list(uniques)


def _students(
    student: pd.Series, last: pd.Series, first: pd.Series, first_line: int
) -> tuple[npt.NDArray[np.intp], list[tuple[str, str, str, int]]]:
    """Per row the position of its student, and each student once, at the block's first row
    of them; two names is not plain."""
    codes, first_rows, ids = _first_rows(student)
    last_names, first_names = last.to_numpy(), first.to_numpy()
    firsts_last, firsts_first = last_names[first_rows], first_names[first_rows]
    if not (
        (firsts_last[codes] == last_names).all() and (firsts_first[codes] == first_names).all()
    ):
        raise NotPlainCsv("a student with two names")
    lines = student.index.to_numpy()[first_rows] + first_line
    return codes, list(
        zip(ids, firsts_last.tolist(), firsts_first.tolist(), lines.tolist(), strict=True)
    )


def _sections(
    section: pd.Series, hours: pd.Series | None, term: pd.Series | None, first_line: int
) -> tuple[npt.NDArray[np.intp], list[PlainSection]]:
    """Per row the position of its section, and per section of the block: first line, rows,
    first credit hours and term given."""
    import numpy as np

    codes, first_rows, names = _first_rows(section)
    counts = np.bincount(codes, minlength=len(names)).tolist()
    first_hours = _first_given(section, hours)
    terms: dict[str, str] = {}
    if term is not None:
        given = (term != "").to_numpy()
        pairs = list(dict.fromkeys(zip(section[given].tolist(), term[given].tolist(), strict=True)))
        terms = dict(pairs)
        if len(terms) != len(pairs):
            raise NotPlainCsv("a section with two terms")
    lines = (section.index.to_numpy()[first_rows] + first_line).tolist()
    return codes, [
        PlainSection(name, line, count, first_hours.get(name), terms.get(name))
        for name, line, count in zip(names, lines, counts, strict=True)
    ]


def _first_given(section: pd.Series, values: pd.Series | None) -> dict[str, float]:
    if values is None:
        return {}
    given = values.notna().to_numpy()
    names, hours = section[given], values[given]
    first = ~names.duplicated().to_numpy()
    return dict(zip(names[first].tolist(), hours[first].tolist(), strict=True))


def _memberships(section: pd.Series, group: pd.Series | None) -> list[tuple[str, str]]:
    if group is None:
        return []
    given = (group != "").to_numpy()
    return list(dict.fromkeys(zip(section[given].tolist(), group[given].tolist(), strict=True)))

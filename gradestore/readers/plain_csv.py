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

    Column = npt.NDArray[np.object_]  # a column of Python strings

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
    """The rows of one block (trimmed), column by column, and what it says about each student
    (at the block's first row of them) and section.

    Rows name their section and student by position: ``section_codes`` in
    ``section_summaries``, ``student_codes`` in the ``student_*`` arrays (each student once,
    in order of first appearance), so that the direct load maps a block to keys with one
    array look-up, not a dictionary look-up per row. The lists per row are made only for the
    stager, which asks for them."""

    row_lines: npt.NDArray[np.int64]
    grade_codes: npt.NDArray[np.intp]  # per row, its letter's position in grade_letters
    grade_letters: list[str]  # the block's distinct letters
    section_codes: npt.NDArray[np.intp]
    student_codes: npt.NDArray[np.intp]
    student_ids: npt.NDArray[np.object_]
    student_last_names: npt.NDArray[np.object_]
    student_first_names: npt.NDArray[np.object_]
    student_lines: npt.NDArray[np.int64]
    section_summaries: list[PlainSection]
    memberships: list[tuple[str, str]]  # (section, group), each once

    @property
    def rows(self) -> int:
        return len(self.grade_codes)

    @property
    def grades(self) -> list[str]:
        """Each row's letter (for the stager; the direct load binds the codes)."""
        import numpy as np

        return np.array(self.grade_letters, dtype=object)[self.grade_codes].tolist()

    def lines(self) -> list[int]:
        return self.row_lines.tolist()

    def row_sections(self) -> list[str]:
        import numpy as np

        names = np.array([section.name for section in self.section_summaries], dtype=object)
        return names[self.section_codes].tolist()

    def row_student_ids(self) -> list[str]:
        return self.student_ids[self.student_codes].tolist()

    def students(self) -> list[tuple[str, str, str, int]]:
        """(student_id, last name, first name, line) of each student of the block."""
        return list(
            zip(
                self.student_ids.tolist(),
                self.student_last_names.tolist(),
                self.student_first_names.tolist(),
                self.student_lines.tolist(),
                strict=True,
            )
        )


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
    """Parses and checks blocks of whole lines against one header.

    Columns are numpy arrays of Python strings (pandas' object columns, not its string
    dtype, whose every comparison also looks for missing values), and each check is made on
    a column's distinct values (``pd.factorize``) where it can be: one hash per row, then a
    check per value instead of per row."""

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
        import numpy as np

        if b'"' in data:
            raise NotPlainCsv("a quote")
        layout = _Layout(data)
        lines, fields, width = layout.lines, layout.fields, self.columns.width
        frame = self._parse(data, lines)
        index = self.columns.index
        strip = _may_need_strip(data)
        values = {name: _column(frame, position, strip) for name, position in index.items()}
        sizes: _FieldSizes | None = None
        if not strip and (fields == width).all():
            # The common case: every value as it stands in the bytes, every line of the
            # header's width. The bytes then tell which values are empty and how long each
            # column's values can be, with no Python call per value.
            sizes = _FieldSizes(layout.field_bytes(width), index)
            blank = sizes.blank_rows()
        else:
            blank = _all_empty(list(values.values()))
            if blank.any():  # a row is blank when every field is, not only the known columns
                others = [
                    _column(frame, p, True)[blank] for p in range(width) if p not in index.values()
                ]
                blank[blank] = _all_empty(others) if others else True
            if (fields != width)[~blank].any():
                raise NotPlainCsv("a line with another number of fields")
        if blank.all():
            return None, lines
        rows = np.flatnonzero(~blank)
        if len(rows) < lines:
            values = {name: column[rows] for name, column in values.items()}
            if sizes is not None:
                sizes = sizes.of_rows(rows)
        return self._block(values, rows + first_line, sizes), lines

    def _parse(self, data: bytes, lines: int) -> pd.DataFrame:
        import pandas as pd

        try:
            frame = pd.read_csv(
                io.BytesIO(data),
                header=None,
                names=list(range(self.columns.width)),
                dtype=object,
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

    def _block(
        self,
        values: dict[str, Column],
        row_lines: npt.NDArray[np.int64],
        sizes: _FieldSizes | None,
    ) -> PlainBlock:
        sections, students = _Distinct(values["section"]), _Distinct(values["student_id"])
        grades = _Distinct(values["grade"])
        if not grades.set <= self.letters:
            raise NotPlainCsv("a row the careful reader checks")
        if sizes is not None:
            if sizes.any_empty("section", "student_id", "last_name", "first_name"):
                raise NotPlainCsv("an empty value")
        elif "" in sections.set or "" in students.set:
            raise NotPlainCsv("a row the careful reader checks")
        last, first = self._names(values, students, check_empty=sizes is None)
        group = _Distinct(values["group"]) if "group" in values else None
        term = _Distinct(values["term"]) if "term" in values else None
        for name, distinct in (
            ("section", sections.values),
            ("student_id", students.values),
            ("last_name", last),
            ("first_name", first),
            ("group", None if group is None else group.values),
            ("term", None if term is None else term.values),
        ):
            if distinct is None:
                continue
            # A value has no more characters than bytes: most columns need no count of each.
            if sizes is not None and sizes.longest(name) <= self.lengths[name]:
                continue
            if _longest(distinct) > self.lengths[name]:
                raise NotPlainCsv(f"a {name} too long")
        hours = self._hours(values.get("credit_hours"))
        return PlainBlock(
            row_lines=row_lines,
            grade_codes=grades.codes,
            grade_letters=grades.values.tolist(),
            section_codes=sections.codes,
            student_codes=students.codes,
            student_ids=students.values,
            student_last_names=last,
            student_first_names=first,
            student_lines=row_lines[students.first_rows],
            section_summaries=_sections(sections, hours, term, row_lines),
            memberships=_memberships(sections, group),
        )

    def _names(
        self, values: dict[str, Column], students: _Distinct, *, check_empty: bool
    ) -> tuple[npt.NDArray[np.object_], npt.NDArray[np.object_]]:
        """Each student's last and first name, from their two columns (a ``name`` column
        holds a comma, so it is quoted: not plain); a student under two names is not plain.
        ``check_empty``: the caller has not yet refused an empty name."""
        if not self.columns.split_names:
            raise NotPlainCsv("a name column")
        names = []
        for column in (values["last_name"], values["first_name"]):
            distinct = _Distinct(column)
            if check_empty and "" in distinct.set:
                raise NotPlainCsv("an empty name")
            per_student = distinct.codes[students.first_rows]
            if not (per_student[students.codes] == distinct.codes).all():
                raise NotPlainCsv("a student with two names")
            names.append(distinct.values[per_student])
        return names[0], names[1]

    def _hours(self, column: Column | None) -> _Hours | None:
        """Credit hours as the careful reader takes them (Python's float, finite, >= 0)."""
        if column is None:
            return None
        distinct = _Distinct(column)
        for text in distinct.values.tolist():
            if text not in self.hours:
                try:
                    value = float(text)
                except ValueError:
                    raise NotPlainCsv("bad credit hours") from None
                if not (math.isfinite(value) and value >= 0):
                    raise NotPlainCsv("bad credit hours")
                self.hours[text] = value
        return _Hours(distinct, [self.hours[text] for text in distinct.values.tolist()])


class _Distinct:
    """A column's distinct values in order of first appearance: per row the position of its
    value (``codes``), the values, and the row where each first appears."""

    def __init__(self, column: Column) -> None:
        import numpy as np
        import pandas as pd

        codes, values = pd.factorize(column)
        self.codes: npt.NDArray[np.intp] = codes
        self.values: npt.NDArray[np.object_] = np.asarray(values, dtype=object)
        # pd.factorize numbers values in order of first appearance: a row holds a value's
        # first appearance exactly when its code is above every code before it.
        seen = np.maximum.accumulate(codes)
        first = np.ones(len(codes), dtype=bool)
        first[1:] = seen[1:] > seen[:-1]
        self.first_rows: npt.NDArray[np.intp] = np.flatnonzero(first)

    @property
    def set(self) -> set[str]:
        return set(self.values.tolist())


@dataclass(frozen=True, slots=True)
class _Hours:
    """A credit-hours column: its distinct texts, and the hours each means (None for none)."""

    texts: _Distinct
    values: list[float | None]


def _column(frame: pd.DataFrame, position: int, strip: bool) -> Column:
    import numpy as np

    column: Column = frame[position].to_numpy(dtype=object)
    if strip:
        stripped = np.empty(len(column), dtype=object)
        stripped[:] = [value.strip() for value in column.tolist()]
        return stripped
    return column


def _longest(values: npt.NDArray[np.object_]) -> int:
    return max(map(len, values.tolist()), default=0)


# Where a value may begin or end with a space that str.strip() takes off: an ASCII space beside
# a comma or a line end, or any of the other Unicode white space (U+00A0, U+1680, U+2000-U+200A,
# U+202F, U+205F, U+3000; the controls are not in a clean file) anywhere in the block. Each
# sequence is looked for only when its first byte is in the block (a search for one byte is
# memchr; for two, ten times slower).
_SPACE_EDGES = (b" ,", b", ", b" \n", b"\n ", b" \r")
_OTHER_SPACES = (b"\xc2\xa0", b"\xe1\x9a\x80", b"\xe2\x80", b"\xe2\x81\x9f", b"\xe3\x80\x80")


def _may_need_strip(data: bytes) -> bool:
    """False when no value of the block can hold white space at its start or end (the
    common case), so the columns need no strip(), a Python call per value."""
    if data.startswith(b" ") or data.endswith(b" "):
        return True
    if b" " in data and _space_at_an_edge(data):
        return True
    return any(space[:1] in data and space in data for space in _OTHER_SPACES)


def _space_at_an_edge(data: bytes) -> bool:
    """An ASCII space beside a comma, a line end or a carriage return (numpy, one pass)."""
    import numpy as np

    array = np.frombuffer(data, dtype=np.uint8)
    spaces = np.flatnonzero(array == 32)
    spaces = spaces[(spaces > 0) & (spaces < len(array) - 1)]
    before, after = array[spaces - 1], array[spaces + 1]
    beside_before = (before == 44) | (before == 10)  # a comma or a line end
    beside_after = (after == 44) | (after == 10) | (after == 13)
    return bool(beside_before.any() or beside_after.any())


class _Layout:
    """Where a block's lines end and its commas are (no quotes: each comma ends a field)."""

    def __init__(self, data: bytes) -> None:
        import numpy as np

        self.array = np.frombuffer(data, dtype=np.uint8)
        ends = np.flatnonzero(self.array == 10)
        if not data.endswith(b"\n"):  # the file's last line, without a line break
            ends = np.append(ends, len(data))
        self.ends = ends
        self.commas = np.flatnonzero(self.array == 44)
        self.lines = len(ends)
        before_end = np.searchsorted(self.commas, ends)
        # The number of fields of each line.
        self.fields: npt.NDArray[np.intp] = np.diff(before_end, prepend=0) + 1

    def field_bytes(self, width: int) -> npt.NDArray[np.intp]:
        """Bytes of each field, a row per line (every line has ``width`` fields), a line's
        CR LF not counted."""
        import numpy as np

        ends = self.ends
        # A line's end without its CR (a clean file has CR only before LF).
        has_cr = np.zeros(len(ends), dtype=bool)
        after_a_byte = ends > 0
        has_cr[after_a_byte] = self.array[ends[after_a_byte] - 1] == 13
        stops = np.empty((self.lines, width), dtype=np.intp)
        starts = np.empty((self.lines, width), dtype=np.intp)
        commas = self.commas.reshape(self.lines, width - 1)
        stops[:, : width - 1] = commas
        stops[:, width - 1] = ends - has_cr
        starts[:, 0] = 0
        starts[1:, 0] = ends[:-1] + 1
        starts[:, 1:] = commas + 1
        return stops - starts


class _FieldSizes:
    """Bytes of each known column's values, from the layout (a value as it stands)."""

    def __init__(self, sizes: npt.NDArray[np.intp], index: Mapping[str, int]) -> None:
        self.sizes = sizes
        self.index = index

    def blank_rows(self) -> npt.NDArray[np.bool_]:
        blank: npt.NDArray[np.bool_] = self.sizes.max(axis=1) == 0
        return blank

    def of_rows(self, rows: npt.NDArray[np.intp]) -> _FieldSizes:
        return _FieldSizes(self.sizes[rows], self.index)

    def any_empty(self, *names: str) -> bool:
        return any(
            not self.sizes[:, self.index[name]].all() for name in names if name in self.index
        )

    def longest(self, name: str) -> int:
        return int(self.sizes[:, self.index[name]].max(initial=0))


def _all_empty(columns: list[Column]) -> npt.NDArray[np.bool_]:
    blank = columns[0] == ""
    for column in columns[1:]:
        blank &= column == ""
    return blank


def _sections(
    sections: _Distinct,
    hours: _Hours | None,
    term: _Distinct | None,
    row_lines: npt.NDArray[np.int64],
) -> list[PlainSection]:
    """Per section of the block: first line, rows, first credit hours and term given."""
    import numpy as np

    names = sections.values.tolist()
    counts = np.bincount(sections.codes, minlength=len(names)).tolist()
    first_hours: list[float | None] = [None] * len(names)
    if hours is not None:
        given = np.array([value is not None for value in hours.values], dtype=bool)
        for section, text in _first_pairs(sections, hours.texts, given):
            if first_hours[section] is None:  # the pairs come in order of first appearance
                first_hours[section] = hours.values[text]
    terms: list[str | None] = [None] * len(names)
    if term is not None:
        pairs = _first_pairs(sections, term, term.values != "")
        for section, code in pairs:
            terms[section] = term.values[code]
        if len(pairs) != len({section for section, _ in pairs}):
            raise NotPlainCsv("a section with two terms")
    lines = row_lines[sections.first_rows].tolist()
    return [
        PlainSection(name, line, count, first_hours[code], terms[code])
        for code, (name, line, count) in enumerate(zip(names, lines, counts, strict=True))
    ]


def _first_pairs(
    sections: _Distinct, other: _Distinct, given: npt.NDArray[np.bool_]
) -> list[tuple[int, int]]:
    """The distinct (section, value) pairs of rows whose value is ``given`` (by value code),
    as codes, in order of first appearance."""
    import numpy as np

    rows = np.flatnonzero(given[other.codes])
    pairs = sections.codes[rows].astype(np.int64) * len(other.values) + other.codes[rows]
    distinct, first = np.unique(pairs, return_index=True)
    ordered = distinct[np.argsort(first, kind="stable")]
    width = len(other.values)
    return list(zip((ordered // width).tolist(), (ordered % width).tolist(), strict=True))


def _memberships(sections: _Distinct, group: _Distinct | None) -> list[tuple[str, str]]:
    if group is None:
        return []
    names, groups = sections.values, group.values
    return [
        (names[section], groups[code])
        for section, code in _first_pairs(sections, group, group.values != "")
    ]

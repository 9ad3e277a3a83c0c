"""The canonical grade CSV (design.md section 1): streamed row by row, every bad row a Problem."""

from __future__ import annotations

import csv
import math
import re
from collections.abc import Callable, Generator, Iterator
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

from gradestore.grades import GradeScale
from gradestore.readers.records import GradeRecord, Problem
from gradestore.readers.text import (
    NAME_WITHOUT_COMMA,
    control_character_error,
    is_binary_file_problem,
    is_clean_text_file,
    iter_decoded_lines,
    parse_credit_hours,
    split_full_name,
)

# Header names are matched by a key: lowercase, without spaces, underscores and hyphens.
COLUMN_ALIASES: dict[str, tuple[str, ...]] = {
    "section": ("section",),
    "student_id": ("studentid", "id", "student"),
    "last_name": ("lastname", "lname", "last", "surname"),
    "first_name": ("firstname", "fname", "first"),
    "name": ("name",),
    "grade": ("grade", "grades"),
    "group": ("group",),
    "credit_hours": ("credithours", "credits", "hours"),
    "term": ("term",),
}
_COLUMN_BY_KEY = {alias: column for column, aliases in COLUMN_ALIASES.items() for alias in aliases}
_KEY_JUNK = re.compile(r"[\s_-]+")
_OTHER_DELIMITERS = (";", "\t", "|")


class _GradeDialect(csv.Dialect):
    """A fixed dialect: sniffing misreads real files. Spaces before an opening quote are skipped."""

    delimiter = ","
    quotechar = '"'
    doublequote = True
    skipinitialspace = True
    strict = True
    lineterminator = "\r\n"
    quoting = csv.QUOTE_MINIMAL


_QUOTED_REST = re.compile(r'(?:[^"]++|"")*+"')
_FIELD_START = re.compile(r" *")
# A line of whole fields, every quoted one closed: the common case, checked in one match.
_WHOLE_FIELD = r' *+(?:"(?:[^"]++|"")*+"[^,]*+|(?!")[^,]*+)'
_CLOSED_LINE = re.compile(rf"{_WHOLE_FIELD}(?:,{_WHOLE_FIELD})*+")


@dataclass(frozen=True, slots=True)
class _Columns:
    """Where each known column sits in a row, and how many fields a row must have."""

    index: dict[str, int]
    width: int

    @property
    def split_names(self) -> bool:
        return "name" not in self.index

    def positions(self, *columns: str) -> tuple[int, ...]:
        """Where each of these columns sits; -1 for one the file does not have."""
        return tuple(self.index.get(column, -1) for column in columns)


def read_grade_csv(
    path: Path, display_path: str | None = None, max_errors: int = 20, *, scale: GradeScale
) -> Iterator[GradeRecord | Problem]:
    """Yield the file's records and problems one by one, in file order, never holding the file.

    A grade is a letter of ``scale`` (any case); any other is a bad row.

    Reading stops after ``max_errors`` errors (0 means no limit) with one final problem saying
    so: a file that bad is rejected anyway, and a million error lines help nobody.
    """
    shown = str(path) if display_path is None else display_path
    errors = 0
    reader = _read_clean_file if is_clean_text_file(path) else _read_all
    with closing(reader(path, shown, scale)) as items:
        for item in items:
            yield item
            if isinstance(item, Problem) and not item.is_warning:
                errors += 1
                if errors == max_errors:
                    yield Problem(
                        shown, None, f"stopped after {max_errors} errors; there may be more"
                    )
                    return


class _LineFeed:
    """Feeds decoded lines to ``csv.reader``, keeping their problems and where a quote opened.

    csv only reports an unterminated quote at the end of the file (or when the field outgrows
    csv's size limit); tracking the quoting here lets us report it where the quote was opened.
    """

    def __init__(self, lines: Iterator[tuple[int, str, Problem | None]]) -> None:
        self._lines = lines
        self.problems: list[Problem] = []
        self.exhausted = False
        self.binary = False
        self.open_quote_line: int | None = None

    def __iter__(self) -> _LineFeed:
        return self

    def __next__(self) -> str:
        try:
            number, text, problem = next(self._lines)
        except StopIteration:
            self.exhausted = True
            raise
        if problem is not None:
            self.problems.append(problem)
            if is_binary_file_problem(problem):
                self.binary = self.exhausted = True
                raise StopIteration
        if self.open_quote_line is not None or '"' in text:
            inside, opened_here = _scan_quotes(text, self.open_quote_line is not None)
            if not inside:
                self.open_quote_line = None
            elif opened_here:
                self.open_quote_line = number
        return text

    def take_problems(self) -> list[Problem]:
        problems, self.problems = self.problems, []
        return problems


def _scan_quotes(line: str, inside: bool) -> tuple[bool, bool]:
    """Follow csv's quoting over a line: (ends inside a quoted field, that field opened here)."""
    if not inside and _CLOSED_LINE.fullmatch(line):
        return False, False
    position = 0
    opened_here = False
    while True:
        if inside:
            closing_quote = _QUOTED_REST.match(line, position)
            if closing_quote is None:
                return True, opened_here
            position = closing_quote.end()
            inside = False
        else:
            field_start = _FIELD_START.match(line, position)
            assert field_start is not None  # " *" matches anywhere
            position = field_start.end()
            if line.startswith('"', position):
                position += 1
                inside = opened_here = True
                continue
        comma = line.find(",", position)
        if comma < 0:
            return False, False
        position = comma + 1


def _read_all(path: Path, shown: str, scale: GradeScale) -> Generator[GradeRecord | Problem]:
    """Every record and problem of the file, without the error limit."""
    feed = _LineFeed(iter_decoded_lines(path, shown))
    reader = csv.reader(feed, dialect=_GradeDialect)
    columns: _Columns | None = None
    while True:
        start = reader.line_num + 1
        try:
            row = next(reader)
        except StopIteration:
            yield from feed.take_problems()
            if start == 1 and not feed.binary:
                yield Problem(shown, 1, "empty file: a header row is required")
            return
        except csv.Error as exc:
            yield from feed.take_problems()
            if feed.binary:
                return
            if feed.exhausted or (feed.open_quote_line and str(exc).startswith("field larger")):
                # The quoted field ran to the end of the file or past csv's field size limit:
                # nothing after the opening quote can be read reliably.
                yield Problem(shown, feed.open_quote_line or start, "unterminated quote")
                return
            feed.open_quote_line = None  # csv drops the rest of the line and starts afresh
            yield Problem(shown, start, _csv_error_reason(exc, start, reader.line_num))
            if columns is None:
                return
            continue
        problems = feed.take_problems()
        if problems:
            yield from problems
            if columns is None or feed.binary:
                return
            continue
        if columns is None:
            columns, header_problems = _read_header(row, shown)
            yield from header_problems
            if columns is None:
                return
        elif any(field.strip() for field in row):
            yield from _read_row(start, row, columns, shown, scale)


def _read_clean_file(path: Path, shown: str, scale: GradeScale) -> Generator[GradeRecord | Problem]:
    """The fast path for a file of clean UTF-8 text: csv reads the file object directly.

    On a quoting error it hands over to the careful line-by-line reader, which names the
    line where the bad quote opened; what was already given is not repeated.
    """
    with open(path, encoding="utf-8-sig", newline="") as stream:
        reader = csv.reader(stream, dialect=_GradeDialect)
        done_through = 0
        columns: _Columns | None = None
        clean_record: Callable[[int, list[str]], GradeRecord | None] | None = None
        try:
            for row in reader:
                start = done_through + 1
                done_through = reader.line_num
                if clean_record is None:
                    columns, header_problems = _read_header(row, shown)
                    yield from header_problems
                    if columns is None:
                        return
                    clean_record = _clean_record_maker(columns, frozenset(scale.letters))
                    continue
                # A record over several lines has a line break in a value: checked in full.
                record = clean_record(start, row) if done_through == start else None
                if record is not None:
                    yield record
                elif any(field.strip() for field in row):
                    assert columns is not None
                    yield from _read_row(start, row, columns, shown, scale)
        except csv.Error:
            for item in _read_all(path, shown, scale):
                if item.line is None or item.line > done_through:
                    yield item
            return
        if columns is None:
            yield Problem(shown, 1, "empty file: a header row is required")


def _clean_record_maker(
    columns: _Columns, grades: frozenset[str]
) -> Callable[[int, list[str]], GradeRecord | None]:
    """A function that makes the record of a plainly good row (the common case), or returns
    None so that the row gets the full check and its messages. Built once per file: the
    column positions are bound as locals, which matters at a million rows."""
    width, split_names = columns.width, columns.split_names
    i_section, i_student, i_grade = columns.positions("section", "student_id", "grade")
    i_last, i_first, i_name = columns.positions("last_name", "first_name", "name")
    i_hours, i_group, i_term = columns.positions("credit_hours", "group", "term")

    def make(line: int, row: list[str]) -> GradeRecord | None:
        if len(row) != width:
            return None
        section = row[i_section].strip()
        student_id = row[i_student].strip()
        grade = row[i_grade].strip()
        if not section or not student_id or grade not in grades:
            return None
        if split_names:
            last_name = row[i_last].strip()
            first_name = row[i_first].strip()
            if not last_name or not first_name:
                return None
        else:
            last, comma, first = row[i_name].partition(",")
            last_name, first_name = last.strip(), first.strip()
            if not comma or not last_name:
                return None
        credit_hours = None
        if i_hours >= 0 and (text := row[i_hours].strip()):
            credit_hours = _plain_credit_hours(text)
            if credit_hours is None:
                return None
        group = (row[i_group].strip() or None) if i_group >= 0 else None
        term = (row[i_term].strip() or None) if i_term >= 0 else None
        return GradeRecord(
            line, section, student_id, last_name, first_name, grade, group, credit_hours, term
        )

    return make


def _plain_credit_hours(text: str) -> float | None:
    """Credit hours that need no message (a finite number >= 0), or None."""
    try:
        credit_hours = float(text)
    except ValueError:
        return None
    return credit_hours if math.isfinite(credit_hours) and credit_hours >= 0 else None


def _csv_error_reason(exc: csv.Error, start: int, line: int) -> str:
    reason = str(exc)
    if reason.startswith("new-line character seen in unquoted field"):
        reason = "a bare carriage return (old Mac line ending) inside a row: save with LF or CRLF"
    else:
        reason = f"bad quoting: {reason}"
    return reason if line == start else f"{reason} (at line {line})"


def _column_key(name: str) -> str:
    return _KEY_JUNK.sub("", name.strip().lower())


def column_for_header(name: str) -> str | None:
    """The canonical column a header names (any case, spaces, underscores and hyphens
    ignored), or None. The CSV reader and the seed's service API both go by this table."""
    return _COLUMN_BY_KEY.get(_column_key(name))


def _read_header(row: list[str], shown: str) -> tuple[_Columns | None, list[Problem]]:
    """Map header cells to known columns; ``None`` when the file cannot be read with it."""
    cells = [cell.strip() for cell in row]
    index, unknown, unreadable = _index_header(cells)
    if unreadable is not None:
        return None, [Problem(shown, 1, unreadable)]
    warnings = [f"ignoring unknown columns: {', '.join(unknown)}"] if unknown else []
    warnings += _choose_name_columns(index)
    missing = _missing_columns_message(index)
    if missing is not None:
        return None, [Problem(shown, 1, missing)]
    return _Columns(index, len(cells)), [Problem(shown, 1, text, True) for text in warnings]


def _index_header(cells: list[str]) -> tuple[dict[str, int], list[str], str | None]:
    """Each known column's position, the unknown cells as shown, and why the header cannot be
    read at all (a blank line, another delimiter, a column given twice), if it cannot."""
    if not any(cells):
        return {}, [], "missing header row (line 1 is blank)"
    if len(cells) == 1:
        found = [(cells[0].count(char), char) for char in _OTHER_DELIMITERS if char in cells[0]]
        if found:
            return {}, [], f"header is not comma-delimited (found {max(found)[1]!r})"
    index: dict[str, int] = {}
    unknown: list[str] = []
    for position, cell in enumerate(cells):
        column = column_for_header(cell)
        if column is None:
            unknown.append(repr(cell) if cell else f"column {position + 1} (no name)")
        elif column in index:
            first = cells[index[column]]
            return {}, [], f"duplicate column {cell!r}: {first!r} already gives {column}"
        else:
            index[column] = position
    return index, unknown, None


def _choose_name_columns(index: dict[str, int]) -> list[str]:
    """Keep either 'name' or last_name and first_name (the pair wins when both are whole);
    the warnings that say which columns are ignored."""
    if "name" in index and {"last_name", "first_name"} <= index.keys():
        del index["name"]
        return ["column 'name' ignored: last_name and first_name are used"]
    if "name" not in index:
        return []
    return [
        f"column {column!r} ignored: 'name' is used"
        for column in ("last_name", "first_name")
        if index.pop(column, None) is not None
    ]


def _missing_columns_message(index: dict[str, int]) -> str | None:
    missing = [repr(column) for column in ("section", "student_id") if column not in index]
    if "name" not in index:
        missing += [
            f"{column!r} (or 'name')"
            for column in ("last_name", "first_name")
            if column not in index
        ]
    if "grade" not in index:
        missing.append("'grade'")
    if not missing:
        return None
    plural = "s" if len(missing) > 1 else ""
    return f"missing required column{plural} {', '.join(missing)}"


def _read_row(
    line: int, row: list[str], columns: _Columns, shown: str, scale: GradeScale
) -> Iterator[GradeRecord | Problem]:
    """One data row: a record, or the errors that make it a bad row (and any warning)."""
    if len(row) != columns.width:
        yield Problem(shown, line, f"expected {columns.width} fields, found {len(row)}")
        return
    values = {column: row[position].strip() for column, position in columns.index.items()}
    required = ["section", "student_id"]
    required += ["last_name", "first_name"] if columns.split_names else ["name"]
    required.append("grade")
    empty = [column for column in required if not values[column]]
    errors = [f"empty {', '.join(empty)}"] if empty else []
    grade = scale.normalize(values["grade"])
    if grade is None and values["grade"]:
        errors.append(scale.unknown_grade(values["grade"]))
    control = control_character_error(**{k: v for k, v in values.items() if k != "grade"})
    if control:
        errors.append(control)
    credit_hours = None
    if values.get("credit_hours"):
        credit_hours, why = parse_credit_hours(values["credit_hours"])
        if why:
            errors.append(f"credit_hours {why}")
    if errors or grade is None:
        for message in errors:
            yield Problem(shown, line, message)
        return
    if columns.split_names:
        last_name, first_name = values["last_name"], values["first_name"]
    else:
        last_name, first_name, had_comma = split_full_name(values["name"])
        if not had_comma:
            yield Problem(shown, line, NAME_WITHOUT_COMMA, True)
    yield GradeRecord(
        line=line,
        section=values["section"],
        student_id=values["student_id"],
        last_name=last_name,
        first_name=first_name,
        grade=grade,
        group=values.get("group") or None,
        credit_hours=credit_hours,
        term=values.get("term") or None,
    )

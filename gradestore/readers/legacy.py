"""The original course project's files: .SEC sections, .GRP groups, .RUN runs and .lst lists.

These files are small, so each is read whole into a record. Their rows are a few quoted fields
on one line; the quirks seen in real files (blank lines, spaces around commas, CRLF, a BOM, no
final newline) are tolerated, and anything else is a Problem at its line.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import Protocol, TextIO

from gradestore.grades import GradeScale
from gradestore.readers.identity import grade_file_kind
from gradestore.readers.records import (
    GradeRecord,
    GroupFile,
    LegacySection,
    ListEntry,
    Problem,
    Reference,
    RunFile,
    SectionHeader,
)
from gradestore.readers.text import (
    NAME_WITHOUT_COMMA,
    control_character_error,
    has_control_character,
    iter_decoded_lines,
    parse_credit_hours,
    split_full_name,
)
from gradestore.terms import term_in_section_name

# Folders beside the referring file's folder, in the usual Runs/ Groups/ Sections/ layout.
REFERENCE_FOLDERS: tuple[str, ...] = ("Sections", "Groups")
KIND_WORDS = {"sec": "section", "grp": "group", "run": "run"}
# The longest file name most file systems allow; a longer entry is refused, not looked up.
MAX_FILE_NAME_CHARACTERS = 255
# How much of a refused or unknown entry a message quotes.
SHOWN_NAME_CHARACTERS = 40
# One field: quoted (``""`` escapes a quote) or plain, spaces around it, then a comma or the end.
_FIELD = re.compile(r'\s*(?:"((?:[^"]++|"")*+)"|([^",]*))\s*(,|$)')
_LIST_STUDENT_FORMAT = '"ID","Last, First", N'


def section_term(name: str) -> str | None:
    """The term a legacy section name ends with (``.01S25`` -> ``S25``, ``.01FA2017`` ->
    ``FA2017``), as written, or None (see :func:`gradestore.terms.term_in_section_name`)."""
    return term_in_section_name(name)


def read_section_file(
    path: Path, display_path: str | None = None, *, scale: GradeScale
) -> LegacySection:
    """A .SEC file: a ``<SECTION NAME> <credit hours>`` line, then one student a line.

    The section is named by the file name (that is what .GRP files refer to); a header naming
    another section or lacking the credit hours only gets a warning.
    """
    shown = str(path) if display_path is None else display_path
    name = path.stem
    problems: list[Problem] = []
    records: list[GradeRecord] = []
    header_name: str | None = None
    credit_hours: float | None = None
    term = section_term(name)
    if has_control_character(name):
        problems.append(Problem(shown, None, "file name holds a control character"))
    header_seen = False
    for number, text in _readable_lines(path, shown, problems):
        if not header_seen:
            header_seen = True
            if not text.startswith('"'):
                header_name, credit_hours = _read_section_header(
                    number, text, name, shown, problems
                )
                continue
            if not problems:  # after a bad first line, this is not the missing header
                problems.append(
                    Problem(shown, number, "missing header line '<SECTION NAME> <credit hours>'")
                )
        fields = _student_fields(number, text, shown, problems, scale)
        if fields is None:
            continue
        last_name, first_name, student_id, grade = fields
        records.append(
            GradeRecord(
                line=number,
                section=name,
                student_id=student_id,
                last_name=last_name,
                first_name=first_name,
                grade=grade,
                credit_hours=credit_hours,
                term=term,
            )
        )
    if not header_seen and not problems:
        problems.append(Problem(shown, 1, "empty file: expected '<SECTION NAME> <credit hours>'"))
    header = SectionHeader(path, name, header_name, credit_hours, term)
    return LegacySection(header, records, problems)


def _read_section_header(
    number: int, text: str, name: str, shown: str, problems: list[Problem]
) -> tuple[str, float | None]:
    """The header's section name and credit hours; anything odd about it is a warning."""
    words = text.split()
    header_name = words[0]
    if has_control_character(header_name):
        problems.append(Problem(shown, number, "header's section name holds a control character"))
    if header_name.casefold() != name.casefold():
        problems.append(
            Problem(
                shown,
                number,
                f"header names section {header_name!r}; the file name {name!r} is used",
                True,
            )
        )
    credit_hours = None
    if len(words) < 2:
        problems.append(Problem(shown, number, "header has no credit hours", True))
    else:
        credit_hours, why = parse_credit_hours(words[1])
        if why:
            problems.append(Problem(shown, number, f"header's credit hours {why}", True))
        if len(words) > 2:
            extra = " ".join(words[2:])
            problems.append(
                Problem(shown, number, f"ignoring {extra!r} after the credit hours", True)
            )
    return header_name, credit_hours


def _student_fields(
    number: int, text: str, shown: str, problems: list[Problem], scale: GradeScale
) -> tuple[str, str, str, str] | None:
    """``(last, first, id, grade)`` of a .SEC student line, or None after adding its errors."""
    fields = split_quoted_fields(text)
    if fields is None:
        problems.append(Problem(shown, number, "mismatched quote"))
        return None
    if len(fields) == 3:
        last_name, first_name, had_comma = split_full_name(fields[0])
        if not had_comma and last_name:
            problems.append(Problem(shown, number, NAME_WITHOUT_COMMA, True))
    elif len(fields) == 4:
        last_name, first_name = fields[0], fields[1]
    else:
        problems.append(
            Problem(shown, number, f"expected 3 or 4 quoted fields, found {len(fields)}")
        )
        return None
    student_id, raw_grade = fields[-2], fields[-1]
    errors = []
    if not last_name:
        errors.append("missing student name")
    if not student_id:
        errors.append("missing student id")
    control = control_character_error(
        last_name=last_name, first_name=first_name, student_id=student_id
    )
    if control:
        errors.append(control)
    grade, grade_error = _check_grade(raw_grade, scale)
    if grade_error:
        errors.append(grade_error)
    problems.extend(Problem(shown, number, message) for message in errors)
    if errors or grade is None:
        return None
    return last_name, first_name, student_id, grade


def split_quoted_fields(text: str) -> list[str] | None:
    """Split one legacy line into trimmed fields, or None when its quotes do not pair up.

    Fields are quoted (``""`` is a quote inside one) or plain; spaces around commas are allowed.
    """
    line = text.strip()
    if line.count('"') % 2:
        return None
    fields: list[str] = []
    position = 0
    while True:
        match = _FIELD.match(line, position)
        if match is None:
            return None
        quoted, plain, separator = match.groups()
        fields.append(quoted.replace('""', '"').strip() if quoted is not None else plain.strip())
        if not separator:
            return fields
        position = match.end()


def _check_grade(raw: str, scale: GradeScale) -> tuple[str | None, str | None]:
    """``(letter, None)`` or ``(None, error message)``, in the legacy readers' words."""
    if not raw:
        return None, "missing grade"
    grade = scale.normalize(raw)
    return (grade, None) if grade else (None, scale.unknown_grade(raw))


def _readable_lines(path: Path, shown: str, problems: list[Problem]) -> Iterator[tuple[int, str]]:
    """``(line number, trimmed text)`` of each non-blank line; bad bytes go to ``problems``."""
    for number, text, problem in iter_decoded_lines(path, shown):
        if problem is not None:
            problems.append(problem)
        elif text.strip():
            yield number, text.strip()


class RefusedName(ValueError):
    """A name inside a .GRP or .RUN that gradestore will not follow; the message says why."""


def resolve_reference(referring_file: Path, name: str, member: str = "") -> Path | None:
    """Find a file named in a .GRP or .RUN: beside it, then in ../Sections and ../Groups.

    Names match case-insensitively, as on the Windows machines that wrote these files. The path
    is built from the referring file's folder, so a relative referring path gives a relative one.
    Only files within the referring file's data folder are found (see :func:`data_folder`):
    an absolute name, a ``..`` or a symlink leading out of it, a name too long for a file name,
    with a control character, or not of the ``member`` kind (``"sec"`` or ``"grp"``) raises
    :class:`RefusedName`; nothing is opened for it.
    """
    _check_name(name, member)
    folder = referring_file.parent
    root = data_folder(referring_file)
    candidates = [folder]
    for subfolder in REFERENCE_FOLDERS:
        found = _find_entry(_beside(folder), subfolder, want_dir=True)
        if found is not None:
            candidates.append(found)
    for directory in candidates:
        if not _is_within(directory / name, root):
            raise RefusedName(f"{shown_prefix(name)} leads outside the data folder")
        found = _find_entry(directory, name, want_dir=False)
        if found is not None:
            if not _is_within(found.resolve(), root.resolve()):
                raise RefusedName(f"{shown_prefix(name)} leads outside the data folder")
            return found
    return None


def data_folder(referring_file: Path) -> Path:
    """The folder that files named in ``referring_file`` must lie in: the one holding its
    ``Sections/`` or ``Groups/`` sibling folders (the usual layout), else its own folder."""
    folder = referring_file.parent
    beside = _beside(folder)
    if any(_find_entry(beside, sub, want_dir=True) for sub in REFERENCE_FOLDERS):
        return beside
    return folder


def shown_prefix(name: str) -> str:
    """How an entry is quoted in a message: at most a short prefix, never a whole line."""
    if len(name) <= SHOWN_NAME_CHARACTERS:
        return repr(name)
    return repr(name[:SHOWN_NAME_CHARACTERS]) + "..."


def _beside(folder: Path) -> Path:
    return folder / ".." if folder.name in ("", "..") else folder.parent


def _check_name(name: str, member: str) -> None:
    """Refuse, before touching the file system, a name that cannot be a member file."""
    shown = shown_prefix(name)
    if len(name) > MAX_FILE_NAME_CHARACTERS:
        raise RefusedName(f"{shown} is longer than {MAX_FILE_NAME_CHARACTERS} characters")
    if has_control_character(name):
        raise RefusedName(f"{shown} holds a control character")
    if PurePosixPath(name).is_absolute() or PureWindowsPath(name).anchor:
        raise RefusedName(f"{shown} is an absolute path: name a file within the data folder")
    if not member:
        return
    kind = grade_file_kind(Path(name))
    if kind != member:
        wanted = f"{KIND_WORDS[member]} file (.{member.upper()})"
        if kind in KIND_WORDS:
            raise RefusedName(f"{shown} is a {KIND_WORDS[kind]} file, not a {wanted}")
        raise RefusedName(f"{shown} is not a {wanted}")


def _is_within(path: Path, root: Path) -> bool:
    """Lexically (after ``..`` is folded away), ``path`` lies in ``root``."""
    return Path(os.path.abspath(path)).is_relative_to(os.path.abspath(root))


def _find_entry(directory: Path, name: str, *, want_dir: bool) -> Path | None:
    """``directory / name`` if it exists, else the one entry whose name matches ignoring case."""

    def fits(candidate: Path) -> bool:
        try:
            return candidate.is_dir() if want_dir else candidate.is_file()
        except OSError:  # no permission to look, a name too long: not found here
            return False

    exact = directory / name
    if fits(exact):
        return exact
    wanted = name.casefold()
    try:
        entries = sorted(os.listdir(directory))
    except OSError:
        return None
    for entry in entries:
        if entry.casefold() == wanted and fits(directory / entry):
            return directory / entry
    return None


def read_group_file(path: Path, display_path: str | None = None) -> GroupFile:
    """A .GRP file: the group's name, then the .SEC files of its sections, one a line."""
    name, members, problems = _read_reference_file(path, display_path, "group", "section")
    return GroupFile(path, name, members, problems)


def read_run_file(path: Path, display_path: str | None = None) -> RunFile:
    """A .RUN file: the run's name, then the .GRP files of its groups, one a line."""
    name, groups, problems = _read_reference_file(path, display_path, "run", "group")
    return RunFile(path, name, groups, problems)


def _read_reference_file(
    path: Path, display_path: str | None, what: str, member: str
) -> tuple[str, list[Reference], list[Problem]]:
    """Line 1 names the group or run; each further non-blank line names a file to resolve."""
    shown = str(path) if display_path is None else display_path
    problems: list[Problem] = []
    references: list[Reference] = []
    name = ""
    first_line_read = False
    for number, text, problem in iter_decoded_lines(path, shown):
        if problem is not None:
            problems.append(problem)
            first_line_read = True
            continue
        entry = text.strip()
        if number == 1:
            first_line_read = True
            name = entry
            if not name:
                problems.append(Problem(shown, 1, f"missing {what} name"))
            elif has_control_character(name):
                problems.append(Problem(shown, 1, f"{what} name holds a control character"))
            elif grade_file_kind(Path(name)) is not None:
                problems.append(
                    Problem(shown, 1, f"{what} name {name!r} looks like a file name", True)
                )
        elif entry:
            references.append(_reference(path, shown, number, entry, member, problems))
    if not first_line_read:
        problems.append(Problem(shown, 1, f"missing {what} name"))
    return name, references, problems


def _reference(
    path: Path, shown: str, number: int, entry: str, member: str, problems: list[Problem]
) -> Reference:
    """The file an entry names, or a Reference to nothing and an error at the entry's line."""
    kind = "sec" if member == "section" else "grp"
    try:
        resolved = resolve_reference(path, entry, kind)
    except RefusedName as refused:
        problems.append(Problem(shown, number, f"refused {member} file name: {refused}"))
        return Reference(number, entry, None)
    if resolved is None:
        problems.append(
            Problem(
                shown,
                number,
                f"cannot find {member} file {shown_prefix(entry)} "
                f"(looked next to it and in ../Sections, ../Groups)",
            )
        )
    return Reference(number, entry, resolved)


@dataclass(slots=True)
class _ListStudent:
    """The student whose entry lines are being read; ``expected`` None after a bad student line."""

    line: int
    student_id: str
    last_name: str
    first_name: str
    expected: int | None
    found: int = 0

    def wants_entry(self) -> bool:
        return self.expected is None or self.found < self.expected


def read_list_file(
    path: Path, display_path: str | None = None, *, scale: GradeScale
) -> tuple[list[ListEntry], list[Problem]]:
    """A saved good or work list: ``"ID","Last, First", N`` then N lines ``"SECTION","GRADE"``."""
    shown = str(path) if display_path is None else display_path
    problems: list[Problem] = []
    entries: list[ListEntry] = []
    student: _ListStudent | None = None
    for number, text in _readable_lines(path, shown, problems):
        fields = split_quoted_fields(text)
        is_student_line = fields is not None and len(fields) == 3
        if student is not None and student.wants_entry() and not is_student_line:
            if student.expected is not None:
                student.found += 1
                entry = _list_entry(number, fields, student, shown, problems, scale)
                if entry is not None:
                    entries.append(entry)
            elif fields is None:
                problems.append(Problem(shown, number, "mismatched quote"))
            continue
        _check_entry_count(student, shown, problems)
        student = _list_student(number, fields, shown, problems)
    _check_entry_count(student, shown, problems)
    problems.sort(key=lambda problem: problem.line or 0)  # a short count is found late
    return entries, problems


class ListedStudentLike(Protocol):
    """What a .lst file holds of a student (``gradestore.results.ListedStudent`` is one)."""

    @property
    def student_id(self) -> str: ...
    @property
    def first_name(self) -> str: ...
    @property
    def last_name(self) -> str: ...
    @property
    def entries(self) -> Sequence[SectionGradeLike]: ...


class SectionGradeLike(Protocol):
    @property
    def section(self) -> str: ...
    @property
    def grade(self) -> str: ...


def write_list_file(students: Iterable[ListedStudentLike], out: TextIO) -> int:
    """Write the layout :func:`read_list_file` reads: ``"ID","Last, First", N`` then N lines
    ``"SECTION","GRADE"`` (a double quote inside a value becomes '). Returns how many students
    were written."""
    written = 0
    for student in students:
        entries = student.entries
        out.write(
            _list_student_line(
                student.student_id, student.first_name, student.last_name, len(entries)
            )
        )
        out.writelines([_list_entry_line(e.section, e.grade) for e in entries])
        written += 1
    return written


def write_list_rows(rows: Iterable[tuple[str, str, str, str, str]], out: TextIO) -> int:
    """:func:`write_list_file` from a list's rows as a query gives them, (student id, first
    name, last name, section, grade), a student's rows one after another: the same bytes,
    without an object per student or entry. Returns how many students were written."""
    written = 0
    lines: list[str] = []
    entries: list[str] = []
    student: str | None = None
    first = last = ""
    quote, apostrophe = '"', "'"
    # One pass over the rows, a student's entry lines held until the next student (its line
    # counts them): no groupby or list per student; _list_entry_line inline (0.29 -> 0.22 s
    # of CPU for the 136,243 rows of a 1M store's work list).
    for student_id, first_name, last_name, section, grade in rows:
        if student_id != student:
            if entries:
                lines.append(_list_student_line(student or "", first, last, len(entries)))
                lines += entries
                entries.clear()
                written += 1
                if len(lines) >= _LINES_PER_WRITE:
                    out.write("".join(lines))
                    lines.clear()
            student, first, last = student_id, first_name, last_name
        entries.append(
            f'"{section.replace(quote, apostrophe)}","{grade.replace(quote, apostrophe)}"\n'
        )
    if entries:
        lines.append(_list_student_line(student or "", first, last, len(entries)))
        lines += entries
        written += 1
    out.write("".join(lines))
    return written


# Lines written out at a time: one write of some 100 KB, not two per student.
_LINES_PER_WRITE = 4096


def _quoted(value: str) -> str:
    return '"' + value.replace('"', "'") + '"'


def _list_student_line(student_id: str, first_name: str, last_name: str, count: int) -> str:
    name = last_name
    # The reader splits at the last comma: "Smith, Jr.," is a last name with a comma.
    if first_name or "," in last_name:
        name = f"{last_name}, {first_name}".rstrip()
    return f"{_quoted(student_id)},{_quoted(name)}, {count}\n"


def _list_entry_line(section: str, grade: str) -> str:
    return f"{_quoted(section)},{_quoted(grade)}\n"


def _list_student(
    number: int, fields: list[str] | None, shown: str, problems: list[Problem]
) -> _ListStudent:
    """The student a .lst student line starts; a bad line gives one whose entries are skipped."""
    if fields is None:
        problems.append(Problem(shown, number, "mismatched quote"))
        return _ListStudent(number, "", "", "", None)
    if len(fields) != 3:
        problems.append(
            Problem(shown, number, f"malformed student line: expected {_LIST_STUDENT_FORMAT}")
        )
        return _ListStudent(number, "", "", "", None)
    student_id, full_name, count = fields
    last_name, first_name, had_comma = split_full_name(full_name, at_last_comma=True)
    errors = []
    if not student_id:
        errors.append("missing student id")
    if not last_name:
        errors.append("missing student name")
    elif not had_comma:
        problems.append(Problem(shown, number, NAME_WITHOUT_COMMA, True))
    if not count.isdigit() or not count.isascii():
        errors.append(f"entry count {count!r} is not a non-negative integer")
    control = control_character_error(student_id=student_id, name=full_name)
    if control:
        errors.append(control)
    problems.extend(Problem(shown, number, message) for message in errors)
    expected = None if errors else int(count)
    return _ListStudent(number, student_id, last_name, first_name, expected)


def _list_entry(
    number: int,
    fields: list[str] | None,
    student: _ListStudent,
    shown: str,
    problems: list[Problem],
    scale: GradeScale,
) -> ListEntry | None:
    """One ``"SECTION","GRADE"`` line of a .lst student, or None after adding its errors."""
    if fields is None:
        problems.append(Problem(shown, number, "mismatched quote"))
        return None
    if len(fields) != 2:
        problems.append(
            Problem(
                shown, number, f'expected an entry "SECTION","GRADE", found {len(fields)} fields'
            )
        )
        return None
    section, raw_grade = fields
    grade, grade_error = _check_grade(raw_grade, scale)
    errors = ["missing section"] if not section else []
    if grade_error:
        errors.append(grade_error)
    control = control_character_error(section=section)
    if control:
        errors.append(control)
    problems.extend(Problem(shown, number, message) for message in errors)
    if errors or grade is None:
        return None
    return ListEntry(
        number, student.student_id, student.last_name, student.first_name, section, grade
    )


def _check_entry_count(student: _ListStudent | None, shown: str, problems: list[Problem]) -> None:
    """A student line promising more entries than followed it is an error at that line."""
    if student is not None and student.expected is not None and student.found < student.expected:
        problems.append(
            Problem(
                shown,
                student.line,
                f"expected {student.expected} entries for student {student.student_id!r}, "
                f"found {student.found}",
            )
        )

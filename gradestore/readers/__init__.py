"""Readers: grade files in, plain records out (no database, no printing)."""

from gradestore.readers.canonical_csv import column_for_header, read_grade_csv
from gradestore.readers.legacy import (
    grade_file_kind,
    read_group_file,
    read_list_file,
    read_run_file,
    read_section_file,
    resolve_reference,
    write_list_file,
    write_list_rows,
)
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
from gradestore.readers.text import file_sha256, iter_decoded_lines

__all__ = [
    "GradeRecord",
    "GroupFile",
    "LegacySection",
    "ListEntry",
    "Problem",
    "Reference",
    "RunFile",
    "SectionHeader",
    "column_for_header",
    "file_sha256",
    "grade_file_kind",
    "iter_decoded_lines",
    "read_grade_csv",
    "read_group_file",
    "read_list_file",
    "read_run_file",
    "read_section_file",
    "resolve_reference",
    "write_list_file",
    "write_list_rows",
]

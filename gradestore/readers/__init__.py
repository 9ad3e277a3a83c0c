"""Readers: grade files in, plain records out (no database, no printing).

Each name is imported from its module when first asked for (PEP 562): importing one reader, or
gradestore.readers.identity for a file's kind and sha256, does not import the others.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from gradestore.readers.canonical_csv import column_for_header, read_grade_csv
    from gradestore.readers.identity import file_sha256, grade_file_kind
    from gradestore.readers.legacy import (
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
    from gradestore.readers.text import iter_decoded_lines

_MODULE_OF = {
    "column_for_header": "canonical_csv",
    "read_grade_csv": "canonical_csv",
    "file_sha256": "identity",
    "grade_file_kind": "identity",
    "read_group_file": "legacy",
    "read_list_file": "legacy",
    "read_run_file": "legacy",
    "read_section_file": "legacy",
    "resolve_reference": "legacy",
    "write_list_file": "legacy",
    "write_list_rows": "legacy",
    "GradeRecord": "records",
    "GroupFile": "records",
    "LegacySection": "records",
    "ListEntry": "records",
    "Problem": "records",
    "Reference": "records",
    "RunFile": "records",
    "SectionHeader": "records",
    "iter_decoded_lines": "text",
}

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


def __getattr__(name: str) -> object:
    module = _MODULE_OF.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value

"""What a grade file is before it is read: its kind (by extension) and its bytes' sha256.

Apart from the readers so that a re-ingest of stored bytes, which asks only these two
questions, imports no reader.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from gradestore.kinds import FileKind

GRADE_FILE_KINDS: dict[str, FileKind] = {
    ".csv": FileKind.CSV,
    ".sec": FileKind.SEC,
    ".grp": FileKind.GRP,
    ".run": FileKind.RUN,
    ".lst": FileKind.LST,
}


def grade_file_kind(path: Path) -> FileKind | None:
    """The kind of grade file ``path`` names, by its extension in any letter case."""
    return GRADE_FILE_KINDS.get(path.suffix.lower())


def file_sha256(path: Path) -> str:
    """The hex sha256 of a file's bytes (streamed): provenance of every stored grade."""
    with open(path, "rb") as stream:
        return hashlib.file_digest(stream, "sha256").hexdigest()

"""Errors that reach the user as one line and an exit code (never a traceback)."""

from __future__ import annotations

import difflib
import os

NOTHING_STORED = "no grades are stored yet: run `gradestore ingest FILE...` first"


class GradestoreError(Exception):
    """A failure the user can act on. ``exit_code`` follows sysexits.h where one fits."""

    exit_code: int = 1


class UsageError(GradestoreError):
    exit_code = os.EX_USAGE  # 64


class BadInputError(GradestoreError):
    exit_code = os.EX_DATAERR  # 65


class NotFoundError(GradestoreError):
    """Something asked for (a file, section, group, analysis) does not exist."""

    exit_code = os.EX_NOINPUT  # 66


class OutputError(GradestoreError):
    """An output file cannot be written."""

    exit_code = os.EX_CANTCREAT  # 73


class DatabaseUnavailableError(GradestoreError):
    exit_code = os.EX_UNAVAILABLE  # 69


class SchemaError(GradestoreError):
    """The database schema is not the one this program needs."""

    exit_code = os.EX_CONFIG  # 78


class ConfigurationError(GradestoreError):
    exit_code = os.EX_CONFIG  # 78


def unknown(kind: str, name: str, existing: list[str]) -> str:
    """One line naming what was asked and the closest existing names."""
    close = difflib.get_close_matches(name, existing, n=3, cutoff=0.5)
    if close:
        hint = f"; did you mean {', '.join(close)}?"
    elif existing:
        shown = ", ".join(existing[:5]) + (", ..." if len(existing) > 5 else "")
        hint = f"; known {kind}s: {shown}"
    else:
        hint = f"; no {kind}s are stored"
    return f"unknown {kind} {name!r}{hint}"


class ShownOutputError(GradestoreError):
    """The work was done and stored, but printing it failed (a full disk, a lost connection
    while reading it back): the message says that the work is stored."""

    exit_code = os.EX_IOERR  # 74

"""Errors that reach the user as one line and an exit code (never a traceback)."""

from __future__ import annotations

import os


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

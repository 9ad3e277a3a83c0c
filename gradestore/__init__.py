"""gradestore: ingest, analyse and keep student grades."""

__version__ = "0.1.0"

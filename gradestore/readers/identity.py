"""What a grade file is before it is read: its kind (by extension) and its bytes' sha256.

Apart from the readers so that a re-ingest of stored bytes, which asks only these two
questions, imports no reader.

``prefetch_sha256`` starts hashing files in a thread while the process is still importing
(SQLAlchemy, a tenth of a second): reading and hashing release Python's lock, so on a free
core the digest is ready when the store is asked. ``file_sha256`` takes a prefetched digest
only if the file's status (device, inode, size, modification and change times) is what it was
when the thread opened it; otherwise, and when the thread failed, it hashes the file itself.
"""

from __future__ import annotations

import hashlib
import io
import os
from collections.abc import Iterable
from pathlib import Path

from gradestore.kinds import FileKind

GRADE_FILE_KINDS: dict[str, FileKind] = {
    ".csv": FileKind.CSV,
    ".sec": FileKind.SEC,
    ".grp": FileKind.GRP,
    ".run": FileKind.RUN,
    ".lst": FileKind.LST,
}
# Read and hashed this much at a time: few enough chunks that the thread seldom waits for
# Python's lock, which it needs between them.
_CHUNK = 4 << 20


def grade_file_kind(path: Path) -> FileKind | None:
    """The kind of grade file ``path`` names, by its extension in any letter case."""
    return GRADE_FILE_KINDS.get(path.suffix.lower())


def file_sha256(path: Path) -> str:
    """The hex sha256 of a file's bytes (streamed): provenance of every stored grade."""
    job = _prefetched.pop(path, None)
    if job is not None:
        job.done.wait()
        if job.hexdigest is not None and job.status == _status(os.stat(path)):
            return job.hexdigest
    with open(path, "rb", buffering=0) as stream:
        return _sha256_of(stream)


def prefetch_sha256(paths: Iterable[Path]) -> None:
    """Hash these files (regular files only) in one background thread, in order."""
    import threading

    jobs = [_Prefetch(path) for path in paths if path not in _prefetched and path.is_file()]
    if not jobs:
        return
    for job in jobs:
        _prefetched[job.path] = job
    threading.Thread(target=_hash_all, args=(jobs,), name="gradestore-sha256", daemon=True).start()


class _Prefetch:
    def __init__(self, path: Path) -> None:
        import threading

        self.path = path
        self.done = threading.Event()
        self.hexdigest: str | None = None
        self.status: tuple[int, ...] | None = None


_prefetched: dict[Path, _Prefetch] = {}


def _hash_all(jobs: list[_Prefetch]) -> None:
    for job in jobs:
        try:
            with open(job.path, "rb", buffering=0) as stream:
                status = _status(os.fstat(stream.fileno()))
                job.hexdigest = _sha256_of(stream)
                job.status = status
        except OSError:
            job.hexdigest = None  # file_sha256 hashes it again and says why it cannot
        finally:
            job.done.set()


def _sha256_of(stream: io.FileIO) -> str:
    digest = hashlib.sha256()
    buffer = bytearray(_CHUNK)
    view = memoryview(buffer)
    while size := stream.readinto(buffer):
        digest.update(view[:size])
    return digest.hexdigest()


def _status(status: os.stat_result) -> tuple[int, ...]:
    return (status.st_dev, status.st_ino, status.st_size, status.st_mtime_ns, status.st_ctime_ns)

"""readers.identity: a file's sha256, hashed in the background ahead of need, is the digest of
the bytes the file holds when it is asked for (real files, real threads)."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from gradestore.readers import identity


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _prefetched_and_done(path: Path) -> None:
    identity.prefetch_sha256([path])
    job = identity._prefetched[path]
    assert job.done.wait(timeout=60)
    assert job.hexdigest is not None


def test_a_prefetched_digest_is_the_files_and_is_used_once(tmp_path: Path) -> None:
    data = os.urandom(9 << 20) + b"tail"  # more than two of the thread's chunks
    path = tmp_path / "big.csv"
    path.write_bytes(data)
    _prefetched_and_done(path)
    assert identity.file_sha256(path) == _sha256(data)
    assert path not in identity._prefetched  # taken: a second ask hashes the file itself
    assert identity.file_sha256(path) == _sha256(data)


def test_a_file_changed_after_its_prefetch_is_hashed_again(tmp_path: Path) -> None:
    path = tmp_path / "grades.csv"
    path.write_bytes(b"section,student_id\nS1,001\n")
    before = path.stat()
    _prefetched_and_done(path)
    # Other bytes of the same size, the modification time put back: the change time differs.
    path.write_bytes(b"section,student_id\nS1,002\n")
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert identity.file_sha256(path) == _sha256(b"section,student_id\nS1,002\n")


def test_a_file_replaced_after_its_prefetch_is_hashed_again(tmp_path: Path) -> None:
    path = tmp_path / "grades.csv"
    path.write_bytes(b"one")
    _prefetched_and_done(path)
    other = tmp_path / "other.csv"
    other.write_bytes(b"two")
    other.replace(path)  # another inode under the same name
    assert identity.file_sha256(path) == _sha256(b"two")


def test_what_is_not_a_regular_file_is_not_prefetched(tmp_path: Path) -> None:
    identity.prefetch_sha256([tmp_path / "missing.csv", tmp_path])
    assert tmp_path / "missing.csv" not in identity._prefetched
    assert tmp_path not in identity._prefetched

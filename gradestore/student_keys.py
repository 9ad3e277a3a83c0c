"""Every student of a unit seen so far, in a few bytes each: sorted numpy arrays, not a dict.

A 5,000,000-grade file has about 830,000 students; a dictionary of their ids and names held
about 300 bytes each. Here a student is a 64-bit hash of its id (the arrays' order), the id
itself (so that two ids of one hash are told apart, never taken as one), a key and a 64-bit
hash of its name: about 50 bytes with 7-character ids. A block of rows finds its students with
a binary search over integers in each of a few sorted runs.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt


class SharedHash(Exception):
    """Two student ids have one hash: the caller must tell its students apart another way."""


class _Run:
    """Students sorted by the hash of their id, in four arrays."""

    def __init__(
        self,
        hashes: npt.NDArray[np.int64],
        ids: npt.NDArray[np.str_],
        keys: npt.NDArray[np.int64],
        names: npt.NDArray[np.int64],
    ) -> None:
        self.hashes, self.ids, self.keys, self.names = hashes, ids, keys, names

    def merged(self, other: _Run) -> _Run:
        """Both runs in one, by where each of the other's students goes (no sort, and no
        array made beyond the merged ones: a merge of the largest runs is what peaks)."""
        import numpy as np

        size = len(self.hashes) + len(other.hashes)
        theirs = np.searchsorted(self.hashes, other.hashes) + np.arange(len(other.hashes))
        ours = np.ones(size, dtype=bool)
        ours[theirs] = False
        width = max(self.ids.dtype.itemsize, other.ids.dtype.itemsize) // 4
        arrays = []
        for mine, its, dtype in (
            (self.hashes, other.hashes, np.int64),
            (self.ids, other.ids, np.dtype(f"U{width}")),
            (self.keys, other.keys, np.int64),
            (self.names, other.names, np.int64),
        ):
            merged = np.empty(size, dtype=dtype)
            merged[ours], merged[theirs] = mine, its
            arrays.append(merged)
        return _Run(*arrays)


class StudentKeys:
    """The students seen so far, each with a key (the caller's: a stored id, an order).

    They are kept in a few sorted runs, each at most half the size of the one before (as
    the digits of a binary counter): a block's new students make a run of their own and
    merge into the last ones while those are not larger. Each student is copied about
    log2(runs) times in all, where inserting every block into one array copied every
    student once per block (at 5M grades, 43 MB per block, and the freed copies left the
    C heap fragmented: 200 MB of a 5M ingest's peak)."""

    def __init__(self) -> None:
        self.runs: list[_Run] = []

    def find(
        self, ids: npt.NDArray[np.object_]
    ) -> tuple[
        npt.NDArray[np.intp], npt.NDArray[np.int64], npt.NDArray[np.int64], npt.NDArray[np.int64]
    ]:
        """For distinct ids: the positions of those seen before, their keys and names'
        hashes, and every id's hash (for ``add``). Raises SharedHash when an id shares its
        hash with another seen or given."""
        import numpy as np

        hashes = id_hashes(ids)
        keys = np.zeros(len(ids), dtype=np.int64)
        names = np.zeros(len(ids), dtype=np.int64)
        seen = np.zeros(len(ids), dtype=bool)
        # The block's hashes in order: each binary search then starts where the last one
        # ended (numpy's searchsorted does so for sorted needles), so a run's pages are read
        # in order, not at random (random needles: two thirds of this look-up's time).
        order = np.argsort(hashes)
        ordered = hashes[order]
        for run in self.runs:
            at = np.minimum(np.searchsorted(run.hashes, ordered), len(run.hashes) - 1)
            found = run.hashes[at] == ordered
            rows, at = order[found], at[found]
            if run.ids[at].tolist() != ids[rows].tolist():  # (as lists: no array of texts made)
                raise SharedHash
            keys[rows], names[rows], seen[rows] = run.keys[at], run.names[at], True
        missing = np.flatnonzero(~seen)
        if len(np.unique(hashes[missing])) < len(missing):
            raise SharedHash
        found_rows = np.flatnonzero(seen)
        return found_rows, keys[found_rows], names[found_rows], hashes

    def add(
        self,
        ids: npt.NDArray[np.object_],
        names: npt.NDArray[np.int64],
        hashes: npt.NDArray[np.int64],
        positions: npt.NDArray[np.intp],
        keys: npt.NDArray[np.int64],
    ) -> None:
        """Note the students at ``positions`` (of find's argument and answer): none may be
        seen already."""
        import numpy as np

        if not len(positions):
            return
        chosen = positions[np.argsort(hashes[positions], kind="stable")]
        texts = ids[chosen]
        # Told its width, astype need not measure every text first (twice as fast).
        width = max(map(len, texts.tolist()))
        run = _Run(hashes[chosen], texts.astype(f"U{width}"), keys[chosen], names[chosen])
        while self.runs and len(self.runs[-1].hashes) <= 2 * len(run.hashes):
            run = self.runs.pop().merged(run)
        self.runs.append(run)

    def names_seen(self, student_ids: list[str]) -> dict[str, int]:
        """Of these distinct students, those seen before: id -> the hash of its name."""
        ids = as_object_array(student_ids)
        rows, _, names, _ = self.find(ids)
        return dict(zip(ids[rows].tolist(), names.tolist(), strict=True))

    def note(self, student_ids: list[str], names: list[int], keys: list[int]) -> None:
        """Note students not seen before, with their names' hashes and keys."""
        import numpy as np

        ids = as_object_array(student_ids)
        self.add(
            ids,
            np.array(names, dtype=np.int64),
            id_hashes(ids),
            np.arange(len(ids)),
            np.array(keys, dtype=np.int64),
        )


def as_object_array(values: list[str]) -> npt.NDArray[np.object_]:
    import numpy as np

    array = np.empty(len(values), dtype=object)
    array[:] = values
    return array


def id_hashes(ids: npt.NDArray[np.object_]) -> npt.NDArray[np.int64]:
    """Student ids in 64 bits each (Python's hash of the string)."""
    import numpy as np

    return np.fromiter(map(hash, ids.tolist()), dtype=np.int64, count=len(ids))


def name_hash(last_name: str, first_name: str) -> int:
    """A student's name in 64 bits: two names whose hashes are equal (one chance in 2**64)
    would be taken as the same."""
    return hash((last_name, first_name))


def name_hashes(
    last_names: npt.NDArray[np.object_], first_names: npt.NDArray[np.object_]
) -> npt.NDArray[np.int64]:
    """name_hash of each student."""
    import numpy as np

    # hash of each (last, first) pair, as name_hash makes it, without a Python call each.
    return np.fromiter(
        map(hash, zip(last_names.tolist(), first_names.tolist(), strict=True)),
        dtype=np.int64,
        count=len(last_names),
    )

"""Every student of a unit seen so far, in a few bytes each: sorted numpy arrays, not a dict.

A 5,000,000-grade file has about 830,000 students; a dictionary of their ids and names held
about 300 bytes each. Here a student is a 64-bit hash of its id (the arrays' order), the id
itself (so that two ids of one hash are told apart, never taken as one), a key and a 64-bit
hash of its name: about 50 bytes with 7-character ids. A block of rows finds its students with
one binary search over integers.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt


class SharedHash(Exception):
    """Two student ids have one hash: the caller must tell its students apart another way."""


class StudentKeys:
    """The students seen so far, each with a key (the caller's: a stored id, an order)."""

    def __init__(self) -> None:
        import numpy as np

        self.hashes: npt.NDArray[np.int64] = np.empty(0, dtype=np.int64)
        self.ids: npt.NDArray[np.str_] = np.empty(0, dtype="U1")
        self.keys: npt.NDArray[np.int64] = np.empty(0, dtype=np.int64)
        self.names: npt.NDArray[np.int64] = np.empty(0, dtype=np.int64)

    def find(
        self, ids: npt.NDArray[np.object_]
    ) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.intp], npt.NDArray[np.int64]]:
        """For distinct ids: the positions of those seen before, where each of them is in
        the arrays, and every id's hash (for ``add``). Raises SharedHash when an id shares
        its hash with another seen or given."""
        import numpy as np

        hashes = id_hashes(ids)
        rows = at = np.empty(0, dtype=np.intp)
        missing = np.arange(len(ids))
        if len(self.hashes):
            at = np.minimum(np.searchsorted(self.hashes, hashes), len(self.hashes) - 1)
            found = self.hashes[at] == hashes
            rows, at = np.flatnonzero(found), at[found]
            if (self.ids[at] != ids[rows].astype(np.str_)).any():
                raise SharedHash
            missing = np.flatnonzero(~found)
        if len(np.unique(hashes[missing])) < len(missing):
            raise SharedHash
        return rows, at, hashes

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

        chosen = positions[np.argsort(hashes[positions], kind="stable")]
        new_ids = ids[chosen].astype(np.str_)
        if new_ids.dtype.itemsize > self.ids.dtype.itemsize:  # a longer id than any before
            self.ids = self.ids.astype(new_ids.dtype)
        at = np.searchsorted(self.hashes, hashes[chosen])
        self.hashes = np.insert(self.hashes, at, hashes[chosen])
        self.ids = np.insert(self.ids, at, new_ids)
        self.keys = np.insert(self.keys, at, keys[chosen])
        self.names = np.insert(self.names, at, names[chosen])

    def names_seen(self, student_ids: list[str]) -> dict[str, int]:
        """Of these distinct students, those seen before: id -> the hash of its name."""
        ids = as_object_array(student_ids)
        rows, at, _ = self.find(ids)
        return dict(zip(ids[rows].tolist(), self.names[at].tolist(), strict=True))

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

    return np.fromiter(
        map(name_hash, last_names.tolist(), first_names.tolist()),
        dtype=np.int64,
        count=len(last_names),
    )

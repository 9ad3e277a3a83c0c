"""The lists' history as the analysis writes it to its temporary table (analysis_store): on
SQLite a block goes in as packed integers through json_each, or row by row when its values
would not fit in 64 bits; either way the same rows as the history holds."""

from __future__ import annotations

import numpy as np
import pytest
from sqlalchemy import Engine, text

from gradestore.list_history import ListHistory
from gradestore.persistence.db import Database


def _block(students: list[int], on_good: list[bool], work: list[int], good: list[int],
           first: list[int], earlier: list[bool]) -> ListHistory:  # fmt: skip
    return ListHistory(
        student=np.array(students, np.int64),
        on_good=np.array(on_good, bool),
        work_terms=np.array(work, np.int64),
        good_terms=np.array(good, np.int64),
        first_listed=np.array(first, np.int64),
        earlier=np.array(earlier, bool),
    )


BLOCKS = [
    _block(
        [1, 1, 7, 9],
        [False, True, False, True],
        [0, 3, 12, 0],
        [2, 0, 1, 40],
        [20251, 20201, 20253, 20251],
        [False, True, True, False],
    ),
    # A student id, a count of terms and a term so large that no packing fits: row by row.
    _block([2**62, 2**62 + 1], [False, True], [5, 2**40], [0, 1], [-(2**40), 2**41], [True, False]),
    _block([], [], [], [], [], []),
    _block([11], [True], [0], [0], [-3], [False]),  # a term before 0 (edited by hand)
]


def _expected() -> list[tuple[object, ...]]:
    rows = []
    for block in BLOCKS:
        for values in zip(
            block.student.tolist(), block.on_good.tolist(), block.work_terms.tolist(),
            block.good_terms.tolist(), block.first_listed.tolist(), block.earlier.tolist(),
            strict=True,
        ):  # fmt: skip
            student, on_good, work, good, first, earlier = values
            rows.append((student, "good" if on_good else "bad", work, good, first, int(earlier)))
    return sorted(rows)


@pytest.mark.parametrize("backend", ["sqlite"])
def test_the_history_table_holds_every_block_as_computed(engine: Engine) -> None:
    units = Database(engine)
    with units(write=True) as unit:
        store = unit.analysis
        store._keep_list_history(iter(BLOCKS))
        stored = unit.connection.execute(
            text(
                "SELECT student_id, category, work_terms, good_terms, first_listed, earlier"
                f" FROM {store._history_table} ORDER BY student_id, category"
            )
        ).all()
    assert [tuple(row) for row in stored] == _expected()

"""The seed project's persistence API, kept working exactly as it was written:

    from gradestore.persistence import service
    service.persist_performances(goodListDF, section_name='COMSC101_SEC1', category='good')
    service.persist_section_stats('COMSC101_SEC1', mean_gpa, count)
    service.persist_group_stats('Fall2023_GroupA', group_mean, group_std)
    service.persist_zscore('COMSC101_SEC1', z_score, p_value, significant, threshold)

Each call is one transaction on the configured database (``GRADESTORE_DATABASE_URL``, the config
file, or the default SQLite file; ``configure(url)`` to choose another), through the same
repository as the command line. Repeat calls are idempotent: a student is matched by
``student_id`` and never added twice, a (student, section, category) performance is stored once,
and stats and z-scores are overwritten. Rows written here belong to one analysis of scope
"service", separate from the analyses that ``gradestore analyze`` makes.
"""

from __future__ import annotations

import math
from collections.abc import Hashable
from typing import TYPE_CHECKING

from gradestore.errors import UsageError
from gradestore.grades import GradeScale, stored_scale
from gradestore.kinds import ListKind
from gradestore.persistence.models import utc_now
from gradestore.persistence.rows import NewStudent
from gradestore.persistence.seed_store import SeedPerformance, SeedZScore

if TYPE_CHECKING:
    import pandas as pd

    from gradestore.persistence.db import Database

_databases: dict[str, Database] = {}
_configured_url: str | None = None


def configure(url: str | None) -> None:
    """Use ``url`` for the calls that follow (None: back to the configured database)."""
    global _configured_url
    _configured_url = url


def _units() -> Database:
    from gradestore.config import resolve_database
    from gradestore.persistence.db import open_store

    url = resolve_database(_configured_url).url
    if url not in _databases:
        _databases[url] = open_store(url)
    return _databases[url]


def _list_kind(category: str) -> ListKind:
    """The seed's words: 'good', or 'bad' for the work list ('work' is accepted too)."""
    value = str(category).strip().lower()
    for kind in ListKind:
        if value in (kind.value, kind.stored):
            return kind
    raise UsageError(f"category must be 'good' or 'bad' (the work list), not {category!r}")


def _student_rows(frame: pd.DataFrame, scale: GradeScale) -> list[tuple[str, str, str, str]]:
    """(student_id, first name, last name, grade) from a frame using canonical names or aliases;
    grades are letters of ``scale`` (the store's)."""
    from gradestore.readers import column_for_header

    columns: dict[str, Hashable] = {}
    for column in frame.columns:
        canonical = column_for_header(str(column))
        if canonical and canonical not in columns:
            columns[canonical] = column
    has_names = "name" in columns or ("first_name" in columns and "last_name" in columns)
    missing = [name for name in ("student_id", "grade") if name not in columns]
    if not has_names:
        missing.append("first_name and last_name (or name)")
    if missing:
        raise UsageError(
            f"persist_performances: the DataFrame lacks column(s) {', '.join(missing)}; "
            f"it has {', '.join(map(str, frame.columns)) or 'none'}"
        )
    rows = []
    for position, record in enumerate(frame.to_dict("records"), start=1):
        student_id = _text(record[columns["student_id"]])
        grade = scale.normalize(_text(record[columns["grade"]]))
        if not student_id or grade is None:
            raise UsageError(
                f"persist_performances: row {position} has no student id or a grade "
                f"({record[columns['grade']]!r}) that is not a letter of the store's grade "
                f"scale {scale.name!r}"
            )
        if "first_name" in columns and "last_name" in columns:
            first, last = _text(record[columns["first_name"]]), _text(record[columns["last_name"]])
        else:
            last, _, first = _text(record[columns["name"]]).partition(",")
            last, first = last.strip(), first.strip()
        rows.append((student_id, first, last, grade))
    return rows


def _text(value: object) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    return str(value).strip()


def persist_performances(df: pd.DataFrame, section_name: str, category: str = "good") -> int:
    """Store a good ('good') or work ('bad') list of one section. Returns how many rows were new."""
    kind = _list_kind(category)
    with _units()(write=True) as unit:
        store = unit.seed
        rows = _student_rows(df, stored_scale(unit.scales.store_scale(), "the store's grade scale"))
        pks = store.ensure_students(NewStudent(sid, first, last) for sid, first, last, _ in rows)
        section_id = store.ensure_sections([section_name])[section_name]
        added = store.add_performances(
            store.service_analysis_id(),
            section_id,
            (SeedPerformance(pks[sid], grade, kind) for sid, _, _, grade in rows),
        )
        unit.commit()
    return added


def persist_section_stats(section_name: str, mean_gpa: float | None, count: int | None) -> None:
    with _units()(write=True) as unit:
        store = unit.seed
        section_id = store.ensure_sections([section_name])[section_name]
        store.set_section_stats(section_id, _number(mean_gpa), _count(count))
        unit.commit()


def persist_group_stats(group_name: str, mean: float | None, std: float | None) -> None:
    with _units()(write=True) as unit:
        store = unit.seed
        group_id = store.ensure_groups([group_name])[group_name]
        store.set_group_stats(group_id, _number(mean), _number(std))
        unit.commit()


def persist_zscore(
    section_name: str,
    z_score: float | None,
    p_value: float | None,
    significant: bool,
    threshold: float,
) -> None:
    with _units()(write=True) as unit:
        store = unit.seed
        section_id = store.ensure_sections([section_name])[section_name]
        store.put_service_zscore(
            store.service_analysis_id(),
            section_id,
            SeedZScore(
                _number(z_score), _number(p_value), bool(significant), float(threshold), utc_now()
            ),
        )
        unit.commit()


def _number(value: float | None) -> float | None:
    """numpy floats become floats; NaN (pandas' missing value) becomes NULL."""
    if value is None:
        return None
    number = float(value)
    return None if math.isnan(number) else number


def _count(value: int | None) -> int | None:
    return None if value is None else int(value)

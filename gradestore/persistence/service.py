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
import numbers
from collections.abc import Hashable
from typing import TYPE_CHECKING

from gradestore.errors import UsageError
from gradestore.grades import GradeScale, stored_scale
from gradestore.kinds import ListKind
from gradestore.persistence.models import utc_now
from gradestore.persistence.rows import NewStudent
from gradestore.persistence.seed_store import SeedPerformance, SeedZScore
from gradestore.readers.text import control_character_error, has_control_character

# As long as the store keeps a section's or group's name (models.Section.name).
MAX_NAME_LENGTH = 200

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
        bad = control_character_error(student_id=student_id, first_name=first, last_name=last)
        if bad or len(student_id) > 64 or max(len(first), len(last)) > MAX_NAME_LENGTH:
            raise UsageError(
                f"persist_performances: row {position}: "
                f"{bad or 'student id or name is longer than the store keeps'}"
            )
        rows.append((student_id, first, last, grade))
    return rows


def _text(value: object) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    return str(value).strip()


def persist_performances(df: pd.DataFrame, section_name: str, category: str = "good") -> int:
    """Store a good ('good') or work ('bad') list of one section. Returns how many rows were new."""
    section_name = _name(section_name, "section_name", "persist_performances")
    kind = _list_kind(category)
    frame = _frame(df)
    with _units()(write=True) as unit:
        store = unit.seed
        rows = _student_rows(
            frame, stored_scale(unit.scales.store_scale(), "the store's grade scale")
        )
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
    call = "persist_section_stats"
    section_name = _name(section_name, "section_name", call)
    mean = _number(mean_gpa, "mean_gpa", call, low=0)
    counted = _count(count, "count", call)
    with _units()(write=True) as unit:
        store = unit.seed
        section_id = store.ensure_sections([section_name])[section_name]
        store.set_section_stats(section_id, mean, counted)
        unit.commit()


def persist_group_stats(group_name: str, mean: float | None, std: float | None) -> None:
    call = "persist_group_stats"
    group_name = _name(group_name, "group_name", call)
    group_mean = _number(mean, "mean", call, low=0)
    stddev = _number(std, "std", call, low=0)
    with _units()(write=True) as unit:
        store = unit.seed
        group_id = store.ensure_groups([group_name])[group_name]
        store.set_group_stats(group_id, group_mean, stddev)
        unit.commit()


def persist_zscore(
    section_name: str,
    z_score: float | None,
    p_value: float | None,
    significant: bool,
    threshold: float,
) -> None:
    call = "persist_zscore"
    zscore = SeedZScore(
        _number(z_score, "z_score", call),
        _number(p_value, "p_value", call, low=0, high=1),
        _flag(significant, "significant", call),
        _threshold(threshold, call),
        utc_now(),
    )
    section_name = _name(section_name, "section_name", call)
    with _units()(write=True) as unit:
        store = unit.seed
        section_id = store.ensure_sections([section_name])[section_name]
        store.put_service_zscore(store.service_analysis_id(), section_id, zscore)
        unit.commit()


# --- argument checks: a bad argument is a UsageError naming it, before anything is stored -------


def _name(value: object, argument: str, call: str) -> str:
    """A section or group name: non-empty text, one line, as long as the store keeps."""
    if not isinstance(value, str) or not value.strip():
        raise UsageError(f"{call}: {argument} must be a non-empty name, not {value!r}")
    name = value.strip()
    if has_control_character(name):
        raise UsageError(f"{call}: {argument} holds a line break or control character")
    if len(name) > MAX_NAME_LENGTH:
        raise UsageError(f"{call}: {argument} is longer than {MAX_NAME_LENGTH} characters")
    return name


def _number(
    value: object, argument: str, call: str, low: float | None = None, high: float | None = None
) -> float | None:
    """A real number (numpy's too) in [low, high]; None or NaN (pandas' missing value) is NULL."""
    if value is None:
        return None
    if isinstance(value, bool | str | bytes) or not isinstance(value, numbers.Real):
        raise UsageError(f"{call}: {argument} must be a number or None, not {value!r}")
    number = float(value)
    if math.isnan(number):
        return None
    outside = (low is not None and number < low) or (high is not None and number > high)
    if math.isinf(number) or outside:
        bounds = f" in [{low:g}, {high:g}]" if low is not None and high is not None else ""
        at_least = f" of at least {low:g}" if low is not None and high is None else ""
        raise UsageError(
            f"{call}: {argument} must be a finite number{bounds}{at_least}, not {value!r}"
        )
    return number


def _count(value: object, argument: str, call: str) -> int | None:
    if value is None:
        return None
    is_whole = isinstance(value, numbers.Integral) or (
        isinstance(value, float) and value.is_integer()
    )
    if isinstance(value, bool) or not is_whole or int(value) < 0:  # type: ignore[call-overload]
        raise UsageError(f"{call}: {argument} must be a whole number of at least 0, not {value!r}")
    return int(value)  # type: ignore[call-overload]


def _flag(value: object, argument: str, call: str) -> bool:
    """True or False (numpy's too); the text 'False' is not False, and is refused."""
    if type(value).__name__ in ("bool", "bool_"):
        return bool(value)
    raise UsageError(f"{call}: {argument} must be True or False, not {value!r}")


def _threshold(value: object, call: str) -> float:
    number = _number(value, "threshold", call)
    if number is None or not 0 < number < 1:
        raise UsageError(f"{call}: threshold must be a number between 0 and 1, not {value!r}")
    return number


def _frame(value: object) -> pd.DataFrame:
    import pandas as pd

    if not isinstance(value, pd.DataFrame):
        raise UsageError(f"persist_performances: df must be a pandas DataFrame, not {value!r}")
    return value

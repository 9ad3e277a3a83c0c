"""Use case: the stored terms in time order, with their sections and grades (`gradestore terms`)."""

from __future__ import annotations

from dataclasses import dataclass

from gradestore.errors import NotFoundError
from gradestore.jsontypes import JsonObject
from gradestore.persistence.db import UnitOfWorkFactory
from gradestore.persistence.rows import TermCountRow
from gradestore.terms import Term

NO_SECTIONS = "no sections are stored yet: run `gradestore ingest FILE...` first"


@dataclass(frozen=True, slots=True)
class StoredTermCount:
    """A term as written on stored sections (None: the sections that have no term)."""

    term: str | None
    place: Term | None  # None: not recognised (or no term), so not in time order
    sections: int
    grades: int

    @property
    def recognised(self) -> bool:
        return self.place is not None

    def as_json(self) -> JsonObject:
        place = self.place
        return {
            "term": self.term,
            "recognised": place is not None,
            "year": place.year if place else None,
            "season": place.season.name.lower() if place else None,
            "order": place.key if place else None,
            "sections": self.sections,
            "grades": self.grades,
        }


@dataclass(frozen=True, slots=True)
class TermListing:
    terms: list[StoredTermCount]

    def as_json(self) -> JsonObject:
        return {"terms": [term.as_json() for term in self.terms]}


def _sort_key(row: StoredTermCount) -> tuple[int, int, str]:
    """Recognised terms in time order (spellings of one term together, as written), then
    the unrecognised ones as written, then the sections without a term."""
    if row.place is not None:
        return (0, row.place.key, row.term or "")
    return (1, 0, row.term) if row.term is not None else (2, 0, "")


def _count(row: TermCountRow) -> StoredTermCount:
    place = Term.from_key(row.term_order) if row.term_order is not None else None
    return StoredTermCount(row.term, place, row.sections, row.grades)


def list_terms(units: UnitOfWorkFactory) -> TermListing:
    """Every term of the stored sections, in time order, unrecognised ones after."""
    with units(write=False) as unit:
        rows = unit.reports.term_counts()
    if not rows:
        raise NotFoundError(NO_SECTIONS)
    return TermListing(sorted(map(_count, rows), key=_sort_key))

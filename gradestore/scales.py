"""Use cases: the store's grade scale, shown and changed in one transaction each.

A store starts with the built-in ``default``; ``set_store_scale`` replaces it and is refused
while stored grades use letters the new scale does not know.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from gradestore.errors import BadInputError
from gradestore.grades import BUILT_IN_SCALES, GradeScale, resolve_scale, stored_scale
from gradestore.persistence.db import UnitOfWork, UnitOfWorkFactory


@dataclass(frozen=True)
class ScaleChange:
    before: GradeScale
    after: GradeScale

    @property
    def changed(self) -> bool:
        return self.before != self.after


def current_scale(unit: UnitOfWork) -> GradeScale:
    """The store's scale, inside the caller's unit of work."""
    return stored_scale(unit.scales.store_scale(), "the store's grade scale")


def store_scale(units: UnitOfWorkFactory) -> GradeScale:
    with units(write=False) as unit:
        return current_scale(unit)


def built_in_scales() -> list[GradeScale]:
    return list(BUILT_IN_SCALES.values())


def check_letters_known(scale: GradeScale, letters: Mapping[str, int], doing: str) -> None:
    """Refuse, naming them, letters the scale does not know (``doing``: what is refused)."""
    unknown = scale.unknown_letters(letters)
    if unknown:
        shown = ", ".join(
            f"{letter} ({letters[letter]} grade{'' if letters[letter] == 1 else 's'})"
            for letter in unknown
        )
        raise BadInputError(
            f"cannot {doing}: stored grades use letters that scale {scale.name!r} does not "
            f"know: {shown}"
        )


def set_store_scale(units: UnitOfWorkFactory, name_or_file: str) -> ScaleChange:
    """Make a built-in scale or a scale file the store's, in one transaction."""
    scale = resolve_scale(name_or_file)
    with units(write=True) as unit:
        before = current_scale(unit)
        check_letters_known(
            scale, unit.scales.stored_letters(), f"set the grade scale to {scale.name!r}"
        )
        if scale != before:
            unit.scales.set_store_scale(scale.as_json())
            unit.commit()
    return ScaleChange(before, scale)

"""Academic terms: reading a section's term label and putting terms in time order. Pure.

A term label is kept as written (``S25``, ``Fall 2025``, ``2025-sp``); what this module adds is
its place in time, a :class:`Term` (year and season) whose :attr:`Term.key` is the integer the
store keeps in ``sections.term_order`` (``year * 10 + season``) and sorts by. A label this
module does not recognise has no key and takes no part in ordering. docs/history.md lists the
forms and the rules.

Two-digit years are ``2000 + yy`` (``F99`` is Fall 2099): registrars' short codes are used for
current terms; a store holding terms of the 1900s writes them with four digits (``FA1999``).
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from enum import IntEnum


class Season(IntEnum):
    """Seasons in their order within a calendar year."""

    WINTER = 1
    SPRING = 2
    SUMMER = 3
    FALL = 4

    @property
    def word(self) -> str:
        return self.name.capitalize()


# Every spelling of a season that a term label may use, in lower case. ``S`` alone is
# spring (the registrars' ``S25``); summer is ``SU`` or longer.
SEASON_WORDS: dict[str, Season] = {
    "w": Season.WINTER,
    "wi": Season.WINTER,
    "win": Season.WINTER,
    "wint": Season.WINTER,
    "winter": Season.WINTER,
    "s": Season.SPRING,
    "sp": Season.SPRING,
    "spr": Season.SPRING,
    "spring": Season.SPRING,
    "su": Season.SUMMER,
    "sum": Season.SUMMER,
    "summ": Season.SUMMER,
    "summer": Season.SUMMER,
    "f": Season.FALL,
    "fa": Season.FALL,
    "fal": Season.FALL,
    "fall": Season.FALL,
    "au": Season.FALL,
    "aut": Season.FALL,
    "autumn": Season.FALL,
}

# Season then year (S25, SP2025, Spring 2025, fall-2025) or a four-digit year then season
# (2025-sp, 2025SP, 2025 Spring). Between them: nothing, spaces, or one '-', '_', '/' or '.'
# (with spaces around it or not).
_SEPARATOR = r"\s*[\-_/.]?\s*"
_SEASON_FIRST = re.compile(rf"([a-z]+){_SEPARATOR}(\d{{2}}|\d{{4}})")
_YEAR_FIRST = re.compile(rf"(\d{{4}}){_SEPARATOR}([a-z]+)")


@dataclass(frozen=True, order=True, slots=True)
class Term:
    """A term's place in time: a year and a season (Winter < Spring < Summer < Fall)."""

    year: int
    season: Season

    @property
    def key(self) -> int:
        """The sortable integer kept in ``sections.term_order``: ``year * 10 + season``."""
        return self.year * 10 + int(self.season)

    @classmethod
    def from_key(cls, key: int) -> Term:
        return cls(key // 10, Season(key % 10))

    @property
    def label(self) -> str:
        """The term in words, ``Spring 2025``: how a report names a recognised term."""
        return f"{self.season.word} {self.year}"

    @property
    def code(self) -> str:
        """The four-digit code, ``SP2025`` (season's first two letters, then the year)."""
        return f"{self.season.name[:2]}{self.year}"


# A file names a few terms in every one of its sections' rows (75,000 parses at 1M grades):
# each label is parsed once (a Term is immutable).
@functools.lru_cache(maxsize=4096)
def parse_term(text: str) -> Term | None:
    """The term a label names, or None when it is not one of the recognised forms.

    Letter case and surrounding whitespace do not matter; the whole label must be the term
    (``COMSC110.01S25`` is a section name, not a term: see :func:`term_in_section_name`).
    """
    words = text.strip().lower()
    match = _SEASON_FIRST.fullmatch(words)
    if match is not None:
        season_word, year_text = match.groups()
    else:
        match = _YEAR_FIRST.fullmatch(words)
        if match is None:
            return None
        year_text, season_word = match.groups()
    season = SEASON_WORDS.get(season_word)
    if season is None:
        return None
    year = int(year_text)
    if len(year_text) == 2:
        year += 2000
    if year < 1000:  # "0999" is not a year anyone's grades are from
        return None
    return Term(year, season)


def term_key(text: str | None) -> int | None:
    """``sections.term_order`` of a label: its term's key, or None (no label, or unrecognised)."""
    if text is None:
        return None
    term = parse_term(text)
    return term.key if term is not None else None


def is_recognised(text: str) -> bool:
    return parse_term(text) is not None


# A term at the end of a legacy section name, after its number: COMSC110.01S25 -> S25,
# COMSC110.01FA2017 -> FA2017.
_NAME_TERM = re.compile(r"\.\d+([A-Za-z]+(?:\d{4}|\d{2}))$")


def term_in_section_name(name: str) -> str | None:
    """The term label a section name ends with (``.01S25`` -> ``S25``), as written, or None.

    The label is returned whether or not it is a recognised term (``.01X25`` -> ``X25``): the
    caller keeps it as written and warns about it.
    """
    match = _NAME_TERM.search(name)
    return match.group(1) if match else None

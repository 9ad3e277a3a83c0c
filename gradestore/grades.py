"""Grade scales: which letters exist, what they are worth, and which put a student on a list.

A scale is data (design.md section 7): the built-in ``default`` is the contract's section 2; a
store may have another one, built in or read from a TOML file. Every part of gradestore that
needs letters takes a :class:`GradeScale`; no module keeps its own copy of them.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

from gradestore.errors import BadInputError, ConfigurationError, NotFoundError
from gradestore.kinds import ListKind

# Grades are stored in columns of two characters (models.py): NP, CR, AU, ... all fit.
MAX_LETTER_LENGTH = 2
MAX_NAME_LENGTH = 64
MAX_POINTS = 5.0
_LETTER = re.compile(r"[A-Z0-9][A-Z0-9+-]?")
FILE_KEYS = ("name", "points", "not_counted", "good", "work")
_LIST_KEYS = ("not_counted", "good", "work")
_UNQUOTED_PLUS = re.compile(r"\s*[A-Za-z0-9]+\+")


class ScaleError(Exception):
    """A scale that breaks a rule: ``key`` is where (as a TOML key path), ``reason`` why."""

    def __init__(self, key: str, reason: str) -> None:
        super().__init__(f"{key}: {reason}")
        self.key = key
        self.reason = reason


class ScaleFileError(BadInputError):
    """A scale file that cannot be used: one line naming the file, the line, the key, why."""


@dataclass(frozen=True, eq=False)
class GradeScale:
    """Letters (upper case, in the order reports show them) and their meaning.

    ``points`` holds the letters counted in GPA, in the scale's order; ``not_counted`` the
    letters kept and shown in grade counts but not in GPA; ``good`` and ``work`` the letters
    that put a student on the good list and on the work list. Constructing one checks it.
    """

    name: str
    points: Mapping[str, float]
    not_counted: tuple[str, ...] = ()
    good: tuple[str, ...] = ()
    work: tuple[str, ...] = ()
    _category: dict[str, ListKind] = field(
        init=False, repr=False, compare=False, default_factory=dict
    )

    def __post_init__(self) -> None:
        object.__setattr__(self, "points", MappingProxyType(dict(self.points)))
        _check_scale(self)
        category = dict.fromkeys(self.good, ListKind.GOOD)
        category.update(dict.fromkeys(self.work, ListKind.WORK))
        object.__setattr__(self, "_category", category)

    def _key(self) -> tuple[object, ...]:
        return (self.name, tuple(self.points.items()), self.not_counted, self.good, self.work)

    def __eq__(self, other: object) -> bool:
        """Equal when name, letters, their order and points are: order is part of a scale."""
        return isinstance(other, GradeScale) and self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())

    @property
    def counted(self) -> tuple[str, ...]:
        return tuple(self.points)

    @property
    def letters(self) -> tuple[str, ...]:
        """Every letter, counted first, in the order grade counts list them."""
        return (*self.points, *self.not_counted)

    @property
    def qualifying(self) -> tuple[str, ...]:
        """The letters that put a student on either list."""
        return (*self.good, *self.work)

    def normalize(self, raw: str) -> str | None:
        """The scale's letter for ``raw`` (any case, surrounding space ignored), or None."""
        letter = raw.strip().upper()
        return letter if letter in self.points or letter in self.not_counted else None

    def unknown_grade(self, raw: str) -> str:
        """Why ``raw`` is a bad row's grade: names the scale and how to change it."""
        return (
            f"unknown grade {raw!r}: not a letter of the store's grade scale {self.name!r} "
            "(`gradestore scale show` lists them; `gradestore scale set NAME|FILE` changes it)"
        )

    def points_of(self, letter: str) -> float | None:
        """Grade points, or None for a letter that does not count in GPA."""
        return self.points.get(letter)

    def category(self, letter: str) -> ListKind | None:
        """The list a letter puts a student on, if any."""
        return self._category.get(letter)

    def unknown_letters(self, letters: Mapping[str, int] | set[str]) -> list[str]:
        """The given letters this scale does not know, sorted."""
        return sorted(letter for letter in letters if self.normalize(letter) != letter)

    def as_json(self) -> dict[str, Any]:
        """The scale with the keys of its file: what analyses store and JSON shows."""
        return {
            "name": self.name,
            "points": dict(self.points),
            "not_counted": list(self.not_counted),
            "good": list(self.good),
            "work": list(self.work),
        }

    @classmethod
    def from_data(cls, data: Mapping[str, Any]) -> GradeScale:
        """A scale from a parsed file or a stored one; letters in any case. Raises ScaleError."""
        for key in data:
            if key not in FILE_KEYS:
                raise ScaleError(
                    repr(key), f"unknown key (a scale file has {', '.join(FILE_KEYS)})"
                )
        if "name" not in data:
            raise ScaleError("name", "missing: give the scale a name")
        if "points" not in data:
            raise ScaleError("points", "missing: a [points] table of counted letters")
        name = data["name"]
        if not isinstance(name, str):
            raise ScaleError("name", f"must be a string, not {_shown(name)}")
        lists = {key: _letter_list(key, data.get(key, [])) for key in _LIST_KEYS}
        return cls(name=name.strip(), points=_points_table(data["points"]), **lists)


def _shown(value: object) -> str:
    """A value from a file, as a reason quotes it."""
    if isinstance(value, str):
        return repr(value)
    if isinstance(value, list | dict):
        return "a list" if isinstance(value, list) else "a table"
    return repr(value)


def _letter(key: str, raw: object) -> str:
    if not isinstance(raw, str):
        raise ScaleError(key, f"a letter must be a string, not {_shown(raw)}")
    letter = raw.strip().upper()
    if not _LETTER.fullmatch(letter):
        raise ScaleError(
            key,
            f"{raw!r} is not a letter grade (1 to {MAX_LETTER_LENGTH} letters, digits, + or -)",
        )
    return letter


def _points_table(raw: object) -> dict[str, float]:
    if not isinstance(raw, Mapping):
        raise ScaleError("points", f"must be a table of letter = points, not {_shown(raw)}")
    points: dict[str, float] = {}
    for raw_letter, value in raw.items():
        key = f"points.{_toml_key(raw_letter)}"
        letter = _letter(key, raw_letter)
        if letter in points:
            raise ScaleError(key, f"letter {letter!r} is given twice (letters ignore case)")
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ScaleError(key, f"points must be a number, not {_shown(value)}")
        if not (math.isfinite(value) and 0 <= value <= MAX_POINTS):
            raise ScaleError(key, f"points must be from 0 to {MAX_POINTS:g}, not {value!r}")
        points[letter] = float(value)
    return points


def _letter_list(key: str, raw: object) -> tuple[str, ...]:
    if not isinstance(raw, list):
        raise ScaleError(key, f"must be a list of letters, not {_shown(raw)}")
    letters: list[str] = []
    for raw_letter in raw:
        letter = _letter(key, raw_letter)
        if letter in letters:
            raise ScaleError(key, f"letter {letter!r} is listed twice (letters ignore case)")
        letters.append(letter)
    return tuple(letters)


def _toml_key(raw: object) -> str:
    return f'"{raw}"' if isinstance(raw, str) else repr(raw)


def _check_scale(scale: GradeScale) -> None:
    """The rules every scale keeps, built in, from a file or stored."""
    if not scale.name or len(scale.name) > MAX_NAME_LENGTH or not scale.name.isprintable():
        raise ScaleError(
            "name", f"must be 1 to {MAX_NAME_LENGTH} printable characters, not {scale.name!r}"
        )
    if not scale.points:
        raise ScaleError("points", "empty scale: [points] must give at least one counted letter")
    for letter in scale.not_counted:
        if letter in scale.points:
            raise ScaleError(
                "not_counted", f"letter {letter!r} is both counted (in [points]) and not counted"
            )
    known = set(scale.letters)
    for key, letters in (("good", scale.good), ("work", scale.work)):
        for letter in letters:
            if letter not in known:
                raise ScaleError(
                    key,
                    f"letter {letter!r} is not in the scale (neither in [points] "
                    "nor in not_counted)",
                )
    both = [letter for letter in scale.good if letter in scale.work]
    if both:
        raise ScaleError("work", f"letter {both[0]!r} is on both the good and the work list")


# --- built-in scales -------------------------------------------------------------------------

_GOOD = ["A+", "A", "A-"]
_WORK = ["D+", "D", "D-", "F"]
_DEFAULT_POINTS = {
    "A+": 4.0,
    "A": 4.0,
    "A-": 3.7,
    "B+": 3.3,
    "B": 3.0,
    "B-": 2.7,
    "C+": 2.3,
    "C": 2.0,
    "C-": 1.7,
    "D+": 1.3,
    "D": 1.0,
    "D-": 0.7,
    "F": 0.0,
}
_THIRDS_POINTS = {
    **_DEFAULT_POINTS,
    "A-": 3.67,
    "B+": 3.33,
    "B-": 2.67,
    "C+": 2.33,
    "C-": 1.67,
    "D+": 1.33,
    "D-": 0.67,
}
_THIRDS_NOT_COUNTED = ["I", "W", "P", "NP", "S", "U", "CR", "NC", "AU"]

DEFAULT_SCALE = GradeScale.from_data(
    {
        "name": "default",
        "points": _DEFAULT_POINTS,
        "not_counted": ["I", "W", "P", "NP"],
        "good": _GOOD,
        "work": _WORK,
    }
)
BUILT_IN_SCALES: dict[str, GradeScale] = {
    scale.name: scale
    for scale in (
        DEFAULT_SCALE,
        GradeScale.from_data(
            {
                "name": "thirds",
                "points": _THIRDS_POINTS,
                "not_counted": _THIRDS_NOT_COUNTED,
                "good": _GOOD,
                "work": _WORK,
            }
        ),
        GradeScale.from_data(
            {
                "name": "plus-4.33",
                "points": {**_THIRDS_POINTS, "A+": 4.33},
                "not_counted": _THIRDS_NOT_COUNTED,
                "good": _GOOD,
                "work": _WORK,
            }
        ),
    )
}


def stored_scale(stored: Mapping[str, Any] | None, where: str) -> GradeScale:
    """A scale read back from the store (None: the built-in default, which is what a store
    starts with and what every analysis older than stored scales used)."""
    if stored is None:
        return DEFAULT_SCALE
    try:
        return GradeScale.from_data(stored)
    except ScaleError as error:
        raise ConfigurationError(f"{where} is damaged: {error}") from None


# --- scale files -----------------------------------------------------------------------------


def resolve_scale(name_or_file: str) -> GradeScale:
    """A built-in scale by its name, else the scale in the TOML file at that path."""
    built_in = BUILT_IN_SCALES.get(name_or_file)
    if built_in is not None:
        return built_in
    path = Path(name_or_file)
    if not path.is_file():
        raise NotFoundError(
            f"no built-in scale or scale file {name_or_file!r}; built-in scales: "
            f"{', '.join(BUILT_IN_SCALES)} (`gradestore scale list`)"
        )
    return load_scale_file(path)


def load_scale_file(path: Path) -> GradeScale:
    """The scale in a TOML file; any problem is one ScaleFileError naming file, line and key."""
    import tomllib

    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
        data = tomllib.loads(text)
    except UnicodeDecodeError as error:
        bad_line = raw[: error.start].count(b"\n") + 1
        raise ScaleFileError(f"{path}:{bad_line}: bytes that are not UTF-8") from None
    except tomllib.TOMLDecodeError as error:
        raise ScaleFileError(_syntax_error_line(path, text, error)) from None
    try:
        scale = GradeScale.from_data(data)
    except ScaleError as error:
        raise ScaleFileError(
            f"{_where(path, text, error.key)}: {error.key}: {error.reason}"
        ) from None
    _check_not_a_built_in_name(path, text, scale)
    return scale


def _syntax_error_line(path: Path, text: str, error: Exception) -> str:
    where = re.search(r"at line (\d+)", str(error))
    if where is None:
        return f"{path}: not valid TOML: {error}"
    number = int(where.group(1))
    lines = text.splitlines()
    hint = ""
    if number <= len(lines) and _UNQUOTED_PLUS.match(lines[number - 1]):
        hint = '; a letter with + must be quoted in TOML: "A+" = 4.0'
    return f"{path}:{number}: not valid TOML: {error}{hint}"


def _check_not_a_built_in_name(path: Path, text: str, scale: GradeScale) -> None:
    """A file may not pass itself off as a built-in scale it differs from."""
    built_in = BUILT_IN_SCALES.get(scale.name)
    if built_in is not None and built_in != scale:
        raise ScaleFileError(
            f"{_where(path, text, 'name')}: name: {scale.name!r} is a built-in scale "
            "with other letters or points: give this scale a name of its own"
        )


def _where(path: Path, text: str, key: str) -> str:
    line = _line_of_key(text, key)
    return f"{path}:{line}" if line else str(path)


def _line_of_key(text: str, key: str) -> int | None:
    """Where a key is written, for messages (tomllib gives lines only for syntax errors).

    Best effort: a top-level ``key =`` or ``[key]`` line, or a letter's line in [points].
    """
    table, _, letter = key.partition(".")
    table = table.strip("'\"")
    if letter:
        pattern = rf"""\s*["']?{re.escape(letter.strip('"'))}["']?\s*="""
    else:
        pattern = rf"\s*(\[\s*{re.escape(table)}\s*\]|{re.escape(table)}\s*=)"
    in_points = False
    for number, line in enumerate(text.splitlines(), start=1):
        if re.match(r"\s*\[", line):
            in_points = re.match(r"\s*\[\s*points\s*\]", line) is not None
        if letter and not in_points:
            continue
        if re.match(pattern, line):
            return number
    return None

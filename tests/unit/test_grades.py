"""Grade scales: the built-in ones against hand-written tables, the TOML file shape of issue 12
and one line for every bad file."""

from __future__ import annotations

from pathlib import Path

import pytest

from gradestore.errors import BadInputError, NotFoundError
from gradestore.grades import (
    BUILT_IN_SCALES,
    DEFAULT_SCALE,
    GradeScale,
    ScaleFileError,
    load_scale_file,
    resolve_scale,
)
from gradestore.kinds import ListKind
from tests.expected import GOOD, NOT_COUNTED, POINTS, WORK

THIRDS = {
    "A+": 4.0,
    "A": 4.0,
    "A-": 3.67,
    "B+": 3.33,
    "B": 3.0,
    "B-": 2.67,
    "C+": 2.33,
    "C": 2.0,
    "C-": 1.67,
    "D+": 1.33,
    "D": 1.0,
    "D-": 0.67,
    "F": 0.0,
}
THIRDS_NOT_COUNTED = ("I", "W", "P", "NP", "S", "U", "CR", "NC", "AU")

# The shape of the issue, letters in mixed case on purpose.
GOOD_FILE = """\
name = "uiuc"
not_counted = ["I", "w", "P", "NP", "S", "U", "CR", "NC", "AU"]
good = ["A+", "a", "A-"]
work = ["D+", "D", "D-", "F"]
[points]
"A+" = 4.0
"A" = 4
"a-" = 3.67
"B" = 3.0
"D+" = 1.33
"D" = 1.0
"D-" = 0.67
"F" = 0.0
"""


def write(tmp_path: Path, text: str, name: str = "scale.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_default_is_the_contracts_scale() -> None:
    assert dict(DEFAULT_SCALE.points) == POINTS
    assert list(DEFAULT_SCALE.points) == list(POINTS)
    assert DEFAULT_SCALE.not_counted == NOT_COUNTED
    assert set(DEFAULT_SCALE.good) == GOOD
    assert set(DEFAULT_SCALE.work) == WORK
    assert DEFAULT_SCALE.letters == (*POINTS, *NOT_COUNTED)


def test_thirds_and_plus_433() -> None:
    thirds = BUILT_IN_SCALES["thirds"]
    assert list(thirds.points.items()) == list(THIRDS.items())
    assert thirds.not_counted == THIRDS_NOT_COUNTED
    plus = BUILT_IN_SCALES["plus-4.33"]
    assert list(plus.points.items()) == list({**THIRDS, "A+": 4.33}.items())
    assert plus.not_counted == THIRDS_NOT_COUNTED
    for scale in (thirds, plus):
        assert set(scale.good) == GOOD
        assert set(scale.work) == WORK
    assert list(BUILT_IN_SCALES) == ["default", "thirds", "plus-4.33"]


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("a", "A"),
        (" a- ", "A-"),
        ("\tnp\n", "NP"),
        ("w", "W"),
        ("S", None),
        ("E", None),
        ("A++", None),
        ("", None),
        ("B +", None),
        ("4.0", None),
    ],
)
def test_default_normalizes_letters(raw: str, expected: str | None) -> None:
    assert DEFAULT_SCALE.normalize(raw) == expected


def test_letters_points_and_lists_follow_the_scale() -> None:
    thirds = BUILT_IN_SCALES["thirds"]
    assert thirds.normalize(" s ") == "S"
    assert thirds.points_of("S") is None
    assert thirds.points_of("B-") == 2.67
    assert DEFAULT_SCALE.points_of("W") is None
    assert DEFAULT_SCALE.category("A-") is ListKind.GOOD
    assert DEFAULT_SCALE.category("F") is ListKind.WORK
    assert DEFAULT_SCALE.category("B+") is None
    assert DEFAULT_SCALE.category("W") is None
    assert DEFAULT_SCALE.unknown_letters({"A", "S", "CR", "W"}) == ["CR", "S"]


def test_file_of_the_issues_shape(tmp_path: Path) -> None:
    scale = load_scale_file(write(tmp_path, GOOD_FILE))
    assert scale.name == "uiuc"
    assert list(scale.points.items()) == [
        ("A+", 4.0),
        ("A", 4.0),
        ("A-", 3.67),
        ("B", 3.0),
        ("D+", 1.33),
        ("D", 1.0),
        ("D-", 0.67),
        ("F", 0.0),
    ]
    assert scale.not_counted == THIRDS_NOT_COUNTED
    assert scale.good == ("A+", "A", "A-")
    assert scale.letters == (*scale.points, *THIRDS_NOT_COUNTED)
    assert GradeScale.from_data(scale.as_json()) == scale
    assert scale.as_json()["points"]["A-"] == 3.67


def test_lists_are_optional(tmp_path: Path) -> None:
    scale = load_scale_file(write(tmp_path, 'name = "pf"\n[points]\nP = 4\nF = 0\n'))
    assert (scale.not_counted, scale.good, scale.work) == ((), (), ())
    assert scale.category("F") is None


def test_resolve_scale(tmp_path: Path) -> None:
    assert resolve_scale("thirds") is BUILT_IN_SCALES["thirds"]
    path = write(tmp_path, GOOD_FILE)
    assert resolve_scale(str(path)).name == "uiuc"
    with pytest.raises(NotFoundError) as error:
        resolve_scale("thrids")
    assert str(error.value) == (
        "no built-in scale or scale file 'thrids'; built-in scales: default, thirds, "
        "plus-4.33 (`gradestore scale list`)"
    )


def test_a_file_may_copy_a_built_in_but_not_take_its_name(tmp_path: Path) -> None:
    copy = 'name = "default"\nnot_counted = ["I", "W", "P", "NP"]\ngood = ["A+", "A", "A-"]\n'
    copy += 'work = ["D+", "D", "D-", "F"]\n[points]\n'
    copy += "".join(f'"{letter}" = {points}\n' for letter, points in POINTS.items())
    assert load_scale_file(write(tmp_path, copy)) == DEFAULT_SCALE
    path = write(tmp_path, copy.replace('"A-" = 3.7', '"A-" = 3.67'))
    with pytest.raises(ScaleFileError) as error:
        load_scale_file(path)
    assert str(error.value) == (
        f"{path}:1: name: 'default' is a built-in scale with other letters or points: "
        "give this scale a name of its own"
    )


BAD_FILES = [
    pytest.param(
        'name = "x"\nnot_counted = ["W", "f"]\n[points]\nA = 4.0\nF = 0.0\n',
        ":2: not_counted: letter 'F' is both counted (in [points]) and not counted",
        id="counted-and-not-counted",
    ),
    pytest.param(
        'name = "x"\ngood = ["A", "A+"]\n[points]\nA = 4.0\nF = 0.0\n',
        ":2: good: letter 'A+' is not in the scale (neither in [points] nor in not_counted)",
        id="good-letter-not-in-scale",
    ),
    pytest.param(
        'name = "x"\nwork = ["D"]\n[points]\nA = 4.0\nF = 0.0\n',
        ":2: work: letter 'D' is not in the scale (neither in [points] nor in not_counted)",
        id="work-letter-not-in-scale",
    ),
    pytest.param(
        'name = "x"\n[points]\nA = 4.0\n"B-" = "2,7"\n',
        ":4: points.\"B-\": points must be a number, not '2,7'",
        id="points-not-a-number",
    ),
    pytest.param(
        'name = "x"\n[points]\nA = true\n',
        ':3: points."A": points must be a number, not True',
        id="points-a-boolean",
    ),
    pytest.param(
        'name = "x"\n[points]\n"A+" = 5.5\n',
        ':3: points."A+": points must be from 0 to 5, not 5.5',
        id="points-above-5",
    ),
    pytest.param(
        'name = "x"\n[points]\nF = -1\n',
        ':3: points."F": points must be from 0 to 5, not -1',
        id="points-below-0",
    ),
    pytest.param(
        'name = "x"\n[points]\nF = nan\n',
        ':3: points."F": points must be from 0 to 5, not nan',
        id="points-nan",
    ),
    pytest.param(
        'name = "x"\nnot_counted = ["W"]\n[points]\n',
        ":3: points: empty scale: [points] must give at least one counted letter",
        id="empty-scale",
    ),
    pytest.param(
        'name = "x"\nexcluded = ["W"]\n[points]\nA = 4\n',
        ":2: 'excluded': unknown key (a scale file has name, points, not_counted, good, work)",
        id="unknown-key",
    ),
    pytest.param(
        'name = "x"\n[points]\nA = 4\n[extra]\nB = 3\n',
        ":4: 'extra': unknown key (a scale file has name, points, not_counted, good, work)",
        id="unknown-table",
    ),
    pytest.param(
        'not_counted = ["W"]\n[points]\nA = 4\n',
        ": name: missing: give the scale a name",
        id="no-name",
    ),
    pytest.param(
        'name = "x"\nnot_counted = ["W"]\n',
        ": points: missing: a [points] table of counted letters",
        id="no-points",
    ),
    pytest.param(
        'name = "x"\n[points]\nA = 4\na = 4\n',
        ":4: points.\"a\": letter 'A' is given twice (letters ignore case)",
        id="letter-twice-in-points",
    ),
    pytest.param(
        'name = "x"\nnot_counted = ["W", "w"]\n[points]\nA = 4\n',
        ":2: not_counted: letter 'W' is listed twice (letters ignore case)",
        id="letter-twice-in-a-list",
    ),
    pytest.param(
        'name = "x"\n[points]\nPASS = 4\n',
        ":3: points.\"PASS\": 'PASS' is not a letter grade (1 to 2 letters, digits, + or -)",
        id="letter-too-long",
    ),
    pytest.param(
        'name = "x"\nnot_counted = "W"\n[points]\nA = 4\n',
        ":2: not_counted: must be a list of letters, not 'W'",
        id="list-not-a-list",
    ),
    pytest.param(
        'name = ""\n[points]\nA = 4\n',
        ":1: name: must be 1 to 64 printable characters, not ''",
        id="empty-name",
    ),
    pytest.param(
        'name = "x"\ngood = ["A", "F"]\nwork = ["F"]\n[points]\nA = 4\nF = 0\n',
        ":3: work: letter 'F' is on both the good and the work list",
        id="on-both-lists",
    ),
    pytest.param(
        'name = "x"\n[points]\n"A+" = \n',
        ":3: not valid TOML: ",
        id="toml-syntax",
    ),
    pytest.param(
        'name = "x"\n[points]\nA+ = 4.0\n',
        ":3: not valid TOML: ",
        id="toml-unquoted-plus",
    ),
]


@pytest.mark.parametrize(("text", "message"), BAD_FILES)
def test_bad_scale_file_is_one_line(tmp_path: Path, text: str, message: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ScaleFileError) as error:
        load_scale_file(path)
    assert isinstance(error.value, BadInputError)
    if "TOML" in message:  # the parser's own words vary between Python versions
        assert str(error.value).startswith(f"{path}{message}")
    else:
        assert str(error.value) == f"{path}{message}"
    assert "\n" not in str(error.value)


def test_unquoted_plus_gets_a_hint(tmp_path: Path) -> None:
    path = write(tmp_path, 'name = "x"\n[points]\nA+ = 4.0\n')
    with pytest.raises(ScaleFileError) as error:
        load_scale_file(path)
    assert str(error.value).endswith('; a letter with + must be quoted in TOML: "A+" = 4.0')


def test_scale_file_that_is_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "latin1.toml"
    path.write_bytes('name = "x"\n# é\n[points]\nA = 4\n'.encode("latin-1"))
    with pytest.raises(ScaleFileError) as error:
        load_scale_file(path)
    assert str(error.value) == f"{path}:2: bytes that are not UTF-8"

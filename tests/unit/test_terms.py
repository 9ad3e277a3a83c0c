"""gradestore.terms: every documented form of a term label, their order, and what is not a term.
Expected years and seasons are written out by hand."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gradestore.readers.legacy import section_term
from gradestore.terms import (
    Season,
    Term,
    is_recognised,
    parse_term,
    term_in_section_name,
    term_key,
)

W, SP, SU, FA = Season.WINTER, Season.SPRING, Season.SUMMER, Season.FALL

FORMS = {
    # the registrars' short codes, two-digit years
    "S25": (2025, SP),
    "F25": (2025, FA),
    "W25": (2025, W),
    "SU25": (2025, SU),
    "sp25": (2025, SP),
    "FA17": (2017, FA),
    # two letters and a four-digit year
    "SP2025": (2025, SP),
    "FA2017": (2017, FA),
    "WI2014": (2014, W),
    "SU2019": (2019, SU),
    # a season word and a year, either way round, with or without a separator
    "Spring 2025": (2025, SP),
    "spring2025": (2025, SP),
    "Fall-2023": (2023, FA),
    "Autumn 2023": (2023, FA),
    "2023 Fall": (2023, FA),
    "2024 winter": (2024, W),
    "Summer_2019": (2019, SU),
    # a four-digit year and a code
    "2025-sp": (2025, SP),
    "2025SP": (2025, SP),
    "2025/fa": (2025, FA),
    "2025.su": (2025, SU),
    # case and surrounding whitespace do not matter
    "  f25 ": (2025, FA),
    "FALL 1999": (1999, FA),
    "Spring  2025": (2025, SP),
    "Fall - 2025": (2025, FA),
}


@pytest.mark.parametrize(("label", "expected"), FORMS.items())
def test_every_documented_form_is_read(label: str, expected: tuple[int, Season]) -> None:
    year, season = expected
    assert parse_term(label) == Term(year, season)
    assert term_key(label) == year * 10 + int(season)
    assert is_recognised(label)


@pytest.mark.parametrize(
    "label",
    [
        "",
        "   ",
        "25",
        "2025",
        "F",
        "Fall",
        "X25",
        "Q2025",
        "Fall2023_GroupA",  # a group name, not a term
        "COMSC110.01S25",  # a section name: see term_in_section_name
        "F 2 5",
        "F2025x",
        "25F",  # a two-digit year first is not a documented form
        "F123",
        "Fall--2025",  # at most one separator sign
        "[bold]x[/bold]",
        "F25 F26",
        "T" * 40,
        "F0025",
    ],
)
def test_what_is_not_a_term_is_not_recognised(label: str) -> None:
    assert parse_term(label) is None
    assert term_key(label) is None
    assert not is_recognised(label)


def test_no_label_has_no_key() -> None:
    assert term_key(None) is None


def test_two_digit_years_are_this_century() -> None:
    assert parse_term("F99") == Term(2099, FA)
    assert parse_term("S00") == Term(2000, SP)
    assert parse_term("FA1999") == Term(1999, FA)


def test_seasons_order_winter_spring_summer_fall_within_a_year() -> None:
    labels = ["F25", "SU25", "S25", "W25", "F24", "W26", "Spring 2024"]
    ordered = sorted(labels, key=lambda label: term_key(label) or 0)
    assert ordered == ["Spring 2024", "F24", "W25", "S25", "SU25", "F25", "W26"]
    # The key is year * 10 + season, so comparing keys is comparing terms.
    assert term_key("F24") == 20244 < term_key("W25") == 20251


def test_spellings_of_one_term_share_its_key() -> None:
    spellings = ["S25", "SP2025", "Spring 2025", "2025-sp", "2025SP", "spring 2025"]
    assert {term_key(label) for label in spellings} == {20252}


def test_a_term_names_itself_in_words_and_as_a_code() -> None:
    term = Term(2025, SP)
    assert (term.label, term.code, term.key) == ("Spring 2025", "SP2025", 20252)
    assert Term.from_key(20254) == Term(2025, FA)


@given(st.integers(1000, 9999), st.sampled_from(list(Season)))
def test_a_term_reads_back_from_its_words_its_code_and_its_key(year: int, season: Season) -> None:
    term = Term(year, season)
    assert parse_term(term.label) == term
    assert parse_term(term.code) == term
    assert parse_term(f"{year}-{season.name[:2].lower()}") == term
    assert Term.from_key(term.key) == term


@given(st.tuples(st.integers(1000, 9999), st.sampled_from(list(Season))), st.data())
def test_keys_sort_as_terms_do(first: tuple[int, Season], data: st.DataObject) -> None:
    second = data.draw(st.tuples(st.integers(1000, 9999), st.sampled_from(list(Season))))
    a, b = Term(*first), Term(*second)
    assert (a.key < b.key) == ((a.year, int(a.season)) < (b.year, int(b.season)))


@pytest.mark.parametrize(
    ("name", "term"),
    [
        ("COMSC110.01S25", "S25"),
        ("COMSC330.04F20", "F20"),
        ("COMSC110.01FA2017", "FA2017"),
        ("COMSC110.01SU25", "SU25"),
        ("COMSC110.01X25", "X25"),  # kept as written; ingest warns that it is not recognised
        ("COMSC101_SEC1", None),
        ("COMSC110.S25", None),  # no section number before it
        ("COMSC110.01S2", None),
    ],
)
def test_the_term_a_legacy_section_name_ends_with(name: str, term: str | None) -> None:
    assert term_in_section_name(name) == term
    assert section_term(name) == term

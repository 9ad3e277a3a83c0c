"""Options objects check their own rules, so the library refuses what the CLI refuses."""

from __future__ import annotations

import pytest

from gradestore.analysis import validate_threshold
from gradestore.errors import UsageError
from gradestore.ingest import IngestOptions
from gradestore.readers import column_for_header


def test_a_group_name_is_stripped() -> None:
    assert IngestOptions(group="  Intro ").group == "Intro"


@pytest.mark.parametrize("group", ["", "   "])
def test_a_blank_group_name_is_refused(group: str) -> None:
    with pytest.raises(UsageError, match=r"^--group needs a non-empty name$"):
        IngestOptions(group=group)


def test_a_group_name_longer_than_its_column_is_refused() -> None:
    # groups.name is VARCHAR(200); SQLite would have stored 500 characters without complaint.
    assert IngestOptions(group="g" * 200).group == "g" * 200
    with pytest.raises(UsageError, match=r"^--group is longer than 200 characters$"):
        IngestOptions(group="g" * 201)


@pytest.mark.parametrize("value", [0.0, 1.0, -0.1, 1.5])
def test_a_threshold_outside_0_1_is_refused(value: float) -> None:
    with pytest.raises(UsageError, match="between 0 and 1"):
        validate_threshold(value)


def test_one_alias_table_for_csv_headers_and_the_service_api() -> None:
    assert column_for_header("Grades") == "grade"
    assert column_for_header(" Student_ID ") == "student_id"
    assert column_for_header("sur-name") == "last_name"
    assert column_for_header("score") is None

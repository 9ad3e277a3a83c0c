"""The streamed JSON document: valid JSON whatever an item holds (NaN, dataclasses, times)."""

from __future__ import annotations

import io
import json
from dataclasses import dataclass
from datetime import UTC, datetime

from gradestore.render import write_json_document


@dataclass(frozen=True)
class _Entry:
    section: str
    grade: str


def test_items_with_nan_dataclasses_and_timestamps_make_strict_json() -> None:
    out = io.StringIO()
    write_json_document(
        out,
        {"analysis_id": 7, "created_at": datetime(2026, 12, 1, 10, 0, tzinfo=UTC)},
        [
            ("sections", [{"section": "Ünï", "mean_gpa": float("nan"), "z": [1.5, None]}]),
            ("good_list", [{"entries": [_Entry("S1", "A")]}, {"entries": []}]),
            ("work_list", []),
        ],
    )
    text = out.getvalue()
    assert json.loads(text, parse_constant=lambda name: pytest_fail(name)) == {
        "analysis_id": 7,
        "created_at": "2026-12-01T10:00:00+00:00",
        "sections": [{"section": "Ünï", "mean_gpa": None, "z": [1.5, None]}],
        "good_list": [{"entries": [{"section": "S1", "grade": "A"}]}, {"entries": []}],
        "work_list": [],
    }
    assert "Ünï" in text  # written as text, not \\u escapes
    assert text.count("\n    ") == 3  # one item a line


def pytest_fail(name: str) -> None:
    raise AssertionError(f"{name} is not JSON")

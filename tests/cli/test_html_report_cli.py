"""`gradestore report --format html`: the page's numbers are the JSON report's, names are text,
suppression holds, and the options that do not go together are refused. On SQLite and
PostgreSQL. (The page in a real browser: tests/browser/.)"""

from __future__ import annotations

import csv
import json
import math
import re
from html import escape
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from scipy.stats import norm

from gradestore import charts, stats
from tests.cli.test_report_cli import Store, build_store, one_line_error
from tests.helpers import REPO_ROOT, run_cli, run_gradestore
from tests.report_dataset import ROWS, S1, S2, S3, S4

EX_USAGE = 64
SAMPLE = REPO_ROOT / "sample_data"
HOSTILE_SECTION = "<script>alert(1)</script>"
HOSTILE_GROUP = "{{7*7}}"
HOSTILE_NAME = "<img src=x onerror=alert(2)>"


class Figures(HTMLParser):
    """Every element with a ``data-field``: its row's test, name and group, its exact value
    and its text; and every chart's aria-label."""

    def __init__(self) -> None:
        super().__init__()
        self.row: dict[str, str] = {}
        self.open: list[dict[str, Any]] = []
        self.figures: list[dict[str, Any]] = []
        self.labels: list[str] = []
        self.text_cells: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = {key: value or "" for key, value in attrs}
        if tag == "tr":
            self.row = attributes
        if tag == "svg" and "aria-label" in attributes:
            self.labels.append(attributes["aria-label"])
        if "data-field" in attributes:
            self.open.append(
                {
                    "test": self.row.get("data-test"),
                    "name": self.row.get("data-name"),
                    "group": self.row.get("data-group") or None,
                    "field": attributes["data-field"],
                    "v": attributes.get("data-v", ""),
                    "text": "",
                    "tag": tag,
                }
            )

    def handle_data(self, data: str) -> None:
        if self.open:
            self.open[-1]["text"] += data
        self.text_cells.append(data)

    def handle_endtag(self, tag: str) -> None:
        if self.open and self.open[-1]["tag"] == tag:
            self.figures.append(self.open.pop())


def parse(html: str) -> Figures:
    parser = Figures()
    parser.feed(html)
    return parser


@pytest.fixture(scope="module")
def store(module_db_url: str, tmp_path_factory: pytest.TempPathFactory) -> Store:
    return build_store(module_db_url, tmp_path_factory.mktemp("files"))


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> Store:
    """sample_data/ in a SQLite store, analysed at 0.05."""
    folder = tmp_path_factory.mktemp("sample")
    db = f"sqlite:///{folder / 'sample.db'}"
    for args in (("ingest", str(SAMPLE / "grades.csv")), ("analyze",)):
        result = run_cli("--db", db, *args)
        assert result.exit_code == 0, result.stderr
    return Store(db, {}, {}, folder)


def without_code(html: str) -> str:
    """The page less its own style sheet and script (whose words are no student's)."""
    return re.sub(r"<(script|style)>.*?</\1>", "", html, flags=re.DOTALL)


def html_of(store: Store, tmp_path: Path, *args: str) -> str:
    out = tmp_path / "report.html"
    store.ok("report", *args, "--format", "html", "--output", str(out))
    return out.read_text(encoding="utf-8")


def close_to_text(value: float, text: str) -> bool:
    """The rounded text the page shows is the exact value, rounded to the text's digits."""
    mantissa, _, exponent = text.partition("e")
    decimals = len(mantissa.partition(".")[2])
    step = 10.0 ** (-decimals) * (10.0 ** int(exponent) if exponent else 1.0)
    return abs(float(text) - value) <= step / 2 * (1 + 1e-9)


def check_figures_equal_json(figures: Figures, report: dict[str, Any]) -> int:
    """Every data-field of the page against the JSON report; returns how many were checked."""
    sections = {(s["section"], s["group"]): s for s in report["sections"]}
    groups = {g["group"]: g for g in report["groups"]}
    grouped = {s["section"]: s for s in report["sections"] if s["group"] is not None}
    all_count = sum(s["count"] for s in grouped.values())
    all_mean = sum(s["count"] * s["mean_gpa"] for s in grouped.values() if s["count"]) / all_count
    checked = 0
    for figure in figures.figures:
        if figure["test"] == "section":
            want = dict(sections[(figure["name"], figure["group"])])
            against = groups[figure["group"]]["mean_gpa"] if figure["group"] else None
        elif figure["test"] == "group":
            want = dict(groups[figure["name"]])
            against = all_mean
        else:
            want = dict(report)
            against = None
        if want.get("mean_gpa") is not None and against is not None:
            want["difference"] = want["mean_gpa"] - against
        field, value = figure["field"], figure["v"]
        if field not in want or isinstance(want[field], str | dict):
            continue  # text (a date, a name), checked by the tests of names
        expected = want[field]
        if isinstance(expected, bool) or expected is None:
            assert value == ("" if expected is None else str(expected).lower()), figure
        else:
            assert value != "", figure
            assert float(value) == pytest.approx(expected, rel=1e-12, abs=1e-12), figure
            assert close_to_text(float(value), figure["text"].strip()), figure
        checked += 1
    return checked


def test_every_number_of_the_page_is_the_json_reports(store: Store, tmp_path: Path) -> None:
    analysis = str(store.first["analysis_id"])
    report = json.loads(store.ok("report", "--analysis", analysis, "--format", "json"))
    figures = parse(html_of(store, tmp_path, "--analysis", analysis))
    checked = check_figures_equal_json(figures, report)
    rows = {(f["test"], f["name"], f["group"]) for f in figures.figures if f["test"]}
    # Every section test and every group test is on the page, each with every figure.
    assert rows == {("section", s["section"], s["group"]) for s in report["sections"]} | {
        ("group", g["group"], None) for g in report["groups"]
    }
    fields = {f["field"] for f in figures.figures if f["test"] == "section" and f["name"] == S1}
    assert {"count", "mean_gpa", "difference", "effect_size", "z_score", "p_value",
            "p_adjusted", "significant_adjusted", "significant"} <= fields  # fmt: skip
    assert checked >= 9 * len(rows)  # 9 or 10 figures a row (no diff in no group)
    facts = {f["field"]: f["v"] for f in figures.figures if f["test"] is None}
    assert facts["analysis_id"] == analysis and float(facts["threshold"]) == 0.4


def test_bars_name_every_letter_with_the_json_counts(store: Store, tmp_path: Path) -> None:
    analysis = str(store.first["analysis_id"])
    report = json.loads(store.ok("report", "--analysis", analysis, "--format", "json"))
    labels = parse(html_of(store, tmp_path, "--analysis", analysis)).labels
    for test in report["sections"]:
        label = next(x for x in labels if x.startswith(f"Section {test['section']}: grade counts"))
        counts = ", ".join(f"{letter} {n}" for letter, n in test["grade_counts"].items())
        assert label.endswith(counts), label  # all 17 letters, in the scale's order


def test_sample_funnels_show_the_significant_section(sample: Store, tmp_path: Path) -> None:
    html = html_of(sample, tmp_path)
    labels = parse(html).labels
    funnels = [label for label in labels if "funnel plot" in label]
    assert len(funnels) == 4  # three groups of 3-4 sections, and the groups against all
    comsc210 = next(label for label in funnels if label.startswith("Group COMSC210:"))
    assert comsc210.endswith("outside the limits: COMSC210.02F25")
    assert "This page names no student and shows no student id." in html


def test_limits_drawn_are_the_tests(sample: Store) -> None:
    """A section is outside the funnel's inner limits exactly when its raw p is below the
    threshold (z-test): the limits mean ± z·sd/√n computed here with scipy."""
    report = json.loads(sample.ok("report", "--format", "json"))
    groups = {g["group"]: g for g in report["groups"]}
    z = norm.ppf(1 - report["threshold"] / 2)
    for test in report["sections"]:
        group = groups[test["group"]]
        limit = z * group["stddev"] / math.sqrt(test["count"])
        outside = bool(abs(test["mean_gpa"] - group["mean_gpa"]) > limit)
        assert outside is test["significant"], test["section"]
    assert stats.critical_z(report["threshold"]) == pytest.approx(z, rel=1e-12)
    assert stats.critical_z(charts.STRICT_ALPHA) == pytest.approx(norm.ppf(1 - 0.0005), rel=1e-12)
    assert any(test["significant"] for test in report["sections"])


def test_default_page_names_no_student(store: Store, tmp_path: Path) -> None:
    html = without_code(html_of(store, tmp_path, "--analysis", str(store.first["analysis_id"])))
    for _section, student_id, last, first, _grade, _group in ROWS:
        assert f">{student_id}<" not in html and f">{first}<" not in html
        assert escape(last) not in html or last == "+1", last  # "+1" is in a tooltip's number
    assert f"{S1} (A)" in html  # the list's entries are there, without whom they are of


def test_include_students_names_them(store: Store, tmp_path: Path) -> None:
    html = html_of(store, tmp_path, "--analysis", str(store.first["analysis_id"]),
                   "--include-students")  # fmt: skip
    assert ">1001<" in html and ">Eve<" in html
    assert "This page names students: do not share it." in html


def test_suppressed_page_holds_no_small_count_and_no_student(store: Store, tmp_path: Path) -> None:
    analysis = str(store.first["analysis_id"])
    html = without_code(html_of(store, tmp_path, "--analysis", analysis, "--suppress-below", "6"))
    figures = parse(html)
    text = "|".join(figures.text_cells + figures.labels)
    for _section, student_id, last, first, _grade, _group in ROWS:
        assert not re.search(rf"\b{student_id}\b", text), student_id
        assert f">{first}<" not in html and f">{escape(last)}<" not in html
    counts = [f for f in figures.figures if f["field"] == "count"]
    assert counts and all(f["v"] == "" or int(f["v"]) >= 6 for f in counts)
    assert {f["text"] for f in counts if f["v"] == ""} == {"<6"}
    for figure in figures.figures:
        if figure["name"] in (S2, S4):  # 5 and 2 counted grades: no figure at all
            assert figure["v"] == "", figure
    for label in figures.labels:
        numbers = [int(n) for n in re.findall(r"\b[A-Z+-]{1,2} (\d+)\b", label)]
        assert all(n >= 6 for n in numbers), label
    # Every section has all its letters below 6: no bars, a line saying so.
    assert not any(label.startswith("Section ") for label in figures.labels)
    assert f"{S3}: every grade count is below 6, withheld." in html
    # Below 3, S1's three As keep their bar and the rest are marked <3.
    page = html_of(store, tmp_path, "--section", S1, "--analysis", analysis,
                   "--suppress-below", "3")  # fmt: skip
    label = next(label for label in parse(page).labels if label.startswith(f"Section {S1}:"))
    assert label.endswith(": grade counts, A+ <3, A 3, A- <3, B+ <3, B <3, B- <3, C+ <3, C <3, "
                          "C- <3, D+ <3, D <3, D- <3, F <3, I <3, W <3, P <3, NP <3")  # fmt: skip


def test_section_and_group_pages(store: Store, tmp_path: Path) -> None:
    analysis = str(store.first["analysis_id"])
    section = json.loads(store.ok("report", "--section", S2, "--analysis", analysis,
                                  "--format", "json"))  # fmt: skip
    html = html_of(store, tmp_path, "--section", S2, "--analysis", analysis)
    figures = parse(html)
    z = {f["group"]: float(f["v"]) for f in figures.figures if f["field"] == "z_score"}
    assert z == {t["group"]: pytest.approx(t["z_score"]) for t in section["tests"]}
    group = json.loads(store.ok("report", "--group", "CORE", "--analysis", analysis,
                                "--format", "json"))  # fmt: skip
    figures = parse(html_of(store, tmp_path, "--group", "CORE", "--analysis", analysis))
    means = {f["name"]: float(f["v"]) for f in figures.figures if f["field"] == "mean_gpa"}
    assert means == {
        "CORE": pytest.approx(group["mean_gpa"]),
        **{t["section"]: pytest.approx(t["mean_gpa"]) for t in group["section_tests"]},
    }
    assert any(
        label.startswith("Group CORE: funnel plot of 2 sections") for label in figures.labels
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--format", "html", "--list", "work"),
         "--format html reports the whole analysis, a --section or a --group, not --list"),
        (("--format", "html", "--student", "1001"),
         "--format html reports the whole analysis, a --section or a --group, not --student"),
        (("--include-students",),
         "--include-students is for --format html (the other formats name them)"),
        (("--format", "html", "--include-students", "--suppress-below", "5"),
         "--include-students names students, which --suppress-below leaves out"),
    ],
)  # fmt: skip
def test_options_that_do_not_go_together(
    store: Store, tmp_path: Path, args: tuple[str, ...], message: str
) -> None:
    out = tmp_path / "r.html"
    result = store.run("report", *args, "--output", str(out))
    assert result.exit_code == EX_USAGE
    assert one_line_error(result) == f"gradestore: {message}"
    assert not out.exists()


def write_hostile(path: Path) -> Path:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["section", "student_id", "last_name", "first_name", "grade", "group"])
        writer.writerow([HOSTILE_SECTION, "1", HOSTILE_NAME, "{{7*7}}", "A", HOSTILE_GROUP])
        writer.writerow([HOSTILE_SECTION, "2", "Plain", "Pat", "F", HOSTILE_GROUP])
        writer.writerow(["$x$ & <b>", "3", "Other", "Oz", "C", HOSTILE_GROUP])
        writer.writerow(["$x$ & <b>", "4", "Another", "Al", "B", HOSTILE_GROUP])
    return path


def test_names_from_the_data_are_text(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'hostile.db'}"
    store = Store(db, {}, {}, tmp_path)
    store.ok("ingest", str(write_hostile(tmp_path / "hostile.csv")))
    store.ok("analyze")
    html = html_of(store, tmp_path, "--include-students")
    assert HOSTILE_SECTION not in html and HOSTILE_NAME not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "&lt;img src=x onerror=alert(2)&gt;" in html
    assert HOSTILE_GROUP in html and ">49<" not in html
    assert "$x$ &amp; &lt;b&gt;" in html  # drawn as written in the charts too (no math text)


def test_other_reports_do_not_import_matplotlib_or_jinja2(sample: Store) -> None:
    for args in (("report",), ("report", "--format", "json"), ("zscore",)):
        result = run_gradestore("--db", sample.db, *args, env={"PYTHONPROFILEIMPORTTIME": "1"})
        assert result.exit_code == 0, result.stderr
        imported = {line.split("|")[-1].strip() for line in result.stderr.splitlines()}
        assert not {"matplotlib", "jinja2", "markupsafe"} & imported, args


def test_many_groups_flagged_first_the_rest_folded(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With more groups than the page opens (one, here), the flagged group comes first with
    its charts; the others are rows of one folded table, their rounded figures the JSON's."""
    from gradestore import html_report

    monkeypatch.setattr(html_report, "OPEN_GROUPS", 1)
    analysis = str(store.first["analysis_id"])
    report = json.loads(store.ok("report", "--analysis", analysis, "--format", "json"))
    html = html_of(store, tmp_path, "--analysis", analysis)
    flagged = {t["group"] for t in report["sections"] if t["significant"]}
    flagged |= {g["group"] for g in report["groups"] if g["significant"]}
    assert flagged == {"COMSC210", "CORE"}  # S2 is significant in both at 0.4
    opened, _, folded = html.partition('<details class="folded">')
    assert 'id="g1">COMSC210 <span class="badge">flagged</span>' in opened
    assert "<summary>1 more groups, one row each, those with flags first" in folded
    rows = [f for f in parse(folded).figures if f["test"] == "group"]
    assert {f["name"] for f in rows} == {"CORE"} and all(f["v"] == "" for f in rows)
    assert [f["field"] for f in rows] == list(html_report.FOLDED_FIELDS)
    core = next(g for g in report["groups"] if g["group"] == "CORE")
    for figure in rows:
        if figure["field"] in ("mean_gpa", "z_score", "p_value"):
            assert close_to_text(core[figure["field"]], figure["text"]), figure
    assert "Group CORE: funnel plot" not in html  # no charts for a folded group


class ListRows(HTMLParser):
    """The cells of each row of the page's list tables, in order."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: list[list[list[str]]] = []
        self.inside = False
        self.cell: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "table" and ("class", "sortable list") in attrs:
            self.tables.append([])
            self.inside = True
        elif self.inside and tag == "tr":
            self.tables[-1].append([])
        elif self.inside and tag == "td":
            self.cell = ""

    def handle_data(self, data: str) -> None:
        if self.cell is not None:
            self.cell += data

    def handle_endtag(self, tag: str) -> None:
        if tag == "td" and self.cell is not None:
            self.tables[-1][-1].append(self.cell)
            self.cell = None
        elif tag == "table":
            self.inside = False


def test_list_rows_are_the_json_lists(store: Store, tmp_path: Path) -> None:
    analysis = str(store.first["analysis_id"])
    report = json.loads(store.ok("report", "--analysis", analysis, "--format", "json"))
    parser = ListRows()
    parser.feed(html_of(store, tmp_path, "--analysis", analysis))
    good, work = (rows[1:] for rows in parser.tables)  # less the header row
    for rows, students in ((good, report["good_list"]), (work, report["work_list"])):
        assert rows == [
            [
                ", ".join(f"{e['section']} ({e['grade']})" for e in s["entries"]),
                str(len(s["entries"])),
                "yes" if s["appeared_before"] else "no",
                s["first_term_listed"] or "-",
                "-" if s["earlier_terms_on_work_list"] is None
                else str(s["earlier_terms_on_work_list"]),
                "-" if s["earlier_terms_on_good_list"] is None
                else str(s["earlier_terms_on_good_list"]),
            ]
            for s in students
        ]  # fmt: skip
    assert any(s["appeared_before"] for s in report["work_list"])

"""The HTML report in a real browser: Debian's Chromium driven by Playwright (the pip package,
pointed at the system's Chromium; it never downloads one).

Skipped, saying why, where no Chromium is found; under CI (CI=true) a missing Chromium or
Playwright fails instead. Each test opens the file offline with every request outside it
blocked and counted, and collects console errors, page errors and dialogs.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.cli.test_html_report_cli import (
    HOSTILE_GROUP,
    HOSTILE_NAME,
    HOSTILE_SECTION,
    write_hostile,
)
from tests.helpers import IN_CI, REPO_ROOT, run_cli

pytestmark = pytest.mark.browser
SAMPLE = REPO_ROOT / "sample_data"


def chromium_path() -> str | None:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found:
        return found
    return "/usr/bin/chromium" if os.access("/usr/bin/chromium", os.X_OK) else None


def unavailable(reason: str) -> None:
    if IN_CI:
        pytest.fail(f"{reason}: under CI the browser tests must run (.ci/run installs chromium)")
    pytest.skip(reason)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    path = chromium_path()
    if path is None:
        unavailable("no Chromium found (apt-get install chromium to run the browser tests)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        unavailable("the playwright package is not installed (pip install '.[test]')")
    with sync_playwright() as playwright:
        # --no-sandbox: Chromium refuses to start as root with its sandbox (CI runs as root).
        launched = playwright.chromium.launch(
            executable_path=path, headless=True, args=["--no-sandbox"]
        )
        yield launched
        launched.close()


@dataclass
class Opened:
    page: Any
    url: str
    errors: list[str] = field(default_factory=list)
    outside: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)


@pytest.fixture
def open_page(browser: Any) -> Iterator[Any]:
    contexts: list[Any] = []

    def opener(path: Path, width: int = 1280) -> Opened:
        context = browser.new_context(viewport={"width": width, "height": 900})
        contexts.append(context)
        page = context.new_page()
        opened = Opened(page, path.resolve().as_uri())

        def route(request_route: Any) -> None:
            if request_route.request.url == opened.url:
                request_route.continue_()
            else:
                opened.outside.append(request_route.request.url)
                request_route.abort()

        context.route("**/*", route)
        page.on("console", lambda m: opened.errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda error: opened.errors.append(str(error)))

        def dialog(d: Any) -> None:
            opened.dialogs.append(d.message)
            d.dismiss()

        page.on("dialog", dialog)
        page.goto(opened.url, wait_until="load")
        return opened

    yield opener
    for context in contexts:
        context.close()


@pytest.fixture(scope="module")
def sample_report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("sample")
    db = f"sqlite:///{folder / 'sample.db'}"
    out = folder / "report.html"
    for args in (
        ("ingest", str(SAMPLE / "grades.csv")),
        ("analyze",),
        ("report", "--format", "html", "--output", str(out)),
    ):
        result = run_cli("--db", db, *args)
        assert result.exit_code == 0, result.stderr
    return out


def boxes(page: Any, selector: str) -> list[dict[str, float]]:
    return [element.bounding_box() for element in page.query_selector_all(selector)]


def test_sample_report_renders_offline_with_every_chart(
    open_page: Any, sample_report: Path, tmp_path: Path
) -> None:
    opened = open_page(sample_report)
    page = opened.page
    assert opened.errors == [] and opened.outside == [] and opened.dialogs == []
    funnels = boxes(page, "figure.funnel svg")
    bars = boxes(page, "figure.bar svg")
    assert len(funnels) == 4  # three groups and the groups against all groups
    assert len(bars) == 11  # one per section of sample_data/
    for box in funnels + bars:
        assert box is not None and box["width"] > 100 and box["height"] > 50, box
    # Inside each chart its marks are drawn: points of a funnel, bars of a distribution.
    for chart in page.query_selector_all("figure svg"):
        drawn = chart.evaluate(
            "svg => [...svg.querySelectorAll('path, use')].filter(e => {"
            " const b = e.getBBox(); return b.width > 0 || b.height > 0; }).length"
        )
        assert drawn > 5
        assert chart.get_attribute("aria-label") and chart.query_selector("title")
    # The significant section is named on its group's funnel.
    funnel = page.query_selector("section.group.flagged figure.funnel svg")
    assert "COMSC210.02F25" in funnel.text_content()
    shot = tmp_path / "report.png"
    page.screenshot(path=str(shot), full_page=True)
    print(f"screenshot: {shot}")
    assert shot.stat().st_size > 10_000


def column(page: Any, table: str, index: int) -> list[str]:
    return page.eval_on_selector_all(
        f"{table} tbody tr:not([hidden])",
        f"rows => rows.map(r => r.cells[{index}].textContent.trim())",
    )


def test_list_table_sorts_by_a_header_and_filters(open_page: Any, sample_report: Path) -> None:
    page = open_page(sample_report).page
    tables = page.query_selector_all("table.list")
    assert len(tables) == 2
    work_id = tables[1].get_attribute("id")
    css = f"#{work_id}"
    before = column(page, css, 1)
    page.click(f"{css} thead th:nth-child(2) button")  # "sections"
    ascending = column(page, css, 1)
    assert [int(n) for n in ascending] == sorted(int(n) for n in before)
    assert page.get_attribute(f"{css} thead th:nth-child(2)", "aria-sort") == "ascending"
    page.click(f"{css} thead th:nth-child(2) button")
    assert [int(n) for n in column(page, css, 1)] == sorted((int(n) for n in before), reverse=True)
    page.click(f"{css} thead th:nth-child(1) button")  # entries, as text
    entries = column(page, css, 0)
    assert entries == sorted(entries, key=str.lower)
    page.fill(f"input[data-filter='{work_id}']", "COMSC210.02F25")
    shown = column(page, css, 0)
    assert 0 < len(shown) < len(before)
    assert all("COMSC210.02F25" in entry for entry in shown)
    assert page.text_content(f"#{work_id}-shown") == str(len(shown))


def test_section_table_sorts_numbers_as_numbers(open_page: Any, sample_report: Path) -> None:
    page = open_page(sample_report).page
    page.click("#t2 thead th:nth-child(7) button")  # z, of COMSC210's sections
    z = [float(v) for v in column(page, "#t2", 6)]
    assert z == sorted(z) and len(z) == 4
    page.click("#t2 thead th:nth-child(7) button")
    assert [float(v) for v in column(page, "#t2", 6)] == sorted(z, reverse=True)


def test_narrow_and_print(open_page: Any, sample_report: Path, tmp_path: Path) -> None:
    opened = open_page(sample_report, width=400)
    page = opened.page
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 400, width  # tables scroll inside themselves, the page does not
    page.emulate_media(media="print")
    assert page.evaluate("getComputedStyle(document.querySelector('.filter')).display") == "none"
    shot = tmp_path / "print.png"
    page.screenshot(path=str(shot), full_page=True)
    print(f"screenshot: {shot}")
    assert opened.errors == []


def test_hostile_names_are_shown_as_text(open_page: Any, tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'hostile.db'}"
    out = tmp_path / "hostile.html"
    for args in (
        ("ingest", str(write_hostile(tmp_path / "hostile.csv"))),
        ("analyze",),
        ("report", "--format", "html", "--include-students", "--output", str(out)),
    ):
        result = run_cli("--db", db, *args)
        assert result.exit_code == 0, result.stderr
    opened = open_page(out)
    page = opened.page
    assert opened.dialogs == [] and opened.errors == [] and opened.outside == []
    body = page.inner_text("body")
    assert HOSTILE_SECTION in body and HOSTILE_GROUP in body and HOSTILE_NAME in body
    assert "{{7*7}}" in page.inner_text("table.list")  # a first name, not a template
    groups = page.eval_on_selector_all(
        "table.tests tbody tr[data-test='section'] td:nth-of-type(1)",
        "cells => cells.map(c => c.textContent)",
    )
    assert groups and set(groups) == {HOSTILE_GROUP}  # never evaluated to 49
    assert page.query_selector_all("img") == []  # the name's <img> is text, not an element
    assert len(page.query_selector_all("script")) == 1  # the page's own, nothing more
    # The names on the bar charts are text too.
    assert f"Section {HOSTILE_SECTION}: grade counts" in page.inner_html("body").replace(
        "&lt;", "<"
    ).replace("&gt;", ">")
    shot = tmp_path / "hostile.png"
    page.screenshot(path=str(shot), full_page=True)
    print(f"screenshot: {shot}")

"""Tables, lines and CSV of a store's history: analyses listed, shown, compared and deleted,
alerts, ingested files. No SQL, no statistics (see render.py for the shared helpers)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from gradestore.kinds import FlagChange
from gradestore.render import fmt, new_table, to_csv, visible

if TYPE_CHECKING:
    from datetime import datetime

    from rich.table import Table

    from gradestore.history import Alert, AnalysisDetail, AnalysisDiff, AnalysisEntry, Deletion
    from gradestore.persistence.rows import AnalysisRow, FlaggedTest, SourceFileRow, TableRows
    from gradestore.sources import Removal

# Free-text columns that may wrap between words at 80 columns (a scope's group names).
_WRAP = frozenset({"scope", "removed"})
_NUMERIC = frozenset({"id", "alpha", "min-n", "tests", "flagged", "raw", "p", "adj. p"})


def created(row: AnalysisRow) -> str:
    return row.created_at.strftime("%Y-%m-%d %H:%M")


def scope_text(row: AnalysisRow) -> str:
    if row.scope_kind == "service":
        return "seed API"
    text = str(row.scope_kind)
    if row.scope_names:
        text = f"{row.scope_kind}: {', '.join(row.scope_names)}"
    return f"{text}; terms {', '.join(row.scope_terms)}" if row.scope_terms else text


def analyses_table(entries: Sequence[AnalysisEntry], plain: bool) -> Table:
    table = new_table(
        "id", "created (UTC)", "scope", "alpha", "method", "adjust", "min-n", "scale", "tests",
        "flagged", "raw", plain=plain, numeric=_NUMERIC, wrap=_WRAP,
    )  # fmt: skip
    for entry in entries:
        row, testing = entry.analysis, entry.analysis.testing
        table.add_row(
            str(row.id), created(row), scope_text(row), fmt(row.threshold, 3),
            str(testing.method), str(testing.adjust or "-"), str(testing.min_n),
            "-" if entry.protected else _scale_name(row), fmt(testing.tests),
            str(entry.flags.adjusted), str(entry.flags.raw),
        )  # fmt: skip
    return table


def _scale_name(row: AnalysisRow) -> str:
    from gradestore.results import scale_of

    return scale_of(row).name


def analyses_renderables(entries: Sequence[AnalysisEntry], plain: bool) -> list[Any]:
    if not entries:
        return ["No analyses are stored: `gradestore analyze` makes one."]
    return [
        f"Analyses, newest first ({len(entries)}); flagged: after adjustment, raw: by p alone",
        analyses_table(entries, plain),
    ]


ANALYSES_CSV_HEADER = (
    "analysis_id", "created_at", "scope_kind", "scope_names", "scope_terms", "threshold",
    "method", "adjust", "min_n", "scale", "tests", "flags_adjusted", "flags_raw", "protected",
)  # fmt: skip


def analyses_csv(entries: Sequence[AnalysisEntry]) -> str:
    """One row per analysis; a scope's group names (and terms) are joined with '; '."""
    return to_csv(
        ANALYSES_CSV_HEADER,
        (
            (e.id, e.analysis.created_at.isoformat(), e.analysis.scope_kind,
             "; ".join(e.analysis.scope_names), "; ".join(e.analysis.scope_terms),
             e.analysis.threshold, e.analysis.testing.method,
             e.analysis.testing.adjust, e.analysis.testing.min_n,
             None if e.protected else _scale_name(e.analysis), e.analysis.testing.tests,
             e.flags.adjusted, e.flags.raw, e.protected)
            for e in entries
        ),
    )  # fmt: skip


def flagged_table(tests: Sequence[FlaggedTest], plain: bool, title: str | None = None) -> Table:
    table = new_table(
        "test", "name", "against", "p", "adj. p", "flagged", plain=plain,
        numeric=_NUMERIC - {"flagged"}, title=title,
    )  # fmt: skip
    for test in tests:
        from gradestore.history import headline_flag

        flagged = headline_flag(test.significant, test.significant_adjusted)
        table.add_row(
            str(test.test), test.name, test.against or "all groups", fmt(test.p_value),
            fmt(test.p_adjusted), "yes" if flagged else "p alone",
        )  # fmt: skip
    return table


def detail_renderables(detail: AnalysisDetail, plain: bool) -> list[Any]:
    """`analyses show`: how the analysis was made, then its flagged tests."""
    entry, row = detail.entry, detail.entry.analysis
    testing = row.testing
    facts = new_table("", "", plain=True, wrap=frozenset({""}))
    facts.show_header = False
    previous = "none" if detail.previous is None else str(detail.previous.id)
    for label, value in (
        ("analysis", str(row.id)),
        ("created", f"{created(row)} UTC"),
        ("scope", scope_text(row)),
        ("threshold", fmt(row.threshold, 3)),
        ("method", str(testing.method)),
        ("adjust", str(testing.adjust or "none recorded")),
        ("min-n", str(testing.min_n)),
        ("grade scale", "-" if entry.protected else _scale_name(row)),
        ("tests", fmt(testing.tests)),
        ("flags", f"{entry.flags.adjusted} after adjustment, {entry.flags.raw} by p alone"),
        ("lists", f"good {detail.list_sizes.good}, work {detail.list_sizes.work} students"),
        ("previous", f"{previous} (same scope and options)"),
        ("protected", "yes: the seed API's analysis" if entry.protected else "no"),
    ):
        facts.add_row(label, value)
    parts: list[Any] = [facts]
    if detail.flagged:
        parts.append(flagged_table(detail.flagged, plain, title="Flagged tests"))
    else:
        parts.append("No test is flagged.")
    return parts


def rows_text(rows: Sequence[TableRows]) -> str:
    """'zscores 120, performances 40, ...': the tables a command removed rows from."""
    nonzero = [f"{row.table} {row.rows}" for row in rows if row.rows]
    return ", ".join(nonzero) or "no rows"


def deletion_line(deletion: Deletion) -> str:
    verb = "would delete" if deletion.dry_run else "deleted"
    if not deletion.analysis_ids:
        return "nothing to delete: no analysis is beyond what --keep keeps"
    ids = ", ".join(map(str, deletion.analysis_ids))
    noun = "analysis" if len(deletion.analysis_ids) == 1 else "analyses"
    return f"{verb} {noun} {ids} (rows: {rows_text(deletion.rows)})"


def unchanged_line(analysis_id: int, created_at: datetime) -> str:
    """`analyze` on an unchanged store: which analysis stands."""
    return (
        f"unchanged: analysis {analysis_id} ({created_at:%Y-%m-%d %H:%M} UTC) stands, the store "
        "holds what it read; nothing stored (--force stores a new one)"
    )


def alert_renderables(alert: Alert, plain: bool) -> list[Any]:
    """What --fail-on found: one line, and the flags that set it off."""
    against = (
        f"since analysis {alert.analysis_id} was stored (the store is unchanged)"
        if alert.unchanged
        else f"against analysis {alert.compared_with}"
        if alert.compared_with is not None
        else "(no earlier analysis of the same scope and options)"
    )
    raised = alert.raised
    plural = "" if len(raised) == 1 else "s"
    found, none = {
        "significant": (f"test{plural} significant by p", "no test is significant by p"),
        "adjusted": (
            f"test{plural} flagged after adjustment",
            "no test is flagged after adjustment",
        ),
        "new": (f"new flag{plural} {against}", f"no new flag {against}"),
    }[alert.condition]
    if not raised:
        return [f"--fail-on {alert.condition}: {none}."]
    table = new_table(
        "test", "name", "against", "p", "adj. p", "new", plain=plain, numeric=_NUMERIC
    )
    for flag in raised:
        test = flag.test
        table.add_row(
            str(test.test), test.name, test.against or "all groups", fmt(test.p_value),
            fmt(test.p_adjusted), "yes" if flag.new else "no",
        )  # fmt: skip
    return [f"--fail-on {alert.condition}: {len(raised)} {found} (exit 3)", table]


def diff_renderables(diff: AnalysisDiff, plain: bool) -> list[Any]:
    """`analyses diff`: the two analyses, what differs in how they were made, the changes."""
    before, after = diff.before.analysis, diff.after.analysis
    parts: list[Any] = [
        f"Analysis {before.id} ({created(before)} UTC, {scope_text(before)}) -> analysis "
        f"{after.id} ({created(after)} UTC, {scope_text(after)})"
    ]
    if diff.differs_in:
        parts.append(
            f"They differ in {', '.join(diff.differs_in)}: flags may differ for that reason too."
        )
    counts = (
        f"{diff.count(FlagChange.NEW)} new flags, {diff.count(FlagChange.VANISHED)} vanished, "
        f"{diff.count(FlagChange.CHANGED)} changed between 'by p alone' and not flagged"
    )
    if diff.mean_moved is not None:
        counts += (
            f"; {diff.count(FlagChange.MEAN_MOVED)} means moved by more than "
            f"{fmt(diff.mean_moved)} points"
        )
    parts.append(counts + ".")
    if diff.changes:
        parts.append(_diff_table(diff, plain))
    return parts


def _diff_table(diff: AnalysisDiff, plain: bool) -> Table:
    table = new_table(
        "test", "name", "against", "before", "after", "mean before", "mean after", "change",
        plain=plain, numeric=_NUMERIC | {"mean before", "mean after"}, wrap=_WRAP | {"change"},
    )  # fmt: skip
    for test in diff.changes:
        table.add_row(
            str(test.test), test.name, test.against or "all groups", str(test.before),
            str(test.after), fmt(test.mean_before), fmt(test.mean_after),
            ", ".join(test.changes),
        )  # fmt: skip
    return table


DIFF_CSV_HEADER = (
    "analysis_before", "analysis_after", "test", "name", "against", "flag_before", "flag_after",
    "mean_gpa_before", "mean_gpa_after", "mean_moved", "changes",
)  # fmt: skip


def diff_csv(diff: AnalysisDiff) -> str:
    """One row per changed test; several changes of one test are joined with '; '."""
    return to_csv(
        DIFF_CSV_HEADER,
        (
            (diff.before.id, diff.after.id, t.test, t.name, t.against, t.before, t.after,
             t.mean_before, t.mean_after, t.moved, "; ".join(t.changes))
            for t in diff.changes
        ),
    )  # fmt: skip


# --- ingested files ---------------------------------------------------------------------------

_REMOVED_LABELS = {
    "enrollments": ("grade", "grades"),
    "list_appearances": (".lst entry", ".lst entries"),
    "group_sections": ("membership", "memberships"),
    "run_groups": ("run entry", "run entries"),
    "sections": ("section", "sections"),
    "students": ("student", "students"),
    "groups": ("group", "groups"),
    "runs": ("run", "runs"),
}


def sources_renderables(sources: Sequence[SourceFileRow], plain: bool) -> list[Any]:
    if not sources:
        return ["No ingested files are stored: `gradestore ingest FILE...` stores some."]
    table = new_table(
        "id", "ingested (UTC)", "grades", ".lst", "groups", "sha256", "file", plain=plain,
        numeric=_NUMERIC | {"grades", ".lst", "groups"},
    )  # fmt: skip
    for row in sources:
        table.add_row(
            str(row.id), f"{row.ingested_at:%Y-%m-%d %H:%M}", str(row.grades),
            str(row.list_entries), str(row.memberships + row.run_groups), row.sha256[:12],
            visible(row.path),
        )  # fmt: skip
    return [
        "Ingested files, oldest first; what the store still holds from each "
        "(grades, .lst entries, memberships and run entries)",
        table,
    ]


SOURCES_CSV_HEADER = (
    "source_id", "path", "sha256", "ingested_at", "grades", "list_entries", "memberships",
    "run_groups",
)  # fmt: skip


def sources_csv(sources: Sequence[SourceFileRow]) -> str:
    return to_csv(
        SOURCES_CSV_HEADER,
        (
            (r.id, r.path, r.sha256, r.ingested_at.isoformat(), r.grades, r.list_entries,
             r.memberships, r.run_groups)
            for r in sources
        ),
    )  # fmt: skip


def removal_line(removal: Removal) -> str:
    verb = "would remove" if removal.dry_run else "removed"
    parts = [
        f"{row.rows} {_REMOVED_LABELS[row.table][row.rows != 1]}"
        for row in removal.rows
        if row.rows and row.table in _REMOVED_LABELS
    ]
    held = ", ".join(parts) if parts else "nothing but its record (it held no rows)"
    return f"{verb} source file {removal.source.id} ({visible(removal.source.path)}): {held}"

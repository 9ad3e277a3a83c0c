"""Charts of an analysis as inline SVG strings, drawn with matplotlib's SVG backend.

Imported only by the HTML report (matplotlib takes a few tenths of a second to import, which
no other command pays). Every chart is drawn from the result objects the JSON report is made
of; only the chart's geometry (the control limits' curves) is computed here. Text from data is
drawn literally: matplotlib's math parsing is off, and every label reaching the SVG markup is
escaped.
"""

from __future__ import annotations

import io
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass

import matplotlib

matplotlib.use("svg")

from markupsafe import Markup, escape
from matplotlib.figure import Figure

from gradestore.stats import control_limit

# Okabe & Ito's colour-blind-safe palette.
BLUE, ORANGE, VERMILLION, SKY, PURPLE, GREY, BLACK = (
    "#0072B2",
    "#E69F00",
    "#D55E00",
    "#56B4E9",
    "#CC79A7",
    "#999999",
    "#000000",
)
STRICT_ALPHA = 0.001  # the second pair of control limits
MAX_LABELS = 12  # significant points named on a funnel plot

matplotlib.rcParams.update(
    {
        "svg.fonttype": "none",  # text stays text: small, searchable, printable
        "svg.hashsalt": "gradestore",  # the same chart gives the same SVG
        "text.parse_math": False,  # a section named $x$ is drawn as written
        "font.size": 9,
        "font.sans-serif": ["DejaVu Sans"],  # matplotlib's own font: the layout is measured in it
        "axes.spines.top": False,
        "axes.spines.right": False,
    }
)


@dataclass(frozen=True, slots=True)
class FunnelPoint:
    """One section (or group) on a funnel plot."""

    name: str
    count: int
    mean: float
    significant: bool  # p below the threshold: outside the inner limits
    significant_adjusted: bool


@dataclass(frozen=True, slots=True)
class Funnel:
    """A funnel plot: points against a centre line and its control limits."""

    title: str
    centre: float
    stddev: float
    threshold: float
    points: Sequence[FunnelPoint]
    what: str = "section"  # what a point is


def funnel_svg(funnel: Funnel, chart_id: str) -> Markup:
    """x: counted grades, y: mean GPA; the centre; limits centre ± z·sd/√n at the threshold
    and at 0.001; significant points marked and labelled."""
    figure = Figure(figsize=(6.4, 3.8))
    figure.subplots_adjust(left=0.1, right=0.98, bottom=0.13, top=0.8)
    axes = figure.add_subplot()
    counts = [point.count for point in funnel.points]
    top = max(counts) * 1.08
    xs = [1 + (top - 1) * i / 199 for i in range(200)]
    axes.axhline(funnel.centre, color=BLACK, linewidth=1, label=f"mean {funnel.centre:.3f}")
    for alpha, style, colour in ((funnel.threshold, "--", ORANGE), (STRICT_ALPHA, ":", PURPLE)):
        spread = [control_limit(funnel.stddev, x, alpha) for x in xs]
        axes.plot(xs, [funnel.centre + s for s in spread], style, color=colour, linewidth=1.2,
                  label=f"limits p = {alpha:g}")  # fmt: skip
        axes.plot(xs, [funnel.centre - s for s in spread], style, color=colour, linewidth=1.2)
    plain = [p for p in funnel.points if not p.significant]
    flagged = [p for p in funnel.points if p.significant]
    axes.scatter([p.count for p in plain], [p.mean for p in plain], s=22, color=BLUE,
                 label=f"{funnel.what}", zorder=3)  # fmt: skip
    if flagged:
        axes.scatter([p.count for p in flagged], [p.mean for p in flagged], s=46, marker="D",
                     facecolors=[VERMILLION if p.significant_adjusted else "white"
                                 for p in flagged],
                     edgecolors=VERMILLION, linewidths=1.5, zorder=4,
                     label="significant (filled: after adjustment)")  # fmt: skip
        # The most extreme MAX_LABELS are named (all are in the table and the text alternative).
        extreme = sorted(flagged, key=lambda p: -abs(p.mean - funnel.centre) * math.sqrt(p.count))
        for point in extreme[:MAX_LABELS]:
            axes.annotate(point.name, (point.count, point.mean), xytext=(5, 4),
                          textcoords="offset points", fontsize=8, color=BLACK)  # fmt: skip
    low = min([funnel.centre - 4 * funnel.stddev / math.sqrt(max(1, min(counts)))]
              + [p.mean for p in funnel.points])  # fmt: skip
    high = max([funnel.centre + 4 * funnel.stddev / math.sqrt(max(1, min(counts)))]
               + [p.mean for p in funnel.points])  # fmt: skip
    axes.set_ylim(max(low - 0.1, -0.2), min(high + 0.1, 4.5))
    axes.set_xlim(0, top)
    axes.set_xlabel("counted grades")
    axes.set_ylabel("mean GPA")
    axes.legend(fontsize=7, loc="lower left", bbox_to_anchor=(0, 1.02), frameon=False, ncols=3)
    label = (
        f"{funnel.title}: funnel plot of {len(funnel.points)} {funnel.what}s, mean GPA against "
        f"counted grades, centre {funnel.centre:.3f}, control limits at p {funnel.threshold:g} "
        f"and {STRICT_ALPHA:g}; outside the limits: "
        + (", ".join(p.name for p in flagged) or "none")
    )
    return _svg(figure, chart_id, label)


@dataclass(frozen=True, slots=True)
class Bars:
    """A section's grade counts, every letter of the scale; withheld counts as None."""

    title: str
    counted: Sequence[tuple[str, int | None]]
    not_counted: Sequence[tuple[str, int | None]]
    withheld_label: str = ""


def bars_svg(bars: Bars, chart_id: str) -> Markup:
    """Bars per letter: counted letters in blue, then, apart, the letters not in GPA in grey
    (hatched); a withheld count has no bar, only its ``<K`` label."""
    figure = Figure(figsize=(4.6, 1.9))
    figure.subplots_adjust(left=0.01, right=0.99, bottom=0.01, top=0.99)
    axes = figure.add_subplot()
    gap = 1.0 if bars.not_counted else 0.0
    positions = list(range(len(bars.counted))) + [
        len(bars.counted) + gap + i for i in range(len(bars.not_counted))
    ]
    letters = [*bars.counted, *bars.not_counted]
    heights = [count or 0 for _, count in letters]
    colours = [BLUE] * len(bars.counted) + [GREY] * len(bars.not_counted)
    drawn = axes.bar(positions, heights, color=colours, width=0.75)
    for patch in list(drawn)[len(bars.counted) :]:
        patch.set_hatch("///")
        patch.set_edgecolor("white")
    for x, (_, count) in zip(positions, letters, strict=True):
        text = bars.withheld_label if count is None else str(count)
        axes.annotate(text, (x, count or 0), xytext=(0, 1), textcoords="offset points",
                      ha="center", va="bottom", fontsize=6.5)  # fmt: skip
    # Letters as plain text under the bars, the axis off: ticks cost most of a chart's time.
    top = max([1, *heights])
    for x, (letter, _) in zip(positions, letters, strict=True):
        axes.text(x, -0.04 * top, letter, ha="center", va="top", fontsize=7)
    axes.set_axis_off()
    axes.axhline(0, color=BLACK, linewidth=0.8)
    axes.set_xlim(-0.6, positions[-1] + 0.6 if positions else 1)
    axes.set_ylim(-0.16 * top, top * 1.22)
    if bars.not_counted:
        middle = len(bars.counted) + gap + (len(bars.not_counted) - 1) / 2
        axes.text(middle, top * 1.12, "not in GPA", ha="center", fontsize=7, color="#555555")
    label = f"{bars.title}: grade counts, " + ", ".join(
        f"{letter} {bars.withheld_label if count is None else count}" for letter, count in letters
    )
    return _svg(figure, chart_id, label)


_ID = re.compile(r'\bid="([^"]+)"')
_REFERENCE = re.compile(r'(url\(#|href="#)([^)"]+)')


def _svg(figure: Figure, chart_id: str, label: str) -> Markup:
    """The figure as an inline <svg>: no XML prolog, ids made unique to the chart, a <title>
    and an aria-label (escaped) for readers that cannot see it."""
    buffer = io.StringIO()
    figure.savefig(buffer, format="svg", metadata={"Date": None, "Creator": None})
    text = buffer.getvalue()
    text = text[text.index("<svg") :]
    text = _ID.sub(lambda m: f'id="{chart_id}-{m.group(1)}"', text)
    text = _REFERENCE.sub(lambda m: f"{m.group(1)}{chart_id}-{m.group(2)}", text)
    safe = str(escape(label))
    head_end = text.index(">") + 1
    opening = text[: head_end - 1] + f' role="img" aria-label="{safe}" class="chart">'
    return Markup(f"{opening}<title>{safe}</title>{text[head_end:]}")

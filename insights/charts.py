"""Charts as data: a :class:`Chart` is what one figure of an insights page shows, built by the
views from selector results and rendered by ``templates/insights/_chart.html``:

- without JavaScript, as a table (the figures themselves, always in the page);
- with it, ``static/js/insights-charts.js`` draws it with Chart.js (vendored under
  ``static/vendor/chartjs/``, no CDN) from the same data, passed with ``json_script``, and folds
  the table away under "Show the numbers".

Every chart carries a one-line plain ``reading`` (what the figure says) and an ``empty`` text
(what to do when there is nothing to show yet).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

#: bar (vertical), hbar (horizontal bars: long labels such as artist names), line, radar,
#: doughnut.
Kind = Literal["bar", "hbar", "line", "radar", "doughnut"]
#: how values are written in the table and the tooltips
ValueFormat = Literal["count", "percent", "decimal"]


@dataclass(frozen=True)
class Series:
    label: str
    values: Sequence[float | int | None]


@dataclass(frozen=True)
class Chart:
    """One figure: ``key`` (unique on its page: the element ids), ``kind``, ``title``,
    ``reading`` (one plain sentence under it), ``labels`` (the x axis or the slices) and one
    or more ``series`` of values, one per label. ``empty``: the text shown instead when no
    series has a value (say what to do)."""

    key: str
    kind: Kind
    title: str
    reading: str
    labels: Sequence[str]
    series: Sequence[Series]
    value_format: ValueFormat = "count"
    empty: str = "Nothing to show yet."
    stacked: bool = False
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def is_empty(self) -> bool:
        return not self.labels or all(
            all(value in (None, 0) for value in series.values) for series in self.series
        )

    @property
    def element_id(self) -> str:
        return f"chart-{self.key}"

    @property
    def data_id(self) -> str:
        return f"chart-{self.key}-data"

    def rows(self) -> list[tuple[str, list[str]]]:
        """The table: one row per label, a formatted cell per series."""
        return [
            (
                label,
                [format_value(series.values[index], self.value_format) for series in self.series],
            )
            for index, label in enumerate(self.labels)
        ]

    def spec(self) -> dict[str, Any]:
        """What the browser script reads (``json_script``): plain data, no code."""
        return {
            "kind": self.kind,
            "title": self.title,
            "labels": list(self.labels),
            "series": [{"label": s.label, "values": list(s.values)} for s in self.series],
            "format": self.value_format,
            "stacked": self.stacked,
            **self.extra,
        }


def format_value(value: float | int | None, value_format: ValueFormat) -> str:
    if value is None:
        return "–"
    if value_format == "percent":
        return f"{value * 100:.0f} %"
    if value_format == "decimal":
        return f"{value:.2f}"
    return f"{int(value):,}".replace(",", "\u202f")

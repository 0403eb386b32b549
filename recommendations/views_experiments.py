"""Staff pages of ranking experiments: the list (``/staff/experiments/``) and one experiment's
outcome report (``/staff/experiments/<id>/``).

Thin: call the selectors (``recommendations.selectors.experiment_reports``, cached a minute)
and lay their figures out as text (every interval is printed as numbers; the bars only repeat
them). Staff only: a visitor is sent to sign in, a signed-in listener gets a 403.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_safe

from catalog.models import ID_MAX
from recommendations.engine.experiments import Interval
from recommendations.models import Experiment
from recommendations.selectors.experiment_reports import (
    DEFINITIONS,
    ExperimentReport,
    experiment_list,
    experiment_report,
)

RATES = (
    ("click_through", "Click-through"),
    ("like_rate", "Like rate"),
    ("skip_rate", "Skip rate"),
    ("dislike_rate", "Dislike rate"),
    ("listened_share", "Listened share"),
)


def staff_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Sign-in first (a visitor is redirected to the login page), then staff only (a listener
    gets a 403, not a redirect to a login they already have), then GET or HEAD only (the
    pages are read: any other method is a 405)."""
    readable = require_safe(view)

    @wraps(view)
    @login_required
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not request.user.is_staff:
            raise PermissionDenied
        return readable(request, *args, **kwargs)

    return wrapped


def _percent(value: float | None) -> str:
    return "–" if value is None else f"{value * 100:.1f} %"


def _points(value: float) -> str:
    return f"{value * 100:+.1f} points"


def _signed(value: float) -> str:
    return f"{value * 100:+.1f}".replace("-", "\u2212")


def _interval_text(interval: Interval | None, *, difference: bool = False) -> str:
    if interval is None:
        return "–"
    if difference:
        # "+1.5 points (−0.4 to +3.2)": the unit once, not three times
        low, high = (_signed(x) for x in (interval.low, interval.high))
        return f"{_points(interval.value)} ({low} to {high})"
    return f"{_percent(interval.value)} ({_percent(interval.low)}–{_percent(interval.high)})"


@dataclass(frozen=True)
class Bar:
    """An interval drawn on a 0–100 % track: ``left`` and ``width`` of the interval and
    ``mark`` of the estimate, in percent of the track's width; ``text`` says the same."""

    label: str
    left: float
    width: float
    mark: float
    text: str


def _bars(items: list[tuple[str, Interval | None]], *, difference: bool = False) -> list[Bar]:
    """Intervals on one common scale: 0 to the largest upper end (rates), or symmetric around
    0 (differences: 0 in the middle)."""
    shown = [(label, i) for label, i in items if i is not None]
    if not shown:
        return []
    if difference:
        reach = max(max(abs(i.low), abs(i.high)) for _, i in shown) or 1.0

        def place(x: float) -> float:
            return 50 + 50 * x / reach

    else:
        top = max(i.high for _, i in shown) or 1.0
        top = min(1.0, math.ceil(top * 20) / 20)

        def place(x: float) -> float:
            return 100 * x / top

    return [
        Bar(
            label=label,
            left=round(place(i.low), 2),
            width=round(max(place(i.high) - place(i.low), 0.5), 2),
            mark=round(place(i.value), 2),
            text=_interval_text(i, difference=difference),
        )
        for label, i in shown
    ]


def _layout(report: ExperimentReport) -> dict[str, Any]:
    variants = []
    for variant in report.variants:
        comparison = variant.comparison
        variants.append(
            {
                "outcome": variant,
                "parameters_json": json.dumps(variant.parameters, indent=2, sort_keys=True)
                if variant.parameters
                else "",
                "rates": [(label, _interval_text(getattr(variant, key))) for key, label in RATES],
                "difference": None
                if comparison is None
                else _interval_text(comparison.difference, difference=True),
            }
        )
    mixed = report.interleaving
    return {
        "report": report,
        "variants": variants,
        "rate_labels": [label for _, label in RATES],
        "served_any": any(v.impressions for v in report.variants)
        or bool(mixed and mixed.impressions),
        "ctr_bars": _bars([(v.name, v.click_through) for v in report.variants]),
        "difference_bars": _bars(
            [
                (v.name, v.comparison.difference)
                for v in report.variants
                if v.comparison is not None
            ],
            difference=True,
        ),
        "preference": None
        if mixed is None
        else {
            "share": _interval_text(mixed.preference),
            "bars": _bars(
                [(report.variants[1].name if len(report.variants) > 1 else "", mixed.preference)]
            ),
        },
        "definitions": [(label, DEFINITIONS[key]) for key, label in RATES if key in DEFINITIONS],
    }


@staff_required
def experiment_list_page(request: HttpRequest) -> HttpResponse:
    return render(
        request, "recommendations/experiment_list.html", {"experiments": experiment_list()}
    )


@staff_required
def experiment_report_page(request: HttpRequest, experiment_id: int) -> HttpResponse:
    experiment = (
        Experiment.objects.filter(pk=experiment_id).first() if experiment_id <= ID_MAX else None
    )
    if experiment is None:
        raise Http404("No such experiment.")
    report = experiment_report(experiment=experiment)
    return render(request, "recommendations/experiment_report.html", _layout(report))

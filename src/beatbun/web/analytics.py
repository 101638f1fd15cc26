"""First-party analytics: the page-view beacon, the studio's and player's measurements, and
the operators' page of charts.

Both collecting routes refuse unless this browser allowed performance measurement, whatever
the page's script did, and record nothing for a logged-in account that objects to analytics
or restricted processing. The operators' page answers 404 to everyone else, so its existence
is not given away; its charts are inline SVG drawn here, with no script. Its "What people ask
for" panel is the only place prompts are used to improve the service (`analytics.prompts`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import BaseModel

from beatbun.analytics.measurements import (
    Bucket,
    Name,
    list_buckets,
    parse_measurements,
    quantile,
    record_measurements,
)
from beatbun.analytics.prompts import (
    MIN_ACCOUNTS,
    MIN_LETTERS,
    PANEL_DAYS,
    TOP_WORDS,
    top_prompt_words,
)
from beatbun.analytics.service import Report, build_report, parse_event, record_event
from beatbun.api.deps import RuntimeDep, visitor_of
from beatbun.consent.registry import PERFORMANCE_COOKIE
from beatbun.errors import ConsentRequired
from beatbun.generation.catalogue import GENRES
from beatbun.i18n import N_, translate
from beatbun.web.choices import choices_of, language_of
from beatbun.web.money import format_count
from beatbun.web.operators import operator_only
from beatbun.web.templates import templates

router = APIRouter()
CHART_WIDTH = 560
CHART_HEIGHT = 160
LABEL_SPACE = 20
# Upper edges of the distribution charts' bars, in the measurement's unit; a last bar takes
# everything above.
PROMPT_EDGES_MS = (5_000, 15_000, 30_000, 60_000, 120_000, 300_000)
PLAYER_EDGES_MS = (100, 250, 500, 1_000, 2_000, 5_000)
DOWNLOAD_EDGES_MS = (500, 1_000, 2_000, 5_000, 10_000, 30_000)


class EventIn(BaseModel):
    kind: str
    label: str = ""


class MeasurementsIn(BaseModel):
    """A batch of `{name, value, label}` items; validated against the catalogue, not here."""

    measurements: list[dict[str, object]]


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    label: str
    value: str


@dataclass(frozen=True)
class Figure:
    """A number printed beside a chart: `term` is an `N_` source string."""

    term: str
    value: str


@dataclass(frozen=True)
class Chart:
    key: str
    title: str
    bars: list[Bar]
    width: int
    height: int
    figures: list[Figure] = field(default_factory=list)


@router.post("/analytics/events", status_code=204)
async def collect_event(request: Request, runtime: RuntimeDep, event: EventIn) -> Response:
    """Count one page view; refused unless performance measurement is allowed for this browser."""
    visitor_id = _measuring_visitor(request)
    parsed = parse_event(kind=event.kind, label=event.label)
    await record_event(
        runtime.db,
        visitor_id=visitor_id,
        account=(await visitor_of(request)).full_account,
        event=parsed,
        now=runtime.clock.now(),
    )
    return Response(status_code=204)


@router.post("/analytics/measurements", status_code=204)
async def collect_measurements(
    request: Request, runtime: RuntimeDep, batch: MeasurementsIn
) -> Response:
    """Count a batch of the studio's and player's measurements, with the same consent rule.

    One item outside the catalogue refuses the batch with 422 and nothing is stored.
    """
    visitor_id = _measuring_visitor(request)
    parsed = parse_measurements(batch.measurements)
    await record_measurements(
        runtime.db,
        visitor_id=visitor_id,
        account=(await visitor_of(request)).full_account,
        measurements=parsed,
        now=runtime.clock.now(),
    )
    return Response(status_code=204)


@router.get(
    "/admin/analytics",
    response_class=HTMLResponse,
    dependencies=[Depends(operator_only)],
    include_in_schema=False,
)
async def analytics_page(request: Request, runtime: RuntimeDep) -> HTMLResponse:
    report = await build_report(runtime.db, now=runtime.clock.now())
    buckets = await list_buckets(runtime.db, since=report.days[0])
    language = language_of(request)
    page: HTMLResponse = templates.TemplateResponse(
        request,
        "admin/analytics.html",
        {
            "charts": _charts(report) + _measurement_charts(buckets, language),
            "prompt_words": await top_prompt_words(runtime.db, now=runtime.clock.now()),
            "prompt_rules": {
                "days": PANEL_DAYS,
                "top": TOP_WORDS,
                "accounts": MIN_ACCOUNTS,
                "letters": MIN_LETTERS,
            },
        },
    )
    return page


def _measuring_visitor(request: Request) -> str:
    """The performance cookie's id; ConsentRequired unless this browser allowed measuring."""
    visitor_id = request.cookies.get(PERFORMANCE_COOKIE)
    if not choices_of(request).consent.allows("performance") or not visitor_id:
        raise ConsentRequired(N_("Performance measurement is not allowed in this browser."))
    return visitor_id


def _charts(report: Report) -> list[Chart]:
    views = dict.fromkeys(report.days, 0.0)
    for count in report.counts:
        views[count.day] += count.events
    visitors = {row.day: float(row.visitors) for row in report.visitors}
    return [
        _bar_chart(
            "page-views", N_("Page views per day"), [(d[5:], views[d]) for d in report.days]
        ),
        _bar_chart(
            "visitors", N_("Visitors per day"), [(d[5:], visitors.get(d, 0.0)) for d in report.days]
        ),
    ]


def _measurement_charts(buckets: list[Bucket], language: str) -> list[Chart]:
    def of(name: Name) -> list[Bucket]:
        return [b for b in buckets if b.name == name]

    def ms(value: float) -> str:
        if value < 1000:
            return translate(language, N_("%(n)s ms"), {"n": round(value)})
        return translate(language, N_("%(n)s s"), {"n": _decimal(value / 1000, language)})

    def kilobytes(value: float) -> str:
        if value < 1_000_000:
            return translate(language, N_("%(n)s kB"), {"n": round(value / 1000)})
        return translate(language, N_("%(n)s MB"), {"n": _decimal(value / 1_000_000, language)})

    clicks: dict[str, float] = {}
    for b in of("genre_tag_click"):
        shown = translate(language, GENRES[b.label].label) if b.label in GENRES else b.label
        clicks[shown] = clicks.get(shown, 0) + b.events
    downloads = of("download_bytes")
    sizes: dict[str, tuple[float, float]] = {}
    for b in downloads:
        events, total = sizes.get(b.label or "-", (0.0, 0.0))
        sizes[b.label or "-"] = (events + b.events, total + b.total)
    # Smallest class first, whatever the player calls its classes.
    by_size = sorted(sizes.items(), key=lambda item: item[1][1] / item[1][0])
    size_chart = _bar_chart(
        "download-size",
        N_("Downloads per size class, last 14 days"),
        [(label, events) for label, (events, _) in by_size],
    )
    return [
        _bar_chart(
            "genres", N_("Genre tag clicks per genre, last 14 days"), sorted(clicks.items())
        ),
        _distribution(
            "prompt-dwell",
            N_("Time in the prompt box before submitting"),
            of("prompt_dwell_ms"),
            PROMPT_EDGES_MS,
            ms,
        ),
        _distribution(
            "player-start", N_("Player start delay"), of("player_start_ms"), PLAYER_EDGES_MS, ms
        ),
        _distribution(
            "player-stall", N_("Player stalls"), of("player_stall_ms"), PLAYER_EDGES_MS, ms
        ),
        _distribution(
            "download-time", N_("Download duration"), of("download_ms"), DOWNLOAD_EDGES_MS, ms
        ),
        replace(
            size_chart,
            figures=[
                *_figures(downloads, kilobytes),
                Figure(N_("Total"), kilobytes(sum(b.total for b in downloads))),
            ],
        ),
    ]


def _decimal(value: float, language: str) -> str:
    """One decimal, with the language's decimal sign and thousands separator: "1,234.5"."""
    whole, tenth = divmod(round(value * 10), 10)
    return f"{format_count(whole, language)}{'.' if language == 'en' else ','}{tenth}"


def _distribution(
    key: str,
    title: str,
    buckets: Sequence[Bucket],
    edges: Sequence[int],
    show: Callable[[float], str],
) -> Chart:
    """How many values fell below each edge (and above the last), with median, p90 and count."""
    counts = [0.0] * (len(edges) + 1)
    for b in buckets:
        mean = b.total / b.events if b.events else 0.0
        counts[sum(1 for edge in edges if mean >= edge)] += b.events
    labels = [f"<{edge / 1000:g} s" for edge in edges] + [f"≥{edges[-1] / 1000:g} s"]
    chart = _bar_chart(key, title, list(zip(labels, counts, strict=True)))
    return replace(chart, figures=_figures(buckets, show))


def _figures(buckets: Sequence[Bucket], show: Callable[[float], str]) -> list[Figure]:
    median, p90 = quantile(buckets, 0.5), quantile(buckets, 0.9)
    return [
        Figure(N_("Measurements"), str(sum(b.events for b in buckets))),
        Figure(N_("Median"), "-" if median is None else show(median)),
        Figure(N_("90th percentile"), "-" if p90 is None else show(p90)),
    ]


def _bar_chart(key: str, title: str, points: list[tuple[str, float]]) -> Chart:
    """Bars scaled to the largest value, laid out for an inline SVG the server renders."""
    top = max((value for _, value in points), default=0.0) or 1.0
    slot = CHART_WIDTH / max(len(points), 1)
    drawable = CHART_HEIGHT - LABEL_SPACE
    bars = [
        Bar(
            x=round(index * slot + slot * 0.1, 1),
            y=round(drawable - value / top * drawable, 1),
            width=round(slot * 0.8, 1),
            height=round(value / top * drawable, 1),
            label=label,
            value=f"{value:g}" if value == int(value) else f"{value:.1f}",
        )
        for index, (label, value) in enumerate(points)
    ]
    return Chart(key=key, title=title, bars=bars, width=CHART_WIDTH, height=CHART_HEIGHT)

"""First-party analytics: the page's event beacon, and the operators' page of charts.

The operators' page answers 404 to everyone else, so its existence is not given away.
"""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import BaseModel

from beatbun.analytics.models import Kind
from beatbun.analytics.service import Report, build_report, parse_event, record_event
from beatbun.analytics.store import is_operator
from beatbun.api.deps import RuntimeDep, runtime_of, visitor_of
from beatbun.consent.registry import PERFORMANCE_COOKIE
from beatbun.errors import ConsentRequired, NotFound
from beatbun.i18n import N_
from beatbun.web.choices import choices_of
from beatbun.web.templates import templates

router = APIRouter()
CHART_WIDTH = 560
CHART_HEIGHT = 160
LABEL_SPACE = 20


class EventIn(BaseModel):
    kind: str
    label: str = ""
    value: float = 1.0


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    label: str
    value: str


@dataclass(frozen=True)
class Chart:
    key: str
    title: str
    bars: list[Bar]
    width: int
    height: int


async def operator_only(request: Request) -> None:
    """Let operators through; everyone else, logged in or not, gets a plain 404."""
    visitor = await visitor_of(request)
    account = visitor.full_account
    if account is None or not await is_operator(runtime_of(request).db, account.id):
        raise NotFound(N_("Page '%(path)s' not found."), params={"path": request.url.path})


@router.post("/analytics/events", status_code=204)
async def collect_event(request: Request, runtime: RuntimeDep, event: EventIn) -> Response:
    """Count one event; refused unless performance measurement is allowed for this browser."""
    visitor_id = request.cookies.get(PERFORMANCE_COOKIE)
    if not choices_of(request).consent.allows("performance") or not visitor_id:
        raise ConsentRequired(N_("Performance measurement is not allowed in this browser."))
    parsed = parse_event(kind=event.kind, label=event.label, value=event.value)
    await record_event(runtime.db, visitor_id=visitor_id, event=parsed, now=runtime.clock.now())
    return Response(status_code=204)


@router.get(
    "/admin/analytics",
    response_class=HTMLResponse,
    dependencies=[Depends(operator_only)],
    include_in_schema=False,
)
async def analytics_page(request: Request, runtime: RuntimeDep) -> HTMLResponse:
    report = await build_report(runtime.db, now=runtime.clock.now())
    page: HTMLResponse = templates.TemplateResponse(
        request, "admin/analytics.html", {"charts": _charts(report)}
    )
    return page


def _charts(report: Report) -> list[Chart]:
    def per_day(kind: Kind, *, average: bool = False) -> list[tuple[str, float]]:
        totals = dict.fromkeys(report.days, 0.0)
        events = dict.fromkeys(report.days, 0)
        for count in report.counts:
            if count.kind == kind:
                totals[count.day] += count.total
                events[count.day] += count.events
        if average:
            return [(day[5:], totals[day] / events[day] if events[day] else 0.0) for day in totals]
        return [(day[5:], float(events[day])) for day in totals]

    genres: dict[str, float] = {}
    for count in report.counts:
        if count.kind == "genre_click":
            genres[count.label] = genres.get(count.label, 0) + count.events
    visitors = {row.day: float(row.visitors) for row in report.visitors}
    return [
        _bar_chart("page-views", N_("Page views per day"), per_day("page_view")),
        _bar_chart(
            "visitors", N_("Visitors per day"), [(d[5:], visitors.get(d, 0.0)) for d in report.days]
        ),
        _bar_chart("genres", N_("Genre tag clicks, last 14 days"), sorted(genres.items())),
        _bar_chart(
            "prompt-time",
            N_("Average seconds in the prompt box"),
            per_day("prompt_time", average=True),
        ),
        _bar_chart("buffering", N_("Player buffering events per day"), per_day("buffering")),
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

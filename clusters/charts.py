"""A cluster's queue chart (docs/elastic.md, "Seeing it"): idle jobs and workers over time, as a
small SVG the server makes, so the page needs no chart library and nothing from a CDN.

Pure: points in, text out (no database, no clock). Everything written into the SVG goes through
`_text`, so a title from outside cannot break out of it. No `style` attribute and no script: the
lines take their colours from classes of static/portal.css, fit for a strict Content-Security-Policy.

The two lines have different scales (hundreds of idle jobs, tens of workers), so idle jobs are read
on the left axis and workers on the right; both axes have the same number of steps, so the grid
lines serve both.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import datetime, timedelta
from html import escape

# At most this many points per line: a week of reports every 30 s would be 20,000.
MAX_POINTS = 300
WIDTH, HEIGHT = 480, 210
LEFT, RIGHT, TOP, BOTTOM = 40, 40, 30, 24  # room for the axes' labels and the legend
STEPS = 4  # each axis: 0 and four labelled steps
# The time axis steps, in seconds: the first that leaves at most five ticks (else whole days).
TIME_STEPS = (5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400)
# Each axis step is one of these times a power of ten: 212 idle jobs make steps of 60, not 100.
NICE = (1, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10)
TITLE_ID, DESC_ID = "queue-chart-title", "queue-chart-desc"

# (time, idle jobs, workers), oldest first.
Point = tuple[datetime, int, int]


def queue_chart(points: Sequence[Point], *, now: datetime, title: str = "Idle jobs and workers") -> str:
    """The SVG of `points` from the first to `now`; its time labels are in `now`'s time zone."""
    if not points:
        return _svg(title, "No queue report yet.", [_centred("No queue report yet.")])
    summary = _summary(points, now)  # of every point, not only of those drawn
    points = downsample(points, MAX_POINTS)
    start, end = points[0][0], max(now, points[-1][0])
    if end - start < timedelta(seconds=10):
        start = end - timedelta(minutes=1)  # one report: a dot at the right of the last minute
    jobs_step = _nice_step(max(p[1] for p in points))
    workers_step = _nice_step(max(p[2] for p in points))
    span = (end - start).total_seconds()

    def x(at: datetime) -> float:
        return LEFT + (at - start).total_seconds() / span * (WIDTH - LEFT - RIGHT)

    def y(value: int, step: int) -> float:
        return TOP + (HEIGHT - TOP - BOTTOM) * (1 - value / (step * STEPS))

    body = _grid(jobs_step, workers_step, y) + _time_axis(start, end, now, x) + _legend()
    for index, css, step in ((1, "chart-idle-jobs", jobs_step), (2, "chart-workers", workers_step)):
        coordinates = " ".join(f"{x(p[0]):.1f},{y(p[index], step):.1f}" for p in points)
        body.append(f'<polyline class="{css}" fill="none" points="{coordinates}"/>')
        last = points[-1]
        body.append(f'<circle class="{css}" cx="{x(last[0]):.1f}" cy="{y(last[index], step):.1f}" r="3"/>')
    return _svg(title, summary, body)


def downsample(points: Sequence[Point], limit: int) -> list[Point]:
    """At most `limit` points: consecutive points grouped, each group drawn at its last time with
    its highest idle jobs and workers, so a short burst of jobs still shows."""
    if len(points) <= limit:
        return list(points)
    size = math.ceil(len(points) / limit)
    groups = (points[i : i + size] for i in range(0, len(points), size))
    return [(group[-1][0], max(p[1] for p in group), max(p[2] for p in group)) for group in groups]


def _nice_step(highest: int) -> int:
    """The smallest whole step from NICE whose STEPS steps reach `highest` (1 for an empty queue)."""
    wanted = max(highest / STEPS, 1)
    power = 10 ** math.floor(math.log10(wanted))
    return next(int(n * power) for n in NICE if n * power >= wanted and float(n * power).is_integer())


def _grid(jobs_step: int, workers_step: int, y) -> list[str]:
    right = WIDTH - RIGHT
    parts = []
    for i in range(STEPS + 1):
        top = y(i * jobs_step, jobs_step)
        parts.append(f'<line class="chart-grid" x1="{LEFT}" y1="{top:.1f}" x2="{right}" y2="{top:.1f}"/>')
        parts.append(_label(LEFT - 4, top + 4, i * jobs_step, "end", "chart-idle-jobs-label"))
        parts.append(_label(right + 4, top + 4, i * workers_step, "start", "chart-workers-label"))
    return parts


def _time_axis(start: datetime, end: datetime, now: datetime, x) -> list[str]:
    """Ticks at round times of `now`'s zone (every 5 minutes, every hour...), at most five."""
    span = (end - start).total_seconds()
    step = next((s for s in TIME_STEPS if span / s <= 4), math.ceil(span / 4 / 86400) * 86400)
    local = start.astimezone(now.tzinfo)
    midnight = local.replace(hour=0, minute=0, second=0, microsecond=0)
    tick = midnight + timedelta(seconds=math.ceil((local - midnight).total_seconds() / step) * step)
    shown = "%d %b" if step >= 86400 else "%H:%M" if step >= 60 else "%H:%M:%S"
    bottom = HEIGHT - BOTTOM
    parts = [f'<line class="chart-axis" x1="{LEFT}" y1="{bottom}" x2="{WIDTH - RIGHT}" y2="{bottom}"/>']
    while tick <= end:
        left = x(tick)
        parts.append(
            f'<line class="chart-axis" x1="{left:.1f}" y1="{bottom}" x2="{left:.1f}" y2="{bottom + 4}"/>'
        )
        parts.append(_label(left, HEIGHT - 6, tick.strftime(shown), "middle"))
        tick += timedelta(seconds=step)
    return parts


def _legend() -> list[str]:
    parts = []
    for left, css, words in (
        (LEFT, "chart-idle-jobs", "Idle jobs (left)"),
        (LEFT + 150, "chart-workers", "Workers (right)"),
    ):
        parts.append(f'<line class="{css}" x1="{left}" y1="12" x2="{left + 20}" y2="12"/>')
        parts.append(_label(left + 26, 16, words, "start"))
    return parts


def _summary(points: Sequence[Point], now: datetime) -> str:
    """What the chart shows, in words, for screen readers (its <desc>)."""
    first, last = points[0][0].astimezone(now.tzinfo), points[-1][0].astimezone(now.tzinfo)
    jobs, workers = [p[1] for p in points], [p[2] for p in points]
    return (
        f"From {first:%H:%M} to {last:%H:%M}: idle jobs between {min(jobs)} and {max(jobs)}, "
        f"workers between {min(workers)} and {max(workers)}. "
        f"Latest: {last:%H:%M:%S}, {points[-1][1]} idle jobs and {points[-1][2]} workers."
    )


def _centred(words: str) -> str:
    return _label(WIDTH / 2, HEIGHT / 2, words, "middle", "chart-empty")


def _label(left: float, top: float, words, anchor: str, css: str = "chart-label") -> str:
    return f'<text class="{css}" x="{left:.1f}" y="{top:.1f}" text-anchor="{anchor}">{_text(words)}</text>'


def _text(words) -> str:
    return escape(str(words), quote=True)


def _svg(title: str, description: str, body: list[str]) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="queue-chart" viewBox="0 0 {WIDTH} {HEIGHT}" '
        f'role="img" aria-labelledby="{TITLE_ID} {DESC_ID}">'
        f'<title id="{TITLE_ID}">{_text(title)}</title><desc id="{DESC_ID}">{_text(description)}</desc>'
        + "".join(body)
        + "</svg>"
    )

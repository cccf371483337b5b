"""Charts drawn on the server as inline SVG: a line chart, a bar chart and a stage funnel.
No script, no outside library: the page carries the picture, a title and a description for
screen readers, and the same figures stay in the table beside it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

WIDTH, HEIGHT = 640, 220
LEFT, RIGHT, TOP, BOTTOM = 56, 12, 12, 28


@dataclass(frozen=True, slots=True)
class Point:
    label: str  # shown under the axis (some of them, when there are many)
    value: float
    text: str  # the value as the reader writes it, for the tooltip


def _ceiling(value: float) -> float:
    """A round number at or above ``value`` for the top of the axis."""
    if value <= 0:
        return 1.0
    step = 10 ** (len(str(int(value))) - 1)
    for nice in (1, 2, 2.5, 5, 10):
        if value <= nice * step:
            return float(nice * step)
    return float(10 * step)


def _frame(title: str, description: str, body: list[str], css: str) -> Markup:
    head = (
        f'<svg class="chart {css}" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        f'aria-labelledby="{css}-t {css}-d" xmlns="http://www.w3.org/2000/svg">'
        f'<title id="{css}-t">{escape(title)}</title>'
        f'<desc id="{css}-d">{escape(description)}</desc>'
    )
    # every text in it went through escape(); the rest is numbers and fixed words
    return Markup(head + "".join(body) + "</svg>")  # noqa: S704


def _axes(top: float, points: Sequence[Point], axis_text: str) -> list[str]:
    inner_h = HEIGHT - TOP - BOTTOM
    parts = [
        f'<line class="axis" x1="{LEFT}" y1="{HEIGHT - BOTTOM}" x2="{WIDTH - RIGHT}" '
        f'y2="{HEIGHT - BOTTOM}"/>'
    ]
    for share in (0.0, 0.5, 1.0):
        y = TOP + inner_h * (1 - share)
        parts.append(
            f'<line class="grid" x1="{LEFT}" y1="{y:.1f}" x2="{WIDTH - RIGHT}" y2="{y:.1f}"/>'
            f'<text class="tick" x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end">'
            f"{escape(axis_text.format(top * share))}</text>"
        )
    every = max(1, len(points) // 8)
    for i, p in enumerate(points):
        if i % every == 0:
            parts.append(
                f'<text class="tick" x="{_x(i, len(points)):.1f}" y="{HEIGHT - 8}" '
                f'text-anchor="middle">{escape(p.label)}</text>'
            )
    return parts


def _x(i: int, n: int) -> float:
    inner = WIDTH - LEFT - RIGHT
    return LEFT + inner * (i + 0.5) / max(n, 1)


def _y(value: float, top: float) -> float:
    return TOP + (HEIGHT - TOP - BOTTOM) * (1 - value / top)


def line_chart(
    points: Sequence[Point], *, title: str, description: str, css: str, axis: str = "{:.0f}"
) -> Markup:
    """A line through the points, a dot on each with its value as a tooltip."""
    top = _ceiling(max((p.value for p in points), default=0))
    body = _axes(top, points, axis)
    path = " ".join(
        f"{'M' if i == 0 else 'L'}{_x(i, len(points)):.1f},{_y(p.value, top):.1f}"
        for i, p in enumerate(points)
    )
    if path:
        body.append(f'<path class="line" d="{path}"/>')
    radius = 3 if len(points) <= 60 else 1.5  # a year of days: dots that do not overlap
    for i, p in enumerate(points):
        body.append(
            f'<circle class="dot" cx="{_x(i, len(points)):.1f}" cy="{_y(p.value, top):.1f}" '
            f'r="{radius}"><title>{escape(p.label)}: {escape(p.text)}</title></circle>'
        )
    return _frame(title, description, body, css)


def bar_chart(
    points: Sequence[Point], *, title: str, description: str, css: str, axis: str = "{:.0f}"
) -> Markup:
    """One bar per point, its value as a tooltip."""
    top = _ceiling(max((p.value for p in points), default=0))
    body = _axes(top, points, axis)
    inner = WIDTH - LEFT - RIGHT
    width = max(1.0, inner / max(len(points), 1) * 0.7)
    for i, p in enumerate(points):
        y = _y(p.value, top)
        body.append(
            f'<rect class="bar" x="{_x(i, len(points)) - width / 2:.1f}" y="{y:.1f}" '
            f'width="{width:.1f}" height="{HEIGHT - BOTTOM - y:.1f}">'
            f"<title>{escape(p.label)}: {escape(p.text)}</title></rect>"
        )
    return _frame(title, description, body, css)


@dataclass(frozen=True, slots=True)
class Stage:
    label: str
    median: float | None  # hours
    p90: float | None
    text: str  # "median 1.2 h, 90 % within 3.4 h"


def funnel(stages: Sequence[Stage], *, title: str, description: str, css: str) -> Markup:
    """A horizontal bar per stage: its median, and a tick at its 90th percentile."""
    top = _ceiling(max((s.p90 or s.median or 0 for s in stages), default=0))
    row = (HEIGHT - TOP - BOTTOM) / max(len(stages), 1)
    left, inner = 130, WIDTH - 130 - RIGHT
    body = []
    for i, s in enumerate(stages):
        y = TOP + i * row
        body.append(
            f'<text class="tick" x="{left - 8}" y="{y + row * 0.6:.1f}" text-anchor="end">'
            f"{escape(s.label)}</text>"
        )
        if s.median is not None:
            w = inner * s.median / top
            body.append(
                f'<rect class="bar" x="{left}" y="{y + row * 0.2:.1f}" width="{max(w, 1):.1f}" '
                f'height="{row * 0.6:.1f}">'
                f"<title>{escape(s.label)}: {escape(s.text)}</title></rect>"
            )
        if s.p90 is not None:
            x = left + inner * s.p90 / top
            body.append(
                f'<line class="p90" x1="{x:.1f}" y1="{y + row * 0.1:.1f}" x2="{x:.1f}" '
                f'y2="{y + row * 0.9:.1f}"/>'
            )
        body.append(
            f'<text class="value" x="{WIDTH - RIGHT}" y="{y + row * 0.6:.1f}" '
            f'text-anchor="end">{escape(s.text)}</text>'
        )
    return _frame(title, description, body, css)


def forecast_chart(
    history: Sequence[Point],
    forecast: Sequence[Point],
    low: Sequence[float],
    high: Sequence[float],
    *,
    title: str,
    description: str,
    css: str,
) -> Markup:
    """History as a line, then the forecast as a dashed line inside its interval band."""
    points = [*history, *forecast]
    top = _ceiling(max([p.value for p in points] + list(high), default=0))
    body = _axes(top, points, "{:.0f}")
    n, start = len(points), len(history)
    if forecast:
        upper = [f"{_x(start + i, n):.1f},{_y(v, top):.1f}" for i, v in enumerate(high)]
        lower = [f"{_x(start + i, n):.1f},{_y(v, top):.1f}" for i, v in enumerate(low)]
        body.append(f'<polygon class="band" points="{" ".join(upper + lower[::-1])}"/>')
    for css_class, offset, part in (("line", 0, history), ("line forecast", start, forecast)):
        path = " ".join(
            f"{'M' if i == 0 else 'L'}{_x(offset + i, n):.1f},{_y(p.value, top):.1f}"
            for i, p in enumerate(part)
        )
        if path:
            body.append(f'<path class="{css_class}" d="{path}"/>')
    for i, p in enumerate(points):
        body.append(
            f'<circle class="dot{" forecast" if i >= start else ""}" cx="{_x(i, n):.1f}" '
            f'cy="{_y(p.value, top):.1f}" r="2"><title>{escape(p.label)}: {escape(p.text)}'
            "</title></circle>"
        )
    return _frame(title, description, body, css)

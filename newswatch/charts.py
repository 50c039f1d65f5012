"""Charts as inline SVG, drawn on the server from the rows a page already read.

No JavaScript and no files to fetch: a page works offline and in any browser, and a chart costs
microseconds. Every mark carries a class (`bar`, `point`, `segment`) and a <title> tooltip, so a
person can hover for the numbers and a test can count the marks.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from html import escape

from markupsafe import Markup

PALETTE = ("#4c78a8", "#f58518", "#54a24b", "#e45756", "#72b7b2", "#b279a2", "#eeca3b",
           "#9d755d", "#bab0ac", "#ff9da6", "#1b7837", "#6a3d9a", "#d95f02", "#17becf",
           "#7f7f7f", "#bcbd22")  # a run has 14 stages: each its own colour
FONT = 'font-family="system-ui, sans-serif" font-size="11"'


@dataclass(frozen=True)
class Point:
    label: str  # the x label: a day, a week, a run
    value: float  # the bar
    line: float | None = None  # the second series, drawn as points on a line
    title: str = ""  # the tooltip


def _num(v: float) -> str:
    return f"{v:g}" if v < 10 else f"{v:,.0f}"


def _svg(width: int, height: int, label: str, body: list[str]) -> Markup:
    return Markup(
        f'<svg class="chart" role="img" aria-label="{escape(label)}" width="{width}" '
        f'height="{height}" viewBox="0 0 {width} {height}" xmlns="http://www.w3.org/2000/svg">'
        f'<title>{escape(label)}</title>{"".join(body)}</svg>')


def bars(points: Sequence[Point], label: str, bar_name: str, line_name: str | None = None,
         width: int = 960, height: int = 160) -> Markup:
    """Vertical bars (one per point, zero bars drawn flat) with an optional second series as
    points joined by a line, sharing the y axis; x labels at the ends and the middle."""
    left, right, top, bottom = 34, 8, 8, 34
    plot_w, plot_h = width - left - right, height - top - bottom
    top_value = max([p.value for p in points] + [p.line or 0 for p in points] + [1])
    step = plot_w / max(len(points), 1)
    bar_w = max(step * 0.8, 1)

    def y(v: float) -> float:
        return top + plot_h - plot_h * v / top_value

    body = [f'<g {FONT} fill="#555">',
            f'<text x="{left - 4}" y="{top + 4}" text-anchor="end">{_num(top_value)}</text>',
            f'<text x="{left - 4}" y="{top + plot_h}" text-anchor="end">0</text></g>',
            f'<line x1="{left}" y1="{top + plot_h}" x2="{width - right}" y2="{top + plot_h}" '
            f'stroke="#999"/>']
    for i, p in enumerate(points):
        x = left + i * step + (step - bar_w) / 2
        h = max(top + plot_h - y(p.value), 0)
        body.append(f'<rect class="bar" data-value="{p.value:g}" x="{x:.1f}" '
                    f'y="{top + plot_h - h:.1f}" width="{bar_w:.1f}" height="{h:.1f}" '
                    f'fill="{PALETTE[0]}"><title>{escape(p.title or p.label)}: '
                    f'{_num(p.value)} {escape(bar_name)}</title></rect>')
    if line_name is not None:
        xy = [(left + i * step + step / 2, y(p.line or 0)) for i, p in enumerate(points)]
        body.append('<polyline fill="none" stroke="{}" stroke-width="1.5" points="{}"/>'.format(
            PALETTE[1], " ".join(f"{a:.1f},{b:.1f}" for a, b in xy)))
        for (cx, cy), p in zip(xy, points, strict=True):
            body.append(f'<circle class="point" data-value="{p.line or 0:g}" cx="{cx:.1f}" '
                        f'cy="{cy:.1f}" r="2.5" fill="{PALETTE[1]}"><title>'
                        f'{escape(p.title or p.label)}: {_num(p.line or 0)} {escape(line_name)}'
                        f'</title></circle>')
    ticks = sorted({0, len(points) // 2, len(points) - 1}) if points else []
    for i in ticks:
        anchor = "start" if i == 0 else "end" if i == len(points) - 1 else "middle"
        x = left + i * step + (0 if anchor == "start" else step if anchor == "end" else step / 2)
        body.append(f'<text {FONT} fill="#555" x="{x:.1f}" y="{top + plot_h + 14}" '
                    f'text-anchor="{anchor}">{escape(points[i].label)}</text>')
    legend = [(bar_name, PALETTE[0])] + ([(line_name, PALETTE[1])] if line_name else [])
    body += _legend(legend, left, height - 6)
    return _svg(width, height, label, body)


def _legend(items: Sequence[tuple[str, str]], x: float, y: float) -> list[str]:
    out = []
    for name, color in items:
        out.append(f'<rect x="{x:.1f}" y="{y - 8}" width="9" height="9" fill="{color}"/>'
                   f'<text {FONT} fill="#333" x="{x + 12:.1f}" y="{y}">{escape(name)}</text>')
        x += 24 + 6.5 * len(name)
    return out


def timeline(events: Sequence[tuple[str, datetime, str]], label: str,
             width: int = 960) -> Markup:
    """One row per outlet, a point at each time it carried the story (event: outlet, time,
    tooltip); the time axis runs from the first event to the last."""
    outlets = sorted({o for o, _, _ in events}, key=lambda o: min(t for q, t, _ in events
                                                                  if q == o))
    left, right, row = 150, 16, 22
    height = 30 + row * max(len(outlets), 1)
    start = min((t for _, t, _ in events), default=datetime(1970, 1, 1))
    end = max((t for _, t, _ in events), default=start)
    span = max((end - start).total_seconds(), 1)
    plot_w = width - left - right
    body = []
    for i, o in enumerate(outlets):
        cy = 12 + row * i + row / 2
        body.append(f'<text {FONT} fill="#333" x="{left - 8}" y="{cy + 4:.1f}" '
                    f'text-anchor="end">{escape(o[:24])}</text>'
                    f'<line x1="{left}" y1="{cy:.1f}" x2="{width - right}" y2="{cy:.1f}" '
                    f'stroke="#e4e4e4"/>')
        for q, t, tip in events:
            if q == o:
                cx = left + plot_w * (t - start).total_seconds() / span
                body.append(f'<circle class="point" cx="{cx:.1f}" cy="{cy:.1f}" r="5" '
                            f'fill="{PALETTE[i % len(PALETTE)]}"><title>{escape(tip)}</title>'
                            f'</circle>')
    axis_y = height - 8
    body.append(f'<text {FONT} fill="#555" x="{left}" y="{axis_y}">'
                f'{start:%Y-%m-%d %H:%M}</text>')
    if end > start:
        body.append(f'<text {FONT} fill="#555" x="{width - right}" y="{axis_y}" '
                    f'text-anchor="end">{end:%Y-%m-%d %H:%M} UTC</text>')
    return _svg(width, height, label, body)


def stacked(rows: Sequence[tuple[str, Mapping[str, float]]], order: Sequence[str], label: str,
            unit: str = "s", width: int = 960) -> Markup:
    """Horizontal bars, one per row, split into segments in `order` (a run and its stages)."""
    left, right, row = 150, 50, 20
    legend_h = 18 * ((len(order) + 4) // 5)
    height = 10 + row * max(len(rows), 1) + legend_h + 8
    total_max = max([sum(v.values()) for _, v in rows] + [0.001])
    plot_w = width - left - right
    color = {name: PALETTE[i % len(PALETTE)] for i, name in enumerate(order)}
    body = []
    for i, (name, values) in enumerate(rows):
        y = 8 + row * i
        total = sum(values.values())
        body.append(f'<g class="bar" data-value="{total:.3f}"><title>{escape(name)}: '
                    f'{total:.2f} {unit}</title>'
                    f'<text {FONT} fill="#333" x="{left - 8}" y="{y + 12}" '
                    f'text-anchor="end">{escape(name)}</text>')
        x = float(left)
        for stage in order:
            v = values.get(stage, 0.0)
            if v <= 0:
                continue
            w = plot_w * v / total_max
            body.append(f'<rect class="segment" x="{x:.1f}" y="{y}" width="{max(w, 0.5):.1f}" '
                        f'height="{row - 5}" fill="{color[stage]}"><title>{escape(name)} '
                        f'{escape(stage)}: {v:.2f} {unit}</title></rect>')
            x += w
        body.append(f'<text {FONT} fill="#555" x="{x + 4:.1f}" y="{y + 12}">{total:.2f} {unit}'
                    f'</text></g>')
    legend_top = 8 + row * max(len(rows), 1) + 14
    for k in range(0, len(order), 5):
        body += _legend([(s, color[s]) for s in order[k:k + 5]], left,
                        legend_top + 18 * (k // 5))
    return _svg(width, height, label, body)

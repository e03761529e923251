"""Charts for load reports, drawn twice from one layout: as inline SVG for the HTML report and
as PNG with Pillow.

No chart library: the report must open offline as one file, and the smallest libraries that
draw these charts (uPlot ~50 KB, Chart.js ~200 KB minified) would be inlined into every report
and still need a headless browser for the PNGs. Line and bar charts with axes are ~150 lines
of layout; Pillow, already a dependency, draws the same primitives (matplotlib would add ~40 MB
and a second look).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from html import escape
from typing import Protocol

from PIL import Image, ImageDraw, ImageFont

WIDTH, HEIGHT = 640, 300
LEFT, RIGHT, TOP, BOTTOM = 64, 16, 36, 48
COLORS = ("#2563eb", "#dc2626", "#16a34a", "#9333ea", "#ea580c", "#0891b2", "#4b5563")


@dataclass
class Series:
    name: str
    points: list[tuple[float, float]]  # (x, y); for bars x is the category's index


@dataclass
class Chart:
    id: str
    title: str
    x_label: str
    y_label: str
    series: list[Series]
    kind: str = "line"  # or "bar" (grouped bars over `categories`)
    categories: list[str] = field(default_factory=list)
    markers: list[tuple[float, str]] = field(default_factory=list)  # (x, label): vertical lines

    @property
    def empty(self) -> bool:
        return not any(series.points for series in self.series)


class Canvas(Protocol):
    def line(self, points: list[tuple[float, float]], color: str, width: float = 1,
             dashed: bool = False) -> None: ...

    def rect(self, x: float, y: float, w: float, h: float, color: str) -> None: ...

    def text(self, x: float, y: float, text: str, anchor: str = "start",
             color: str = "#111827", size: int = 11) -> None: ...


def nice_max(value: float) -> float:
    if value <= 0:
        return 1.0
    power = 10 ** math.floor(math.log10(value))
    return next(step * power for step in (1, 2, 2.5, 5, 10) if step * power >= value)


def label(value: float) -> str:
    if value and abs(value) < 0.01:
        return f"{value:.1e}"
    return f"{value:,.0f}" if abs(value) >= 100 or value == int(value) else f"{value:,.2f}"


def draw(chart: Chart, canvas: Canvas) -> None:
    """Axes, ticks, the series (marks), markers and the legend of `chart` on `canvas`."""
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    canvas.text(LEFT, 20, chart.title, size=13)
    xs = [x for series in chart.series for x, _ in series.points]
    ys = [y for series in chart.series for _, y in series.points]
    top = nice_max(max(ys, default=0.0))
    if chart.kind == "bar":
        low, high = -0.5, max(len(chart.categories), 1) - 0.5
    else:
        low = min(xs + [x for x, _ in chart.markers], default=0.0)
        high = max(xs + [x for x, _ in chart.markers], default=1.0)
        high = high if high > low else low + 1

    def sx(x: float) -> float:
        return LEFT + (x - low) / (high - low) * plot_w

    def sy(y: float) -> float:
        return TOP + plot_h - y / top * plot_h

    for tick in range(5):
        value = top * tick / 4
        canvas.line([(LEFT, sy(value)), (LEFT + plot_w, sy(value))], "#e5e7eb")
        canvas.text(LEFT - 6, sy(value) + 4, label(value), anchor="end", color="#4b5563")
    canvas.line([(LEFT, TOP), (LEFT, TOP + plot_h), (LEFT + plot_w, TOP + plot_h)], "#374151")
    canvas.text(LEFT + plot_w, HEIGHT - 6, chart.x_label, anchor="end", color="#4b5563")
    canvas.text(8, TOP - 6, chart.y_label, color="#4b5563")
    if chart.kind == "bar":
        groups = max(len(chart.series), 1)
        slot = plot_w / max(len(chart.categories), 1)
        for index, category in enumerate(chart.categories):
            canvas.text(sx(index), TOP + plot_h + 16, category[:18], anchor="middle",
                        color="#4b5563", size=10)
        for number, series in enumerate(chart.series):
            bar = slot * 0.8 / groups
            for x, y in series.points:
                left = sx(x) - slot * 0.4 + number * bar
                canvas.rect(left, sy(y), max(bar - 1, 1), TOP + plot_h - sy(y),
                            COLORS[number % len(COLORS)])
    else:
        for tick in range(5):
            value = low + (high - low) * tick / 4
            canvas.text(sx(value), TOP + plot_h + 16, label(value), anchor="middle",
                        color="#4b5563", size=10)
        for x, text in chart.markers:
            canvas.line([(sx(x), TOP), (sx(x), TOP + plot_h)], "#f59e0b", dashed=True)
            canvas.text(sx(x) + 3, TOP + 12, text[:40], color="#b45309", size=10)
        for number, series in enumerate(chart.series):
            points = [(sx(x), sy(y)) for x, y in sorted(series.points)]
            if len(points) == 1:
                points.append((points[0][0] + 1, points[0][1]))
            if points:
                canvas.line(points, COLORS[number % len(COLORS)], width=2)
    for number, series in enumerate(chart.series):
        x = LEFT + 8 + number * 150
        canvas.rect(x, TOP + plot_h + 26, 10, 10, COLORS[number % len(COLORS)])
        canvas.text(x + 14, TOP + plot_h + 35, series.name[:22], size=10)


class SvgCanvas:
    def __init__(self) -> None:
        self.parts: list[str] = []

    def line(self, points: list[tuple[float, float]], color: str, width: float = 1,
             dashed: bool = False) -> None:
        path = " ".join(f"{x:.1f},{y:.1f}" for x, y in points)
        mark = ' class="mark"' if width > 1 else ""
        dash = ' stroke-dasharray="4 3"' if dashed else ""
        self.parts.append(f'<polyline{mark} points="{path}" fill="none" stroke="{color}" '
                          f'stroke-width="{width}"{dash}/>')

    def rect(self, x: float, y: float, w: float, h: float, color: str) -> None:
        self.parts.append(f'<rect class="mark" x="{x:.1f}" y="{y:.1f}" width="{w:.1f}" '
                          f'height="{max(h, 0):.1f}" fill="{color}"/>')

    def text(self, x: float, y: float, text: str, anchor: str = "start",
             color: str = "#111827", size: int = 11) -> None:
        self.parts.append(f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}" '
                          f'font-size="{size}" fill="{color}">{escape(text)}</text>')


def svg(chart: Chart) -> str:
    canvas = SvgCanvas()
    draw(chart, canvas)
    return (f'<svg class="chart" id="{escape(chart.id)}" xmlns="http://www.w3.org/2000/svg" '
            f'viewBox="0 0 {WIDTH} {HEIGHT}" width="{WIDTH}" height="{HEIGHT}" role="img" '
            f'aria-label="{escape(chart.title)}" font-family="sans-serif">'
            + "".join(canvas.parts) + "</svg>")


class PngCanvas:
    def __init__(self) -> None:
        self.image = Image.new("RGB", (WIDTH * 2, HEIGHT * 2), "white")  # 2x: crisp text
        self.pen = ImageDraw.Draw(self.image)
        self.fonts: dict[int, ImageFont.FreeTypeFont | ImageFont.ImageFont] = {}

    def font(self, size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
        if size not in self.fonts:
            self.fonts[size] = ImageFont.load_default(size * 2)
        return self.fonts[size]

    def line(self, points: list[tuple[float, float]], color: str, width: float = 1,
             dashed: bool = False) -> None:
        scaled = [(x * 2, y * 2) for x, y in points]
        self.pen.line(scaled, fill=color, width=max(1, int(width * 2)))

    def rect(self, x: float, y: float, w: float, h: float, color: str) -> None:
        self.pen.rectangle([x * 2, y * 2, (x + w) * 2, (y + max(h, 0)) * 2], fill=color)

    def text(self, x: float, y: float, text: str, anchor: str = "start",
             color: str = "#111827", size: int = 11) -> None:
        where = {"start": "ls", "middle": "ms", "end": "rs"}[anchor]
        self.pen.text((x * 2, y * 2), text, fill=color, font=self.font(size), anchor=where)


def png(chart: Chart) -> Image.Image:
    canvas = PngCanvas()
    draw(chart, canvas)
    return canvas.image

"""A picture of the service map: nodes layered left to right from the roots, each box labeled
with its name and X-Ray type (a function's `AWS::Lambda` service and `AWS::Lambda::Function`
share a name) and colored by X-Ray's health: the outline by the worst outcome, a bar along
the bottom split as the requests were (ok green, error orange, throttle purple, fault red).
Edges are labeled with calls and average response time. SVG is written directly; PNG is drawn
with Pillow from the same layout."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

NODE_W, NODE_H, GAP_X, GAP_Y, MARGIN = 190, 76, 110, 34, 30
BAR_H, BAR_INSET = 6, 10  # the health bar along a box's bottom
COLORS = {"ok": "#2e7d32", "error": "#ef6c00", "throttle": "#6a1b9a", "fault": "#c62828",
          "idle": "#607d8b"}
OUTCOMES = ("ok", "error", "throttle", "fault")  # the bar's order, left to right


@dataclass
class Box:
    ref: int
    name: str
    type: str
    health: str
    caption: str
    shares: tuple[tuple[str, float], ...] = ()  # (outcome, fraction of requests), in OUTCOMES
    x: int = 0
    y: int = 0

    def bar(self) -> list[tuple[str, int, int]]:
        """The health bar's pieces: (outcome, x from, x to)."""
        left, width = self.x + BAR_INSET, NODE_W - 2 * BAR_INSET
        pieces, done = [], 0.0
        for outcome, share in self.shares:
            start, done = left + round(done * width), done + share
            pieces.append((outcome, start, left + round(done * width)))
        return [piece for piece in pieces if piece[2] > piece[1]]


@dataclass
class Arrow:
    source: Box
    target: Box
    label: str
    link: bool


def health(stats: dict[str, Any]) -> str:
    """The worst thing that happened: fault, then throttle, then error, else ok."""
    if not stats or not stats.get("TotalCount"):
        return "idle"
    if stats.get("FaultStatistics", {}).get("TotalCount"):
        return "fault"
    errors = stats.get("ErrorStatistics", {})
    if errors.get("ThrottleCount"):
        return "throttle"
    return "error" if errors.get("TotalCount") else "ok"


def shares(stats: dict[str, Any]) -> tuple[tuple[str, float], ...]:
    """How the requests split between ok, error (4xx but 429), throttle and fault."""
    errors, faults = stats.get("ErrorStatistics") or {}, stats.get("FaultStatistics") or {}
    counts = {"ok": stats.get("OkCount") or 0, "error": errors.get("OtherCount") or 0,
              "throttle": errors.get("ThrottleCount") or 0,
              "fault": faults.get("TotalCount") or 0}
    total = sum(counts.values())
    return tuple((name, counts[name] / total) for name in OUTCOMES if counts[name]) if (
        total) else ()


def _summary(stats: dict[str, Any]) -> tuple[int, float]:
    total = int(stats.get("TotalCount") or 0)
    average = float(stats.get("TotalResponseTime") or 0) / total * 1000 if total else 0.0
    return total, average


def layout(graph: dict[str, Any]) -> tuple[list[Box], list[Arrow], int, int]:
    """Place each node in the layer of its longest path from a root; returns size too."""
    services = graph.get("Services", [])
    boxes: dict[int, Box] = {}
    for service in services:
        stats = service.get("SummaryStatistics") or {}
        total, average = _summary(stats)
        caption = f"{total} calls · {average:.1f} ms" if total else "no calls"
        boxes[service["ReferenceId"]] = Box(service["ReferenceId"], service.get("Name", "?"),
                                            service.get("Type", ""), health(stats), caption,
                                            shares(stats))
    arrows: list[Arrow] = []
    incoming: dict[int, int] = {ref: 0 for ref in boxes}
    for service in services:
        for edge in service.get("Edges", []):
            if edge["ReferenceId"] not in boxes:
                continue
            total, average = _summary(edge.get("SummaryStatistics") or {})
            arrows.append(Arrow(boxes[service["ReferenceId"]], boxes[edge["ReferenceId"]],
                                f"{total} · {average:.1f} ms", edge.get("EdgeType") == "link"))
            incoming[edge["ReferenceId"]] += 1
    layer = {ref: 0 for ref in boxes}
    for _ in range(len(boxes)):  # longest path, bounded so cycles cannot loop forever
        changed = False
        for arrow in arrows:
            source, target = arrow.source.ref, arrow.target.ref
            if source != target and layer[target] <= layer[source]:
                layer[target] = layer[source] + 1
                changed = True
        if not changed:
            break
    columns: dict[int, list[Box]] = {}
    for box in sorted(boxes.values(), key=lambda box: (layer[box.ref], box.name)):
        columns.setdefault(layer[box.ref], []).append(box)
    tallest = max((len(column) for column in columns.values()), default=1)
    for index, column in columns.items():
        offset = (tallest - len(column)) * (NODE_H + GAP_Y) // 2
        for row, box in enumerate(column):
            box.x = MARGIN + index * (NODE_W + GAP_X)
            box.y = MARGIN + offset + row * (NODE_H + GAP_Y)
    width = MARGIN * 2 + max(len(columns), 1) * (NODE_W + GAP_X) - GAP_X
    height = MARGIN * 2 + tallest * (NODE_H + GAP_Y) - GAP_Y
    return list(boxes.values()), arrows, width, height


def to_svg(graph: dict[str, Any]) -> str:
    boxes, arrows, width, height = layout(graph)
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
             f'viewBox="0 0 {width} {height}" font-family="sans-serif">',
             '<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" '
             'markerHeight="7" orient="auto"><path d="M0,0 L10,5 L0,10 z" fill="#555"/></marker>'
             '</defs>', f'<rect width="{width}" height="{height}" fill="#fafafa"/>']
    for arrow in arrows:
        x1, y1 = arrow.source.x + NODE_W, arrow.source.y + NODE_H // 2
        x2, y2 = arrow.target.x, arrow.target.y + NODE_H // 2
        dash = ' stroke-dasharray="6,4"' if arrow.link else ""
        parts.append(f'<line x1="{x1}" y1="{y1}" x2="{x2}" y2="{y2}" stroke="#555" '
                     f'stroke-width="1.5" marker-end="url(#arrow)"{dash}/>')
        parts.append(f'<text x="{(x1 + x2) // 2}" y="{(y1 + y2) // 2 - 6}" font-size="11" '
                     f'text-anchor="middle" fill="#333">{escape(arrow.label)}</text>')
    for box in boxes:
        color = COLORS[box.health]
        parts.append(f'<g><title>{escape(box.type)}</title><rect x="{box.x}" y="{box.y}" '
                     f'width="{NODE_W}" height="{NODE_H}" rx="8" fill="white" stroke="{color}" '
                     f'stroke-width="3"/>')
        parts.append(f'<text x="{box.x + NODE_W // 2}" y="{box.y + 20}" font-size="14" '
                     f'font-weight="bold" text-anchor="middle">{escape(box.name[:26])}</text>')
        parts.append(f'<text x="{box.x + NODE_W // 2}" y="{box.y + 36}" font-size="10" '
                     f'text-anchor="middle" fill="#555">{escape(box.type[:32])}</text>')
        parts.append(f'<text x="{box.x + NODE_W // 2}" y="{box.y + 53}" font-size="11" '
                     f'text-anchor="middle" fill="{color}">{escape(box.caption)}</text>')
        bar_y = box.y + NODE_H - BAR_H - 6
        parts.extend(f'<rect class="health-{outcome}" x="{start}" y="{bar_y}" '
                     f'width="{end - start}" height="{BAR_H}" fill="{COLORS[outcome]}"/>'
                     for outcome, start, end in box.bar())
        parts.append("</g>")
    parts.append("</svg>")
    return "\n".join(parts)


def to_png(graph: dict[str, Any], path: Path) -> None:
    from PIL import Image, ImageDraw

    boxes, arrows, width, height = layout(graph)
    image = Image.new("RGB", (width, height), "#fafafa")
    draw = ImageDraw.Draw(image)
    for arrow in arrows:
        x1, y1 = arrow.source.x + NODE_W, arrow.source.y + NODE_H // 2
        x2, y2 = arrow.target.x, arrow.target.y + NODE_H // 2
        draw.line([(x1, y1), (x2, y2)], fill="#555555", width=2)
        draw.polygon([(x2, y2), (x2 - 9, y2 - 5), (x2 - 9, y2 + 5)], fill="#555555")
        draw.text(((x1 + x2) // 2, (y1 + y2) // 2 - 14), arrow.label, fill="#333333",
                  anchor="mm")
    for box in boxes:
        color = COLORS[box.health]
        draw.rounded_rectangle([box.x, box.y, box.x + NODE_W, box.y + NODE_H], radius=8,
                               fill="white", outline=color, width=3)
        draw.text((box.x + NODE_W // 2, box.y + 16), box.name[:26], fill="black", anchor="mm")
        draw.text((box.x + NODE_W // 2, box.y + 32), box.type[:32], fill="#555555",
                  anchor="mm")
        draw.text((box.x + NODE_W // 2, box.y + 49), box.caption, fill=color, anchor="mm")
        bar_y = box.y + NODE_H - BAR_H - 6
        for outcome, start, end in box.bar():
            draw.rectangle([start, bar_y, end - 1, bar_y + BAR_H - 1], fill=COLORS[outcome])
    image.save(path)


def save(graph: dict[str, Any], path: Path) -> None:
    """Write the map as SVG or PNG, by the file's suffix."""
    if path.suffix.lower() == ".png":
        to_png(graph, path)
    else:
        path.write_text(to_svg(graph))

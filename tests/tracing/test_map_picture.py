"""`ripple map --out`: the service map as SVG and PNG."""

from __future__ import annotations

import xml.etree.ElementTree as ElementTree
from pathlib import Path

from PIL import Image

from tests.tracing import T0, chain
from tracing.graph import service_graph
from tracing.map_picture import COLORS, layout, save


def chain_graph() -> dict:  # type: ignore[type-arg]
    built = chain()
    spans = built.trace.spans + built.stream.spans
    return service_graph(spans, T0 - 1, T0 + 60)


def test_nodes_are_layered_left_to_right_from_the_client() -> None:
    boxes, arrows, width, height = layout(chain_graph())
    by_name = {box.name: box for box in boxes}
    assert by_name["client"].x < by_name["uploads"].x < by_name["A"].x
    assert arrows and width > 0 and height > 0


def test_a_failing_function_is_drawn_as_a_fault(tmp_path: Path) -> None:
    path = tmp_path / "map.svg"
    save(chain_graph(), path)
    svg = ElementTree.parse(path).getroot()
    texts = [element.text for element in svg.iter() if element.tag.endswith("text")]
    assert "B" in texts and "A" in texts
    assert COLORS["fault"] in path.read_text()


def test_png_is_a_real_image(tmp_path: Path) -> None:
    path = tmp_path / "map.png"
    save(chain_graph(), path)
    with Image.open(path) as image:
        assert image.format == "PNG" and image.size[0] > 400

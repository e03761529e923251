"""`ripple map --out`: the service map as SVG and PNG, each box with its type and X-Ray's
health."""

from __future__ import annotations

import xml.etree.ElementTree as ElementTree
from pathlib import Path

import pytest
from PIL import Image, ImageColor

from tests.tracing import T0, chain
from tracing.graph import service_graph
from tracing.map_picture import COLORS, NODE_H, layout, save
from tracing.nodes import FUNCTION


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


def test_each_box_says_its_type_so_a_functions_two_boxes_differ(tmp_path: Path) -> None:
    # Given the chain's map, where each function has a Lambda service and a function node
    path = tmp_path / "map.svg"

    # When it is drawn
    save(chain_graph(), path)

    # Then each of B's two boxes carries its X-Ray type under the name
    groups = [list(group.iter()) for group in ElementTree.parse(path).getroot()
              if group.tag.endswith("g")]
    labels = {tuple(element.text for element in group if element.tag.endswith("text"))[:2]
              for group in groups}
    assert {("B", "AWS::Lambda"), ("B", "AWS::Lambda::Function"),
            ("uploads", "AWS::S3::Bucket"), ("client", "client")} <= labels


def test_the_health_bar_is_split_as_the_requests_were() -> None:
    # Given the chain's map, where one of B's ten invocations fails
    boxes, _, _, _ = layout(chain_graph())
    b_function = next(box for box in boxes if (box.name, box.type) == ("B", FUNCTION))
    a_function = next(box for box in boxes if (box.name, box.type) == ("A", FUNCTION))

    # When their health bars are laid out
    failing, healthy = b_function.bar(), a_function.bar()

    # Then B's is nine tenths ok and one tenth fault, in X-Ray's colors' order; A's all ok
    widths = {outcome: end - start for outcome, start, end in failing}
    assert list(widths) == ["ok", "fault"]
    assert widths["fault"] * 9 == pytest.approx(widths["ok"], abs=9)
    assert [outcome for outcome, _, _ in healthy] == ["ok"]
    assert b_function.health == "fault" and a_function.health == "ok"


def test_the_png_shows_the_fault_color_in_the_bar(tmp_path: Path) -> None:
    path = tmp_path / "map.png"
    save(chain_graph(), path)
    boxes, _, _, _ = layout(chain_graph())
    b_function = next(box for box in boxes if (box.name, box.type) == ("B", FUNCTION))
    _, start, end = b_function.bar()[-1]
    with Image.open(path) as image:
        pixel = image.convert("RGB").getpixel(((start + end) // 2, b_function.y + NODE_H - 8))
    assert pixel == ImageColor.getrgb(COLORS["fault"])

"""The terminal waterfall of `ripple trace ID`, over real segment documents."""

from __future__ import annotations

from rich.console import Console

from tests.tracing import chain
from tracing.segments import trace_document
from tracing.waterfall import build, render


def rendered(trace: dict) -> str:  # type: ignore[type-arg]
    console = Console(width=160, record=True)
    console.print(render(trace))
    return console.export_text()


def test_the_chain_shows_nested_segments_cold_starts_and_faults() -> None:
    # Given the chain as X-Ray segment documents
    spans = chain().trace.spans
    document = trace_document(spans[0].trace_id, spans)
    # When it is drawn
    text = rendered(document)
    # Then the function segments appear, the cold start and the failing B are marked
    assert "A" in text and "B" in text
    assert "cold" in text and "fault" in text
    # And segments nest under their callers
    roots = build(document)
    assert len(roots) >= 1 and any(root.children for root in roots)


def test_a_large_fan_out_folds_into_one_row_with_min_p50_max() -> None:
    spans = chain(fail_one_b=False, fan_out=200).trace.spans
    text = rendered(trace_document(spans[0].trace_id, spans))
    assert "×200" in text and "min/p50/max" in text
    assert text.count("\n") < 120  # readable, not one row per span

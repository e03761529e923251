"""The terminal waterfall of `ripple trace ID`, over real segment documents: each row's
indented name, marks, bar and duration, and many siblings folded into one row."""

from __future__ import annotations

import random
from typing import Any

from rich.console import Console

from tests.tracing import TraceBuilder, chain
from tracing.segments import trace_document
from tracing.spans import StatusCode
from tracing.waterfall import FOLD_AT, render

Rows = list[tuple[str, str]]  # (indented segment label, duration) per row, top to bottom


def rendered(trace: dict[str, Any]) -> str:
    console = Console(width=160, record=True)
    console.print(render(trace))
    return console.export_text()


def cells(text: str) -> list[list[str]]:
    """The body rows of the drawn table: [segment (indent kept), timeline, duration]."""
    return [[cell[1:].rstrip() if index < 2 else cell.strip()
             for index, cell in enumerate(line.split("│")[1:-1])]
            for line in text.splitlines() if line.startswith("│")]


def rows(text: str) -> Rows:
    return [(segment, duration) for segment, _, duration in cells(text)]


def bar(timeline: str) -> tuple[int, int]:
    """Where a row's bar starts and how long it is, in characters."""
    return len(timeline) - len(timeline.lstrip()), timeline.count("█")


def b_invocation(depth: int, mark: str = "") -> Rows:
    """The rows one B adds under A's invocation: A's boto3 call, the dispatch, B's service
    and handler segments and B's DynamoDB write."""
    pad = "  " * depth
    return [(f"{pad}Lambda", "2.00 ms"),
            (f"{pad}  Lambda.Invoke", "1.60 ms"),
            (f"{pad}    B send", "0.20 ms"),
            (f"{pad}      B", "33.00 ms"),
            (f"{pad}        B{mark}", "30.00 ms"),
            (f"{pad}          Invocation", "29.50 ms"),
            (f"{pad}            DynamoDB", "5.00 ms"),
            (f"{pad}              orders", "4.60 ms"),
            (f"{pad}          Overhead", "0.50 ms")]


def test_the_chain_shows_nested_segments_cold_starts_and_faults() -> None:
    # Given the chain as X-Ray segment documents, its third B failing
    spans = chain(fail_one_b=True).trace.spans
    document = trace_document(spans[0].trace_id, spans)
    # When it is drawn
    text = rendered(document)
    # Then the title gives the trace id and its whole length
    assert f"trace {document['Id']}  65.8 ms" in text
    # And every segment is a row under its caller, with its duration, A's cold start and
    # only the third B marked as a fault, the ten Bs in the order they started
    expected = [("uploads", "3.60 ms"),
                ("  A send", "0.20 ms"),
                ("    A", "63.00 ms"),
                ("      A ❄ cold", "60.00 ms"),
                ("        Initialization", "5.00 ms"),
                ("        Invocation", "54.50 ms")]
    for index in range(10):
        expected += b_invocation(5, " fault" if index == 2 else "")
    expected.append(("        Overhead", "0.50 ms"))
    assert rows(text) == expected
    # And the bars are placed on one time axis: the root starts at zero, A spans almost all
    # of it, and A's initialization comes before its invocation
    uploads, _, a, _, initialization, invocation = (bar(timeline) for _, timeline, _
                                                    in cells(text)[:6])
    assert uploads == (0, 2)
    assert a == (1, 38)
    assert initialization[0] + initialization[1] <= invocation[0]


def test_a_large_fan_out_folds_into_one_row_with_min_p50_max() -> None:
    # Given a handler that ran 1,000 `work` spans of 1.00 ms to 10.99 ms, one of them failed,
    # and a few `step` spans, in no particular order
    trace = TraceBuilder(number=5)
    _, _, invocation = trace.function("f", None, 0.0, ms=30.0)
    order = list(range(1000))
    random.Random(1).shuffle(order)
    for index in order:
        trace.span("work", parent=invocation, at=2.0 + index * 0.01, ms=1 + index * 0.01,
                   status=StatusCode.ERROR if index == 500 else StatusCode.UNSET)
    for index in range(FOLD_AT - 1):
        trace.span("step", parent=invocation, at=25.0 + index * 0.1, ms=0.05)
    # When it is drawn
    text = rendered(trace_document(trace.trace_id, trace.spans))
    # Then the 1,000 spans are one row with their count, the worst state among them and the
    # min/p50/max of their durations, while fewer siblings than FOLD_AT stay one row each
    assert rows(text) == [("f", "33.00 ms"),
                          ("  f", "30.00 ms"),
                          ("    Invocation", "29.50 ms"),
                          ("      work ×1,000 fault", "1.0/6.0/11.0 ms min/p50/max"),
                          *[("      step", "0.05 ms")] * (FOLD_AT - 1),
                          ("    Overhead", "0.50 ms")]

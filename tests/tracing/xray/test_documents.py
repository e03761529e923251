"""Reading segment documents: X-Ray's rules, and a bad document refused with X-Ray's error
code and a reason that names the field."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tracing.xray.documents import MAX_DOCUMENT, DocumentError, read

TRACE = "1-5759e988-bd862e3fe1be46a994272793"


def segment(**fields: Any) -> dict[str, Any]:
    return {"name": "orders", "id": "70de5b6f19ff9a0a", "trace_id": TRACE,
            "start_time": 1.478293361271e9, "end_time": 1.478293361449e9, **fields}


def test_a_segment_and_an_independent_subsegment_are_read() -> None:
    # Given a full segment and a subsegment sent on its own, as the X-Ray SDKs stream them
    full = segment(subsegments=[{"name": "work", "id": "53995c3f42cd8ad8",
                                 "start_time": 1.4782933613e9, "in_progress": True}])
    independent = {"name": "## handler", "id": "53995c3f42cd8ad9", "type": "subsegment",
                   "trace_id": TRACE, "parent_id": "70de5b6f19ff9a0a",
                   "start_time": 1.4782933613e9, "end_time": 1.4782933614e9}
    # When they are read, Then they come back as the objects they are
    assert read(json.dumps(full)) == full
    assert read(json.dumps(independent).encode()) == independent


@pytest.mark.parametrize(("document", "code", "field"), [
    ("{not json", "InvalidJson", "not JSON"),
    ("[]", "InvalidJson", "JSON object"),
    (segment(id=None), "MissingId", "id is required"),
    (segment(id="xyz"), "InvalidId", "'xyz'"),
    (segment(id="0000000000000000"), "InvalidId", "16 hex"),
    (segment(name=None), "MissingName", "name"),
    (segment(name="bad\nname"), "InvalidName", "letters, numbers"),
    (segment(name="x" * 201), "InvalidName", "200"),
    (segment(trace_id=None), "MissingTraceId", "trace_id"),
    (segment(trace_id="5759e988bd862e3fe1be46a994272793"), "InvalidTraceId", "1-xxxxxxxx"),
    (segment(start_time=None), "MissingStartTime", "start_time"),
    (segment(start_time="yesterday"), "InvalidStartTime", "'yesterday'"),
    (segment(end_time=None), "MissingEndTime", "in_progress"),
    (segment(end_time=1.0), "InvalidEndTime", "at or after start_time"),
    (segment(parent_id="short"), "InvalidParentId", "'short'"),
    (segment(type="subsegment"), "MissingParentId", "parent_id"),
    (segment(annotations={"bad key": 1}), "InvalidAnnotations", "'bad key'"),
    (segment(annotations={"k": [1]}), "InvalidAnnotations", "string, number or boolean"),
    (segment(metadata={"default": 3}), "InvalidMetadata", "namespace"),
    (segment(http="GET /"), "InvalidDocument", "http"),
    (segment(subsegments={"name": "x"}), "InvalidSubsegments", "list"),
    (segment(subsegments=[{"name": "work", "id": "53995c3f42cd8ad8", "start_time": 1.5e9}]),
     "MissingEndTime", "in_progress"),
    (segment(annotations={"k": "v"}, padding="x" * MAX_DOCUMENT), "SegmentTooLarge", "64"),
])
def test_a_bad_document_is_refused_with_xrays_code_and_why(document: Any, code: str,
                                                           field: str) -> None:
    # Given a document that breaks one of X-Ray's rules
    text = document if isinstance(document, str) else json.dumps(document)
    # When it is read
    with pytest.raises(DocumentError) as refused:
        read(text)
    # Then the error carries X-Ray's code and a message naming what was wrong
    assert refused.value.code == code
    assert str(refused.value).startswith(f"Invalid {refused.value.kind}. ErrorCode: {code}")
    assert field in str(refused.value) or (code == "SegmentTooLarge"
                                           and str(MAX_DOCUMENT) in str(refused.value))


def test_the_refused_documents_id_is_named_when_it_has_one() -> None:
    # Given a subsegment with a readable id but no name, inside a segment
    document = segment(subsegments=[{"id": "53995c3f42cd8ad8", "start_time": 1.5e9,
                                     "end_time": 1.5e9}])
    # When it is read, Then the error names the subsegment's id and kind
    with pytest.raises(DocumentError) as refused:
        read(json.dumps(document))
    assert (refused.value.id, refused.value.kind, refused.value.code) == (
        "53995c3f42cd8ad8", "subsegment", "MissingName")


def test_subsegments_nested_past_the_limit_are_refused() -> None:
    # Given subsegments nested 40 deep
    part: dict[str, Any] = {"name": "leaf", "id": "53995c3f42cd8ad8", "start_time": 1.5e9,
                            "end_time": 1.5e9}
    for _ in range(40):
        part = {"name": "level", "id": "53995c3f42cd8ad8", "start_time": 1.5e9,
                "end_time": 1.5e9, "subsegments": [part]}
    # When it is read, Then it is refused rather than walked without end
    with pytest.raises(DocumentError, match="deeper than 32"):
        read(json.dumps(segment(subsegments=[part])))

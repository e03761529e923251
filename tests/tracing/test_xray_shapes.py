"""AWS's own client reads our answers: botocore's REST-JSON parser, with X-Ray's service model,
parses every shape we produce, and nothing we send is unknown to it or of the wrong type."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import botocore.session
import pytest
from botocore.model import Shape
from botocore.parsers import RestJSONParser

from tests.tracing import T0, chain
from tracing.graph import service_graph, trace_graph
from tracing.segments import trace_document
from tracing.summaries import trace_summaries

PYTHON_TYPES: dict[str, tuple[type, ...]] = {
    "string": (str,), "integer": (int,), "long": (int,), "double": (int, float),
    "float": (int, float), "boolean": (bool,), "timestamp": (int, float)}


@pytest.fixture(scope="module")
def xray() -> Any:
    return botocore.session.get_session().get_service_model("xray")


def conforms(value: Any, shape: Shape, path: str = "$") -> None:
    """Every member known to the shape, every value of the member's type."""
    if shape.type_name == "structure":
        assert isinstance(value, dict), path
        unknown = set(value) - set(shape.members)  # type: ignore[attr-defined]
        assert not unknown, f"{path}: {unknown} not in {shape.name}"
        for name, member in value.items():
            conforms(member, shape.members[name], f"{path}.{name}")  # type: ignore[attr-defined]
    elif shape.type_name == "list":
        assert isinstance(value, list), path
        for index, item in enumerate(value):
            conforms(item, shape.member, f"{path}[{index}]")  # type: ignore[attr-defined]
    elif shape.type_name == "map":
        assert isinstance(value, dict), path
        for name, item in value.items():
            conforms(item, shape.value, f"{path}.{name}")  # type: ignore[attr-defined]
    else:
        allowed = PYTHON_TYPES[shape.type_name]
        assert isinstance(value, allowed) and (
            shape.type_name == "boolean" or not isinstance(value, bool)), (path, value)


def plain(value: Any) -> Any:
    """Parsed output with datetimes back as epoch seconds, to compare with what we sent."""
    if isinstance(value, datetime):
        return round(value.timestamp(), 3)
    if isinstance(value, dict):
        return {name: plain(item) for name, item in value.items()
                if name != "ResponseMetadata"}
    if isinstance(value, list):
        return [plain(item) for item in value]
    return value


def rounded(value: Any) -> Any:
    if isinstance(value, float):
        return round(value, 3)
    if isinstance(value, dict):
        return {name: rounded(item) for name, item in value.items()}
    if isinstance(value, list):
        return [rounded(item) for item in value]
    return value


def parse(xray: Any, operation: str, answer: dict[str, Any]) -> dict[str, Any]:
    shape = xray.operation_model(operation).output_shape
    conforms(answer, shape)
    response = {"body": json.dumps(answer).encode(), "headers": {}, "status_code": 200}
    parsed: dict[str, Any] = RestJSONParser().parse(response, shape)
    assert "Error" not in parsed
    assert rounded(plain(parsed)) == rounded(answer)  # every field survived
    return parsed


def test_get_service_graph_parses(xray: Any) -> None:
    parsed = parse(xray, "GetServiceGraph", service_graph(chain().spans, T0 - 60, T0 + 600))
    assert isinstance(parsed["StartTime"], datetime)
    assert {service["Type"] for service in parsed["Services"]} >= {"client", "AWS::Lambda"}
    assert any(edge["EdgeType"] == "link" for service in parsed["Services"]
               for edge in service["Edges"])


def test_get_trace_graph_parses(xray: Any) -> None:
    parsed = parse(xray, "GetTraceGraph", trace_graph(chain().trace.spans))
    assert isinstance(parsed["Services"][1]["StartTime"], datetime)


def test_get_trace_summaries_parses(xray: Any) -> None:
    c = chain()
    summaries = trace_summaries({c.trace.trace_id: c.trace.spans,
                                 c.stream.trace_id: c.stream.spans})
    parsed = parse(xray, "GetTraceSummaries", {"TraceSummaries": summaries,
                                               "ApproximateTime": T0,
                                               "TracesProcessedCount": 2})
    first = parsed["TraceSummaries"][0]
    assert first["HasFault"] is True and first["EntryPoint"]["Name"] == "uploads"
    assert first["Annotations"]["stage"][0]["AnnotationValue"] == {"StringValue": "test"}


def test_batch_get_traces_parses(xray: Any) -> None:
    c = chain()
    traces = [trace_document(c.trace.trace_id, c.spans),
              trace_document(c.stream.trace_id, c.spans)]
    parsed = parse(xray, "BatchGetTraces", {"Traces": traces, "UnprocessedTraceIds": []})
    assert parsed["Traces"][0]["Id"].startswith("1-")
    assert json.loads(parsed["Traces"][1]["Segments"][0]["Document"])["name"] == "C"


def test_the_shape_check_refuses_unknown_fields_and_wrong_types(xray: Any) -> None:
    shape = xray.operation_model("GetServiceGraph").output_shape
    with pytest.raises(AssertionError):
        conforms({"Services": [{"Nmae": "typo"}]}, shape)
    with pytest.raises(AssertionError):
        conforms({"Services": [{"ReferenceId": "1"}]}, shape)
    with pytest.raises(AssertionError):
        conforms({"Services": [{"Root": 1}]}, shape)

"""The stage's spans: a SERVER span per request, parent of the invocation it triggers."""

from __future__ import annotations

import json
import os
import uuid
from typing import Any

import httpx

from tests.conftest import Deploy, Ripple, wait_for

STAGE = "AWS::ApiGateway::Stage"


def test_the_service_map_shows_client_stage_and_function(ripple: Ripple,
                                                          deploy: Deploy) -> None:
    # Given a function behind GET /traced-{id}/items/{item}
    name = f"traced-{uuid.uuid4().hex[:8]}"
    deploy("def handler(event, context):\n    return {'statusCode': 200, 'body': 'ok'}\n",
           name=name, events=[{"http": {"method": "GET", "path": f"/{name}/items/{{item}}"}}])
    # When a client that traces calls it through the stage with a traceparent
    trace_id = f"{int.from_bytes(os.urandom(4), 'big') | 0x60000000:08x}{os.urandom(12).hex()}"
    parent = os.urandom(8).hex()
    answer = httpx.get(f"{ripple.stage_url}/{name}/items/7", timeout=30,
                       headers={"traceparent": f"00-{trace_id}-{parent}-01"})
    assert answer.status_code == 200
    assert answer.headers["x-amzn-trace-id"].startswith(f"Root=1-{trace_id[:8]}-{trace_id[8:]}")

    # Then the map has client → the stage → the function (through the Lambda service)
    stage_node = ("ripplehttp/$default", STAGE)
    service, function = (name, "AWS::Lambda"), (name, "AWS::Lambda::Function")

    def graph() -> dict[tuple[str, str], dict[str, Any]] | None:
        found = ripple.api("GET", "/_ripple/api/servicemap", params={"since": "5m"})
        services = {(s["Name"], s["Type"]): s for s in found["Services"]}
        by_reference = {s["ReferenceId"]: key for key, s in services.items()}
        edges = {(key, by_reference[edge["ReferenceId"]]) for key, s in services.items()
                 for edge in s["Edges"]}
        # spans arrive in batches from each process: wait for the whole chain
        wanted = {(("client", "client"), stage_node), (stage_node, service),
                  (service, function)}
        return services if wanted <= edges else None

    services = wait_for(graph, timeout=60)
    stage = services[stage_node]
    assert stage["SummaryStatistics"]["TotalCount"] >= 1
    # And the caller's trace holds the stage's segment with its route and status
    xray_id = f"1-{trace_id[:8]}-{trace_id[8:]}"
    trace = ripple.api("GET", f"/_ripple/api/traces/{xray_id}")["Traces"][0]
    documents = [json.loads(segment["Document"]) for segment in trace["Segments"]]
    gateway = next(d for d in documents if d.get("origin") == STAGE)
    assert gateway["parent_id"] == parent
    assert gateway["http"]["request"]["method"] == "GET"
    assert gateway["http"]["request"]["url"].endswith(f"/{name}/items/7")
    assert gateway["http"]["response"]["status"] == 200
    assert any(d.get("origin") == "AWS::Lambda::Function" and d["name"] == name
               for d in documents)


def test_a_5xx_answer_is_a_fault_on_the_stage(ripple: Ripple, deploy: Deploy) -> None:
    # Given a function that raises behind a REST route
    name = f"faulty-{uuid.uuid4().hex[:8]}"
    deploy("def handler(event, context):\n    raise ValueError('no')\n", name=name,
           events=[{"http": {"method": "GET", "path": f"/{name}", "payload_format": "1.0"}}])
    # When it is called
    assert httpx.get(f"{ripple.stage_url}/{name}", timeout=30).status_code == 502

    # Then the REST stage's node counts a fault
    def faults() -> int:
        found = ripple.api("GET", "/_ripple/api/servicemap", params={"since": "5m"})
        stage = next((s for s in found["Services"]
                      if (s["Name"], s["Type"]) == ("ripplerest/Prod", STAGE)), None)
        return stage["SummaryStatistics"]["FaultStatistics"]["TotalCount"] if stage else 0

    assert wait_for(faults, timeout=60) >= 1

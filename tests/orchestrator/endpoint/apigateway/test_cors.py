"""CORS at the stage, end to end: preflights answered without the function, and an HTTP
API's CORS headers on its answers."""

from __future__ import annotations

import uuid

import httpx

from tests.conftest import Deploy, Ripple

# Would answer a preflight 200 with a body: a 204 shows the stage answered it instead.
HANDLER = """
def handler(event, context):
    return {"statusCode": 200, "headers": {"x-seen": "yes"}, "body": "from the function"}
"""
APP = "https://app.example"
CORS = {"allow_origins": [APP], "allow_methods": ["GET", "POST"],
        "allow_headers": ["content-type", "x-token"], "expose_headers": ["x-seen"],
        "max_age": 600}


def preflight(url: str, origin: str, method: str = "POST") -> httpx.Response:
    return httpx.options(url, timeout=60, headers={
        "Origin": origin, "Access-Control-Request-Method": method,
        "Access-Control-Request-Headers": "content-type"})


def test_an_http_api_answers_the_preflight_and_marks_its_answers(ripple: Ripple,
                                                                 deploy: Deploy) -> None:
    # Given an HTTP API route with CORS for one origin (and no OPTIONS route)
    name = f"cors-{uuid.uuid4().hex[:8]}"
    deploy(HANDLER, name=name, events=[{"http": {"method": "POST", "path": f"/{name}/{{id}}",
                                                 "cors": CORS}}])
    url = f"{ripple.stage_url}/{name}/1"
    # When a browser sends the preflight
    answer = preflight(url, APP)
    # Then the stage answers 204 itself with the configured headers
    assert (answer.status_code, answer.content) == (204, b"")
    assert answer.headers["access-control-allow-origin"] == APP
    assert answer.headers["access-control-allow-methods"] == "GET,POST"
    assert answer.headers["access-control-allow-headers"] == "content-type,x-token"
    assert answer.headers["access-control-max-age"] == "600"
    # When the origin is not allowed: no CORS headers, so the browser refuses
    answer = preflight(url, "https://evil.example")
    assert "access-control-allow-origin" not in answer.headers
    # When the real request comes: the function answers, with the CORS headers added
    answer = httpx.post(url, headers={"Origin": APP}, timeout=60)
    assert (answer.status_code, answer.text) == (200, "from the function")
    assert answer.headers["access-control-allow-origin"] == APP
    assert answer.headers["access-control-expose-headers"] == "x-seen"


def test_a_rest_api_answers_the_preflight_as_sams_cors_does(ripple: Ripple,
                                                            deploy: Deploy) -> None:
    # Given a REST API route with CORS for any origin
    name = f"cors-rest-{uuid.uuid4().hex[:8]}"
    deploy(HANDLER, name=name, events=[{"http": {
        "method": "ANY", "path": f"/{name}", "payload_format": "1.0",
        "cors": {"allow_origins": ["*"], "allow_headers": ["content-type"]}}}])
    # When a browser sends the preflight: a 200 from the stage, any origin allowed
    answer = preflight(f"{ripple.stage_url}/{name}", APP, "DELETE")
    assert (answer.status_code, answer.content) == (200, b"")
    assert answer.headers["access-control-allow-origin"] == "*"
    assert answer.headers["access-control-allow-methods"] == "*"
    # And a plain OPTIONS (no preflight headers) still reaches the function
    answer = httpx.options(f"{ripple.stage_url}/{name}", timeout=60)
    assert answer.text == "from the function"

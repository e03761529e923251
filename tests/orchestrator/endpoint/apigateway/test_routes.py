"""Route matching and precedence, as API Gateway chooses among routes."""

from __future__ import annotations

import pytest

from orchestrator.endpoint.apigateway.routes import Route, RouteTable
from orchestrator.functions.config import FunctionConfig

TABLE = RouteTable([
    Route("GET", "/pets/dog/1", "exact"),
    Route("GET", "/pets/dog/{id}", "dog-by-id"),
    Route("GET", "/pets/{proxy+}", "pets-greedy"),
    Route("ANY", "/pets/dog/{id}", "any-dog"),
    Route("ANY", "/{proxy+}", "catch-all"),
    Route("POST", "/pets", "create"),
    Route("GET", "/", "root"),
    Route("GET", "/legacy/{id}", "legacy", payload_format="1.0"),
])


@pytest.mark.parametrize(("method", "path", "function", "parameters"), [
    ("GET", "/pets/dog/1", "exact", {}),
    ("GET", "/pets/dog/2", "dog-by-id", {"id": "2"}),
    ("DELETE", "/pets/dog/2", "any-dog", {"id": "2"}),
    ("GET", "/pets/cat/2/toys", "pets-greedy", {"proxy": "cat/2/toys"}),
    ("GET", "/pets", "catch-all", {"proxy": "pets"}),
    ("POST", "/pets", "create", {}),
    ("POST", "/pets/", "create", {}),
    ("GET", "/", "root", {}),
    ("PUT", "/anything/at/all", "catch-all", {"proxy": "anything/at/all"}),
    ("GET", "/pets/dog/a%2Fb", "dog-by-id", {"id": "a/b"}),
    ("GET", "/pets/dog/caf%C3%A9", "dog-by-id", {"id": "café"}),
])
def test_the_most_specific_route_wins(method: str, path: str, function: str,
                                      parameters: dict[str, str]) -> None:
    # Given routes that overlap (literal, {param}, {proxy+}, ANY)
    # When a request is matched
    found = TABLE.match(method, path)
    # Then the most specific route answers, with the path's parameters decoded
    assert found is not None
    assert found.route.function == function
    assert found.path_parameters == parameters


def test_a_greedy_parameter_needs_at_least_one_segment() -> None:
    table = RouteTable([Route("ANY", "/files/{proxy+}", "files")])
    assert table.match("GET", "/files") is None
    assert table.match("GET", "/files/a") is not None
    assert RouteTable([Route("ANY", "/{proxy+}", "all")]).match("GET", "/") is None


def test_method_and_path_must_both_fit() -> None:
    table = RouteTable([Route("POST", "/orders", "create"), Route("GET", "/orders/{id}", "get")])
    assert table.match("GET", "/orders") is None
    assert table.match("GET", "/orders/1/items") is None
    assert table.match("HEAD", "/orders/1") is None


def test_unmatched_requests_are_answered_by_the_api_their_path_is_closest_to() -> None:
    # Given a REST route under /legacy and HTTP API routes elsewhere
    table = RouteTable([Route("GET", "/legacy/{id}", "legacy", payload_format="1.0"),
                        Route("GET", "/items/{id}", "items")])
    # Then a miss under /legacy is the REST API's, any other the HTTP API's
    assert table.unmatched_format("/legacy/1/deeper") == "1.0"
    assert table.unmatched_format("/items") == "2.0"
    assert table.unmatched_format("/elsewhere") == "2.0"
    # And with only REST routes, every miss is the REST API's
    assert RouteTable([Route("GET", "/a", "a", payload_format="1.0")]).unmatched_format(
        "/b") == "1.0"
    assert RouteTable([]).unmatched_format("/") == "2.0"


def test_the_table_is_read_from_deployed_functions() -> None:
    # Given a function with an http event among other events
    function = FunctionConfig(name="thumbs", handler="app.handler", code_sha256="0" * 64,
                              events=[{"s3": {"bucket": "b"}},
                                      {"http": {"method": "get", "path": "/thumbs/{id}",
                                                "payload_format": "1.0"}},
                                      {"http": {"method": "ANY", "path": "/thumbs"}}])
    # When the table is built
    table = RouteTable.of([function])
    # Then each http event is a route
    assert table.describe() == [
        {"route": "ANY /thumbs", "function": "thumbs", "payload_format": "2.0"},
        {"route": "GET /thumbs/{id}", "function": "thumbs", "payload_format": "1.0"},
    ]
    assert table.routes[0].route_key == "GET /thumbs/{id}"


def test_the_described_routes_say_what_guards_them() -> None:
    # Given a route with an API key, a TOKEN authorizer and CORS, and a bare one
    guarded = RouteTable.of([FunctionConfig(name="f", handler="app.handler", code_sha256="x",
                                            events=[{"http": {
        "method": "GET", "path": "/a", "payload_format": "1.0",
        "auth": {"api_key_required": True,
                 "authorizer": {"function": "authz", "type": "TOKEN"}},
        "usage_plan": {"api_keys": ["k" * 20]}, "cors": {"allow_origins": ["*"]}}},
        {"http": {"method": "GET", "path": "/b"}}])])
    # When they are described
    described = guarded.describe()
    # Then the guarded one says so, and the bare one has no `access`
    assert described[0]["access"] == "api key, authorizer authz (TOKEN), cors"
    assert "access" not in described[1]

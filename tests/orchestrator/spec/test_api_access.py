"""The `auth`, `usage_plan`, `throttle` and `cors` fields of an `http` event: what loads,
and the SpecError each mistake gets."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from orchestrator.errors import SpecError
from orchestrator.spec import load_spec

KEY = "a-key-of-twenty-chars-or-more"


def spec_with(tmp_path: Path, **http: Any) -> Path:
    (tmp_path / "api").mkdir(exist_ok=True)
    route = {"method": "GET", "path": "/items/{id}", **http}
    spec = {"functions": {"api": {"handler": "app.handler", "code": "./api",
                                  "events": [{"http": route}]},
                          "authz": {"handler": "app.handler", "code": "./api"}}}
    path = tmp_path / "ripple.yaml"
    path.write_text(yaml.safe_dump(spec))
    return path


def test_a_rest_route_with_every_access_field_loads(tmp_path: Path) -> None:
    # Given a REST route with an API key, a plan, a throttle, an authorizer and CORS
    spec = load_spec(spec_with(
        tmp_path, payload_format="1.0",
        auth={"api_key_required": True, "authorizer": {
            "function": "authz", "type": "TOKEN", "identity": {"reauthorize_every": 60}}},
        usage_plan={"api_keys": [KEY], "throttle": {"rate_limit": 10, "burst_limit": 20}},
        throttle={"rate_limit": 100, "burst_limit": 200},
        cors={"allow_origins": ["https://app.example"], "allow_credentials": True}))
    # Then every field is there, with SAM's defaults where none was given
    http = spec.functions["api"].events[0].http
    assert http is not None and http.auth is not None and http.auth.authorizer is not None
    assert http.auth.authorizer.identity.headers == ["Authorization"]
    assert http.auth.authorizer.identity.reauthorize_every == 60
    assert http.usage_plan is not None and http.usage_plan.api_keys == [KEY]
    assert http.cors is not None and http.cors.allow_methods == ["*"]


def test_an_http_route_with_a_jwt_authorizer_loads(tmp_path: Path) -> None:
    spec = load_spec(spec_with(tmp_path, auth={"authorizer": {
        "jwt": {"issuer": "https://issuer.example", "audience": ["api"]},
        "scopes": ["read"]}}))
    http = spec.functions["api"].events[0].http
    assert http is not None and http.auth is not None and http.auth.authorizer is not None
    assert http.auth.authorizer.jwt is not None
    assert http.auth.authorizer.jwt.jwks_uri is None  # found by OpenID discovery


@pytest.mark.parametrize(("http", "field", "words"), [
    ({"auth": {"api_key_required": True}, "usage_plan": {"api_keys": [KEY]}},
     "http", "HTTP APIs have no API keys"),
    ({"payload_format": "1.0", "auth": {"api_key_required": True}},
     "http", "needs a usage_plan"),
    ({"payload_format": "1.0", "usage_plan": {"api_keys": [KEY]}},
     "http", "needs auth.api_key_required: true"),
    ({"payload_format": "1.0", "auth": {"api_key_required": True},
      "usage_plan": {"api_keys": ["short"]}},
     "http.usage_plan.api_keys[0]", "20-128 characters"),
    ({"payload_format": "1.0", "auth": {"authorizer": {"jwt": {
        "issuer": "https://i.example", "audience": ["a"]}}}},
     "http", "a jwt authorizer needs an HTTP API"),
    ({"auth": {"authorizer": {"function": "authz", "type": "TOKEN"}}},
     "http", "TOKEN authorizers belong to REST APIs"),
    ({"auth": {"authorizer": {"identity": {}}}},
     "http.auth.authorizer", "exactly one of function"),
    ({"auth": {"authorizer": {"function": "authz", "identiy": {}}}},
     "http.auth.authorizer.identiy", "did you mean 'identity'?"),
    ({"payload_format": "1.0", "auth": {"authorizer": {
        "function": "authz", "identity": {"validation_expression": "Bearer .+"}}}},
     "http.auth.authorizer", "belongs to a TOKEN authorizer"),
    ({"payload_format": "1.0", "auth": {"authorizer": {
        "function": "authz", "type": "TOKEN", "identity": {"validation_expression": "(["}}}},
     "http.auth.authorizer.identity.validation_expression", "is not a regular expression"),
    ({"payload_format": "1.0", "auth": {"api_key_required": True},
      "usage_plan": {"api_keys": [KEY], "key_source": "AUTHORIZER"}},
     "http", "key_source AUTHORIZER needs a Lambda authorizer"),
    ({"throttle": {"rate_limit": 0, "burst_limit": 1}},
     "http.throttle.rate_limit", "greater than 0"),
    ({"cors": {"allow_origins": ["*"], "allow_credentials": True}},
     "http.cors", "allow_credentials needs named origins"),
    ({"cors": {"allow_origins": ["app.example"]}},
     "http.cors.allow_origins", "is not an origin"),
])
def test_each_mistake_is_named(tmp_path: Path, http: dict[str, Any], field: str,
                               words: str) -> None:
    # Given a route whose access fields break one of API Gateway's rules
    # When the spec is loaded
    with pytest.raises(SpecError) as raised:
        load_spec(spec_with(tmp_path, **http))
    # Then the error names the field and says what to do
    assert raised.value.field == f"functions.api.events[0].{field}"
    assert words in str(raised.value)

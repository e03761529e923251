"""docker-compose.yml: valid YAML, valid against the Compose spec's JSON schema (vendored beside
this test with its licence, from docker-compose 1.29.2), and wired as ripple needs it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
SCHEMA = Path(__file__).with_name("compose_spec.json")


def _compose() -> dict[str, Any]:
    loaded = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    assert isinstance(loaded, dict)
    return loaded


def _validate(document: object) -> None:
    schema = json.loads(SCHEMA.read_text())
    jsonschema.Draft7Validator(schema).validate(document)


def test_compose_file_is_valid_against_the_compose_spec() -> None:
    # Given the repository's compose file, When it is parsed and validated, Then it passes.
    _validate(_compose())


def test_the_schema_refuses_what_compose_would_refuse() -> None:
    # Given a service with a key Compose does not know, When validated, Then it is refused
    # (the check can fail).
    document = _compose()
    document["services"]["worker"]["replicaz"] = 2
    with pytest.raises(jsonschema.ValidationError):
        _validate(document)


def test_workers_and_endpoint_share_the_token_and_workers_send_task_events() -> None:
    # Given the compose file, When its services' environments are read
    services = _compose()["services"]
    endpoint, worker = services["endpoint"]["environment"], services["worker"]["environment"]
    # Then both carry the same required token, and workers send task events (for Flower)
    assert endpoint["RIPPLE_TOKEN"] == worker["RIPPLE_TOKEN"]
    assert endpoint["RIPPLE_TOKEN"].startswith("${RIPPLE_TOKEN:?")
    assert worker["RIPPLE_TASK_EVENTS"] == "true"
    # And Jaeger runs only under the tracing profile, and the endpoint forwards to its OTLP/HTTP
    # port unless told otherwise, so `--profile tracing` alone shows ripple's spans in Jaeger
    assert services["jaeger"]["profiles"] == ["tracing"]
    assert endpoint["RIPPLE_OTLP_FORWARD"] == "${RIPPLE_OTLP_FORWARD:-http://jaeger:4318}"

"""Warm botocore in the template: the lazily imported modules and the parsed service models
of the services ripple serves, shared with every child through one data loader."""

from __future__ import annotations

from typing import Any

import botocore.loaders
import botocore.session

SERVICES = ("lambda", "dynamodb", "s3")
_loader: botocore.loaders.Loader | None = None


def botocore_session(session: botocore.session.Session) -> None:
    """Create one client per service (no connection is made) and keep the session's loader."""
    global _loader
    for service in SERVICES:
        session.create_client(service, region_name="us-east-1", endpoint_url="http://127.0.0.1:9",
                              aws_access_key_id="warm", aws_secret_access_key="warm")
    _loader = session.get_component("data_loader")


def share_loader() -> None:
    """New botocore sessions in this process reuse the warm loader (unless AWS_DATA_PATH
    points elsewhere): its models are parsed already."""
    original = botocore.session.create_loader

    def create_loader(search_path_string: Any = None) -> Any:
        if search_path_string is None and _loader is not None:
            return _loader
        return original(search_path_string)

    botocore.session.create_loader = create_loader


def opentelemetry() -> None:
    """Run the lazy imports of what each child configures: the exporter's HTTP transport, the
    SDK's resource detection, the instrumentation's per-service extensions."""
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.instrumentation.botocore.extensions import (  # noqa: F401
        dynamodb,
        lmbd,
    )
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider

    exporter = OTLPSpanExporter(endpoint="http://127.0.0.1:9/v1/traces")
    # shutdown has no annotations upstream (opentelemetry-exporter-otlp-proto-http).
    exporter.shutdown()  # type: ignore[no-untyped-call]
    TracerProvider(resource=Resource.create({"service.name": "warm"}), shutdown_on_exit=False)

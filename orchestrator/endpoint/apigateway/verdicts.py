"""What an authorizer decided about one request."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from orchestrator.endpoint.apigateway.responses import Failure


@dataclass(frozen=True)
class Verdict:
    """`failure` is None when the request may go on; `authorizer` is then what the function
    finds in `requestContext.authorizer`. `headers` go on the gateway's answer."""

    failure: Failure | None = None
    authorizer: dict[str, Any] | None = None
    headers: list[tuple[str, str]] = field(default_factory=list)
    usage_key: str | None = None  # a REST authorizer's `usageIdentifierKey`


ALLOW = Verdict()

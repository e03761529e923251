"""Which simulated service a request is for, picked the way AWS's endpoints pick it: from the
SigV4 credential scope, or from `X-Amz-Target`."""

from __future__ import annotations

from collections.abc import Mapping

from starlette.types import ASGIApp, Receive, Scope, Send


def service_of(headers: Mapping[bytes, bytes], query: bytes = b"") -> str | None:
    """`s3`, `dynamodb`, `lambda`, … as the request's signature names it; None if unsigned."""
    target = headers.get(b"x-amz-target", b"")
    if target.startswith(b"DynamoDB_"):
        return "dynamodb"
    authorization = headers.get(b"authorization", b"")
    if b"Credential=" in authorization:
        scope = authorization.split(b"Credential=", 1)[1].split(b",", 1)[0].split(b"/")
        if len(scope) >= 4:
            return scope[3].decode()
    if b"AWSAccessKeyId=" in query or authorization.startswith(b"AWS "):
        return "s3"  # Signature Version 2: only S3 still speaks it (boto3's presigned URLs)
    if b"X-Amz-Credential=" in query:  # presigned URL
        credential = query.split(b"X-Amz-Credential=", 1)[1].split(b"&", 1)[0]
        parts = credential.replace(b"%2F", b"/").split(b"/")
        if len(parts) >= 4:
            return parts[3].decode()
    return None


class ServiceRouter:
    """Sends each request to the service app its signature names, else to the default app."""

    def __init__(self, default: ASGIApp, services: Mapping[str, ASGIApp]) -> None:
        self.default = default
        self.services = dict(services)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and self.services:
            name = service_of(dict(scope["headers"]), scope.get("query_string", b""))
            app = self.services.get(name or "")
            if app is not None:
                await app(scope, receive, send)
                return
        await self.default(scope, receive, send)

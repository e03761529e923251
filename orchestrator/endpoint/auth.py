"""Loopback clients are trusted; any other client must present ripple's token.

A plain ASGI middleware: Starlette's BaseHTTPMiddleware costs a task group and a stream per
request, which shows on a millisecond invoke path.
"""

from __future__ import annotations

import hmac
import ipaddress
import json

from starlette.types import ASGIApp, Receive, Scope, Send

OPEN_PATHS = ("/_ripple/health",)


def is_loopback(host: str | None) -> bool:
    if host is None:
        return False
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"


def presented_token(headers: dict[bytes, bytes]) -> str | None:
    """`Authorization: Bearer T`, `X-Ripple-Token: T`, or T as the SigV4 access key id."""
    if token := headers.get(b"x-ripple-token"):
        return token.decode()
    authorization = headers.get(b"authorization", b"").decode()
    if authorization.startswith("Bearer "):
        return authorization.removeprefix("Bearer ")
    if "Credential=" in authorization:
        return authorization.split("Credential=", 1)[1].split("/", 1)[0]
    return None


class TokenGuard:
    def __init__(self, app: ASGIApp, token: str | None) -> None:
        self.app = app
        self.token = token

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or self._allowed(scope):
            await self.app(scope, receive, send)
            return
        why = ("set RIPPLE_TOKEN on the endpoint and send it" if not self.token
               else "send the endpoint's token")
        body = json.dumps({"Type": "User", "message": f"Access denied: {why}."}).encode()
        await send({"type": "http.response.start", "status": 403, "headers": [
            (b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
            (b"x-amzn-errortype", b"AccessDeniedException")]})
        await send({"type": "http.response.body", "body": body})

    def _allowed(self, scope: Scope) -> bool:
        client = scope.get("client")
        return scope["path"] in OPEN_PATHS or allows(
            client[0] if client else None, presented_token(dict(scope["headers"])), self.token)


def allows(host: str | None, given: str | None, token: str | None) -> bool:
    """Whether a client at `host` that presented `given` may in: one on loopback always, any
    other only with the endpoint's token (HTTP here, and the OTLP/gRPC receiver)."""
    if is_loopback(host):
        return True
    return bool(token and given and hmac.compare_digest(given, token))

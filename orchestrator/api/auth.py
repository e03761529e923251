"""Loopback clients are trusted; any other client must present ripple's token."""

from __future__ import annotations

import hmac
import ipaddress

from fastapi import Request
from fastapi.responses import JSONResponse
from starlette.middleware.base import BaseHTTPMiddleware, RequestResponseEndpoint
from starlette.responses import Response

OPEN_PATHS = ("/_ripple/health",)


def is_loopback(host: str | None) -> bool:
    if host is None:
        return False
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"


def presented_token(request: Request) -> str | None:
    """`Authorization: Bearer T`, `X-Ripple-Token: T`, or T as the SigV4 access key id."""
    if token := request.headers.get("x-ripple-token"):
        return token
    authorization = request.headers.get("authorization", "")
    if authorization.startswith("Bearer "):
        return authorization.removeprefix("Bearer ")
    if "Credential=" in authorization:
        return authorization.split("Credential=", 1)[1].split("/", 1)[0]
    return None


class TokenGuard(BaseHTTPMiddleware):
    def __init__(self, app: object, token: str | None) -> None:
        super().__init__(app)  # type: ignore[arg-type]
        self.token = token

    async def dispatch(self, request: Request, call_next: RequestResponseEndpoint) -> Response:
        client = request.client.host if request.client else None
        if is_loopback(client) or request.url.path in OPEN_PATHS:
            return await call_next(request)
        given = presented_token(request)
        if self.token and given and hmac.compare_digest(given, self.token):
            return await call_next(request)
        why = ("set RIPPLE_TOKEN on the endpoint and send it" if not self.token
               else "send the endpoint's token")
        return JSONResponse({"Type": "User", "message": f"Access denied: {why}."},
                            status_code=403, headers={"x-amzn-ErrorType": "AccessDeniedException"})

"""An HTTP API's JWT authorizer: the token from the identity source (`Bearer ` dropped) must
be signed with an RSA key of the issuer's JWKS, not expired, from `issuer`, for one of the
`audience`s, and hold one of the route's `scopes` when it names any.

The JWKS comes from `jwks_uri`, else from the issuer's OpenID discovery document, and is
kept five minutes; a token signed with a key id not in it fetches it once more (keys
rotate). PyJWT checks signatures and claims: it is the well-kept standard for this, and its
`PyJWKSet` reads a JWKS as served.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

import httpx
import jwt

from orchestrator.endpoint.apigateway.responses import Failure
from orchestrator.endpoint.apigateway.verdicts import Verdict
from orchestrator.events.apigateway import HttpRequest
from orchestrator.spec.api_access import Authorizer, Jwt

log = logging.getLogger("ripple.apigateway")
ALGORITHMS = ["RS256", "RS384", "RS512"]  # API Gateway accepts RSA signatures only
JWKS_LIFETIME = 300.0
FETCH_TIMEOUT = 5.0


class JwksUnavailable(Exception):
    """The issuer's keys could not be fetched."""


class JwtAuthorizers:
    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self._keys: dict[str, tuple[float, jwt.PyJWKSet]] = {}

    async def authorize(self, authorizer: Authorizer, request: HttpRequest) -> Verdict:
        assert authorizer.jwt is not None
        config = authorizer.jwt
        header = authorizer.identity.headers[0] if authorizer.identity.headers else \
            "Authorization"
        token = request.header(header).strip()
        if token[:7].lower() == "bearer ":
            token = token[7:].strip()
        if not token:
            return Verdict(Failure.UNAUTHORIZED)
        try:
            claims = await self._verified(config, token)
        except jwt.PyJWTError as error:
            return _invalid(str(error))
        except JwksUnavailable as error:
            log.warning("JWT authorizer for %s: %s", config.issuer, error)
            return Verdict(Failure.UNAUTHORIZED)
        granted = _scopes(claims)
        if authorizer.scopes and not set(authorizer.scopes) & set(granted):
            return Verdict(Failure.FORBIDDEN, headers=[(
                "www-authenticate", 'Bearer error="insufficient_scope", '
                f'scope="{" ".join(authorizer.scopes)}"')])
        return Verdict(None, {"jwt": {"claims": {name: _claim(value)
                                                 for name, value in claims.items()},
                                      "scopes": granted or None}})

    async def _verified(self, config: Jwt, token: str) -> dict[str, Any]:
        kid = jwt.get_unverified_header(token).get("kid")
        key = await self._key(config, kid)
        claims: dict[str, Any] = jwt.decode(
            token, key.key, algorithms=ALGORITHMS, audience=config.audience,
            issuer=config.issuer, options={"require": ["exp", "iss"]}, leeway=0)
        return claims

    async def _key(self, config: Jwt, kid: str | None) -> jwt.PyJWK:
        uri = config.jwks_uri or await _discover(config.issuer)
        for fresh in (False, True):
            keys = await self._jwks(uri, fresh)
            found = [key for key in keys.keys if kid is None or key.key_id == kid]
            if found:
                return found[0]
        raise jwt.InvalidKeyError(f"no key {kid!r} in the issuer's JWKS")

    async def _jwks(self, uri: str, fresh: bool) -> jwt.PyJWKSet:
        kept = self._keys.get(uri)
        if kept and not fresh and kept[0] > self.clock():
            return kept[1]
        document = await _fetch(uri)
        try:
            keys = jwt.PyJWKSet.from_dict(document)
        except jwt.PyJWTError as error:
            raise JwksUnavailable(f"{uri} is not a JWKS: {error}") from None
        self._keys[uri] = (self.clock() + JWKS_LIFETIME, keys)
        return keys


async def _discover(issuer: str) -> str:
    document = await _fetch(issuer.rstrip("/") + "/.well-known/openid-configuration")
    uri = document.get("jwks_uri")
    if not isinstance(uri, str):
        raise JwksUnavailable(f"{issuer}'s OpenID configuration names no jwks_uri")
    return uri


async def _fetch(url: str) -> dict[str, Any]:
    try:
        async with httpx.AsyncClient(timeout=FETCH_TIMEOUT) as client:
            answer = await client.get(url)
            answer.raise_for_status()
            document = answer.json()
    except (httpx.HTTPError, ValueError) as error:
        raise JwksUnavailable(f"cannot fetch {url}: {error}") from None
    if not isinstance(document, dict):
        raise JwksUnavailable(f"{url} did not answer a JSON object")
    return document


def _scopes(claims: dict[str, Any]) -> list[str]:
    scopes = claims.get("scope", claims.get("scp", ""))
    return scopes.split() if isinstance(scopes, str) else [str(scope) for scope in scopes]


def _claim(value: Any) -> Any:
    """Claims as an HTTP API hands them on: lists as `[a b]`, the rest as they are."""
    return f"[{' '.join(map(str, value))}]" if isinstance(value, list) else value


def _invalid(reason: str) -> Verdict:
    return Verdict(Failure.UNAUTHORIZED, headers=[(
        "www-authenticate", f'Bearer error="invalid_token", error_description="{reason}"')])

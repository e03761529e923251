"""Who may call a route and how often: the `auth`, `usage_plan`, `throttle` and `cors` fields
of an `http` event, named after SAM's (`Auth`, `ApiKeyRequired`, `UsagePlan`, `Cors`) in the
spec's snake case, so a SAM template maps onto them one to one.

API keys and usage plans exist only on REST APIs (payload format 1.0), JWT authorizers and
simple authorizer responses only on HTTP APIs (2.0), as on AWS; the wrong kind is an error.
"""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictInt,
    model_validator,
)

from orchestrator.spec.fields import FunctionName, _between, _problem, _unique


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


def _api_key(value: str) -> str:
    if not 20 <= len(value) <= 128:
        raise _problem(f"an API key is 20-128 characters, as API Gateway requires (got "
                       f"{len(value)})")
    return value


def _pattern(expression: str) -> str:
    try:
        re.compile(expression)
    except re.error as error:
        raise _problem(f"{expression!r} is not a regular expression: {error}") from None
    return expression


def _origins(origins: list[str]) -> list[str]:
    for origin in origins:
        if origin != "*" and "://" not in origin:
            raise _problem(f"{origin!r} is not an origin: write scheme://host[:port] or '*'")
    return origins


class Identity(_Strict):
    """Where the caller's identity is read, and how long an authorizer's answer for it is
    cached (SAM's `Identity`: Headers, QueryStrings, ReauthorizeEvery; 0 turns caching off)."""

    headers: list[str] = Field(default_factory=lambda: ["Authorization"])
    query_strings: list[str] = Field(default_factory=list)
    reauthorize_every: Annotated[StrictInt, AfterValidator(_between(0, 3600))] = 300
    # TOKEN only: a token this regular expression does not match is refused (401) unasked.
    validation_expression: Annotated[str, AfterValidator(_pattern)] | None = None


class Jwt(_Strict):
    """An HTTP API's JWT authorizer (SAM's `JwtConfiguration`): tokens signed by a key of
    the issuer's JWKS, for one of the audiences."""

    issuer: str
    audience: Annotated[list[str], AfterValidator(_unique)] = Field(min_length=1)
    jwks_uri: str | None = None  # default: the issuer's /.well-known/openid-configuration


class Authorizer(_Strict):
    """A Lambda authorizer (`function`) or a JWT authorizer (`jwt`), exactly one."""

    function: FunctionName | None = None
    type: Literal["REQUEST", "TOKEN"] = "REQUEST"  # SAM's FunctionPayloadType
    simple_responses: StrictBool = True  # HTTP API: {"isAuthorized": …, "context": …}
    jwt: Jwt | None = None
    scopes: list[str] = Field(default_factory=list)  # JWT: AuthorizationScopes
    identity: Identity = Field(default_factory=Identity)

    @model_validator(mode="after")
    def _one_kind(self) -> Authorizer:
        if (self.function is None) == (self.jwt is None):
            raise _problem("needs exactly one of function (a Lambda authorizer) or jwt")
        if self.type == "TOKEN" and len(self.identity.headers) != 1:
            raise _problem("a TOKEN authorizer reads exactly one header (identity.headers)")
        if self.identity.validation_expression is not None and self.type != "TOKEN":
            raise _problem("identity.validation_expression belongs to a TOKEN authorizer")
        if self.scopes and self.jwt is None:
            raise _problem("scopes belong to a jwt authorizer")
        return self


class HttpAuth(_Strict):
    api_key_required: StrictBool = False
    authorizer: Authorizer | None = None


class Throttle(_Strict):
    """Steady requests per second and the burst above it (a token bucket), as API Gateway's
    `RateLimit`/`BurstLimit` (`ThrottlingRateLimit`/`ThrottlingBurstLimit` on HTTP APIs)."""

    rate_limit: float = Field(gt=0)
    burst_limit: Annotated[StrictInt, Field(ge=1)]


class Quota(_Strict):
    """Requests each key may make per calendar period (UTC), as a usage plan's `Quota`."""

    limit: Annotated[StrictInt, Field(ge=1)]
    period: Literal["DAY", "WEEK", "MONTH"]


class UsagePlan(_Strict):
    """The API keys a REST route accepts, and the throttle and quota applied to each key."""

    api_keys: Annotated[list[Annotated[str, AfterValidator(_api_key)]],
                        AfterValidator(_unique)] = Field(min_length=1)
    throttle: Throttle | None = None
    quota: Quota | None = None
    # Where the key comes from (SAM's ApiKeySourceType): the x-api-key header, or the Lambda
    # authorizer's `usageIdentifierKey`.
    key_source: Literal["HEADER", "AUTHORIZER"] = "HEADER"


class Cors(_Strict):
    """What the stage answers a CORS preflight with (SAM's `Cors` / `CorsConfiguration`)."""

    allow_origins: Annotated[list[str], AfterValidator(_origins)] = Field(min_length=1)
    allow_methods: list[str] = Field(default_factory=lambda: ["*"])
    allow_headers: list[str] = Field(default_factory=list)
    expose_headers: list[str] = Field(default_factory=list)
    max_age: Annotated[StrictInt, AfterValidator(_between(0, 86_400))] | None = None
    allow_credentials: StrictBool = False

    @model_validator(mode="after")
    def _credentials(self) -> Cors:
        if self.allow_credentials and "*" in self.allow_origins:
            raise _problem("allow_credentials needs named origins, not '*' (browsers refuse "
                           "credentials for any origin)")
        return self


ACCESS_MODELS = (Identity, Jwt, Authorizer, HttpAuth, Throttle, Quota, UsagePlan, Cors)


def check_access(payload_format: str, auth: HttpAuth | None, usage_plan: UsagePlan | None) -> None:
    """The rules between an `http` event's fields; raises the spec's problem."""
    rest = payload_format == "1.0"
    key_required = auth is not None and auth.api_key_required
    if key_required and not rest:
        raise _problem("auth.api_key_required needs a REST API (payload_format: '1.0'); HTTP "
                       "APIs have no API keys")
    if key_required and usage_plan is None:
        raise _problem("auth.api_key_required needs a usage_plan listing the api_keys")
    if usage_plan is not None and not key_required:
        raise _problem("usage_plan needs auth.api_key_required: true (a plan meters requests "
                       "by their API key)")
    authorizer = auth.authorizer if auth else None
    if usage_plan is not None and usage_plan.key_source == "AUTHORIZER" and (
            authorizer is None or authorizer.function is None):
        raise _problem("usage_plan.key_source AUTHORIZER needs a Lambda authorizer (auth."
                       "authorizer.function) that answers usageIdentifierKey")
    if authorizer is None:
        return
    if authorizer.jwt is not None and rest:
        raise _problem("a jwt authorizer needs an HTTP API (payload_format: '2.0'); a REST API "
                       "uses a Lambda authorizer")
    if authorizer.type == "TOKEN" and not rest:
        raise _problem("TOKEN authorizers belong to REST APIs (payload_format: '1.0'); HTTP "
                       "APIs use REQUEST")

"""`AWS::Serverless::HttpApi` and `Api` (and their Globals): what ripple's stage takes from them,
their CORS configuration and their Lambda and JWT authorizers, carried onto every route of the
API as the http event's `cors` and `auth`. Anything else an API says that changes answers (API
keys, whose values AWS makes; definitions) is named as unsupported."""

from __future__ import annotations

from typing import Any

from orchestrator.errors import SpecError

# Properties that change nothing of what ripple's one stage answers.
IGNORED = {"StageName", "Name", "Description", "Tags", "PropagateTags", "TracingEnabled",
           "AccessLogSettings", "MethodSettings", "EndpointConfiguration", "OpenApiVersion",
           "DisableExecuteApiEndpoint", "FailOnWarnings", "DefaultRouteSettings"}
IMPLICIT = {"HttpApi": "ServerlessHttpApi", "Api": "ServerlessRestApi"}  # SAM's own ids


def api_cors(file: str, at: str, kind: str, properties: dict[str, Any]) -> dict[str, Any] | None:
    """The spec's `cors` for an API's routes (None without one); refuses what ripple lacks."""
    cors_key = "CorsConfiguration" if kind == "HttpApi" else "Cors"
    unknown = sorted(set(properties) - IGNORED - {cors_key, "Auth"})
    if unknown:
        raise SpecError(file, f"{at}.{unknown[0]}", f"{', '.join(unknown)}: not supported by "
                        "ripple's stage (it serves the functions' HttpApi and Api events; "
                        "write usage_plan on ripple.yaml's http events)")
    given = properties.get(cors_key)
    if given is None or given is False:
        return None
    at = f"{at}.{cors_key}"
    if kind == "HttpApi":
        return _http_api(file, at, given)
    return _rest_api(file, at, given)


def _http_api(file: str, at: str, given: Any) -> dict[str, Any]:
    if given is True:
        return {"allow_origins": ["*"], "allow_methods": ["*"], "allow_headers": ["*"]}
    fields = {"AllowOrigins": "allow_origins", "AllowMethods": "allow_methods",
              "AllowHeaders": "allow_headers", "ExposeHeaders": "expose_headers",
              "MaxAge": "max_age", "AllowCredentials": "allow_credentials"}
    return _fields(file, at, given, fields, lambda value: value)


def _rest_api(file: str, at: str, given: Any) -> dict[str, Any]:
    if isinstance(given, str):
        given = {"AllowOrigin": given}
    fields = {"AllowOrigin": "allow_origins", "AllowMethods": "allow_methods",
              "AllowHeaders": "allow_headers", "MaxAge": "max_age",
              "AllowCredentials": "allow_credentials"}

    def unquote(value: Any) -> Any:  # REST APIs write header values quoted: "'GET,POST'"
        if not isinstance(value, str):
            return value
        text = value.strip().strip("'")
        return int(text) if text.isdigit() else [part.strip() for part in text.split(",")]

    return _fields(file, at, given, fields, unquote)


def _fields(file: str, at: str, given: Any, fields: dict[str, str],
            convert: Any) -> dict[str, Any]:
    if not isinstance(given, dict):
        raise SpecError(file, at, "must be a mapping (or true)")
    unknown = sorted(set(given) - set(fields))
    if unknown:
        raise SpecError(file, f"{at}.{unknown[0]}", f"not a CORS setting ripple reads "
                        f"({', '.join(fields)})")
    return {fields[key]: convert(value) for key, value in given.items()}


def api_auth(file: str, at: str, kind: str,
             properties: dict[str, Any]) -> tuple[str | None, dict[str, dict[str, Any]]]:
    """An API's default authorizer and its authorizers, each as the spec's `authorizer`."""
    auth = properties.get("Auth") or {}
    at = f"{at}.Auth"
    unknown = sorted(set(auth) - {"Authorizers", "DefaultAuthorizer",
                                  "EnableIamAuthorizer", "AddDefaultAuthorizerToCorsPreflight"})
    if unknown:
        raise SpecError(file, f"{at}.{unknown[0]}", f"{', '.join(unknown)}: not supported by "
                        "ripple's SAM reading (API keys' values are AWS's to make: write "
                        "auth.api_key_required and usage_plan in a ripple.yaml)")
    authorizers = {name: _authorizer(file, f"{at}.Authorizers.{name}", kind, given or {})
                   for name, given in (auth.get("Authorizers") or {}).items()}
    default = auth.get("DefaultAuthorizer")
    if default is not None and default not in authorizers:
        raise SpecError(file, f"{at}.DefaultAuthorizer", f"{default!r} is not one of "
                        "Authorizers")
    return default, authorizers


def _authorizer(file: str, at: str, kind: str, given: dict[str, Any]) -> dict[str, Any]:
    identity = given.get("Identity") or {}
    result: dict[str, Any] = {}
    if "JwtConfiguration" in given:
        jwt = given["JwtConfiguration"]
        audience = jwt.get("audience", [])
        result["jwt"] = {"issuer": jwt.get("issuer"),
                         "audience": [audience] if isinstance(audience, str) else audience}
        source = str(given.get("IdentitySource", "$request.header.Authorization"))
        identity = {"Headers": [source.rsplit(".", 1)[-1]]}
    elif ":function:" in str(given.get("FunctionArn", "")):
        arn = str(given["FunctionArn"])
        result["function"] = arn.split(":function:", 1)[1].split(":", 1)[0]
        if kind == "Api":
            result["type"] = given.get("FunctionPayloadType", "TOKEN")
        else:
            result["simple_responses"] = bool(given.get("EnableSimpleResponses", False))
    else:
        raise SpecError(file, at, "ripple runs Lambda authorizers (FunctionArn: !GetAtt Fn.Arn) "
                                  "and JWT authorizers (JwtConfiguration) only")
    headers = identity.get("Headers") or ([identity["Header"]] if "Header" in identity
                                          else ["Authorization"])
    result["identity"] = {"headers": headers,
                          "query_strings": identity.get("QueryStrings") or [],
                          "reauthorize_every": identity.get("ReauthorizeEvery", 300)}
    return result

"""An `AWS::Serverless::Function` (with the template's Globals) as a function of ripple.yaml:
its properties, event sources and invoke configuration, each unsupported one named."""

from __future__ import annotations

from typing import Any

from orchestrator.errors import SpecError
from orchestrator.spec.sam.intrinsics import Names, resolve

# Property -> the field of ripple.yaml it becomes (where errors about that field point).
FIELDS = {"CodeUri": "code", "Handler": "handler", "Runtime": "runtime",
          "MemorySize": "memory", "Timeout": "timeout", "Environment": "environment",
          "ReservedConcurrentExecutions": "reserved_concurrency",
          "Architectures": "architecture", "Events": "events"}
# Accepted and without effect in ripple: permissions are recorded, not enforced.
IGNORED = {"FunctionName", "Description", "Policies", "Role", "Tracing", "Tags",
           "LoggingConfig", "PackageType", "EventInvokeConfig", "AutoPublishAlias",
           "PermissionsBoundary", "RolePath", "PropagateTags", "VersionDescription"}
STREAM_FIELDS = {"StartingPosition": "starting_position", "BatchSize": "batch_size",
                 "MaximumBatchingWindowInSeconds": "batching_window",
                 "MaximumRetryAttempts": "maximum_retry_attempts",
                 "MaximumRecordAgeInSeconds": "maximum_record_age",
                 "BisectBatchOnFunctionError": "bisect_batch_on_function_error",
                 "ParallelizationFactor": "parallelization_factor"}


def with_globals(properties: dict[str, Any], defaults: dict[str, Any]) -> dict[str, Any]:
    """SAM's Globals.Function under the function's own properties (variables merged by name)."""
    merged = {**defaults, **properties}
    variables = {**defaults.get("Environment", {}).get("Variables", {}),
                 **properties.get("Environment", {}).get("Variables", {})}
    if variables:
        merged["Environment"] = {"Variables": variables}
    return merged


def translate_function(logical: str, properties: dict[str, Any], names: Names,
                       paths: dict[str, str]) -> dict[str, Any]:
    """The ripple.yaml mapping of one function; `paths` learns spec path -> template path."""
    at = f"Resources.{logical}.Properties"
    name = names.refs[logical]
    spec_at = f"functions.{name}"
    paths[spec_at] = at
    unknown = sorted(set(properties) - set(FIELDS) - IGNORED)
    if unknown:
        raise SpecError(names.file, f"{at}.{unknown[0]}", f"{', '.join(unknown)}: not supported "
                        f"by ripple (it reads {', '.join(FIELDS)}, EventInvokeConfig)")
    props = resolve({key: value for key, value in properties.items() if key != "Events"},
                    names, at)
    if props.get("PackageType", "Zip") != "Zip":
        raise SpecError(names.file, f"{at}.PackageType", "only Zip functions run on ripple")
    code = props.get("CodeUri")
    if not isinstance(code, str):
        raise SpecError(names.file, f"{at}.CodeUri", "needs a local folder (an S3 location or "
                        "InlineCode is not supported)")
    function: dict[str, Any] = {"code": code, "handler": props.get("Handler")}
    for key, field in FIELDS.items():
        paths[f"{spec_at}.{field}"] = f"{at}.{key}"
        if key in props and key not in ("CodeUri", "Handler", "Environment", "Architectures"):
            function[field] = props[key]
    if "Environment" in props:
        function["environment"] = props["Environment"].get("Variables", {})
        paths[f"{spec_at}.environment"] = f"{at}.Environment.Variables"
    if "Architectures" in props:
        architectures = props["Architectures"]
        if not (isinstance(architectures, list) and len(architectures) == 1):
            raise SpecError(names.file, f"{at}.Architectures", "must list one architecture")
        function["architecture"] = architectures[0]
    function.update(_invoke_config(props.get("EventInvokeConfig"), names, at, spec_at, paths))
    events = properties.get("Events") or {}
    function["events"] = [_event(event_name, event, names, f"{at}.Events.{event_name}")
                          for event_name, event in events.items()]
    for index, (event_name, trigger) in enumerate(zip(events, function["events"], strict=True)):
        paths[f"{spec_at}.events[{index}]"] = f"{at}.Events.{event_name}"
        for kind in trigger:
            paths[f"{spec_at}.events[{index}].{kind}"] = f"{at}.Events.{event_name}.Properties"
    return function


def _invoke_config(config: dict[str, Any] | None, names: Names, at: str, spec_at: str,
                   paths: dict[str, str]) -> dict[str, Any]:
    if not config:
        return {}
    at = f"{at}.EventInvokeConfig"
    fields = {"MaximumRetryAttempts": "retries", "MaximumEventAgeInSeconds": "max_event_age"}
    unknown = sorted(set(config) - set(fields) - {"DestinationConfig"})
    if unknown:
        raise SpecError(names.file, f"{at}.{unknown[0]}", "not supported by ripple")
    result = {}
    for key, field in fields.items():
        paths[f"{spec_at}.{field}"] = f"{at}.{key}"
        if key in config:
            result[field] = config[key]
    destinations = config.get("DestinationConfig") or {}
    if "OnSuccess" in destinations:
        raise SpecError(names.file, f"{at}.DestinationConfig.OnSuccess",
                        "not supported by ripple (only OnFailure)")
    if "OnFailure" in destinations:
        result["on_failure"] = _failure_target(destinations["OnFailure"], names,
                                               f"{at}.DestinationConfig.OnFailure")
        paths[f"{spec_at}.on_failure"] = f"{at}.DestinationConfig.OnFailure"
    return result


def _failure_target(destination: dict[str, Any], names: Names, at: str) -> str:
    arn = str(destination.get("Destination", ""))
    if ":function:" not in arn:
        raise SpecError(names.file, f"{at}.Destination", f"{arn or 'nothing'}: ripple sends "
                        "failed events to a function of this template (!GetAtt Fn.Arn) only")
    return arn.split(":function:", 1)[1].split(":", 1)[0]


def _event(event_name: str, event: dict[str, Any], names: Names, at: str) -> dict[str, Any]:
    kind = event.get("Type")
    properties = resolve(event.get("Properties") or {}, names, f"{at}.Properties")
    at = f"{at}.Properties"
    if kind == "S3":
        return {"s3": _s3(properties, names, at)}
    if kind == "DynamoDB":
        return {"dynamodb": _stream(properties, names, at)}
    if kind in ("HttpApi", "Api"):
        return {"http": _http(kind, properties, names, at)}
    raise SpecError(names.file, at.removesuffix(".Properties") + ".Type",
                    f"event type {kind!r} is not supported by ripple (it has S3, DynamoDB, "
                    "HttpApi and Api)")


def _only(properties: dict[str, Any], allowed: set[str], names: Names, at: str) -> None:
    unknown = sorted(set(properties) - allowed)
    if unknown:
        raise SpecError(names.file, f"{at}.{unknown[0]}", f"not supported by ripple here (it "
                        f"reads {', '.join(sorted(allowed))})")


def _s3(properties: dict[str, Any], names: Names, at: str) -> dict[str, Any]:
    _only(properties, {"Bucket", "Events", "Filter"}, names, at)
    events = properties.get("Events", ["s3:ObjectCreated:*"])
    trigger = {"bucket": properties.get("Bucket"),
               "events": [events] if isinstance(events, str) else events}
    rules = (properties.get("Filter") or {}).get("S3Key", {}).get("Rules", [])
    for rule in rules:
        kind = str(rule.get("Name", "")).lower()
        if kind not in ("prefix", "suffix"):
            raise SpecError(names.file, f"{at}.Filter.S3Key.Rules",
                            "each rule's Name is prefix or suffix")
        trigger[kind] = rule.get("Value")
    return trigger


def _stream(properties: dict[str, Any], names: Names, at: str) -> dict[str, Any]:
    _only(properties, {"Stream", "FunctionResponseTypes", "DestinationConfig", "Enabled",
                       *STREAM_FIELDS}, names, at)
    arn = str(properties.get("Stream", ""))
    if ":table/" not in arn or "/stream/" not in arn:
        raise SpecError(names.file, f"{at}.Stream", f"{arn or 'nothing'}: name a table's "
                        "stream, e.g. !GetAtt MyTable.StreamArn")
    if properties.get("Enabled", True) is not True:
        raise SpecError(names.file, f"{at}.Enabled", "a disabled source is not supported")
    trigger: dict[str, Any] = {"table": arn.split(":table/", 1)[1].split("/", 1)[0]}
    trigger.update({field: properties[key] for key, field in STREAM_FIELDS.items()
                    if key in properties})
    if properties.get("FunctionResponseTypes") == ["ReportBatchItemFailures"]:
        trigger["report_batch_item_failures"] = True
    failure = (properties.get("DestinationConfig") or {}).get("OnFailure")
    if failure:
        trigger["on_failure"] = _failure_target(failure, names, f"{at}.DestinationConfig")
    return trigger


def _http(kind: str, properties: dict[str, Any], names: Names, at: str) -> dict[str, Any]:
    _only(properties, {"Path", "Method", "ApiId", "RestApiId", "PayloadFormatVersion",
                       "TimeoutInMillis", "Auth"}, names, at)
    api = properties.get("ApiId" if kind == "HttpApi" else "RestApiId",
                         "ServerlessHttpApi" if kind == "HttpApi" else "ServerlessRestApi")
    default = "2.0" if kind == "HttpApi" else "1.0"
    route = {"method": properties.get("Method"), "path": properties.get("Path"),
             "payload_format": str(properties.get("PayloadFormatVersion", default))}
    if "Path" not in properties and kind == "HttpApi":  # SAM's $default route: everything
        route.update(method="ANY", path="/{proxy+}")
    cors = names.cors.get(str(api))
    if cors:
        route["cors"] = cors
    authorizer = _route_authorizer(properties.get("Auth") or {}, str(api), names, f"{at}.Auth")
    if authorizer:
        route["auth"] = {"authorizer": authorizer}
    return route


def _route_authorizer(auth: dict[str, Any], api: str, names: Names,
                      at: str) -> dict[str, Any] | None:
    """The event's `Auth.Authorizer` (NONE for none), else its API's default authorizer."""
    _only(auth, {"Authorizer", "AuthorizationScopes"}, names, at)
    default, authorizers = names.auth.get(api, (None, {}))
    name = auth.get("Authorizer", default)
    if name is None or name == "NONE":
        return None
    if name not in authorizers:
        raise SpecError(names.file, f"{at}.Authorizer", f"{name!r} is not an authorizer of "
                        f"its API {api}")
    authorizer = dict(authorizers[name])
    if "AuthorizationScopes" in auth:
        authorizer["scopes"] = auth["AuthorizationScopes"]
    return authorizer

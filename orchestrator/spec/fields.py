"""The field types of `ripple.yaml`: names, values and limits as Lambda, S3, DynamoDB and API
Gateway accept them, each checked by a validator that says what is wrong and what to write."""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable
from typing import Annotated, Any, Literal, get_args

from pydantic import AfterValidator, BeforeValidator
from pydantic_core import PydanticCustomError

from orchestrator.functions.config import DEAD_LETTER_LIST

Runtime = Literal["python3.9", "python3.10", "python3.11", "python3.12", "python3.13",
                  "python3.14"]
RUNTIMES: tuple[str, ...] = get_args(Runtime)
# Lambda sets these itself and refuses them in a function's configuration.
RESERVED_VARIABLES = frozenset({
    "_HANDLER", "_X_AMZN_TRACE_ID", "AWS_REGION", "AWS_DEFAULT_REGION", "AWS_EXECUTION_ENV",
    "AWS_ACCESS_KEY", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
    "LAMBDA_TASK_ROOT", "LAMBDA_RUNTIME_DIR",
})
S3_EVENTS = frozenset({
    "s3:ObjectCreated:*", "s3:ObjectCreated:Put", "s3:ObjectCreated:Post",
    "s3:ObjectCreated:Copy", "s3:ObjectCreated:CompleteMultipartUpload",
    "s3:ObjectRemoved:*", "s3:ObjectRemoved:Delete", "s3:ObjectRemoved:DeleteMarkerCreated",
    "s3:ObjectRestore:*", "s3:ObjectRestore:Post", "s3:ObjectRestore:Completed",
    "s3:ObjectRestore:Delete", "s3:ObjectTagging:*", "s3:ObjectTagging:Put",
    "s3:ObjectTagging:Delete", "s3:ObjectAcl:Put", "s3:LifecycleExpiration:*",
    "s3:LifecycleExpiration:Delete", "s3:LifecycleExpiration:DeleteMarkerCreated",
    "s3:LifecycleTransition", "s3:IntelligentTiering", "s3:ReducedRedundancyLostObject",
    "s3:Replication:*",
})
_HANDLER = re.compile(r"^[A-Za-z_]\w*(?:[./][A-Za-z_]\w*)*\.[A-Za-z_]\w*$")
_BUCKET = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
_PATH_PARAMETER = re.compile(r"^\{([A-Za-z_][A-Za-z0-9_]*)(\+?)\}$")


def _problem(reason: str) -> PydanticCustomError:
    # The reason travels as context: pydantic would read braces in it (`{proxy+}`) as fields.
    return PydanticCustomError("spec", "{reason}", {"reason": reason})


def _between(low: int, high: int, *also: int) -> Callable[[int], int]:
    def check(value: int) -> int:
        if not (low <= value <= high or value in also):
            allowed = " or ".join([*map(str, also), f"between {low} and {high}"])
            raise _problem(f"must be {allowed} (got {value})")
        return value

    return check


def _named(pattern: str, rule: str) -> Callable[[str], str]:
    compiled = re.compile(pattern)

    def check(name: str) -> str:
        if not compiled.fullmatch(name):
            raise _problem(f"{name!r} is not a valid name: {rule}")
        return name

    return check


def _function_name(name: str) -> str:
    _named(r"[a-zA-Z0-9_-]{1,64}", "use 1-64 letters, digits, hyphens or underscores")(name)
    if name == DEAD_LETTER_LIST:
        raise _problem("'dlq' is reserved for the built-in dead-letter list: pick another name")
    return name


def _variable_name(key: str) -> str:
    if key in RESERVED_VARIABLES or key.startswith("AWS_LAMBDA_"):
        raise _problem(f"{key} is reserved by Lambda, which sets it itself: pick another name")
    return _named(r"[a-zA-Z][a-zA-Z0-9_]*", "start with a letter; letters, digits and _ only")(key)


def _variable_value(value: Any) -> Any:
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, int | float):
        return str(value)
    if value is None:
        raise _problem("has no value: write '' for an empty string")
    return value


def _bucket_name(name: str) -> str:
    reserved = name.startswith(("xn--", "sthree-", "amzn-s3-demo-")) or name.endswith(
        ("-s3alias", "--ol-s3", ".mrap", "--x-s3"))
    if not _BUCKET.fullmatch(name) or ".." in name or reserved or _is_ip_address(name):
        raise _problem(f"{name!r} is not a valid S3 bucket name: 3-63 lowercase letters, "
                       "digits, dots and hyphens, starting and ending with a letter or digit")
    return name


def _is_ip_address(name: str) -> bool:
    try:
        ipaddress.IPv4Address(name)
    except ValueError:
        return False
    return True


def _unique(items: list[str]) -> list[str]:
    repeated = sorted({item for item in items if items.count(item) > 1})
    if repeated:
        raise _problem(f"lists {', '.join(repeated)} more than once")
    return items


def _handler(handler: str) -> str:
    if not _HANDLER.fullmatch(handler):
        raise _problem(f"{handler!r} must be module.function inside the code folder, e.g. "
                       "app.handler (the module may be dotted: pkg.mod.handler)")
    return handler


def _s3_events(events: list[str]) -> list[str]:
    if not events:
        raise _problem("needs at least one S3 event type, e.g. s3:ObjectCreated:*")
    for event in events:
        if event not in S3_EVENTS:
            raise _problem(f"{event!r} is not an S3 event type: use e.g. s3:ObjectCreated:*, "
                           "s3:ObjectCreated:Put or s3:ObjectRemoved:*")
    return events


def _route_path(path: str) -> str:
    if not path.startswith("/"):
        raise _problem(f"{path!r} must start with / (e.g. /thumbs/{{id}})")
    segments = path[1:].split("/") if path != "/" else []
    names: list[str] = []
    for index, segment in enumerate(segments):
        parameter = _PATH_PARAMETER.fullmatch(segment)
        if parameter:
            name, greedy = parameter.groups()
            if greedy and index != len(segments) - 1:
                raise _problem(f"greedy parameter {{{name}+}} must be the last segment")
            if name in names:
                raise _problem(f"path parameter {{{name}}} appears twice")
            names.append(name)
        elif not segment or re.search(r"[{}\s?#]", segment):
            raise _problem(f"segment {segment!r} of {path!r} is not valid: use literal text, "
                           "{name} or a final greedy {proxy+}")
    return path


def _key_count(keys: dict[str, str]) -> dict[str, str]:
    if not 1 <= len(keys) <= 2:
        raise _problem("needs 1 or 2 attributes, the partition key then the optional sort key "
                       f"(got {len(keys)})")
    return keys


FunctionName = Annotated[str, AfterValidator(_function_name)]
Target = Annotated[str, AfterValidator(_named(
    r"[a-zA-Z0-9_-]{1,64}", "name a function of this spec or 'dlq'"))]
VariableName = Annotated[str, AfterValidator(_variable_name)]
VariableValue = Annotated[str, BeforeValidator(_variable_value)]
BucketName = Annotated[str, AfterValidator(_bucket_name)]
TableName = Annotated[str, AfterValidator(_named(
    r"[a-zA-Z0-9_.-]{3,255}", "3-255 letters, digits, underscores, hyphens or dots"))]
AttributeName = Annotated[str, AfterValidator(_named(r".{1,255}", "1-255 characters"))]

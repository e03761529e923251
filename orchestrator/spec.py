"""`ripple.yaml`: functions, their triggers, buckets and tables, checked before anything deploys.

Every problem is a SpecError naming the file, the dotted path of the field
(`functions.resize.events[0].s3.bucket`) and why; when there are several, `field` is the first
one's and the message lists them all. Unknown keys are errors, so typos are caught.

Environment values may be YAML strings, numbers or booleans: they become strings, as
CloudFormation makes them (booleans as `true`/`false`). Quote a value to keep its exact text
(YAML reads `010` as 8 and `1e3` as 1000.0). Empty (null) values are refused: write `''`.
"""

from __future__ import annotations

import difflib
import ipaddress
import re
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, Literal, get_args

import yaml
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictBool,
    StrictInt,
    ValidationError,
    model_validator,
)
from pydantic_core import ErrorDetails, PydanticCustomError

from orchestrator.errors import SpecError
from orchestrator.functions import DEAD_LETTER_LIST

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
ENVIRONMENT_LIMIT = 4096  # bytes of keys and values together, as on Lambda
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


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class S3Trigger(_Strict):
    bucket: str
    events: Annotated[list[str], AfterValidator(_s3_events)] = Field(
        default_factory=lambda: ["s3:ObjectCreated:*"])
    prefix: str | None = None
    suffix: str | None = None


class DynamoDBTrigger(_Strict):
    table: str
    batch_size: Annotated[StrictInt, AfterValidator(_between(1, 10_000))] = 100
    batching_window: Annotated[StrictInt, AfterValidator(_between(0, 300))] = 0
    starting_position: Literal["TRIM_HORIZON", "LATEST"] = "LATEST"
    maximum_retry_attempts: Annotated[StrictInt, AfterValidator(_between(-1, 10_000))] = -1
    maximum_record_age: Annotated[StrictInt, AfterValidator(_between(60, 604_800, -1))] = -1
    bisect_batch_on_function_error: StrictBool = False
    report_batch_item_failures: StrictBool = False
    on_failure: Target | None = None
    parallelization_factor: Annotated[StrictInt, AfterValidator(_between(1, 10))] = 1


class HttpTrigger(_Strict):
    method: Annotated[
        Literal["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "ANY"],
        BeforeValidator(lambda method: method.upper() if isinstance(method, str) else method),
    ]
    path: Annotated[str, AfterValidator(_route_path)]
    payload_format: Literal["1.0", "2.0"] = "2.0"


class Trigger(_Strict):
    """One entry of `events:`: exactly one of s3, dynamodb, http."""

    s3: S3Trigger | None = None
    dynamodb: DynamoDBTrigger | None = None
    http: HttpTrigger | None = None

    @model_validator(mode="before")
    @classmethod
    def _one_source(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        unknown = [str(key) for key in data if key not in cls.model_fields]
        if unknown:
            raise _problem(f"unknown event source {', '.join(unknown)}: ripple has s3, "
                           "dynamodb and http")
        if len(data) != 1:
            raise _problem("each event needs exactly one source: s3, dynamodb or http")
        # `- s3:` with nothing after it means "all defaults", so the missing fields get named.
        return {key: {} if body is None else body for key, body in data.items()}


class FunctionSpec(_Strict):
    handler: Annotated[str, AfterValidator(_handler)]
    code: Path  # an absolute, existing folder once load_spec returns
    runtime: Runtime = "python3.11"
    memory: Annotated[StrictInt, AfterValidator(_between(128, 10_240))] = 128
    timeout: Annotated[StrictInt, AfterValidator(_between(1, 900))] = 3
    environment: dict[VariableName, VariableValue] = Field(default_factory=dict)
    reserved_concurrency: Annotated[StrictInt, Field(ge=0)] | None = None
    retries: Annotated[StrictInt, AfterValidator(_between(0, 2))] = 2
    max_event_age: Annotated[StrictInt, AfterValidator(_between(60, 21_600))] = 21_600
    on_failure: Target | None = None
    architecture: Literal["x86_64", "arm64"] = "x86_64"
    events: list[Trigger] = Field(default_factory=list)


class TableSpec(_Strict):
    keys: Annotated[dict[AttributeName, Literal["S", "N", "B"]], AfterValidator(_key_count)]
    stream: Literal["NEW_IMAGE", "OLD_IMAGE", "NEW_AND_OLD_IMAGES", "KEYS_ONLY"] | None = None


class Spec(_Strict):
    functions: dict[FunctionName, FunctionSpec] = Field(default_factory=dict)
    buckets: Annotated[list[BucketName], AfterValidator(_unique)] = Field(default_factory=list)
    tables: dict[TableName, TableSpec] = Field(default_factory=dict)
    base_dir: Path = Field(default=Path("."), exclude=True)


_MODELS = (S3Trigger, DynamoDBTrigger, HttpTrigger, Trigger, FunctionSpec, TableSpec, Spec)
_FIELD_NAMES = sorted({name for model in _MODELS for name in model.model_fields} - {"base_dir"})
Problem = tuple[str, str]


def load_spec(path: Path) -> Spec:
    """Parse and check a spec file; raises SpecError(file, field, reason) on any problem."""
    file = str(path)
    raw = _read_yaml(path)
    if "base_dir" in raw:
        raise SpecError(file, "base_dir", "unknown field: it is always the spec file's folder")
    try:
        spec = Spec.model_validate({**raw, "base_dir": path.resolve().parent})
    except ValidationError as error:
        raise _spec_error(file, [_translate(detail) for detail in error.errors()]) from None
    problems = _check_references(spec)
    if problems:
        raise _spec_error(file, problems)
    return spec


def _read_yaml(path: Path) -> dict[str, Any]:
    file = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise SpecError(file, "", "no such file: pass the path of your ripple.yaml") from None
    except UnicodeDecodeError:
        raise SpecError(file, "", "is not UTF-8 text") from None
    except OSError as error:
        raise SpecError(file, "", f"cannot be read: {error.strerror or error}") from None
    try:
        raw = yaml.load(text, Loader=_UniqueKeyLoader)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(error, "problem", None) or str(error)
        if "got '{'" in problem:
            # The usual cause: an unquoted route path inside a {...} mapping.
            problem += " (quote values holding braces: path: '/thumbs/{id}')"
        raise SpecError(file, "", f"invalid YAML{where}: {problem}") from None
    if raw is None:
        raise SpecError(file, "", "the file is empty: declare at least `functions:`")
    if not isinstance(raw, dict):
        raise SpecError(file, "", "the top level must be a mapping with functions:, buckets: "
                                  f"and tables: (got a {type(raw).__name__})")
    return raw


class _UniqueKeyLoader(yaml.SafeLoader):
    """PyYAML keeps the last of repeated keys; a repeated function would silently vanish."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                continue
            key = self.construct_object(key_node, deep=deep)  # type: ignore[no-untyped-call]
            if not isinstance(key, str | int | float | bool):
                continue  # unhashable keys get PyYAML's own error
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"duplicate key {key!r}", key_node.start_mark)
            seen.add(key)
        return super().construct_mapping(node, deep)


def _translate(detail: ErrorDetails) -> Problem:
    field, location = "", detail["loc"]
    for index, part in enumerate(location):
        if part == "[key]":
            continue  # the error is about a mapping's key, which the path already ends with
        is_key = location[index + 1:index + 2] == ("[key]",)
        if is_key:
            part = str(detail.get("input", part))  # pydantic writes a True key as 1
        field += f"[{part}]" if isinstance(part, int) else (f".{part}" if field else str(part))
    kind, given = detail["type"], detail.get("input")
    if location[-1:] == ("[key]",) and kind == "string_type":
        return field, (f"YAML reads this name as {given!r}, not text: quote it "
                       "(on/off/yes/no and bare numbers need quotes)")
    if kind == "extra_forbidden":
        name = str(detail["loc"][-1])
        guess = difflib.get_close_matches(name, _FIELD_NAMES, n=1)
        hint = f"did you mean {guess[0]!r}?" if guess else "check its spelling"
        return field, f"unknown field: {hint}"
    if kind == "missing":
        return field, "is required"
    reason = detail["msg"].removeprefix("Value error, ").replace("Input should be", "must be")
    if kind != "spec":
        reason += f" (got {_describe(given)})"
    return field, reason


def _describe(value: Any) -> str:
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _check_references(spec: Spec) -> list[Problem]:
    """What one field alone cannot tell: folders, buckets, tables, targets, routes.

    Resolves each function's `code` against the spec's folder on the way.
    """
    problems: list[Problem] = []
    routes: dict[tuple[str, str], str] = {}  # method and path shape -> where it is declared
    for name, function in spec.functions.items():
        at = f"functions.{name}"
        function.code = (spec.base_dir / function.code).resolve()
        if not function.code.is_dir():
            problems.append((f"{at}.code", f"{function.code} is not a folder (code is relative "
                                           "to the spec file's folder)"))
        size = sum(len(f"{key}{value}".encode()) for key, value in function.environment.items())
        if size > ENVIRONMENT_LIMIT:
            problems.append((f"{at}.environment", f"holds {size} bytes of names and values; "
                                                  f"Lambda allows {ENVIRONMENT_LIMIT}"))
        problems += _check_target(spec, f"{at}.on_failure", function.on_failure)
        for index, trigger in enumerate(function.events):
            where = f"{at}.events[{index}]"
            if trigger.s3 and trigger.s3.bucket not in spec.buckets:
                problems.append((f"{where}.s3.bucket", f"bucket {trigger.s3.bucket!r} is not "
                                                       "declared: add it under buckets:"))
            if trigger.dynamodb:
                problems += _check_stream(spec, f"{where}.dynamodb", trigger.dynamodb)
            if trigger.http:
                # API Gateway sees /a/{id} and /a/{name} as one route.
                shape = re.sub(r"\{[^}+]*(\+?)\}", r"{\1}", trigger.http.path)
                taken = routes.setdefault((trigger.http.method, shape), where)
                if taken != where:
                    problems.append((f"{where}.http.path", f"route {trigger.http.method} "
                                     f"{trigger.http.path} is already declared at {taken}"))
    return problems


def _check_stream(spec: Spec, where: str, trigger: DynamoDBTrigger) -> list[Problem]:
    table = spec.tables.get(trigger.table)
    if table is None:
        return [(f"{where}.table", f"table {trigger.table!r} is not declared: add it under "
                                   "tables:")]
    if table.stream is None:
        return [(f"{where}.table", f"table {trigger.table!r} has no stream: set tables."
                                   f"{trigger.table}.stream, e.g. NEW_AND_OLD_IMAGES")]
    return _check_target(spec, f"{where}.on_failure", trigger.on_failure)


def _check_target(spec: Spec, where: str, target: str | None) -> list[Problem]:
    if target is None or target == DEAD_LETTER_LIST or target in spec.functions:
        return []
    return [(where, f"{target!r} is neither a function of this spec nor "
                    f"{DEAD_LETTER_LIST!r} (the built-in dead-letter list)")]


def _spec_error(file: str, problems: list[Problem]) -> SpecError:
    (field, reason), rest = problems[0], problems[1:]
    reason += "".join(f"\n  also {where}: {why}" for where, why in rest)
    return SpecError(file, field, reason)

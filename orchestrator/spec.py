"""`ripple.yaml`: functions, their triggers, buckets and tables, validated before any deploy.

Every problem is a SpecError naming the file, the dotted path of the field, and why.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from orchestrator.errors import SpecError
from orchestrator.functions import DEAD_LETTER_LIST

RUNTIMES = ("python3.9", "python3.10", "python3.11", "python3.12", "python3.13", "python3.14")
RESERVED_VARIABLES = {
    "_HANDLER", "_X_AMZN_TRACE_ID", "AWS_REGION", "AWS_DEFAULT_REGION", "AWS_EXECUTION_ENV",
    "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "LAMBDA_TASK_ROOT",
    "LAMBDA_RUNTIME_DIR", "AWS_LAMBDA_RUNTIME_API",
}
S3_EVENTS = re.compile(
    r"^s3:(ObjectCreated:(\*|Put|Post|Copy|CompleteMultipartUpload)"
    r"|ObjectRemoved:(\*|Delete|DeleteMarkerCreated)|ObjectRestore:(\*|Post|Completed|Delete)"
    r"|ObjectTagging:(\*|Put|Delete)|ObjectAcl:Put|LifecycleExpiration:(\*|Delete|DeleteMarkerCreated)"
    r"|ReducedRedundancyLostObject|Replication:\*)$")
NAME = r"^[a-zA-Z0-9_-]{1,64}$"
BUCKET = re.compile(r"^(?!xn--)(?!.*\.\.)[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class S3Trigger(_Strict):
    bucket: str
    events: list[str] = Field(default_factory=lambda: ["s3:ObjectCreated:*"], min_length=1)
    prefix: str | None = None
    suffix: str | None = None

    @field_validator("events")
    @classmethod
    def _known_events(cls, events: list[str]) -> list[str]:
        for event in events:
            if not S3_EVENTS.match(event):
                raise ValueError(f"{event!r} is not an S3 event type (e.g. s3:ObjectCreated:*)")
        return events


class DynamoDBTrigger(_Strict):
    table: str
    batch_size: int = Field(100, ge=1, le=10_000)
    batching_window: int = Field(0, ge=0, le=300)
    starting_position: Literal["TRIM_HORIZON", "LATEST"] = "LATEST"
    maximum_retry_attempts: int = Field(-1, ge=-1, le=10_000)
    maximum_record_age: int = -1
    bisect_batch_on_function_error: bool = False
    report_batch_item_failures: bool = False
    on_failure: str | None = None
    parallelization_factor: int = Field(1, ge=1, le=10)

    @field_validator("maximum_record_age")
    @classmethod
    def _record_age(cls, age: int) -> int:
        if age != -1 and not 60 <= age <= 604_800:
            raise ValueError("must be -1 (no limit) or between 60 and 604800 seconds")
        return age


class HttpTrigger(_Strict):
    method: Literal["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "ANY"]
    path: str
    payload_format: Literal["1.0", "2.0"] = "2.0"

    @field_validator("method", mode="before")
    @classmethod
    def _upper(cls, method: Any) -> Any:
        return method.upper() if isinstance(method, str) else method

    @field_validator("path")
    @classmethod
    def _path(cls, path: str) -> str:
        if not path.startswith("/"):
            raise ValueError("must start with /")
        return path


class Trigger(_Strict):
    """One entry of `events:`: exactly one of s3, dynamodb, http."""

    s3: S3Trigger | None = None
    dynamodb: DynamoDBTrigger | None = None
    http: HttpTrigger | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> Trigger:
        if sum(source is not None for source in (self.s3, self.dynamodb, self.http)) != 1:
            raise ValueError("each event needs exactly one of s3, dynamodb or http")
        return self


class FunctionSpec(_Strict):
    handler: Annotated[str, Field(pattern=r"^[A-Za-z_][\w./-]*\.[A-Za-z_]\w*$")]
    code: Path
    runtime: Literal[RUNTIMES] = "python3.11"  # type: ignore[valid-type]
    memory: int = Field(128, ge=128, le=10_240)
    timeout: int = Field(3, ge=1, le=900)
    environment: dict[str, str] = Field(default_factory=dict)
    reserved_concurrency: int | None = Field(None, ge=0)
    retries: int = Field(2, ge=0, le=2)
    max_event_age: int = Field(21_600, ge=60, le=21_600)
    on_failure: str | None = None
    architecture: Literal["x86_64", "arm64"] = "x86_64"
    events: list[Trigger] = Field(default_factory=list)

    @field_validator("environment", mode="before")
    @classmethod
    def _variables(cls, variables: Any) -> Any:
        if not isinstance(variables, dict):
            return variables
        for key, value in variables.items():
            if not re.match(r"^[a-zA-Z][a-zA-Z0-9_]*$", str(key)):
                raise ValueError(f"{key!r} is not a valid variable name")
            if key in RESERVED_VARIABLES or str(key).startswith("AWS_LAMBDA_"):
                raise ValueError(f"{key} is reserved by Lambda")
            if isinstance(value, (dict, list)) or value is None:
                raise ValueError(f"{key} must be a string, number or boolean")
        # YAML scalars become strings, as Lambda's variables always are.
        return {key: str(value).lower() if isinstance(value, bool) else str(value)
                for key, value in variables.items()}


class TableSpec(_Strict):
    keys: dict[str, Literal["S", "N", "B"]] = Field(min_length=1, max_length=2)
    stream: Literal["NEW_IMAGE", "OLD_IMAGE", "NEW_AND_OLD_IMAGES", "KEYS_ONLY"] | None = None


class Spec(_Strict):
    functions: dict[Annotated[str, Field(pattern=NAME)], FunctionSpec] = Field(
        default_factory=dict)
    buckets: list[str] = Field(default_factory=list)
    tables: dict[str, TableSpec] = Field(default_factory=dict)
    base_dir: Path = Path(".")

    @field_validator("buckets")
    @classmethod
    def _bucket_names(cls, buckets: list[str]) -> list[str]:
        for bucket in buckets:
            if not BUCKET.match(bucket):
                raise ValueError(f"{bucket!r} is not a valid S3 bucket name (3-63 lowercase "
                                 "letters, digits, dots, hyphens)")
        return buckets


def load_spec(path: Path) -> Spec:
    """Parse and check a spec file; raises SpecError(file, field, reason)."""
    file = str(path)
    try:
        raw = yaml.safe_load(path.read_text())
    except FileNotFoundError:
        raise SpecError(file, "", "no such file") from None
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(error, "problem", None) or str(error)
        raise SpecError(file, where, f"invalid YAML: {problem}") from None
    if raw is None:
        raise SpecError(file, "", "the file is empty: declare at least `functions:`")
    if not isinstance(raw, dict):
        raise SpecError(file, "", "the top level must be a mapping (functions:, buckets:, tables:)")
    raw.pop("base_dir", None)
    try:
        spec = Spec.model_validate({**raw, "base_dir": path.resolve().parent})
    except ValidationError as error:
        raise _spec_error(file, error) from None
    _check_references(file, spec)
    return spec


def _spec_error(file: str, error: ValidationError) -> SpecError:
    problems = []
    for detail in error.errors():
        location = [part for part in detail["loc"]
                    if part not in ("function-after", "function-before")]
        field = ""
        for part in location:
            field += f"[{part}]" if isinstance(part, int) else (f".{part}" if field else str(part))
        message = detail["msg"].removeprefix("Value error, ")
        if detail["type"] == "extra_forbidden":
            message = "unknown field (check its spelling)"
        elif detail["type"] == "missing":
            message = "required field is missing"
        elif "input" in detail and detail["type"] in ("greater_than_equal", "less_than_equal",
                                                      "literal_error", "string_pattern_mismatch"):
            message += f" (got {detail['input']!r})"
        problems.append((field, message))
    field, reason = problems[0]
    if len(problems) > 1:
        reason += "; also " + "; ".join(f"{where}: {why}" for where, why in problems[1:])
    return SpecError(file, field, reason)


def _check_references(file: str, spec: Spec) -> None:
    for name, function in spec.functions.items():
        at = f"functions.{name}"
        function.code = (spec.base_dir / function.code).resolve()
        if not function.code.is_dir():
            raise SpecError(file, f"{at}.code", f"{function.code} is not a directory")
        for target in (function.on_failure, *(t.dynamodb.on_failure for t in function.events
                                              if t.dynamodb)):
            if target not in (None, DEAD_LETTER_LIST) and target not in spec.functions:
                raise SpecError(file, f"{at}.on_failure", f"{target!r} is neither a function "
                                f"of this spec nor {DEAD_LETTER_LIST!r} (the dead-letter list)")
        for index, trigger in enumerate(function.events):
            if trigger.s3 and trigger.s3.bucket not in spec.buckets:
                raise SpecError(file, f"{at}.events[{index}].s3.bucket",
                                f"bucket {trigger.s3.bucket!r} is not declared under buckets:")
            if trigger.dynamodb:
                table = spec.tables.get(trigger.dynamodb.table)
                if table is None:
                    raise SpecError(file, f"{at}.events[{index}].dynamodb.table",
                                    f"table {trigger.dynamodb.table!r} is not declared under "
                                    "tables:")
                if table.stream is None:
                    raise SpecError(file, f"{at}.events[{index}].dynamodb.table",
                                    f"table {trigger.dynamodb.table!r} has no stream: set "
                                    "tables.<name>.stream")
    if DEAD_LETTER_LIST in spec.functions:
        raise SpecError(file, f"functions.{DEAD_LETTER_LIST}",
                        "the name is reserved for the built-in dead-letter list")

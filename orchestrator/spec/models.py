"""The pydantic models of `ripple.yaml`: the spec, its functions, their triggers and tables."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictBool,
    StrictInt,
    model_validator,
)

from orchestrator.spec.api_access import Cors, HttpAuth, Throttle, UsagePlan, check_access
from orchestrator.spec.fields import (
    AttributeName,
    BucketName,
    FunctionName,
    Runtime,
    TableName,
    Target,
    VariableName,
    VariableValue,
    _between,
    _handler,
    _key_count,
    _problem,
    _route_path,
    _s3_events,
    _unique,
)


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
    auth: HttpAuth | None = None
    usage_plan: UsagePlan | None = None
    throttle: Throttle | None = None
    cors: Cors | None = None

    @model_validator(mode="after")
    def _access(self) -> HttpTrigger:
        check_access(self.payload_format, self.auth, self.usage_plan)
        return self


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

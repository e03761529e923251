"""All of ripple's configuration: argument, then environment, then default.

Variables carry the `RIPPLE_` prefix (`RIPPLE_CLOCK_SPEED`), except `REDIS_URL` and the standard
`OTEL_*` variables, which keep their usual names.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import AliasChoices, Field, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

from orchestrator.errors import SettingsError

ACCOUNT_ID = "000000000000"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="RIPPLE_", extra="ignore")

    redis_url: str | None = Field(
        default=None, validation_alias=AliasChoices("REDIS_URL", "RIPPLE_REDIS_URL")
    )
    data_dir: Path = Path(".ripple")
    # The embedded Redis's port (0: a free one, kept across its restarts within a run).
    redis_port: int = Field(default=0, ge=0, le=65535)
    host: str = "127.0.0.1"
    port: int = 4566
    api_port: int = 3000
    endpoint: str = "http://127.0.0.1:4566"
    token: str | None = None
    region: str = "us-east-1"

    # Lambda's timers (retry delays, event age, batching windows) run this many times faster.
    clock_speed: float = Field(default=1.0, gt=0)
    account_concurrency: int = Field(default=1000, ge=1)

    # Execution environments kept by each worker.
    env_idle_seconds: float = 300.0
    max_environments: int = 64
    worker_concurrency: int = 4
    # Workers send Celery task events (`celery worker -E`), so Flower shows tasks.
    task_events: bool = False
    # Fork environments from a pre-imported template process (false: `python -m awslambdaric`).
    env_template: bool = True

    # `ripple up --workers auto[:MIN-MAX]`: a worker is added when more than this many
    # invocations per worker wait, or the oldest has waited this long, for this long; workers
    # are removed after this long with a whole worker's slots idle and nothing queued. A
    # removed worker gets this long to finish what it holds (Lambda's longest timeout + 30 s).
    scale_up_queue_per_worker: int = Field(default=8, ge=1)
    scale_up_age_seconds: float = Field(default=2.0, gt=0)
    scale_up_after_seconds: float = Field(default=3.0, ge=0)
    scale_down_idle_seconds: float = Field(default=60.0, gt=0)
    worker_drain_seconds: float = Field(default=930.0, gt=0)

    # Tracing: raw OTLP is also forwarded here when set (Jaeger, Tempo, an OTel Collector).
    otlp_forward: str | None = None
    # New traces each process records in full every second (an idle one saves up a burst of
    # 100), then the share of the others it records: Lambda's own rule, 1/s and 5%.
    # OTEL_TRACES_SAMPLER, when set, decides instead (`always_on` records every trace).
    trace_reservoir: int = Field(default=1, ge=0)
    trace_rate: float = Field(default=0.05, ge=0, le=1)
    trace_retention_spans: int = 1_000_000
    trace_retention_hours: float = 24.0
    # Receivers beside the endpoint, on its host, for what users already run (0 turns one off):
    # OTLP over gRPC, and the X-Ray daemon's UDP port (Powertools' Tracer, the X-Ray SDK).
    otlp_grpc_port: int = Field(default=4317, ge=0, le=65535)
    xray_daemon_port: int = Field(default=2000, ge=0, le=65535)
    # The endpoint looks for DynamoDB items past their TTL this often (DynamoDB itself takes up
    # to a few days), examining at most this many items per table each time.
    dynamodb_ttl_sweep_seconds: float = Field(default=30.0, gt=0)
    dynamodb_ttl_sweep_items: int = Field(default=1000, ge=1)

    # S3 bodies larger than this are files under `<data_dir>/s3/`, streamed in and out; smaller
    # ones stay in Redis beside their metadata (one round trip). 0 puts every body in a file.
    s3_inline_max: int = Field(default=256 * 1024, ge=0)

    log_retention: int = 10_000
    record_retention: int = 100_000
    dlq_retention: int = 10_000

    def with_overrides(self, **overrides: object) -> Settings:
        """A copy with the given (non-None) command-line arguments applied on top."""
        given = {key: value for key, value in overrides.items() if value is not None}
        return self.model_copy(update=given)


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The settings from the environment; SettingsError names each variable it cannot use."""
    try:
        return Settings()
    except ValidationError as error:
        raise SettingsError("; ".join(
            f"{_variable(str(problem['loc'][0]))}={problem['input']}: {problem['msg']}"
            for problem in error.errors())) from None


def _variable(field: str) -> str:
    """The environment variable that sets `field`."""
    return "REDIS_URL" if field == "redis_url" else f"RIPPLE_{field.upper()}"


def simulated_seconds(real_seconds: float, settings: Settings | None = None) -> float:
    """How long a Lambda timer of `real_seconds` lasts under the simulated clock."""
    return real_seconds / (settings or get_settings()).clock_speed

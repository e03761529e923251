"""The variables an execution environment sees: what Lambda sets, the function's own, and
nothing of ripple's (no `REDIS_URL`, no `RIPPLE_*`). PYTHONPATH is the runtime's packages only,
as Lambda's is /var/runtime."""

from __future__ import annotations

import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

from orchestrator.functions.config import FunctionConfig
from orchestrator.settings import Settings
from workers.environments.runtime_packages import runtime_directory

_SYSTEM_PATH = "/usr/local/bin:/usr/bin:/bin"


def sandbox_environment(
    function: FunctionConfig, code_dir: Path, runtime_api: str, settings: Settings, env_id: str
) -> dict[str, str]:
    """The variables Lambda sets, the function's own, and nothing of the orchestrator's."""
    python_bin = str(Path(sys.executable).parent)
    runtime_dir = str(runtime_directory(settings.data_dir))
    stream = time.strftime("%Y/%m/%d/[$LATEST]", time.gmtime()) + env_id
    env = {
        "PATH": f"{python_bin}:{_SYSTEM_PATH}",
        "LANG": "en_US.UTF-8",
        "TZ": ":UTC",
        "PYTHONUNBUFFERED": "1",
        "LAMBDA_TASK_ROOT": str(code_dir),
        "LAMBDA_RUNTIME_DIR": runtime_dir,
        "PYTHONPATH": runtime_dir,  # the only site path: boto3, awslambdaric, not ripple's venv
        "_HANDLER": function.handler,
        "AWS_EXECUTION_ENV": f"AWS_Lambda_{function.runtime}",
        "AWS_LAMBDA_RUNTIME_API": runtime_api,
        "AWS_LAMBDA_FUNCTION_NAME": function.name,
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(function.memory),
        "AWS_LAMBDA_FUNCTION_VERSION": function.lambda_version,
        "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand",
        "AWS_LAMBDA_LOG_GROUP_NAME": function.log_group,
        "AWS_LAMBDA_LOG_STREAM_NAME": stream,
        "AWS_REGION": function.region,
        "AWS_DEFAULT_REGION": function.region,
        "AWS_ACCESS_KEY_ID": "test",
        "AWS_SECRET_ACCESS_KEY": "test",
        "AWS_SESSION_TOKEN": "test",
        "AWS_ENDPOINT_URL": settings.endpoint,
    }
    env.update(xray_daemon_variables(settings))
    env.update(function.environment)
    return env


def xray_daemon_variables(settings: Settings) -> dict[str, str]:
    """Where Powertools' Tracer and the X-Ray SDK send segments: the endpoint's X-Ray daemon
    receiver, on the endpoint's host, named as Lambda names its daemon; none when it is off."""
    if not settings.xray_daemon_port:
        return {}
    host = urlsplit(settings.endpoint).hostname or "127.0.0.1"
    port = str(settings.xray_daemon_port)
    return {"AWS_XRAY_DAEMON_ADDRESS": f"{host}:{port}", "_AWS_XRAY_DAEMON_ADDRESS": host,
            "_AWS_XRAY_DAEMON_PORT": port, "AWS_XRAY_CONTEXT_MISSING": "LOG_ERROR"}

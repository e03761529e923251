"""Cold start (spawn → handler ready, Lambda's Init Duration) with the template environment vs
the `python -m awslambdaric` Popen path, in one run, samples interleaved so drift hits both.

Handlers: trivial; `import boto3`; `import boto3` + a client created at import (the common
case); and the same with OpenTelemetry turned off in the function (`OTEL_SDK_DISABLED=true`).
Also: a warm no-op invoke through the Runtime API, and Max Memory Used, for each path.

Run: python benchmarks/cold_start.py [--samples 20]. Not a test: it prints figures.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.harness import percentile, warm_latencies  # noqa: E402
from orchestrator.functions.config import FunctionConfig  # noqa: E402
from orchestrator.settings import Settings  # noqa: E402
from workers.environments.environment import Environment  # noqa: E402
from workers.environments.launcher import shared_template  # noqa: E402

HANDLERS = {
    "trivial": "def handler(event, context):\n    return 1\n",
    "import boto3": "import boto3\ndef handler(event, context):\n    return 1\n",
    "boto3 + client": ("import boto3\nclient = boto3.client('lambda')\n"
                       "def handler(event, context):\n    return 1\n"),
}
PATHS = {"popen": Settings(env_template=False), "template": Settings(env_template=True)}


def cold_start(code: Path, settings: Settings, environment: dict[str, str]) -> tuple[float, int]:
    function = FunctionConfig(name="cold", handler="app.handler", code_sha256="x",
                              environment=environment)
    env = Environment(function, code, settings)
    try:
        outcome = env.invoke("cold", b"{}")
        assert outcome.ok and outcome.init_ms is not None, outcome
        return outcome.init_ms, outcome.max_memory_mb
    finally:
        env.stop()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--samples", type=int, default=20)
    parser.add_argument("--warm", type=int, default=2000)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="ripple-cold-"))
    cases: list[tuple[str, Path, dict[str, str]]] = []
    for label, source in HANDLERS.items():
        (work / label).mkdir()
        (work / label / "app.py").write_text(source)
        cases.append((label, work / label, {}))
    cases.append(("boto3 + client, OTel off", work / "boto3 + client",
                  {"OTEL_SDK_DISABLED": "true"}))
    started = time.perf_counter()
    shared_template().ensure_started()
    print(f"machine: {os.cpu_count()} cores, Python {sys.version.split()[0]}; template started "
          f"in {(time.perf_counter() - started) * 1000:.0f} ms (once per worker)")
    print(f"\ncold start, spawn → handler ready (Init Duration), {args.samples} samples each")
    print(f"{'handler':26} {'popen p50 / max':>18} {'template p50 / max':>20} {'ratio p50':>10}"
          f" {'memory popen / template':>24}")
    for label, code, environment in cases:
        samples: dict[str, list[float]] = {path: [] for path in PATHS}
        memory: dict[str, int] = {}
        for _ in range(args.samples):
            for path, settings in PATHS.items():
                init_ms, memory[path] = cold_start(code, settings, environment)
                samples[path].append(init_ms)
        popen, template = samples["popen"], samples["template"]
        print(f"{label:26} {statistics.median(popen):8.1f} / {max(popen):6.1f} ms "
              f"{statistics.median(template):8.1f} / {max(template):6.1f} ms "
              f"{statistics.median(template) / statistics.median(popen):9.2f}x "
              f"{memory['popen']:11d} / {memory['template']:3d} MB")
    print(f"\nwarm no-op invoke through the Runtime API, {args.warm} invokes")
    for path, settings in PATHS.items():
        latencies = warm_latencies(work / "trivial", settings, args.warm)
        print(f"{path:10} p50 {percentile(latencies, 0.5):.3f} ms, "
              f"p99 {percentile(latencies, 0.99):.3f} ms")
    shared_template().stop()


if __name__ == "__main__":
    main()

"""Issue 9's delivery figures: async events sent while a worker, then Redis, then the endpoint
are killed -9, in several runs with different kill timings; the delivery ledger must reconcile
with nothing lost. Baseline in the same run: the same events with no faults.

Streams (`--stream-writes 1000`): DynamoDB writes to 10 keys while the workers (one of them
holds the shard's lease) are killed -9 in turn; the handler logs each record it sees, and per key
the first sightings must come in write order, every write seen, duplicates counted.

Run: python benchmarks/chaos.py [--events 3000] [--runs 3] [--stream-writes 1000]. Loopback
only, bounded in count and time; every stack it starts is stopped at the end. Not a test: it
prints figures.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import psutil

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from orchestrator.process import chaos as faults  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
HANDLER = "import time\n\ndef handler(event, context):\n    time.sleep(0.005)\n    return event\n"
TIMEOUT_S = 3  # the function's timeout: stranded events must run within 2x this
# Kill points as fractions of the events sent: worker, Redis, endpoint.
TIMINGS = [(0.2, 0.45, 0.7), (0.1, 0.3, 0.5), (0.4, 0.6, 0.85)]


def free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def start(data: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    env = {key: value for key, value in os.environ.items()
           if not key.startswith(("RIPPLE_", "REDIS_", "OTEL_"))}
    process = subprocess.Popen(
        [sys.executable, "-m", "orchestrator.cli", "up", "--port", str(port), "--api-port", "0",
         "--data-dir", str(data), "--workers", "2", "--concurrency", "4"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/_ripple/health", timeout=2).status_code == 200:
                return process, url
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    stop(process)
    raise RuntimeError("ripple did not become healthy")


def stop(process: subprocess.Popen[bytes]) -> None:
    process.send_signal(signal.SIGINT)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def deploy(url: str, work: Path) -> None:
    code = work / "code"
    code.mkdir(exist_ok=True)
    (code / "app.py").write_text(HANDLER)
    (work / "ripple.yaml").write_text(
        f"functions:\n  work: {{handler: app.handler, code: ./code, timeout: {TIMEOUT_S}}}\n")
    subprocess.run([sys.executable, "-m", "orchestrator.cli", "deploy", str(work / "ripple.yaml")],
                   cwd=ROOT, env={**os.environ, "RIPPLE_ENDPOINT": url}, check=True,
                   capture_output=True)


def one_run(work: Path, events: int, timing: tuple[float, ...] | None) -> dict[str, Any]:
    data = work / "data"
    data.mkdir(parents=True)
    up, url = start(data)
    try:
        deploy(url, work)
        time.sleep(2)  # both workers beating
        accepted: list[int] = []
        lock = threading.Lock()
        local = threading.local()

        def send(number: int) -> None:
            deadline = time.monotonic() + 60
            if not hasattr(local, "client"):  # one keep-alive client per sending thread
                local.client = httpx.Client(timeout=10)
            client: httpx.Client = local.client
            while time.monotonic() < deadline:  # retried, as an SDK retries
                try:
                    answer = client.post(f"{url}/2015-03-31/functions/work/invocations",
                                         headers={"X-Amz-Invocation-Type": "Event"},
                                         content=f'{{"n": {number}}}')
                    if answer.status_code == 202:
                        with lock:
                            accepted.append(number)
                        return
                except httpx.HTTPError:
                    pass
                time.sleep(0.1)

        started = time.monotonic()
        kills: list[str] = []
        with ThreadPoolExecutor(8) as pool:
            futures = [pool.submit(send, number) for number in range(events)]
            kinds = ("worker", "redis", "endpoint")
            for fraction, kind in zip(timing or (), kinds[:len(timing or ())], strict=True):
                while len(accepted) < fraction * events:
                    time.sleep(0.01)
                faults.kill(data, kind)  # what `ripple chaos --kill` does
                kills.append(f"{kind}@{len(accepted)}")
            for future in futures:
                future.result()
        sent_s = time.monotonic() - started
        last_fault = time.monotonic()
        entry: dict[str, Any] = {}
        while time.monotonic() - last_fault < 120:
            try:
                entry = httpx.get(f"{url}/_ripple/api/ledger", timeout=10).json().get("work", {})
                if entry and entry["in_flight"] == 0:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        return {"kills": kills, "sent_s": sent_s, "drained_s": time.monotonic() - last_fault,
                "client_202": len(accepted), **entry}
    finally:
        stop(up)


STREAM_HANDLER = """def handler(event, context):
    for record in event["Records"]:
        image = record["dynamodb"]["NewImage"]
        print("SEEN", image["pk"]["S"], image["n"]["N"])
"""


def stream_run(work: Path, writes: int) -> dict[str, Any]:
    import boto3

    data = work / "data"
    data.mkdir(parents=True)
    up, url = start(data)
    try:
        code = work / "code"
        code.mkdir()
        (code / "app.py").write_text(STREAM_HANDLER)
        (work / "ripple.yaml").write_text(
            "functions:\n  seen:\n    handler: app.handler\n    code: ./code\n"
            "    events:\n      - dynamodb: {table: items, batch_size: 50, "
            "starting_position: TRIM_HORIZON}\n"
            "tables:\n  items: {keys: {pk: S, n: N}, stream: NEW_IMAGE}\n")
        subprocess.run([sys.executable, "-m", "orchestrator.cli", "deploy",
                        str(work / "ripple.yaml")], cwd=ROOT, check=True, capture_output=True,
                       env={**os.environ, "RIPPLE_ENDPOINT": url})
        table = boto3.client("dynamodb", endpoint_url=url, region_name="us-east-1",
                             aws_access_key_id="test", aws_secret_access_key="test")
        kills = 0
        for number in range(writes):
            table.put_item(TableName="items", Item={"pk": {"S": f"k{number % 10}"},
                                                    "n": {"N": str(number)}})
            if number and number % (writes // 4) == 0:  # kill a worker, in turn, 3 times
                workers = [p for p in psutil.Process(up.pid).children(recursive=True)
                           if "orchestrator.cli worker" in " ".join(p.cmdline())]
                if workers:
                    sorted(workers, key=lambda p: p.create_time())[kills % len(workers)].kill()
                    kills += 1
        seen: list[tuple[str, int]] = []
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            seen = []
            after = "0-0"  # every log entry, oldest first, a page at a time
            while True:
                page = httpx.get(f"{url}/_ripple/api/functions/seen/logs",
                                 params={"after": after, "limit": 1000}, timeout=30).json()
                for entry in page["entries"]:
                    for line in entry["text"].splitlines():
                        if line.startswith("SEEN "):
                            _, key, value = line.split()
                            seen.append((key, int(value)))
                if len(page["entries"]) < 1000:
                    break
                after = page["last_id"]
            if len({value for _, value in seen}) >= writes:
                break
            time.sleep(1)
        first: dict[str, list[int]] = {}
        unique: set[int] = set()
        for key, value in seen:
            if value not in unique:
                unique.add(value)
                first.setdefault(key, []).append(value)
        in_order = all(values == sorted(values) for values in first.values())
        return {"writes": writes, "kills": kills, "seen": len(seen), "unique": len(unique),
                "lost": writes - len(unique), "duplicates": len(seen) - len(unique),
                "order_per_key_kept": in_order}
    finally:
        stop(up)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=3000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--stream-writes", type=int, default=0)
    args = parser.parse_args()
    if args.stream_writes:
        work = Path(tempfile.mkdtemp(prefix="ripple-chaos-"))
        try:
            print(stream_run(work, args.stream_writes))
        finally:
            shutil.rmtree(work, ignore_errors=True)
        return
    work = Path(tempfile.mkdtemp(prefix="ripple-chaos-"))
    rows = []
    try:
        rows.append(("baseline, no faults", one_run(work / "base", args.events, None)))
        for index in range(min(args.runs, len(TIMINGS))):
            rows.append((f"run {index + 1}", one_run(work / f"run{index}", args.events,
                                                      TIMINGS[index])))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(f"\n## {args.events} async events, 2 workers, function timeout {TIMEOUT_S} s")
    print(f"{'run':20} {'kills (what@sent)':40} {'202s':>6} {'accepted':>8} {'ok':>6} "
          f"{'dup':>4} {'lost':>4} {'drain s':>7}")
    for name, row in rows:
        print(f"{name:20} {' '.join(row['kills']) or '-':40} {row['client_202']:>6} "
              f"{row.get('accepted', 0):>8} {row.get('succeeded', 0):>6} "
              f"{row.get('duplicates', 0):>4} {len(row.get('lost', [])):>4} "
              f"{row['drained_s']:>7.1f}")


if __name__ == "__main__":
    main()

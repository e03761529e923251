"""The viewer's browser tests: Debian's Chromium driven by Playwright, against a real ripple
with a deployed chain (`vfan` fans out to `vwork`, which writes one S3 object per item).

Each page a test opens collects console errors and page errors (a test fails on any), and
leaves a screenshot under `.artifacts/screenshots/` (gitignored)."""

from __future__ import annotations

import json
import textwrap
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from tests.conftest import ROOT, Ripple, wait_for

CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOTS = ROOT / ".artifacts" / "screenshots"
RUNS = {"small": 4, "big": 12}  # the two runs of the chain: a fan-out of 4, then of 12

FANOUT = """
import json, os, boto3
client = boto3.client("lambda")
def handler(event, context):
    for item in range(event["count"]):
        client.invoke(FunctionName=os.environ["TARGET"], InvocationType="Event",
                      Payload=json.dumps({"item": item, "run": event["run"]}))
    print(f"dispatched {event['count']}")
    return {"dispatched": event["count"]}
"""
WORK = """
import json, os, boto3
s3 = boto3.client("s3")
def handler(event, context):
    key = f"{event['run']}/{event['item']}.json"
    s3.put_object(Bucket=os.environ["BUCKET"], Key=key, Body=json.dumps(event).encode())
    print(f"stored {key}")
    return {"key": key}
"""


@dataclass
class Chain:
    fanout: str
    work: str
    bucket: str
    traces: dict[str, str]  # run → X-Ray trace id


@pytest.fixture(scope="session")
def chain(ripple: Ripple, tmp_path_factory: pytest.TempPathFactory) -> Chain:
    """The chain deployed and run twice, every span of both runs stored."""
    suffix = uuid.uuid4().hex[:6]
    fanout, work, bucket = f"vfan-{suffix}", f"vwork-{suffix}", f"viewer-{suffix}"
    folder = tmp_path_factory.mktemp("viewer-chain")
    for name, source in ((fanout, FANOUT), (work, WORK)):
        (folder / name).mkdir()
        (folder / name / "app.py").write_text(textwrap.dedent(source))
    spec = {"functions": {
        fanout: {"handler": "app.handler", "code": f"./{fanout}", "environment": {"TARGET": work}},
        work: {"handler": "app.handler", "code": f"./{work}", "environment": {"BUCKET": bucket}}},
        "buckets": [bucket]}
    (folder / "spec.yaml").write_text(yaml.safe_dump(spec))
    deployed = ripple.cli("deploy", str(folder / "spec.yaml"))
    assert deployed.returncode == 0, deployed.stdout + deployed.stderr
    for run, count in RUNS.items():
        payload = json.dumps({"count": count, "run": run})
        invoked = ripple.cli("invoke", fanout, "--payload", payload)
        assert invoked.returncode == 0, invoked.stderr
    traces = wait_for(lambda: _stored_runs(ripple, fanout, work), timeout=60, interval=0.3)
    return Chain(fanout, work, bucket, traces)


def _stored_runs(ripple: Ripple, fanout: str, work: str) -> dict[str, str] | None:
    """run → trace id once each run's trace holds all its S3 writes."""
    summaries = ripple.api("GET", "/_ripple/api/traces", params={
        "filter": f'service("{fanout}")', "since": "1h"})["TraceSummaries"]
    found: dict[str, str] = {}
    for summary in summaries:
        spans = ripple.api("GET", f"/_ripple/api/traces/{summary['Id']}/spans")["spans"]
        puts = [span for span in spans if span["operation"] == "S3.PutObject"
                and span["node"]["name"] == work]
        for run, count in RUNS.items():
            if len(puts) == count:
                found[run] = summary["Id"]
    return found if len(found) == len(RUNS) else None


@pytest.fixture(scope="package")  # Playwright's loop ends with this package: later tests
def browser() -> Iterator[Any]:       # run asyncio on the main thread
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: apt-get install -y chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=[
            "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"])
        yield launched
        launched.close()


@pytest.fixture
def page(browser: Any, request: pytest.FixtureRequest) -> Iterator[Any]:
    """A fresh page; the test fails on any console error or uncaught exception in it, and on
    any error a page caught and showed."""
    context = browser.new_context(viewport={"width": 1440, "height": 900})
    opened = context.new_page()
    problems: list[str] = []
    opened.on("console", lambda message: problems.append(f"console.{message.type}: {message.text}")
              if message.type == "error" else None)
    opened.on("pageerror", lambda error: problems.append(f"page error: {error}"))
    yield opened
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    opened.screenshot(path=str(SCREENSHOTS / f"{request.node.name}.png"))
    shown = opened.locator(".error-box").all_inner_texts()  # what a page caught and showed
    context.close()
    assert not problems, "the page logged errors:\n" + "\n".join(problems)
    assert not shown, "the page showed errors:\n" + "\n".join(shown)


def viewer(ripple: Ripple, route: str = "") -> str:
    return f"{ripple.url}/_ripple/{route}"


def api(ripple: Ripple, path: str, **params: Any) -> Any:
    return httpx.get(f"{ripple.url}/_ripple/api{path}", params=params, timeout=30).json()

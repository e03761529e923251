"""The viewer's pages in Chromium, on a deployed chain run twice (a fan-out of 4, then 12)."""

from __future__ import annotations

import re
from typing import Any

from playwright.sync_api import expect

from tests.conftest import Ripple
from tests.tracing.viewer.conftest import RUNS, Chain, viewer

FUNCTION = "AWS::Lambda::Function"


def test_the_map_shows_the_chain_with_its_edge_counts(ripple: Ripple, chain: Chain,
                                                      page: Any) -> None:
    # Given the chain ran twice
    calls = sum(RUNS.values())
    # When the map of the last 15 minutes is opened
    page.goto(viewer(ripple, "#/map"))
    # Then each node of the chain is drawn with its type, and each edge with its call count
    for name, kind in ((chain.fanout, FUNCTION), (chain.work, FUNCTION),
                       (chain.work, "AWS::Lambda"), (chain.bucket, "AWS::S3::Bucket")):
        expect(page.locator(f'.map-node[data-name="{name}"][data-type="{kind}"]')).to_be_visible()
    fan_edge = page.locator(f'.map-edge[data-from="{chain.fanout}"][data-to="{chain.work}"]')
    expect(fan_edge.locator(".edge-count")).to_have_text(str(calls))
    expect(fan_edge).to_have_class(re.compile(r"\basync\b"))  # queued, drawn dashed
    put_edge = page.locator(f'.map-edge[data-from="{chain.work}"][data-to="{chain.bucket}"]')
    expect(put_edge.locator(".edge-count")).to_have_text(str(calls))
    # And a node's panel counts its calls and lists the traces through it
    page.locator(f'.map-node[data-name="{chain.work}"][data-type="{FUNCTION}"]').click()
    expect(page.locator('.side [data-stat="calls"]')).to_have_text(str(calls))
    expect(page.locator(".side svg.hist rect").first).to_be_visible()
    expect(page.locator(".side tr[data-trace]")).to_have_count(len(RUNS))
    # And, from the function's invocation records, its cold starts (its first run was one)
    expect(page.locator('.side [data-stat="cold-starts"]')).to_have_text(re.compile(r"^[1-9]"))


def test_clicking_through_reaches_a_trace_and_an_invocations_logs(ripple: Ripple, chain: Chain,
                                                                   page: Any) -> None:
    # Given the map, and the fan-out function's node picked on it
    page.goto(viewer(ripple, "#/map"))
    page.locator(f'.map-node[data-name="{chain.fanout}"][data-type="{FUNCTION}"]').click()
    # When the big run's trace is followed from the node's panel
    page.locator(f'.side tr[data-trace="{chain.traces["big"]}"] a').click()
    # Then its waterfall shows the invocation's parts, the critical path and the folded fan-out
    expect(page.locator('.wf-row[data-segment="Invocation"]').first).to_be_visible()
    expect(page.locator(".wf-row.critical").first).to_be_visible()
    folded = page.locator(".wf-row[data-fold]").first
    expect(folded).to_contain_text("×")
    # And clicking the fan-out function's invocation shows its event, response and log lines
    page.locator(".wf-row[data-request-id]").first.click()
    logs = page.locator(".side pre.logs")
    expect(logs).to_contain_text("START RequestId")
    expect(logs).to_contain_text("dispatched 12")
    expect(logs).to_contain_text("REPORT RequestId")
    expect(page.locator(".side .cost")).to_contain_text("$")
    # And the raw segment documents open under it
    page.locator("details.raw summary").click()
    expect(page.locator("pre.segments")).to_contain_text('"trace_id"')


def test_compare_shows_the_changed_fan_out_count(ripple: Ripple, chain: Chain,
                                                 page: Any) -> None:
    # Given the traces of the chain, filtered by its first function
    page.goto(viewer(ripple, f'#/traces?filter=service("{chain.fanout}")&since=1h'))
    rows = page.locator("table.traces tr[data-trace]")
    expect(rows).to_have_count(len(RUNS))
    # When both runs are picked and compared
    for trace_id in (chain.traces["small"], chain.traces["big"]):
        page.locator(f'tr[data-trace="{trace_id}"] input[type=checkbox]').check()
    page.get_by_role("button", name="Compare 2 picked").click()
    # Then the paths below the fan-out show its count changed from one run to the other
    fanout = page.locator('tr.compare-row[data-change="fanout"]')
    expect(fanout.first).to_be_visible()
    expect(fanout.first.locator(".change")).to_have_text(re.compile(r"fan-out (4 → 12|12 → 4)"))
    expect(page.locator('[data-summary="fanout"]')).not_to_have_text("fanout: 0")


def test_why_walks_an_object_back_to_its_root(ripple: Ripple, chain: Chain, page: Any) -> None:
    # Given the Why page
    page.goto(viewer(ripple, "#/why"))
    # When asked about an object the big run's seventh work invocation wrote
    page.locator("input[name=target]").fill(f"s3://{chain.bucket}/big/7.json")
    page.get_by_role("button", name="Why?").click()
    # Then the chain runs from the client's invoke through both functions to the bucket
    chain_items = page.locator("ol.chain li")
    expect(chain_items.first).to_contain_text("client")
    expect(page.locator("ol.chain")).to_contain_text(chain.fanout)
    expect(page.locator("ol.chain")).to_contain_text(chain.work)
    expect(chain_items.last).to_contain_text(chain.bucket)
    expect(page.locator(".write")).to_contain_text("S3.PutObject")
    # And forward from the root, the twelve work invocations are folded into one line
    expect(page.locator('.caused li.fold[data-fold="12"]').first).to_be_visible()


def test_functions_show_counters_reports_and_logs(ripple: Ripple, chain: Chain,
                                                  page: Any) -> None:
    # Given the Functions page
    page.goto(viewer(ripple, "#/functions"))
    # When the work function is opened from the list
    page.locator(f'tr[data-function="{chain.work}"] a').click()
    # Then its counters, REPORT statistics and log lines show
    expect(page.locator('[data-counter="invocations"]')).to_have_text(str(sum(RUNS.values())))
    expect(page.locator("dl.report")).to_contain_text("cold starts")
    expect(page.locator("pre.function-logs")).to_contain_text("stored big/")


def test_live_tail_shows_new_log_lines(ripple: Ripple, chain: Chain, page: Any) -> None:
    # Given the fan-out function's page, tailing its logs
    page.goto(viewer(ripple, f"#/functions/{chain.fanout}"))
    expect(page.locator("pre.function-logs")).to_contain_text("dispatched 12")
    page.wait_for_timeout(300)  # the long poll is under way
    # When it is invoked again
    invoked = ripple.cli("invoke", chain.fanout, "--payload", '{"count": 0, "run": "tail"}')
    assert invoked.returncode == 0, invoked.stderr
    # Then the new invocation's lines arrive without a reload
    expect(page.locator("pre.function-logs")).to_contain_text("dispatched 0", timeout=10_000)


def test_a_token_given_once_is_sent_with_every_api_call(ripple: Ripple, page: Any) -> None:
    # Given the page opened with a token in its address
    sent: list[str | None] = []
    page.on("request", lambda request: sent.append(request.headers.get("x-ripple-token"))
            if "/_ripple/api/" in request.url else None)
    page.goto(viewer(ripple, "?token=s3cret#/functions"))
    expect(page.locator("h1")).to_have_text("Functions")
    # When another page is opened in the same tab
    page.goto(viewer(ripple, "#/traces"))
    expect(page.locator("h1")).to_have_text("Traces")
    # Then the token left the address bar, and every API call carried it
    assert "token" not in page.url
    assert sent and all(token == "s3cret" for token in sent), sent

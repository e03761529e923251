"""The viewer's files are served ahead of the token guard, and its API calls are not."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor

import httpx
from fastapi import FastAPI

from orchestrator.endpoint.auth import TokenGuard
from orchestrator.endpoint.viewer_api import ViewerPages, router

FAR_CLIENT = ("192.0.2.10", 50000)  # a documentation address: never contacted, only named


def _get(path: str, **headers: str) -> httpx.Response:
    app = FastAPI()
    app.include_router(router)
    app.state.span_store = None
    guarded = ViewerPages(TokenGuard(app, token="s3cret"))
    transport = httpx.ASGITransport(app=guarded, client=FAR_CLIENT)

    async def get() -> httpx.Response:
        async with httpx.AsyncClient(transport=transport, base_url="http://ripple") as client:
            return await client.get(path, headers=headers)

    # On a thread of its own: Playwright's sync API keeps an event loop on this one.
    with ThreadPoolExecutor(1) as thread:
        return thread.submit(asyncio.run, get()).result()


def test_the_page_and_its_modules_need_no_token() -> None:
    # Given a client off this machine and an endpoint with a token
    # When it loads the page and a module without the token
    page, module = _get("/_ripple/"), _get("/_ripple/ui/js/app.js")
    # Then both are served, as HTML and as JavaScript
    assert page.status_code == 200 and "<main id=\"view\">" in page.text
    assert module.status_code == 200
    assert module.headers["content-type"].startswith("text/javascript")


def test_the_api_still_needs_the_token() -> None:
    # Given the same client
    # When it asks the viewer's API without the token, then with it
    refused = _get("/_ripple/api/traces/1-5759e988-bd862e3fe1be46a994272793/spans")
    allowed = _get("/_ripple/api/traces/1-5759e988-bd862e3fe1be46a994272793/spans",
                   **{"X-Ripple-Token": "s3cret"})
    # Then it is refused with AWS's error, then let through (to a store that is not open)
    assert refused.status_code == 403
    assert refused.headers["x-amzn-errortype"] == "AccessDeniedException"
    assert allowed.status_code == 503


def test_nothing_outside_the_viewers_folder_is_served() -> None:
    # Given paths that climb out of the viewer's folder
    for path in ("/_ripple/ui/../../pyproject.toml", "/_ripple/ui/%2e%2e/%2e%2e/pyproject.toml",
                 "/_ripple/ui/../viewer_api.py", "/_ripple/ui/missing.js"):
        # When they are asked for, then nothing is served (the guard has the last word on
        # what the client's own URL normalisation moved out of /_ripple/ui/)
        answer = _get(path)
        assert answer.status_code in (403, 404), path
        assert "build-system" not in answer.text and "ViewerPages" not in answer.text


def test_ripple_without_a_slash_goes_to_the_page() -> None:
    answer = _get("/_ripple")
    assert answer.status_code == 307 and answer.headers["location"].endswith("/_ripple/")

"""The CLI's client of the endpoint (`RIPPLE_ENDPOINT`), with errors a person can act on."""

from __future__ import annotations

from typing import Any

import httpx
import typer
from rich.console import Console

from orchestrator.settings import get_settings

err = Console(stderr=True)


class Endpoint:
    def __init__(self, url: str | None = None, token: str | None = None) -> None:
        settings = get_settings()
        self.url = (url or settings.endpoint).rstrip("/")
        token = token or settings.token
        headers = {"X-Ripple-Token": token} if token else {}
        self.http = httpx.Client(base_url=self.url, headers=headers, timeout=httpx.Timeout(
            connect=5.0, read=960.0, write=60.0, pool=5.0))

    def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        try:
            return self.http.request(method, path, **kwargs)
        except httpx.ConnectError:
            err.print(f"[red]error:[/] cannot reach ripple at {self.url}. Start it with "
                      "`ripple up`, or set RIPPLE_ENDPOINT.")
            raise typer.Exit(2) from None

    def json(self, method: str, path: str, **kwargs: Any) -> Any:
        response = self.request(method, path, **kwargs)
        if response.status_code >= 400:
            err.print(f"[red]error:[/] {method} {path}: {response.status_code} "
                      f"{_detail(response)}")
            raise typer.Exit(1)
        return response.json()


def _detail(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.text
    if isinstance(body, dict):
        return str(body.get("detail") or body.get("message") or body)
    return str(body)

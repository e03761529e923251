"""Where the stage listens: `settings.host` (loopback by default) on `settings.api_port`.

The stage shares the endpoint's process. Its socket is bound before either server starts, so
a port that is taken leaves the endpoint running without a stage and says why (in the log
and in `GET /_ripple/api/status`) instead of taking the endpoint down.
"""

from __future__ import annotations

import logging
import socket
from dataclasses import dataclass

from orchestrator.settings import Settings

log = logging.getLogger("ripple.apigateway")
DISABLED = "disabled (api_port is 0)"


@dataclass(frozen=True)
class StageStatus:
    url: str | None  # None when the stage is not serving
    reason: str = ""  # why not

    def describe(self) -> dict[str, str | None]:
        return {"url": self.url, "reason": self.reason or None}


def client_host(host: str) -> str:
    """The address a client on this machine reaches a server bound to `host` at."""
    return "127.0.0.1" if host in ("0.0.0.0", "::", "") else host


def bind_stage(settings: Settings) -> tuple[socket.socket | None, StageStatus]:
    """The stage's listening socket, or None (and why) when it is off or cannot bind."""
    if settings.api_port == 0:
        return None, StageStatus(None, DISABLED)
    family = socket.AF_INET6 if ":" in settings.host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((settings.host, settings.api_port))
        sock.listen(2048)
    except OSError as error:
        sock.close()
        reason = (f"cannot listen on {settings.host}:{settings.api_port} ({error.strerror}); "
                  "choose another port with --api-port or RIPPLE_API_PORT")
        log.warning("API Gateway stage not started: %s", reason)
        return None, StageStatus(None, reason)
    sock.setblocking(False)
    url = f"http://{client_host(settings.host)}:{settings.api_port}"
    return sock, StageStatus(url)

"""Function configurations kept in the endpoint's memory, evicted whenever any process
redeploys or deletes a function (Redis pub/sub), so an invoke costs no registry round trip."""

from __future__ import annotations

import asyncio
import logging

from redis.asyncio import Redis as AsyncRedis

from orchestrator import keys
from orchestrator.functions.config import FunctionConfig
from orchestrator.functions.registry import Registry

log = logging.getLogger("ripple.endpoint")


class FunctionCache:
    def __init__(self, registry: Registry) -> None:
        self.registry = registry
        self._functions: dict[str, FunctionConfig] = {}

    def get(self, name: str) -> FunctionConfig | None:
        function = self._functions.get(name)
        if function is None:
            function = self.registry.get(name)
            if function is not None:
                self._functions[name] = function
        return function

    def forget(self, name: str | None = None) -> None:
        """Drop one function, or all of them."""
        if name is None:
            self._functions.clear()
        else:
            self._functions.pop(name, None)

    async def follow_changes(self, redis: AsyncRedis) -> None:
        """Evict functions as deploys announce them; forget everything if the feed breaks."""
        while True:
            try:
                async with redis.pubsub() as pubsub:
                    await pubsub.subscribe(keys.FUNCTIONS_CHANGED)
                    self.forget()  # changes made while not subscribed
                    async for message in pubsub.listen():
                        if message["type"] == "message":
                            self.forget(message["data"].decode())
            except asyncio.CancelledError:
                raise
            except Exception:
                log.warning("lost the function change feed; retrying", exc_info=True)
                self.forget()
                await asyncio.sleep(1)

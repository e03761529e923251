"""Each worker's pool of execution environments: warm reuse, idle reaping, a size cap.

Environments the pool retires while idle stop cleanly: each is asked to flush its telemetry and
exit, all at once, and killed if it has not within the grace period."""

from __future__ import annotations

import threading
import time

from orchestrator.functions.config import FunctionConfig
from orchestrator.settings import Settings
from workers.environments.code_cache import CodeCache
from workers.environments.environment import STOP_GRACE_SECONDS, Environment


class EnvironmentPool:
    def __init__(self, code_cache: CodeCache, settings: Settings) -> None:
        self.code_cache = code_cache
        self.settings = settings
        self._idle: dict[str, list[Environment]] = {}
        self._busy: set[Environment] = set()
        self._lock = threading.Lock()

    def checkout(self, function: FunctionConfig) -> tuple[Environment, bool]:
        """A warm environment for this function version if one is idle, else a new one (cold)."""
        retired: list[Environment] = []
        with self._lock:
            idle = self._idle.get(function.name, [])
            env = None
            others: list[Environment] = []  # another published version's: kept for it
            while idle:
                candidate = idle.pop()
                same_version = candidate.function.lambda_version == function.lambda_version
                if not candidate.alive or (same_version and
                                           candidate.function.version != function.version):
                    retired.append(candidate)  # dead, or $LATEST's older code: never reused
                elif same_version:
                    env = candidate
                    break
                else:
                    others.append(candidate)
            idle.extend(reversed(others))
            if env is not None:
                self._busy.add(env)
        _stop_cleanly(retired)
        if env is not None:
            return env, False
        self._make_room()
        env = Environment(function, self.code_cache.path_for(function), self.settings)
        with self._lock:
            self._busy.add(env)
        return env, True

    def checkin(self, env: Environment) -> bool:
        """Return an environment after use; True if it stays warm for the next one."""
        with self._lock:
            self._busy.discard(env)
            if env.alive:
                self._idle.setdefault(env.function.name, []).append(env)
                return True
        env.stop()
        return False

    def reap(self) -> int:
        """Stop environments idle for longer than the idle timeout; returns how many."""
        cutoff = time.monotonic() - self.settings.env_idle_seconds
        with self._lock:
            stale = [env for envs in self._idle.values() for env in envs
                     if env.last_used < cutoff or not env.alive]
            for env in stale:
                self._idle[env.function.name].remove(env)
        _stop_cleanly(stale)
        return len(stale)

    def _make_room(self) -> None:
        with self._lock:
            idle = sorted((env for envs in self._idle.values() for env in envs),
                          key=lambda env: env.last_used)
            excess = len(idle) + len(self._busy) + 1 - self.settings.max_environments
            evicted = idle[:max(excess, 0)]
            for env in evicted:
                self._idle[env.function.name].remove(env)
        _stop_cleanly(evicted)

    def size(self) -> int:
        with self._lock:
            return len(self._busy) + sum(len(envs) for envs in self._idle.values())

    def shutdown(self) -> None:
        with self._lock:
            everything = [env for envs in self._idle.values() for env in envs] + list(self._busy)
            self._idle.clear()
            self._busy.clear()
        _stop_cleanly(everything)


def _stop_cleanly(envs: list[Environment]) -> None:
    for env in envs:
        env.request_stop()
    for env in envs:
        env.stop(grace=STOP_GRACE_SECONDS)

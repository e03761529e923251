"""ripple's own control API under /_ripple/api: deploy, functions, logs, dead letters, status.

Every parameter is bounded where it is declared (FastAPI answers 422 naming it), so no input
reaches Redis in a form it refuses: a bad request is the caller's 4xx, never a 500.
"""

from __future__ import annotations

import hashlib
import json
import re
import time
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, Request, Response
from pydantic import BaseModel, ValidationError
from redis.exceptions import ResponseError

from orchestrator import keys
from orchestrator.endpoint.apigateway.routes import RouteTable
from orchestrator.endpoint.lambda_control.deploy import register, unregister
from orchestrator.functions.config import FunctionConfig
from orchestrator.functions.registry import Registry
from orchestrator.invocations.dead_letters import DeadLetters
from orchestrator.services.dynamodb.tables import ensure_table
from orchestrator.services.s3.store import ensure_bucket
from orchestrator.spec.models import TableSpec

router = APIRouter(prefix="/_ripple/api")
HEARTBEAT_FRESH_SECONDS = 10
MAX_PAGE = 10_000
MAX_WAIT_MS = 20_000  # a long poll as long as SQS's longest (20 s)
# A Redis stream entry id (`1700000000000-0`) or its millisecond part alone.
STREAM_ID = r"^[0-9]{1,20}(-[0-9]{1,20})?$"
Limit = Annotated[int, Query(ge=1, le=MAX_PAGE)]
# `//user:password@` (or `//password@`, which redis-py reads as a user name, shown as a secret
# all the same) and a `password=` query parameter.
_USER_INFO = re.compile(r"//([^/?#]*)@")
_PASSWORD_PARAMETER = re.compile(r"([?&]password=)[^&#]*", re.IGNORECASE)


def _registry(request: Request) -> Registry:
    return request.app.state.registry  # type: ignore[no-any-return]


def describe(registry: Registry, function: FunctionConfig) -> dict[str, Any]:
    concurrency = int(registry.redis.zcount(keys.concurrency(function.name), time.time(), "+inf"))
    return {**function.model_dump(), "version": function.version,
            "counters": registry.counters(function.name), "concurrency_in_use": concurrency}


@router.get("/functions")
def list_functions(request: Request) -> list[dict[str, Any]]:
    registry = _registry(request)
    return [describe(registry, function) for function in registry.all()]


@router.get("/functions/{name}")
def get_function(name: str, request: Request) -> dict[str, Any]:
    registry = _registry(request)
    function = registry.get(name)
    if function is None:
        raise HTTPException(404, f"no function named {name!r}")
    return describe(registry, function)


@router.head("/code/{sha256}")
def has_code(sha256: str, request: Request) -> Response:
    return Response(status_code=200 if _registry(request).has_code(sha256) else 404)


@router.put("/code/{sha256}")
async def put_code(sha256: str, request: Request) -> dict[str, str]:
    blob = await request.body()
    if hashlib.sha256(blob).hexdigest() != sha256:
        raise HTTPException(400, "the archive's SHA-256 does not match the URL")
    _registry(request).put_code(sha256, blob)
    return {"sha256": sha256}


@router.put("/functions/{name}")
def put_function(name: str, body: dict[str, Any], request: Request) -> dict[str, Any]:
    registry = _registry(request)
    try:
        function = FunctionConfig.model_validate({**body, "name": name})
    except ValidationError as error:
        raise HTTPException(400, str(error)) from None
    if not registry.has_code(function.code_sha256):
        raise HTTPException(400, f"upload code {function.code_sha256} first (PUT /code/...)")
    created = registry.get(name) is None
    changed = register(request, function)  # the Lambda API's CreateFunction path too
    return {"name": name, "version": function.version, "changed": changed, "created": created}


@router.delete("/functions/{name}")
def delete_function(name: str, request: Request) -> dict[str, bool]:
    return {"deleted": unregister(request, name)}


class Resources(BaseModel):
    buckets: list[str] = []
    tables: dict[str, TableSpec] = {}


@router.put("/resources")
def put_resources(body: Resources, request: Request) -> dict[str, list[str]]:
    """Create the buckets and tables a spec declares; existing ones keep their data."""
    redis = _registry(request).redis
    region = request.app.state.settings.region
    for bucket in body.buckets:
        ensure_bucket(redis, bucket, region)
    for table, declared in body.tables.items():
        ensure_table(redis, table, dict(declared.keys), declared.stream)
    return {"buckets": body.buckets, "tables": sorted(body.tables)}


@router.get("/functions/{name}/logs")
async def function_logs(name: str, request: Request,
                        after: Annotated[str, Query(pattern=STREAM_ID)] | None = None,
                        limit: Limit = 100,
                        wait_ms: Annotated[int, Query(ge=0, le=MAX_WAIT_MS)] = 0,
                        ) -> dict[str, Any]:
    """Log entries newest last; `after` pages forward and `wait_ms` long-polls for new ones."""
    if _registry(request).get(name) is None:
        raise HTTPException(404, f"no function named {name!r}")
    stream = keys.logs(name)
    redis = request.app.state.async_redis
    try:
        if after:
            if wait_ms > 0:
                found = await redis.xread({stream: after}, count=limit, block=wait_ms)
                entries = found[0][1] if found else []
            else:
                entries = await redis.xrange(stream, min=f"({after}", count=limit)
        else:
            entries = list(reversed(await redis.xrevrange(stream, count=limit)))
    except ResponseError as error:  # an id past 64 bits, which the pattern cannot see
        raise HTTPException(400, f"after={after!r} is not a log entry id: {error}") from None
    items = [{"id": _text(entry_id), "request_id": _text(fields[b"request_id"]),
              "text": _text(fields[b"text"])} for entry_id, fields in entries]
    last = items[-1]["id"] if items else (after or "0-0")
    return {"entries": items, "last_id": last}


@router.get("/invocations")
def invocations(request: Request, function: str = "",
                limit: Limit = 100) -> list[dict[str, Any]]:
    redis = _registry(request).redis
    records = []
    entries: list[tuple[bytes, dict[bytes, bytes]]] = redis.xrevrange(  # type: ignore[assignment]
        keys.INVOCATIONS, count=limit if not function else 10_000)
    for _, fields in entries:
        record = json.loads(fields[b"record"])
        if not function or record["function"] == function:
            records.append(record)
        if len(records) >= limit:
            break
    return list(reversed(records))


class ReplayRequest(BaseModel):
    ids: list[str] = []
    all: bool = False


@router.get("/dlq")
def dead_letters(request: Request) -> list[dict[str, Any]]:
    return DeadLetters(_registry(request).redis).list()


@router.post("/dlq/replay")
async def replay(body: ReplayRequest, request: Request) -> dict[str, list[str]]:
    dead = DeadLetters(_registry(request).redis)
    ids = [entry["id"] for entry in dead.list()] if body.all else body.ids
    replayed, missing = [], []
    for entry_id in ids:
        entry = dead.take(entry_id)
        if entry is None:
            missing.append(entry_id)
            continue
        await request.app.state.invoke.invoke(entry["function"], entry["payload"].encode(),
                                              "Event", trigger="replay")
        replayed.append(entry_id)
    return {"replayed": replayed, "missing": missing}


def live_workers(registry: Registry) -> list[str]:
    now = time.time()
    beats = registry.redis.hgetall(keys.WORKERS)
    return sorted(_text(worker) for worker, seen in beats.items()
                  if now - float(seen) < HEARTBEAT_FRESH_SECONDS)


@router.get("/status")
def status(request: Request) -> dict[str, Any]:
    registry = _registry(request)
    redis = registry.redis
    functions = registry.all()
    return {
        "workers": live_workers(registry),
        "functions": len(functions),
        "queued": {queue: int(redis.llen(queue)) for queue in (keys.QUEUE_SYNC, keys.QUEUE_ASYNC)},
        "delayed": int(redis.zcard(keys.DELAYED)),
        "dead_letters": int(redis.zcard(keys.DEAD_LETTER_ORDER)),
        "redis_url": redacted(request.app.state.settings.redis_url),
        "apigateway": {**request.app.state.apigateway.describe(),
                       "routes": RouteTable.of(functions).describe()},
    }


def redacted(url: str | None) -> str | None:
    """`url` without its password (`redis://:****@host:6379`, `?password=****`): the status is
    readable by any handler, and the password is what keeps handlers out of Redis."""
    if not url:
        return url
    url = _USER_INFO.sub(lambda match: "//" + _masked(match[1]) + "@", url)
    return _PASSWORD_PARAMETER.sub(r"\1****", url)


def _masked(user_info: str) -> str:
    user, colon, _ = user_info.partition(":")
    return f"{user}:****" if colon else "****"


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value

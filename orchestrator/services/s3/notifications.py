"""S3 event notifications to Lambda: each bucket's rules, and one async invocation per
matching rule once a write has succeeded.

Rules come from PutBucketNotificationConfiguration and from deployed functions' `s3:`
triggers: `apply_function` turns a function's triggers into rules with Id `ripple-<name>-<n>`
on their buckets, replacing that function's earlier rules and leaving every other rule alone.
Rules are kept in `ripple:s3:notifications` (hash: bucket -> configuration JSON).
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import orjson
from redis import Redis
from redis.client import Pipeline

from orchestrator.events.s3 import s3_event, s3_record, sequencer
from orchestrator.functions.config import FunctionConfig
from orchestrator.functions.registry import Registry
from orchestrator.invocations.dispatch import Dispatcher
from orchestrator.invocations.message import InvocationRequest, InvocationType
from orchestrator.services.s3.notification_config import Configuration, matches
from orchestrator.services.s3.requests import S3Request
from orchestrator.settings import ACCOUNT_ID

log = logging.getLogger("ripple.s3.notifications")

NOTIFICATIONS = "ripple:s3:notifications"
LAMBDA_RULES = "LambdaFunctionConfigurations"
_FUNCTION_RULE_ID = re.compile(r"ripple-(?P<function>[A-Za-z0-9_-]+)-(?P<n>[0-9]+)")


def function_rule_id(function: str, n: int) -> str:
    """The Id of the n-th (from 1) `s3:` trigger of a deployed function."""
    return f"ripple-{function}-{n}"


def is_function_rule(rule_id: str, function: str | None = None) -> bool:
    found = _FUNCTION_RULE_ID.fullmatch(rule_id)
    return found is not None and (function is None or found["function"] == function)


def target_function(arn: str) -> str:
    """The function a rule invokes: `arn:aws:lambda:…:function:NAME[:qualifier]`, or a name."""
    if ":function:" in arn:
        return arn.split(":function:", 1)[1].split(":", 1)[0]
    return arn.rsplit(":", 1)[-1]


def function_rules(function: FunctionConfig) -> dict[str, list[dict[str, Any]]]:
    """A function's spec triggers as notification rules, by bucket."""
    rules: dict[str, list[dict[str, Any]]] = {}
    triggers = [event["s3"] for event in function.events if event.get("s3")]
    for n, trigger in enumerate(triggers, start=1):
        rule: dict[str, Any] = {"Id": function_rule_id(function.name, n),
                                "LambdaFunctionArn": function.arn,
                                "Events": list(trigger.get("events") or ["s3:ObjectCreated:*"])}
        filters = [{"Name": name, "Value": trigger[name]} for name in ("prefix", "suffix")
                   if trigger.get(name)]
        if filters:
            rule["Filter"] = {"Key": {"FilterRules": filters}}
        rules.setdefault(trigger["bucket"], []).append(rule)
    return rules


@dataclass
class ObjectEvent:
    """A write that happened: `ObjectCreated:Put`, `ObjectRemoved:Delete`, …"""

    name: str
    bucket: str
    key: str
    sequence: int
    size: int | None = None
    etag: str | None = None
    version_id: str | None = None  # in a versioned bucket


class S3Notifications:
    def __init__(self, redis: Redis, region: str = "us-east-1") -> None:
        self.redis = redis
        self.region = region
        self._registry = Registry(redis)
        self._dispatcher: Dispatcher | None = None

    # Rules

    def configuration(self, bucket: str) -> Configuration:
        raw = self.redis.hget(NOTIFICATIONS, bucket)
        return json.loads(raw) if raw is not None else {}

    def put_configuration(self, bucket: str, configuration: Configuration) -> None:
        """PutBucketNotificationConfiguration: the bucket's whole configuration, replaced."""
        self._rewrite(lambda found: {bucket: configuration}, only={bucket})

    def drop_bucket(self, bucket: str) -> None:
        """A deleted bucket loses its rules, except deployed functions' (they return with it)."""
        def keep_function_rules(found: dict[str, Configuration]) -> dict[str, Configuration]:
            configuration = found.get(bucket, {})
            return {bucket: _without(configuration, lambda rule: not is_function_rule(rule))}

        self._rewrite(keep_function_rules, only={bucket})

    def apply_function(self, function: FunctionConfig) -> None:
        """Make the rules of a deployed function those of its spec's `s3:` triggers."""
        wanted = function_rules(function)
        self._replace_function_rules(function.name, wanted)

    def remove_function(self, name: str) -> None:
        """Drop a deleted function's rules from every bucket."""
        self._replace_function_rules(name, {})

    def _replace_function_rules(self, name: str,
                                wanted: dict[str, list[dict[str, Any]]]) -> None:
        def change(found: dict[str, Configuration]) -> dict[str, Configuration]:
            updated = {}
            for bucket in set(found) | set(wanted):
                kept = _without(found.get(bucket, {}),
                                lambda rule_id: is_function_rule(rule_id, name))
                rules = kept.get(LAMBDA_RULES, []) + wanted.get(bucket, [])
                updated[bucket] = {**kept, LAMBDA_RULES: rules} if rules else kept
            return updated

        self._rewrite(change)

    def _rewrite(self, change: Callable[[dict[str, Configuration]], dict[str, Configuration]],
                 only: set[str] | None = None) -> None:
        """Apply `change` to the configurations (all, or the `only` buckets') atomically."""

        def transaction(pipe: Pipeline) -> None:
            if only is None:
                raw = pipe.hgetall(NOTIFICATIONS)
            else:
                buckets = sorted(only)
                values = pipe.hmget(NOTIFICATIONS, buckets)
                raw = {bucket: value for bucket, value in zip(buckets, values, strict=True)
                       if value}
            found = {_text(bucket): json.loads(value) for bucket, value in raw.items()}
            updated = change(found)
            pipe.multi()
            for bucket, configuration in updated.items():
                if any(configuration.values()) or "EventBridgeConfiguration" in configuration:
                    pipe.hset(NOTIFICATIONS, bucket, json.dumps(configuration))
                else:
                    pipe.hdel(NOTIFICATIONS, bucket)

        self.redis.transaction(transaction, NOTIFICATIONS)

    # Delivery

    def notify(self, request: S3Request, event: ObjectEvent) -> int:
        """Invoke (async) the function of every rule matching the event; returns how many.
        A rule naming a function that is not deployed is skipped and logged."""
        rules = [rule for rule in self.configuration(event.bucket).get(LAMBDA_RULES, [])
                 if matches(rule, event.name, event.key)]
        sent = 0
        for rule in rules:
            name = target_function(rule["LambdaFunctionArn"])
            try:
                function = self._registry.get(name)
                if function is None:
                    log.warning("S3 notification %s of bucket %s names function %s, which is "
                                "not deployed: skipped", rule["Id"], event.bucket, name)
                    continue
                record = self._record(request, event, rule["Id"])
                invocation = InvocationRequest(function=function,
                                               payload=orjson.dumps(s3_event(record)),
                                               invocation_type=InvocationType.ASYNC,
                                               trigger="s3")
                if self._dispatcher is None:
                    self._dispatcher = Dispatcher(self.redis)
                sent += bool(self._dispatcher.send(invocation))
            except Exception:  # the write succeeded: a failed notification must not undo it
                log.exception("S3 notification %s of bucket %s could not invoke %s",
                              rule["Id"], event.bucket, name)
        return sent

    def _record(self, request: S3Request, event: ObjectEvent,
                configuration_id: str) -> dict[str, Any]:
        return s3_record(
            event_name=event.name, bucket=event.bucket, key=event.key,
            sequence=sequencer(event.sequence), configuration_id=configuration_id,
            region=self.region, request_id=request.request_id, host_id=request.host_id,
            size=event.size, etag=event.etag, version_id=event.version_id,
            source_ip=request.source_ip,
            principal_id=f"AWS:{request.access_key or ACCOUNT_ID}")


def _without(configuration: Configuration, drop: Callable[[str], bool]) -> Configuration:
    """The configuration without the Lambda rules whose Id `drop` picks."""
    rules = [rule for rule in configuration.get(LAMBDA_RULES, []) if not drop(rule["Id"])]
    kept = {name: value for name, value in configuration.items() if name != LAMBDA_RULES}
    return {**kept, LAMBDA_RULES: rules} if rules else kept


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value

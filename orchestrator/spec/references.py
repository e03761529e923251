"""The checks that need the whole spec: code folders, environment size, declared buckets and
tables, failure targets and routes declared twice."""

from __future__ import annotations

import re

from orchestrator.functions.config import DEAD_LETTER_LIST
from orchestrator.spec.models import DynamoDBTrigger, Spec

ENVIRONMENT_LIMIT = 4096  # bytes of keys and values together, as on Lambda
Problem = tuple[str, str]


def _check_references(spec: Spec) -> list[Problem]:
    """What one field alone cannot tell: folders, buckets, tables, targets, routes.

    Resolves each function's `code` against the spec's folder on the way.
    """
    problems: list[Problem] = []
    routes: dict[tuple[str, str], str] = {}  # method and path shape -> where it is declared
    for name, function in spec.functions.items():
        at = f"functions.{name}"
        function.code = (spec.base_dir / function.code).resolve()
        if not function.code.is_dir():
            problems.append((f"{at}.code", f"{function.code} is not a folder (code is relative "
                                           "to the spec file's folder)"))
        size = sum(len(f"{key}{value}".encode()) for key, value in function.environment.items())
        if size > ENVIRONMENT_LIMIT:
            problems.append((f"{at}.environment", f"holds {size} bytes of names and values; "
                                                  f"Lambda allows {ENVIRONMENT_LIMIT}"))
        problems += _check_target(spec, f"{at}.on_failure", function.on_failure)
        for index, trigger in enumerate(function.events):
            where = f"{at}.events[{index}]"
            if trigger.s3 and trigger.s3.bucket not in spec.buckets:
                problems.append((f"{where}.s3.bucket", f"bucket {trigger.s3.bucket!r} is not "
                                                       "declared: add it under buckets:"))
            if trigger.dynamodb:
                problems += _check_stream(spec, f"{where}.dynamodb", trigger.dynamodb)
            if trigger.http:
                # API Gateway sees /a/{id} and /a/{name} as one route.
                shape = re.sub(r"\{[^}+]*(\+?)\}", r"{\1}", trigger.http.path)
                taken = routes.setdefault((trigger.http.method, shape), where)
                if taken != where:
                    problems.append((f"{where}.http.path", f"route {trigger.http.method} "
                                     f"{trigger.http.path} is already declared at {taken}"))
    return problems


def _check_stream(spec: Spec, where: str, trigger: DynamoDBTrigger) -> list[Problem]:
    table = spec.tables.get(trigger.table)
    if table is None:
        return [(f"{where}.table", f"table {trigger.table!r} is not declared: add it under "
                                   "tables:")]
    if table.stream is None:
        return [(f"{where}.table", f"table {trigger.table!r} has no stream: set tables."
                                   f"{trigger.table}.stream, e.g. NEW_AND_OLD_IMAGES")]
    return _check_target(spec, f"{where}.on_failure", trigger.on_failure)


def _check_target(spec: Spec, where: str, target: str | None) -> list[Problem]:
    if target is None or target == DEAD_LETTER_LIST or target in spec.functions:
        return []
    return [(where, f"{target!r} is neither a function of this spec nor "
                    f"{DEAD_LETTER_LIST!r} (the built-in dead-letter list)")]

"""Reading `ripple.yaml`: YAML that refuses repeated keys, then the models and the cross-field
checks, every problem turned into one SpecError naming the file, the field and why."""

from __future__ import annotations

import difflib
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError
from pydantic_core import ErrorDetails

from orchestrator.errors import SpecError
from orchestrator.spec.api_access import ACCESS_MODELS
from orchestrator.spec.models import (
    DynamoDBTrigger,
    FunctionSpec,
    HttpTrigger,
    S3Trigger,
    Spec,
    TableSpec,
    Trigger,
)
from orchestrator.spec.references import Problem, _check_references

_MODELS = (S3Trigger, DynamoDBTrigger, HttpTrigger, Trigger, FunctionSpec, TableSpec, Spec,
           *ACCESS_MODELS)
_FIELD_NAMES = sorted({name for model in _MODELS for name in model.model_fields} - {"base_dir"})


def load_spec(path: Path) -> Spec:
    """Parse and check a spec file; raises SpecError(file, field, reason) on any problem."""
    file = str(path)
    raw = _read_yaml(path)
    if "base_dir" in raw:
        raise SpecError(file, "base_dir", "unknown field: it is always the spec file's folder")
    return validate_spec(file, raw, path.resolve().parent)


def validate_spec(file: str, raw: dict[str, Any], base_dir: Path) -> Spec:
    """Check a spec's mapping (as read from `file`): the models, then the cross-field checks."""
    try:
        spec = Spec.model_validate({**raw, "base_dir": base_dir})
    except ValidationError as error:
        raise _spec_error(file, [_translate(detail) for detail in error.errors()]) from None
    problems = _check_references(spec)
    if problems:
        raise _spec_error(file, problems)
    return spec


def _read_yaml(path: Path) -> dict[str, Any]:
    file = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise SpecError(file, "", "no such file: pass the path of your ripple.yaml") from None
    except UnicodeDecodeError:
        raise SpecError(file, "", "is not UTF-8 text") from None
    except OSError as error:
        raise SpecError(file, "", f"cannot be read: {error.strerror or error}") from None
    try:
        raw = yaml.load(text, Loader=_UniqueKeyLoader)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(error, "problem", None) or str(error)
        if "got '{'" in problem:
            # The usual cause: an unquoted route path inside a {...} mapping.
            problem += " (quote values holding braces: path: '/thumbs/{id}')"
        raise SpecError(file, "", f"invalid YAML{where}: {problem}") from None
    if raw is None:
        raise SpecError(file, "", "the file is empty: declare at least `functions:`")
    if not isinstance(raw, dict):
        raise SpecError(file, "", "the top level must be a mapping with functions:, buckets: "
                                  f"and tables: (got a {type(raw).__name__})")
    return raw


class _UniqueKeyLoader(yaml.SafeLoader):
    """PyYAML keeps the last of repeated keys; a repeated function would silently vanish."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                continue
            key = self.construct_object(key_node, deep=deep)  # type: ignore[no-untyped-call]
            if not isinstance(key, str | int | float | bool):
                continue  # unhashable keys get PyYAML's own error
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"duplicate key {key!r}", key_node.start_mark)
            seen.add(key)
        return super().construct_mapping(node, deep)


def _translate(detail: ErrorDetails) -> Problem:
    field, location = "", detail["loc"]
    for index, part in enumerate(location):
        if part == "[key]":
            continue  # the error is about a mapping's key, which the path already ends with
        is_key = location[index + 1:index + 2] == ("[key]",)
        if is_key:
            part = str(detail.get("input", part))  # pydantic writes a True key as 1
        field += f"[{part}]" if isinstance(part, int) else (f".{part}" if field else str(part))
    kind, given = detail["type"], detail.get("input")
    if location[-1:] == ("[key]",) and kind == "string_type":
        return field, (f"YAML reads this name as {given!r}, not text: quote it "
                       "(on/off/yes/no and bare numbers need quotes)")
    if kind == "extra_forbidden":
        name = str(detail["loc"][-1])
        guess = difflib.get_close_matches(name, _FIELD_NAMES, n=1)
        hint = f"did you mean {guess[0]!r}?" if guess else "check its spelling"
        return field, f"unknown field: {hint}"
    if kind == "missing":
        return field, "is required"
    reason = detail["msg"].removeprefix("Value error, ").replace("Input should be", "must be")
    if kind != "spec":
        reason += f" (got {_describe(given)})"
    return field, reason


def _describe(value: Any) -> str:
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _spec_error(file: str, problems: list[Problem]) -> SpecError:
    (field, reason), rest = problems[0], problems[1:]
    reason += "".join(f"\n  also {where}: {why}" for where, why in rest)
    return SpecError(file, field, reason)

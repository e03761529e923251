"""Reading one X-Ray segment document (a segment, or an independent subsegment with `"type":
"subsegment"`) and refusing a bad one as X-Ray does: with an error code (`MissingId`,
`InvalidName`, …) and a message that names what was wrong.

X-Ray's own checks, beyond its JSON schema: a 16-hex `id`; a `trace_id` on every document;
`end_time` or `in_progress`, and an end no earlier than the start; a `parent_id` on an
independent subsegment; 64 KB per document.
"""

from __future__ import annotations

import math
import re
from typing import Any

import orjson

from tracing.errors import TracingError

MAX_DOCUMENT = 64 * 1024
MAX_DEPTH = 32  # subsegments within subsegments
_TRACE_ID = re.compile(r"1-[0-9a-fA-F]{8}-[0-9a-fA-F]{24}")
ID = re.compile(r"[0-9a-fA-F]{16}")
_SEGMENT_NAME = re.compile(r"[\w .:/%&#=+\-@]{1,200}")  # X-Ray's: letters, numbers, spaces, …
_ANNOTATION_KEY = re.compile(r"[A-Za-z0-9_]{1,500}")
Document = dict[str, Any]


class DocumentError(TracingError):
    """A segment document X-Ray would refuse: `code` is X-Ray's `ErrorCode`, `id` the
    document's id when it has a readable one."""

    def __init__(self, code: str, reason: str, document_id: str = "",
                 kind: str = "segment") -> None:
        self.code = code
        self.id = document_id
        self.kind = kind
        super().__init__(f"Invalid {kind}. ErrorCode: {code}, Cause: {reason}")


def read(text: str | bytes) -> Document:
    """One document parsed and checked; raises `DocumentError` naming the first problem."""
    raw = text.encode() if isinstance(text, str) else text
    if len(raw) > MAX_DOCUMENT:
        raise DocumentError("SegmentTooLarge", f"the document is {len(raw)} bytes, more than "
                            f"X-Ray's {MAX_DOCUMENT}")
    try:
        document = orjson.loads(raw)
    except orjson.JSONDecodeError as error:
        raise DocumentError("InvalidJson", f"not JSON ({error})") from None
    if not isinstance(document, dict):
        raise DocumentError("InvalidJson", "a segment document is a JSON object, got "
                            f"{type(document).__name__}")
    independent = document.get("type") == "subsegment"
    kind = "subsegment" if independent else "segment"
    document_id = _id(document, kind)
    trace_id = document.get("trace_id")
    if trace_id is None:
        raise DocumentError("MissingTraceId", "trace_id is required", document_id, kind)
    if not (isinstance(trace_id, str) and _TRACE_ID.fullmatch(trace_id)):
        raise DocumentError("InvalidTraceId", f"trace_id {trace_id!r} is not "
                            "1-xxxxxxxx-xxxxxxxxxxxxxxxxxxxxxxxx", document_id, kind)
    parent_id = document.get("parent_id")
    if independent and parent_id is None:
        raise DocumentError("MissingParentId", "an independent subsegment names its parent "
                            "segment's id in parent_id", document_id, kind)
    if parent_id is not None and not (isinstance(parent_id, str) and ID.fullmatch(parent_id)):
        raise DocumentError("InvalidParentId", f"parent_id {parent_id!r} is not 16 hex digits",
                            document_id, kind)
    _check(document, kind, top=not independent, depth=0)
    return document


def _id(part: Document, kind: str) -> str:
    value = part.get("id")
    if value is None:
        raise DocumentError("MissingId", "id is required", kind=kind)
    if not (isinstance(value, str) and ID.fullmatch(value)) or value.strip("0") == "":
        raise DocumentError("InvalidId", f"id {value!r} is not 16 hex digits (not all 0)",
                            kind=kind)
    return value.lower()


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _check(part: Document, kind: str, top: bool, depth: int) -> None:
    """The rules every segment and subsegment keeps, down the subsegment tree."""
    part_id = _id(part, kind)
    name = part.get("name")
    if name is None:
        raise DocumentError("MissingName", "name is required", part_id, kind)
    valid = _SEGMENT_NAME.fullmatch(name) if top and isinstance(name, str) else (
        isinstance(name, str) and 0 < len(name) <= 250)
    if not valid:
        limit = "200 letters, numbers, spaces and _.:/%&#=+-@" if top else "1 to 250 characters"
        raise DocumentError("InvalidName", f"name {name!r} is not {limit}", part_id, kind)
    start = part.get("start_time")
    if start is None:
        raise DocumentError("MissingStartTime", "start_time is required", part_id, kind)
    if not _number(start) or start <= 0:
        raise DocumentError("InvalidStartTime", f"start_time {start!r} is not epoch seconds",
                            part_id, kind)
    end = part.get("end_time")
    if end is None and part.get("in_progress") is not True:
        raise DocumentError("MissingEndTime", "end_time is required unless in_progress is true",
                            part_id, kind)
    if end is not None and (not _number(end) or end < start):
        raise DocumentError("InvalidEndTime", f"end_time {end!r} is not epoch seconds at or "
                            f"after start_time {start!r}", part_id, kind)
    _check_blocks(part, part_id, kind)
    subsegments = part.get("subsegments", [])
    if not isinstance(subsegments, list) or not all(isinstance(s, dict) for s in subsegments):
        raise DocumentError("InvalidSubsegments", "subsegments is a list of objects",
                            part_id, kind)
    if subsegments and depth >= MAX_DEPTH:
        raise DocumentError("InvalidSubsegments", f"subsegments nest deeper than {MAX_DEPTH}",
                            part_id, kind)
    for subsegment in subsegments:
        _check(subsegment, "subsegment", top=False, depth=depth + 1)


def _check_blocks(part: Document, part_id: str, kind: str) -> None:
    for field in ("http", "aws", "metadata", "cause", "sql", "service"):
        value = part.get(field)
        if value is not None and not isinstance(value, dict) and not (
                field == "cause" and isinstance(value, str)):
            raise DocumentError("InvalidDocument", f"{field} must be an object", part_id, kind)
    annotations = part.get("annotations")
    annotations = {} if annotations is None else annotations
    if not isinstance(annotations, dict):
        raise DocumentError("InvalidAnnotations", "annotations must be an object", part_id, kind)
    for key, value in annotations.items():
        if not _ANNOTATION_KEY.fullmatch(key):
            raise DocumentError("InvalidAnnotations", f"annotation key {key!r} is not 1 to 500 "
                                "letters, numbers and underscores", part_id, kind)
        if not (isinstance(value, str | bool) or _number(value)):
            raise DocumentError("InvalidAnnotations", f"annotation {key!r} is not a string, "
                                "number or boolean", part_id, kind)
    metadata = part.get("metadata") or {}
    if not all(isinstance(value, dict) for value in metadata.values()):
        raise DocumentError("InvalidMetadata", "metadata holds an object per namespace",
                            part_id, kind)

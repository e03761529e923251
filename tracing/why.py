"""Why does this exist: from an S3 object, a DynamoDB item, an invocation or a trace back to
the root event, and from that root forward to everything it caused, across traces.

Back: from the target's span up its parents; where a span on the way links into other traces
(a stream batch links to the writes of its records), the nearest such span to its trace's root
is where the cause lies, and the walk goes on from the first linked span that is stored.
Forward: from the root down its children, and into every span that links to a span reached
(the lineage index answers that direction). INTERNAL spans (a handler's Initialization,
Invocation, Overhead) are left out of both; what they hold hangs from the hop above them.

The index (`tracing/store/lineage.py`) finds the target's span; the rest reads whole traces,
each once, so an answer costs a few trace reads whatever the store holds.
"""

from __future__ import annotations

import json
import time
from collections import deque
from collections.abc import Iterator
from typing import Any

from tracing.span_refs import NodeOf, nodes_of, span_ref
from tracing.spans import Span, SpanKind
from tracing.store.database import SpanStore
from tracing.store.lineage import Key, LineageIndex, item_ref, object_ref, request_ref
from tracing.topology import key
from tracing.trace_ids import TraceIdError, w3c_trace_id

MAX_TRACES = 100  # traces one answer reads
MAX_CAUSED = 5_000  # spans in the `caused` tree
MAX_CHAIN = 1_000


class Traces:
    """The traces an answer has read, each read once: spans by key, children by parent."""

    def __init__(self, store: SpanStore, limit: int = MAX_TRACES) -> None:
        self.store = store
        self.limit = limit
        self.order: list[str] = []
        self.spans: dict[Key, Span] = {}
        self.children: dict[Key, list[Span]] = {}
        self.nodes: NodeOf = {}
        self.truncated = False

    def load(self, trace_id: str) -> bool:
        """Read a trace unless read already; False when it is not stored or over the limit."""
        if trace_id in self.order:
            return True
        if len(self.order) >= self.limit:
            self.truncated = True
            return False
        spans = self.store.trace(trace_id)
        if not spans:
            return False
        self.order.append(trace_id)
        for span in spans:
            self.spans[key(span)] = span
            if span.parent_span_id:
                self.children.setdefault((span.trace_id, span.parent_span_id), []).append(span)
        self.nodes.update(nodes_of(spans))
        return True

    def span(self, span_key: Key) -> Span | None:
        if span_key not in self.spans:
            self.load(span_key[0])
        return self.spans.get(span_key)

    def parent(self, span: Span) -> Span | None:
        if not span.parent_span_id:
            return None
        return self.spans.get((span.trace_id, span.parent_span_id))

    def ref(self, span: Span) -> dict[str, Any]:
        return span_ref(span, self.nodes[key(span)])


# the target ---------------------------------------------------------------------------------

def _scalar(value: Any) -> str:
    if isinstance(value, dict) and len(value) == 1:  # DynamoDB's {"S": "v"}
        value = next(iter(value.values()))
    return str(value)


def target_refs(target: str) -> list[str] | None:
    """The index refs a target may be known by, most specific first; None for a trace id."""
    text = target.strip()
    if text.startswith("s3://"):
        bucket, _, object_key = text[5:].partition("/")
        return [object_ref(bucket, object_key)]
    if text.startswith("ddb://"):
        table, _, item = text[6:].partition("/")
        found = []
        if item.startswith("{"):
            try:
                attributes = json.loads(item)
            except ValueError:
                attributes = None
            if isinstance(attributes, dict):
                found.append(item_ref(table, ((str(name), _scalar(value))
                                              for name, value in attributes.items())))
        elif "=" in item:
            pairs = [part.partition("=") for part in item.split(",")]
            found.append(item_ref(table, ((name.strip(), value.strip())
                                          for name, _, value in pairs)))
        return [*found, f"ddb://{table}/{item}"]
    try:
        w3c_trace_id(text)
    except TraceIdError:
        return [request_ref(text)]
    return None


def _root_of_trace(traces: Traces, trace_id: str) -> Span | None:
    if not traces.load(trace_id):
        return None
    spans = [span for span in traces.spans.values() if span.trace_id == trace_id]
    roots = [span for span in spans if traces.parent(span) is None]
    return min(roots or spans, key=lambda span: (span.start_ns, -span.end_ns))


def find_target(traces: Traces, index: LineageIndex, target: str) -> Span | None:
    """The span that made the target (the latest, when several did); for a trace id, its
    root."""
    refs = target_refs(target)
    if refs is None:
        return _root_of_trace(traces, w3c_trace_id(target))
    for ref in refs:
        for span_key in index.made(ref):
            found = traces.span(span_key)
            if found is not None:
                return found
    return None


# back and forward ---------------------------------------------------------------------------

def _linked_cause(traces: Traces, span: Span) -> Span | None:
    for link in span.links:
        if link.trace_id != span.trace_id:
            found = traces.span((link.trace_id, link.span_id))
            if found is not None:
                return found
    return None


def back(traces: Traces, target: Span) -> list[Span]:
    """Every span from the root event down to `target` (root first)."""
    path = [target]
    seen = {key(target)}
    current = target
    while len(path) < MAX_CHAIN:
        above = [current]  # up to this trace's root
        while (parent := traces.parent(above[-1])) is not None and key(parent) not in seen:
            above.append(parent)
        # The linking span nearest its trace's root is where the cause lies.
        for position in range(len(above) - 1, -1, -1):
            cause = _linked_cause(traces, above[position])
            if cause is not None and key(cause) not in seen:
                break
        else:
            path += above[1:]
            break
        path += above[1:position + 1]
        seen.update(key(span) for span in above[:position + 1])
        path.append(cause)
        seen.add(key(cause))
        current = cause
    return path[::-1]


def _hops_below(traces: Traces, span: Span, linked: dict[Key, list[Key]]) -> Iterator[Span]:
    """The spans right below `span` that are hops (INTERNAL ones give their own instead),
    then the spans linking to it from other traces."""
    stack = sorted(traces.children.get(key(span), ()), key=lambda s: s.start_ns, reverse=True)
    while stack:
        child = stack.pop()
        if child.kind == SpanKind.INTERNAL:
            stack += sorted(traces.children.get(key(child), ()), key=lambda s: s.start_ns,
                            reverse=True)
        else:
            yield child
    for linking_key in linked.get(key(span), ()):
        found = traces.span(linking_key)
        if found is not None:
            yield found


def forward(traces: Traces, index: LineageIndex, root: Span,
            limit: int = MAX_CAUSED) -> dict[str, Any]:
    """The tree of what `root` caused: `{"span": ref, "children": [...]}`."""
    linked: dict[Key, list[Key]] = {}
    asked: set[str] = set()
    tree: dict[str, Any] = {"span": traces.ref(root), "children": []}
    queue = deque([(root, tree)])
    seen = {key(root)}
    while queue:
        span, node = queue.popleft()
        if span.trace_id not in asked:
            asked.add(span.trace_id)
            for linking, linked_span in index.linking([span.trace_id]):
                linked.setdefault(linked_span, []).append(linking)
        for child in _hops_below(traces, span, linked):
            if key(child) in seen:
                continue
            if len(seen) >= limit:
                traces.truncated = True
                queue.clear()
                break
            seen.add(key(child))
            branch: dict[str, Any] = {"span": traces.ref(child), "children": []}
            node["children"].append(branch)
            queue.append((child, branch))
    return tree


def why(store: SpanStore, index: LineageIndex, target: str) -> dict[str, Any] | None:
    """The why API's answer for `target` (`s3://bucket/key`, `ddb://table/key`, a request id
    or a trace id); None when nothing is known of it."""
    started = time.perf_counter()
    traces = Traces(store)
    written = find_target(traces, index, target)
    if written is None:
        return None
    path = back(traces, written)
    chain = [span for position, span in enumerate(path)
             if span.kind != SpanKind.INTERNAL or position in (0, len(path) - 1)]
    root = chain[0]
    caused = forward(traces, index, root)
    return {"target": target, "found": True, "write": traces.ref(written),
            "chain": [traces.ref(span) for span in chain], "root": traces.ref(root),
            "caused": caused, "traces": list(traces.order), "truncated": traces.truncated,
            "elapsed_ms": round((time.perf_counter() - started) * 1000, 3)}

// The side panel of a waterfall row: a span's facts, links, events and attributes, and for an
// invocation its record; for a folded fan-out its statistics.
import { dateTime, h, ms, pill, traceLink } from "./dom.js";
import { invocationPanel } from "./invocation.js";
import { duration, spanLabel } from "./waterfall.js";

export function foldPanel(fold) {
  return [h("h2", {}, `${fold.name} ×${fold.count}`), h("div", { class: "muted" }, `${fold.node.name} · folded fan-out`),
    h("dl", { class: "kv" },
      h("dt", {}, "spans"), h("dd", {}, String(fold.count)),
      h("dt", {}, "min / p50 / max"), h("dd", {}, `${ms(fold.min)} / ${ms(fold.p50)} / ${ms(fold.max)}`),
      h("dt", {}, "from – to"), h("dd", {}, `${dateTime(fold.start)} + ${ms((fold.end - fold.start) * 1000)}`)),
    h("p", { class: "muted" }, "Click the row's ▸ to unfold it. Failed, slow and critical spans are kept as rows of their own.")];
}

export function spanPanel(span) {
  const attributes = Object.entries(span.attributes || {}).sort(([a], [b]) => a.localeCompare(b));
  const parts = [
    h("h2", {}, spanLabel(span), " ", pill(span.status), span.critical ? h("span", { class: "badge crit" }, "critical path") : null),
    h("div", { class: "muted" }, `${span.node.name} · ${span.node.type} · ${span.kind}`),
    h("dl", { class: "kv" },
      h("dt", {}, "span"), h("dd", { class: "mono" }, span.span_id),
      h("dt", {}, "started"), h("dd", {}, dateTime(span.start)),
      h("dt", {}, "duration"), h("dd", {}, ms(duration(span))),
      span.operation ? [h("dt", {}, "operation"), h("dd", {}, span.operation)] : null,
      span.request_id ? [h("dt", {}, "request id"), h("dd", { class: "mono" }, span.request_id)] : null,
      span.attributes["ripple.lambda.queue_ms"] !== undefined ? [h("dt", {}, "queue wait"), h("dd", {}, ms(span.attributes["ripple.lambda.queue_ms"]))] : null,
      span.attributes["ripple.lambda.attempt"] !== undefined ? [h("dt", {}, "attempt"), h("dd", {}, String(span.attributes["ripple.lambda.attempt"]))] : null,
      span.service ? [h("dt", {}, "recorded by"), h("dd", {}, span.service)] : null),
  ];
  if (span.links && span.links.length) {
    parts.push(h("h2", {}, "Links"), h("ul", {}, span.links.map((link) => h("li", {}, traceLink(link.trace_id), " ", h("span", { class: "mono muted" }, link.span_id)))));
  }
  if (span.request_id && span.kind === "SERVER") parts.push(invocationPanel(span.request_id, span.start));
  if (span.events && span.events.length) {
    parts.push(h("h2", {}, "Events"), h("pre", {}, span.events.map((event) => `${dateTime(event.time)} ${event.name} ${JSON.stringify(event.attributes)}`).join("\n")));
  }
  parts.push(h("h2", {}, "Attributes"), h("dl", { class: "kv mono" },
    attributes.map(([name, value]) => [h("dt", {}, name), h("dd", {}, typeof value === "string" ? value : JSON.stringify(value))])));
  return parts;
}

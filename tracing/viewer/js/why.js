// Why does this exist (GET /_ripple/api/why): from an S3 object, a DynamoDB item, a request id
// or a trace back to the root event, and from the root forward to everything it caused.
import { api } from "./api.js";
import { append, clock, errorBox, h, ms, pill, traceLink } from "./dom.js";
import { setStatus } from "./nav.js";

const FOLD_AT = 8;

function ref(span) {
  const what = span.operation || span.name;
  return h("span", { class: "ref", "data-span": span.span_id },
    h("b", {}, span.node.name), span.node.name === what ? "" : ` ${what}`, " ", h("span", { class: "muted" }, span.node.type), " ",
    pill(span.status), " ", h("span", { class: "muted" }, `${clock(span.start)} · ${ms((span.end - span.start) * 1000)}`), " ",
    h("a", { href: `#/trace/${encodeURIComponent(span.trace_id)}` }, "trace"),
    span.request_id ? [" · ", h("span", { class: "mono muted" }, span.request_id)] : null);
}

// The caused tree, many children of one node and name shown as one folded line.
function tree(node, depth = 0) {
  const groups = new Map();
  for (const child of node.children || []) {
    const key = `${child.span.node.name}|${child.span.operation || child.span.name}`;
    (groups.get(key) || groups.set(key, []).get(key)).push(child);
  }
  const items = [];
  for (const members of groups.values()) {
    if (members.length <= FOLD_AT) { items.push(...members.map((child) => tree(child, depth + 1))); continue; }
    const durations = members.map((child) => (child.span.end - child.span.start) * 1000).sort((x, y) => x - y);
    const failed = members.filter((child) => child.span.status !== "ok").length;
    const first = members[0].span;
    items.push(h("li", { class: "fold", "data-fold": String(members.length) },
      h("details", {}, h("summary", {}, h("b", {}, `${first.node.name} ${first.operation || first.name} ×${members.length}`),
        h("span", { class: "muted" }, ` min ${ms(durations[0])} · p50 ${ms(durations[Math.floor((durations.length - 1) / 2)])} · max ${ms(durations[durations.length - 1])}`),
        failed ? [" ", pill("fault", `${failed} failed`)] : null),
      h("ul", { class: "tree" }, members.map((child) => tree(child, depth + 1))))));
  }
  return h("li", {}, ref(node.span), items.length ? h("ul", { class: "tree" }, items) : null);
}

export async function render(view, _arg, params) {
  const target = h("input", { type: "text", name: "target", value: params.target || "", spellcheck: "false",
                              placeholder: "s3://bucket/key · ddb://table/key · a request id · a trace id" });
  const out = h("div");
  view.append(h("h1", {}, "Why does this exist?"),
    h("form", { class: "toolbar", onsubmit: (event) => { event.preventDefault(); window.location.hash = `#/why?target=${encodeURIComponent(target.value.trim())}`; } },
      target, h("button", { class: "primary", type: "submit" }, "Why?")), out);
  if (!params.target) {
    out.append(h("p", { class: "muted" }, "Give an S3 object, a DynamoDB item, a Lambda request id or a trace id: ripple walks back to the root event and forward to everything it caused, across traces."));
    return null;
  }
  let answer;
  try {
    answer = await api("/why", { target: params.target });
  } catch (error) { out.append(errorBox(error)); return null; }
  append(out, [
    h("h2", {}, "Root event"), h("p", { class: "root" }, ref(answer.root)),
    answer.write ? [h("h2", {}, "What made it"), h("p", { class: "write" }, ref(answer.write))] : null,
    h("h2", {}, `The chain back to the root (${answer.chain.length} hops)`),
    h("ol", { class: "chain" }, answer.chain.map((span) => h("li", {}, ref(span)))),
    h("h2", {}, "Everything the root caused"), h("ul", { class: "tree caused" }, tree(answer.caused)),
    h("p", { class: "muted" }, "Traces involved: ", answer.traces.map((id) => [traceLink(id), " "]),
      answer.truncated ? " (cut short: too many traces)" : "", ` · answered in ${ms(answer.elapsed_ms)}`)]);
  setStatus(`why: ${answer.chain.length} hops in ${ms(answer.elapsed_ms)}`);
  return null;
}

// One trace as a waterfall: Initialization / Invocation / Overhead, queue wait hatched, retries
// as siblings, the critical path marked, fan-outs folded; links into and out of the trace; a
// side panel per row; the raw segment documents. Only the rows in view are in the DOM, so a
// 10,000-span trace draws and scrolls as fast as a small one.
import { api } from "./api.js";
import { dateTime, errorBox, h, ms, traceLink } from "./dom.js";
import { setStatus } from "./nav.js";
import { foldPanel, spanPanel } from "./spanpanel.js";
import { buildTree, duration, foldKeys, spanLabel, visibleRows } from "./waterfall.js";

const ROW = 24, SPARE = 12;

function badges(span) {
  const attributes = span.attributes || {};
  return [
    attributes["faas.coldstart"] === true ? h("span", { class: "badge" }, "cold") : null,
    attributes["ripple.lambda.attempt"] > 1 ? h("span", { class: "badge" }, `attempt ${attributes["ripple.lambda.attempt"]}`) : null,
    attributes["ripple.recursion_stopped"] ? h("span", { class: "badge crit" }, "recursion stopped") : null,
    attributes["ripple.lambda.throttled"] ? h("span", { class: "badge" }, "throttled") : null,
    span.links && span.links.length ? h("span", { class: "badge" }, `${span.links.length} link${span.links.length > 1 ? "s" : ""}`) : null,
  ];
}

function bar(start, end, t0, total, className, label) {
  const left = ((start - t0) / total) * 100, width = Math.max(((end - start) / total) * 100, 0.15);
  const text = h("span", { class: "dur" }, label);
  if (left + width > 75) text.style.right = `${100 - left + 0.5}%`; else text.style.left = `${left + width + 0.5}%`;
  return [h("div", { class: `bar ${className}`, style: `left:${left}%;width:${width}%` }), text];
}

function rowElement(row, index, t0, total, selectedKey) {
  const indent = `padding-left:${4 + row.depth * 14}px`;
  if (row.fold) {
    const fold = row.fold;
    const p50Left = ((fold.start - t0) / total) * 100 + ((fold.p50 / 1000) / total) * 100;
    return h("div", { class: `wf-row fold${selectedKey === fold.key ? " selected" : ""}`, style: `top:${index * ROW}px`, "data-key": fold.key, "data-fold": String(fold.count) },
      h("div", { class: "name", style: indent }, h("span", { class: "toggle" }, row.open ? "▾" : "▸"),
        h("b", {}, `${fold.node.name} ${fold.name} ×${fold.count}`), h("span", { class: "muted" }, `  min ${ms(fold.min)} · p50 ${ms(fold.p50)} · max ${ms(fold.max)}`)),
      h("div", { class: "bar-area" }, bar(fold.start, fold.end, t0, total, "fold", `×${fold.count}`),
        h("div", { class: "p50", style: `left:${Math.min(p50Left, 100)}%`, title: "p50" })));
  }
  const span = row.item.span;
  const queue = Number(span.attributes["ripple.lambda.queue_ms"] || 0) / 1000;
  const state = span.status !== "ok" ? span.status : "";
  return h("div", { class: `wf-row${span.critical ? " critical" : ""}${selectedKey === span.span_id ? " selected" : ""}`,
                    style: `top:${index * ROW}px`, "data-key": span.span_id, "data-segment": span.segment || null,
                    "data-request-id": span.kind === "SERVER" && span.request_id ? span.request_id : null },
    h("div", { class: "name", style: indent, title: `${span.node.name} · ${span.name}` },
      h("span", { class: "toggle" }, row.hasChildren ? (row.open ? "▾" : "▸") : ""),
      spanLabel(span), span.segment || span.node.name === spanLabel(span) ? null : h("span", { class: "muted" }, ` ${span.node.name}`), badges(span)),
    h("div", { class: "bar-area" }, bar(span.start, span.end, t0, total, `${span.segment || ""} ${state}`, ms(duration(span))),
      queue > 0 ? h("div", { class: "queue", title: `queue wait ${ms(queue * 1000)}`,
                             style: `left:${((span.start - t0) / total) * 100}%;width:${Math.min(queue, span.end - span.start) / total * 100}%` }) : null));
}

export async function render(view, traceId) {
  const began = performance.now();
  let answer;
  try {
    answer = await api(`/traces/${encodeURIComponent(traceId)}/spans`);
  } catch (error) { view.append(h("h1", {}, "Trace"), errorBox(error)); return null; }
  const spans = answer.spans;
  const tree = buildTree(spans);
  const t0 = Math.min(...spans.map((span) => span.start)), t1 = Math.max(...spans.map((span) => span.end));
  const total = Math.max(t1 - t0, 1e-6);
  const expanded = new Set(), collapsed = new Set();
  let rows = visibleRows(tree, expanded, collapsed), selectedKey = null;
  const critical = spans.filter((span) => span.critical);
  const side = h("div", { class: "side" }, h("p", { class: "muted" }, "Click a row for its details; an invocation shows its event, response, logs and cost."));
  const scroller = h("div", { class: "wf", tabindex: "0" });
  const inner = h("div", { class: "wf-inner" });
  scroller.append(inner);
  const raw = h("details", { class: "raw" }, h("summary", {}, "Raw segment documents (BatchGetTraces)"));
  raw.addEventListener("toggle", () => {
    if (!raw.open || raw.dataset.loaded) return;
    raw.dataset.loaded = "1";
    api(`/traces/${encodeURIComponent(traceId)}`).then((found) => raw.append(h("pre", { class: "segments" },
      JSON.stringify(found.Traces[0].Segments.map((segment) => JSON.parse(segment.Document)), null, 2))))
      .catch((error) => raw.append(errorBox(error)));
  });
  const linkList = (ids) => ids.length ? ids.map((id) => [traceLink(id), " "]) : h("span", { class: "muted" }, "none");
  view.append(h("h1", {}, "Trace ", h("span", { class: "mono" }, answer.trace_id)),
    h("div", { class: "toolbar" },
      h("span", {}, `${dateTime(t0)} · ${ms(total * 1000)} · ${spans.length.toLocaleString("en-US")} spans · critical path ${critical.length} spans`),
      h("a", { href: `#/why?target=${encodeURIComponent(answer.trace_id)}` }, "Why? (root and everything caused)"),
      h("a", { href: `#/compare?a=${encodeURIComponent(answer.trace_id)}` }, "Compare with…"),
      h("button", { class: "unfold", onclick: (event) => {
        const open = !expanded.size;
        expanded.clear();
        if (open) for (const key of foldKeys(tree)) expanded.add(key);
        event.target.textContent = open ? "Fold fan-outs" : "Unfold all";
        refresh();
      } }, "Unfold all")),
    h("div", { class: "legend" }, h("span", {}, "links in: ", linkList(answer.linked_from)), h("span", {}, "links out: ", linkList(answer.links_to)),
      h("span", {}, h("span", { class: "pill", style: "background:var(--init)" }, "Initialization"), " ",
        h("span", { class: "pill", style: "background:var(--invoke)" }, "Invocation"), " ",
        h("span", { class: "pill", style: "background:var(--overhead)" }, "Overhead"), " ▨ queue wait · ", h("span", { style: "color:var(--critical)" }, "▌critical path"))),
    h("div", { class: "split" }, h("div", {}, h("div", { class: "wf-head" }, h("span", {}, "span"), h("span", {}, `0 → ${ms(total * 1000)}`)), scroller, raw), side));

  // Rows in the DOM by index: a scroll adds the rows coming into view and drops those leaving.
  let live = new Map();
  const paint = () => {
    const first = Math.max(0, Math.floor(scroller.scrollTop / ROW) - SPARE);
    const last = Math.min(rows.length, Math.ceil((scroller.scrollTop + scroller.clientHeight) / ROW) + SPARE);
    for (const [index, element] of live) if (index < first || index >= last) { element.remove(); live.delete(index); }
    const added = document.createDocumentFragment();
    for (let index = first; index < last; index++) {
      if (live.has(index)) continue;
      const element = rowElement(rows[index], index, t0, total, selectedKey);
      live.set(index, element);
      added.append(element);
    }
    inner.append(added);
  };
  const refresh = () => {
    rows = visibleRows(tree, expanded, collapsed);
    inner.style.height = `${rows.length * ROW}px`;
    inner.replaceChildren();
    live = new Map();
    paint();
  };
  let pending = false;
  scroller.addEventListener("scroll", () => { if (!pending) { pending = true; requestAnimationFrame(() => { pending = false; paint(); }); } });
  inner.addEventListener("click", (event) => {
    const element = event.target.closest(".wf-row");
    if (!element) return;
    const row = rows[Math.round(parseFloat(element.style.top) / ROW)];
    if (!row) return;
    const key = row.fold ? row.fold.key : row.item.span.span_id;
    if (event.target.closest(".toggle") || (row.fold && selectedKey === key)) {
      const set = row.fold ? expanded : collapsed;
      const on = row.fold ? !row.open : row.open;
      if (on) set.add(key); else set.delete(key);
    }
    selectedKey = key;
    side.replaceChildren(...(row.fold ? foldPanel(row.fold) : spanPanel(row.item.span)));
    refresh();
  });
  refresh();
  const took = Math.round(performance.now() - began);
  document.body.dataset.traceMs = String(took);
  setStatus(`trace: ${spans.length} spans, ${rows.length} rows, ready in ${took} ms`);
  return null;
}

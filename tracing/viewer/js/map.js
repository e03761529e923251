// The service map: nodes by type with X-Ray's health colours and call counts, edges drawn by
// kind (call, async through the queue, stream batch, span link), a time range, and a side
// panel with a node's or an edge's statistics, latency histogram and the traces through it.
import { api } from "./api.js";
import { count, errorBox, h, histogramChart, histogramPercentiles, ms, percentile, s } from "./dom.js";
import { edgePath, layout, NODE_H, NODE_W } from "./maplayout.js";
import { setParams, setStatus } from "./nav.js";
import { tracesTable } from "./tracelist.js";

export const TYPES = {
  client: ["Client", "#5b6477"], "AWS::ApiGateway::Stage": ["API Gateway stage", "#b0489e"],
  "AWS::Lambda": ["Lambda service", "#d9822b"], "AWS::Lambda::Function": ["Lambda function", "#e8a23a"],
  "AWS::S3::Bucket": ["S3 bucket", "#3f8f3f"], "AWS::DynamoDB::Table": ["DynamoDB table", "#3b63c4"],
  "AWS::DynamoDB::Stream": ["stream", "#2f8fa8"], remote: ["external", "#7a7f8c"],
};
const HEALTH = [["OkCount", "ok"], ["error", "error"], ["throttle", "throttle"], ["fault", "fault"]];
const RANGES = ["5m", "15m", "1h", "6h", "1d", "7d"];

export function outcomes(stats) {
  return { ok: stats.OkCount || 0, error: stats.ErrorStatistics?.OtherCount || 0,
           throttle: stats.ErrorStatistics?.ThrottleCount || 0, fault: stats.FaultStatistics?.TotalCount || 0,
           total: stats.TotalCount || 0 };
}

function edgeKind(edge) {
  if (edge.edge.EdgeType !== "link") return "call";
  if (edge.from.service.Type === "AWS::DynamoDB::Table") return "stream";
  if (edge.to.service.Type === "AWS::Lambda" || edge.from.service.Type === "AWS::S3::Bucket") return "async";
  return "link";
}

function healthBar(stats, x, y, width) {
  const figures = outcomes(stats);
  const group = s("g", { class: "health" });
  let offset = 0;
  for (const [, state] of HEALTH) {
    const part = figures[state === "ok" ? "ok" : state];
    if (!part || !figures.total) continue;
    const w = (part / figures.total) * width;
    group.append(s("rect", { x: x + offset, y, width: w, height: 5, fill: `var(--${state})` }, s("title", { text: `${state}: ${part}` })));
    offset += w;
  }
  if (!figures.total) group.append(s("rect", { x, y, width, height: 5, fill: "#e3e6eb" }));
  return group;
}

function drawNode(node, stopped, select) {
  const service = node.service;
  const [typeName, colour] = TYPES[service.Type] || [service.Type, "#7a7f8c"];
  const figures = outcomes(service.SummaryStatistics || {});
  const worst = figures.fault ? "fault" : figures.throttle ? "throttle" : figures.error ? "error" : null;
  const p50 = histogramPercentiles(service.ResponseTimeHistogram, [50])[50];
  const group = s("g", { class: "map-node", transform: `translate(${node.x},${node.y})`, "data-name": service.Name,
                         "data-type": service.Type, onclick: (event) => { event.stopPropagation(); select(node, group); } },
    s("rect", { class: "box", width: NODE_W, height: NODE_H, rx: 7, style: worst ? `stroke: var(--${worst})` : null }),
    s("rect", { x: 0, y: 0, width: 6, height: NODE_H, rx: 3, fill: colour }),
    s("text", { x: 14, y: 18, text: service.Name.length > 24 ? service.Name.slice(0, 23) + "…" : service.Name, "font-weight": 600 }),
    s("text", { class: "type", x: 14, y: 32, text: typeName }),
    s("text", { class: "count", x: 14, y: 47, text: `${count(figures.total)} calls${p50 !== null ? " · p50 " + ms(p50) : ""}` }),
    healthBar(service.SummaryStatistics || {}, 8, NODE_H - 7, NODE_W - 14),
    s("title", { text: `${service.Name} (${typeName})` }));
  if (stopped) {
    group.append(s("text", { x: NODE_W - 6, y: 14, "text-anchor": "end", "font-size": 10, fill: "var(--fault)",
                             class: "recursion", text: `recursion stopped ×${stopped}` }));
  }
  return group;
}

function drawEdge(edge, select) {
  const { d, label } = edgePath(edge);
  const kind = edgeKind(edge);
  const figures = outcomes(edge.edge.SummaryStatistics || {});
  const worst = figures.fault ? "fault" : figures.throttle ? "throttle" : figures.error ? "error" : null;
  const group = s("g", { class: `map-edge ${kind}`, "data-from": edge.from.service.Name, "data-to": edge.to.service.Name,
                         "data-from-type": edge.from.service.Type, "data-to-type": edge.to.service.Type,
                         onclick: (event) => { event.stopPropagation(); select(edge, group); } },
    s("path", { class: "line", d, "marker-end": "url(#arrow)", style: worst ? `stroke: var(--${worst})` : null }),
    s("path", { class: "hit", d }),
    s("text", { x: label[0], y: label[1] - 3, "text-anchor": "middle", class: "edge-count", text: count(figures.total) }),
    s("title", { text: `${edge.from.service.Name} → ${edge.to.service.Name} (${kind}): ${figures.total} calls` }));
  return group;
}

function panZoom(svg, box) {
  let view = { ...box };
  const apply = () => svg.setAttribute("viewBox", `${view.x} ${view.y} ${view.w} ${view.h}`);
  apply();
  svg.addEventListener("wheel", (event) => {
    event.preventDefault();
    const rect = svg.getBoundingClientRect();
    const factor = event.deltaY > 0 ? 1.15 : 1 / 1.15;
    const px = view.x + ((event.clientX - rect.left) / rect.width) * view.w;
    const py = view.y + ((event.clientY - rect.top) / rect.height) * view.h;
    view = { x: px - (px - view.x) * factor, y: py - (py - view.y) * factor, w: view.w * factor, h: view.h * factor };
    apply();
  }, { passive: false });
  let drag = null;
  svg.addEventListener("pointerdown", (event) => { drag = { x: event.clientX, y: event.clientY, view: { ...view } }; });
  window.addEventListener("pointerup", () => { drag = null; });
  svg.addEventListener("pointermove", (event) => {
    if (!drag) return;
    const rect = svg.getBoundingClientRect();
    view = { ...drag.view, x: drag.view.x - ((event.clientX - drag.x) / rect.width) * view.w,
             y: drag.view.y - ((event.clientY - drag.y) / rect.height) * view.h };
    apply();
  });
}

const SECONDS = { m: 60, h: 3600, d: 86400 };

// A function's cold starts and queue wait within the window, from its latest invocation
// records (the service graph carries neither).
function invocationStats(name, since) {
  const block = h("dl", { class: "kv stats" }, h("dt", {}, "cold starts"), h("dd", { class: "muted" }, "…"));
  const after = Date.now() / 1000 - parseFloat(since) * SECONDS[since.slice(-1)];
  api("/invocations", { function: name, limit: 1000 }).then((records) => {
    const recent = records.filter((record) => record.start >= after);
    const waits = recent.map((record) => record.queue_ms).filter((v) => v != null).sort((a, b) => a - b);
    block.replaceChildren(
      h("dt", {}, "invocations"), h("dd", {}, `${count(recent.length)} (latest ${count(records.length)} records)`),
      h("dt", {}, "cold starts"), h("dd", { "data-stat": "cold-starts" }, count(recent.filter((record) => record.init_ms != null).length)),
      h("dt", {}, "queue wait p50 / p99"), h("dd", {}, waits.length ? `${ms(percentile(waits, 50))} / ${ms(percentile(waits, 99))}` : "—"));
  }).catch((error) => block.replaceChildren(errorBox(error)));
  return block;
}

function statsPanel(side, title, subtitle, stats, histogram, filter, since, functionName = null) {
  const figures = outcomes(stats);
  const p = histogramPercentiles(histogram);
  const list = h("div", {}, h("p", { class: "muted" }, "loading traces…"));
  side.replaceChildren(
    h("h2", {}, title), h("div", { class: "muted" }, subtitle),
    h("dl", { class: "kv stats" },
      h("dt", {}, "calls"), h("dd", { "data-stat": "calls" }, count(figures.total)),
      h("dt", {}, "ok"), h("dd", {}, count(figures.ok)),
      h("dt", {}, "errors (4xx)"), h("dd", {}, count(figures.error)),
      h("dt", {}, "throttles"), h("dd", {}, count(figures.throttle)),
      h("dt", {}, "faults"), h("dd", {}, count(figures.fault)),
      h("dt", {}, "p50 / p90 / p99"), h("dd", {}, `${ms(p[50])} / ${ms(p[90])} / ${ms(p[99])}`),
      h("dt", {}, "average"), h("dd", {}, ms(figures.total ? (stats.TotalResponseTime / figures.total) * 1000 : null))),
    ...(functionName ? [invocationStats(functionName, since)] : []),
    h("h2", {}, "Latency"), histogramChart(histogram),
    h("h2", {}, "Traces through it ", filter ? h("a", { href: `#/traces?filter=${encodeURIComponent(filter)}&since=${since}` }, "(all)") : null),
    list);
  api("/traces", { filter, since, limit: 15 })
    .then((answer) => list.replaceChildren(tracesTable(answer.TraceSummaries, { compact: true })))
    .catch((error) => list.replaceChildren(errorBox(error)));
}

export async function render(view, _arg, params) {
  const since = RANGES.includes(params.since) ? params.since : "15m";
  const search = h("input", { type: "text", placeholder: "find a node…", value: params.find || "" });
  const range = h("select", { "aria-label": "time range" }, RANGES.map((r) => h("option", { value: r, selected: r === since }, `last ${r}`)));
  range.addEventListener("change", () => { window.location.hash = `#/map?since=${range.value}`; });
  const legend = h("div", { class: "legend" },
    ...[["call", "", "call"], ["async", "7 4", "async (queued)"], ["stream", "2 3", "stream batch"], ["link", "9 3 2 3", "span link"]].map(
      ([, dash, text]) => h("span", {}, s("svg", { width: 34, height: 8 }, s("line", { x1: 0, y1: 4, x2: 34, y2: 4, stroke: "#8792a6", "stroke-width": 2, "stroke-dasharray": dash || null })), " ", text)),
    ...["ok", "error", "throttle", "fault"].map((state) => h("span", {}, h("span", { class: `pill ${state}` }, state))));
  const wrap = h("div", { class: "map-wrap" });
  const side = h("div", { class: "side" }, h("p", { class: "muted" }, "Click a node or an edge for its statistics and traces."));
  view.append(h("h1", {}, "Service map"), h("div", { class: "toolbar" }, range, search, h("button", { onclick: () => draw() }, "Refresh")),
              legend, h("div", { class: "split" }, wrap, side));

  async function draw() {
    const started = performance.now();
    let graph, functions = [];
    try {
      [graph, functions] = await Promise.all([api("/servicemap", { since }), api("/functions").catch(() => [])]);
    } catch (error) { wrap.replaceChildren(errorBox(error)); return; }
    const stopped = new Map(functions.map((fn) => [fn.name, fn.counters?.recursion_stopped || 0]));
    const services = graph.Services || [];
    if (!services.length) {
      wrap.replaceChildren(h("p", { class: "muted", style: "padding: 16px" }, `No requests in the last ${since}. Invoke a function, then refresh.`));
      return;
    }
    const placed = layout(services);
    let selected = null;
    const select = (item, element) => {
      if (selected) selected.classList.remove("selected");
      selected = element; element.classList.add("selected");
      if (item.service) {
        const service = item.service;
        statsPanel(side, service.Name, (TYPES[service.Type] || [service.Type])[0], service.SummaryStatistics || {},
                   service.ResponseTimeHistogram, service.Type === "client" ? "" : `service("${service.Name}")`, since,
                   service.Type.startsWith("AWS::Lambda") ? service.Name : null);
      } else {
        statsPanel(side, `${item.from.service.Name} → ${item.to.service.Name}`, `${edgeKind(item)} edge`,
                   item.edge.SummaryStatistics || {}, item.edge.ResponseTimeHistogram,
                   `edge("${item.from.service.Name}", "${item.to.service.Name}")`, since);
      }
    };
    const svg = s("svg", { role: "img", "aria-label": "service map" },
      s("defs", {}, s("marker", { id: "arrow", viewBox: "0 0 10 10", refX: 9, refY: 5, markerWidth: 7, markerHeight: 7, orient: "auto-start-reverse" },
        s("path", { d: "M0,0 L10,5 L0,10 z", fill: "#8792a6" }))),
      s("g", {}, placed.edges.map((edge) => drawEdge(edge, select))),
      s("g", {}, placed.nodes.map((node) => drawNode(node, ["AWS::Lambda::Function", "AWS::Lambda"].includes(node.service.Type) ? stopped.get(node.service.Name) : 0, select))));
    wrap.replaceChildren(svg);
    panZoom(svg, { x: -30, y: -70, w: Math.max(placed.width + 40, 600), h: Math.max(placed.height + 110, 300) });
    const find = () => {
      const needle = search.value.trim().toLowerCase();
      for (const g of svg.querySelectorAll(".map-node")) g.classList.toggle("dim", !!needle && !g.dataset.name.toLowerCase().includes(needle));
      setParams("map", { since, find: search.value.trim() });
    };
    search.oninput = find;
    find();
    setStatus(`map: ${services.length} nodes, ${placed.edges.length} edges in ${Math.round(performance.now() - started)} ms`);
    document.body.dataset.mapReady = String(Date.now());
  }
  await draw();
}

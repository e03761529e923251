// Two runs of a chain, path by path (GET /_ripple/api/compare): spans added or missing,
// fan-out counts changed, latency and error differences.
import { api } from "./api.js";
import { errorBox, h, ms, traceLink } from "./dom.js";
import { setStatus } from "./nav.js";
import { tracesTable } from "./tracelist.js";

const CHANGES = ["added", "missing", "fanout", "slower", "faster", "errors"];

function side(stats) {
  if (!stats) return [h("td", { class: "num muted" }, "–"), h("td", { class: "num muted" }, "–"), h("td", { class: "num muted" }, "–")];
  return [h("td", { class: "num count" }, String(stats.count)), h("td", { class: "num" }, `${ms(stats.p50_ms)} / ${ms(stats.max_ms)}`),
          h("td", { class: "num" }, String(stats.errors))];
}

function describe(path) {
  if (path.change === "fanout") return `fan-out ${path.a.count} → ${path.b.count}`;
  if (path.change === "slower" || path.change === "faster") return `${path.change} by ${ms(Math.abs(path.delta_ms))}`;
  if (path.change === "errors") return `errors ${path.a ? path.a.errors : 0} → ${path.b ? path.b.errors : 0}`;
  return path.change;
}

function table(answer, onlyChanged) {
  const paths = answer.paths.filter((path) => !onlyChanged || path.change !== "same");
  if (!paths.length) return h("p", { class: "muted" }, "No differences.");
  return h("table", { class: "grid compare" },
    h("thead", {}, h("tr", {}, h("th", {}, "path (root → span, by node and operation)"), h("th", {}, "change"),
      h("th", { class: "num" }, "A spans"), h("th", { class: "num" }, "A p50 / max"), h("th", { class: "num" }, "A errors"),
      h("th", { class: "num" }, "B spans"), h("th", { class: "num" }, "B p50 / max"), h("th", { class: "num" }, "B errors"))),
    h("tbody", {}, paths.map((path) => h("tr", { class: `compare-row ${path.change}`, "data-change": path.change },
      h("td", { title: path.path.join(" → "), style: `padding-left:${8 + (path.path.length - 1) * 12}px` }, path.path[path.path.length - 1]),
      h("td", { class: "change" }, describe(path)), side(path.a), side(path.b)))));
}

export async function render(view, _arg, params) {
  const a = h("input", { type: "text", name: "a", value: params.a || "", placeholder: "trace A (X-Ray or W3C id)" });
  const b = h("input", { type: "text", name: "b", value: params.b || "", placeholder: "trace B" });
  const onlyChanged = h("input", { type: "checkbox", checked: params.all !== "1" });
  const out = h("div");
  view.append(h("h1", {}, "Compare two runs"),
    h("form", { class: "toolbar", onsubmit: (event) => { event.preventDefault();
      window.location.hash = `#/compare?a=${encodeURIComponent(a.value.trim())}&b=${encodeURIComponent(b.value.trim())}`; } },
      a, b, h("button", { class: "primary", type: "submit" }, "Compare"), h("label", {}, onlyChanged, " changes only")),
    out);
  if (!params.a || !params.b) {
    out.append(h("p", { class: "muted" }, "Pick two traces of the same chain (or tick two on the Traces page). Recent traces:"));
    try {
      const recent = await api("/traces", { since: "1h", limit: 30 });
      out.append(tracesTable(recent.TraceSummaries));
      for (const row of out.querySelectorAll("tr[data-trace]")) {
        const id = row.dataset.trace;
        row.append(h("td", {}, h("a", { href: params.a ? `#/compare?a=${encodeURIComponent(params.a)}&b=${encodeURIComponent(id)}`
                                                  : `#/compare?a=${encodeURIComponent(id)}` }, params.a ? "as B" : "as A")));
      }
    } catch (error) { out.append(errorBox(error)); }
    return null;
  }
  let answer;
  try {
    answer = await api("/compare", { a: params.a, b: params.b });
  } catch (error) { out.append(errorBox(error)); return null; }
  const counts = answer.summary || {};
  const body = h("div");
  const draw = () => body.replaceChildren(table(answer, onlyChanged.checked));
  onlyChanged.addEventListener("change", draw);
  out.append(h("p", {}, "A ", traceLink(answer.a), " · B ", traceLink(answer.b), " · ",
      answer.same_chain ? "same chain" : h("b", {}, "different chains (different roots)")),
    h("div", { class: "legend summary" }, CHANGES.map((change) => h("span", { "data-summary": change }, `${change}: ${counts[change] || 0}`))),
    body);
  draw();
  setStatus(`compare: ${answer.paths.length} paths`);
  return null;
}

// The traces list: an X-Ray filter expression, a time range, sorting by start or duration,
// live updates by polling, and two traces picked to compare.
import { api } from "./api.js";
import { errorBox, h } from "./dom.js";
import { setParams, setStatus } from "./nav.js";
import { tracesTable } from "./tracelist.js";

const RANGES = ["5m", "15m", "1h", "6h", "1d", "7d"];
const POLL_MS = 2000;

export async function render(view, _arg, params) {
  let sort = { key: params.sort === "duration" ? "duration" : "start", descending: params.order !== "asc" };
  let summaries = [];
  const picked = new Set();
  const filter = h("input", { type: "text", name: "filter", value: params.filter || "", spellcheck: "false",
                              placeholder: 'X-Ray filter, e.g. service("resize") { fault } OR responsetime > 1' });
  const range = h("select", { "aria-label": "time range" }, RANGES.map((r) => h("option", { value: r, selected: r === (params.since || "15m") }, `last ${r}`)));
  const live = h("input", { type: "checkbox", checked: params.live !== "off", "aria-label": "live" });
  const compare = h("button", { disabled: true, onclick: () => {
    const [a, b] = [...picked];
    window.location.hash = `#/compare?a=${encodeURIComponent(a)}&b=${encodeURIComponent(b)}`;
  } }, "Compare 2 picked");
  const problem = h("div");
  const table = h("div");
  const count = h("span", { class: "muted" });
  view.append(h("h1", {}, "Traces"),
    h("form", { class: "toolbar", onsubmit: (event) => { event.preventDefault(); load(); } },
      filter, range, h("button", { class: "primary", type: "submit" }, "Search"),
      h("label", {}, live, " live"), compare, count),
    problem, table);

  const ordered = () => [...summaries].sort((a, b) => {
    const value = (summary) => (sort.key === "duration" ? summary.Duration : summary.StartTime);
    return (value(a) - value(b)) * (sort.descending ? -1 : 1);
  });
  const draw = () => {
    compare.disabled = picked.size !== 2;
    table.replaceChildren(tracesTable(ordered(), {
      sort, onSort: (key) => { sort = { key, descending: sort.key === key ? !sort.descending : true }; remember(); draw(); },
      pick: (id, on) => { if (on) picked.add(id); else picked.delete(id); compare.disabled = picked.size !== 2; }, picked }));
  };
  const remember = () => setParams("traces", { filter: filter.value.trim(), since: range.value, sort: sort.key,
                                     order: sort.descending ? "" : "asc", live: live.checked ? "" : "off" });
  let inFlight = null;
  async function load() {
    remember();
    if (inFlight) inFlight.abort();
    const mine = inFlight = new AbortController();
    const started = performance.now();
    try {
      const answer = await api("/traces", { filter: filter.value.trim(), since: range.value, limit: 500 }, { signal: mine.signal });
      summaries = answer.TraceSummaries || [];
      problem.replaceChildren();
      count.textContent = `${summaries.length} of ${answer.TracesProcessedCount} traces`;
      draw();
      setStatus(`traces: ${summaries.length} in ${Math.round(performance.now() - started)} ms`);
    } catch (error) {
      if (error.name !== "AbortError") problem.replaceChildren(errorBox(error));
    } finally {
      if (inFlight === mine) inFlight = null;
    }
  }
  range.addEventListener("change", load);
  live.addEventListener("change", remember);
  const timer = setInterval(() => { if (live.checked && !document.hidden && !inFlight) load(); }, POLL_MS);
  await load();
  return () => { clearInterval(timer); if (inFlight) inFlight.abort(); };
}

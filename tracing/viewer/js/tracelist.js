// A table of X-Ray trace summaries (GetTraceSummaries items), shared by the Traces page and
// the map's side panel.
import { clock, h, ms, pill, traceLink } from "./dom.js";

export function serviceNames(summary) {
  return (summary.ServiceIds || []).filter((service) => service.Type !== "client").map((service) => service.Name);
}

export function state(summary) {
  return summary.HasFault ? "fault" : summary.HasThrottle ? "throttle" : summary.HasError ? "error" : "ok";
}

// `pick`: a function(traceId, checked) that shows a checkbox per row (to compare two traces).
export function tracesTable(summaries, { compact = false, sort = null, onSort = null, pick = null, picked = new Set() } = {}) {
  if (!summaries || !summaries.length) return h("p", { class: "muted" }, "No traces match.");
  const header = (key, text, numeric) => {
    const arrow = sort && sort.key === key ? (sort.descending ? " ▼" : " ▲") : "";
    return h("th", { class: `${numeric ? "num " : ""}${onSort ? "sortable" : ""}`, "data-sort": key,
                     onclick: onSort ? () => onSort(key) : null }, text + arrow);
  };
  const rows = summaries.map((summary) => h("tr", { "data-trace": summary.Id },
    pick ? h("td", {}, h("input", { type: "checkbox", "aria-label": "compare", checked: picked.has(summary.Id),
                                     onchange: (event) => pick(summary.Id, event.target.checked) })) : null,
    h("td", {}, traceLink(summary.Id, compact ? summary.Id.slice(0, 19) + "…" : summary.Id)),
    h("td", {}, clock(summary.StartTime)),
    h("td", { class: "num" }, ms(summary.Duration * 1000)),
    compact ? null : h("td", { class: "num" }, ms(summary.ResponseTime * 1000)),
    h("td", {}, pill(state(summary))),
    compact ? null : h("td", { class: "services" }, serviceNames(summary).slice(0, 8).join(", "))));
  return h("table", { class: "grid traces" },
    h("thead", {}, h("tr", {}, pick ? h("th", {}, "") : null, h("th", {}, "trace"), header("start", "start", false),
      header("duration", "duration", true), compact ? null : h("th", { class: "num" }, "response"), h("th", {}, "outcome"), compact ? null : h("th", {}, "services"))),
    h("tbody", {}, rows));
}

// One invocation: its record (GET /_ripple/api/invocations/{request_id}) with the event, the
// response or error, its log lines from START to REPORT, and what it cost.
import { api } from "./api.js";
import { dateTime, errorBox, h, ms, pill } from "./dom.js";

function pretty(text) {
  if (text === null || text === undefined) return "";
  try { return JSON.stringify(JSON.parse(text), null, 2); } catch { return String(text); }
}

function usd(value) {
  return value === undefined || value === null ? "–" : "$" + Number(value).toFixed(10).replace(/0+$/, "").replace(/\.$/, ".0");
}

export function invocationPanel(requestId, at) {
  const box = h("section", { class: "invocation", "data-request-id": requestId }, h("p", { class: "muted" }, "loading the invocation…"));
  api(`/invocations/${encodeURIComponent(requestId)}`, { at })
    .then((record) => box.replaceChildren(...details(record)))
    .catch((error) => box.replaceChildren(error.status === 404
      ? h("p", { class: "muted" }, `No record kept for ${requestId}: ${error.message}`) : errorBox(error)));
  return box;
}

function details(record) {
  const cost = record.cost_usd || {};
  const parts = [
    h("h2", {}, "Invocation ", pill(record.status === "ok" ? "ok" : "fault", record.status),
      record.init_ms !== null && record.init_ms !== undefined ? h("span", { class: "pill cold" }, "cold start") : null),
    h("dl", { class: "kv" },
      h("dt", {}, "function"), h("dd", {}, h("a", { href: `#/functions/${encodeURIComponent(record.function)}` }, record.function)),
      h("dt", {}, "request id"), h("dd", { class: "mono" }, record.request_id),
      h("dt", {}, "started"), h("dd", {}, dateTime(record.start)),
      h("dt", {}, "type / trigger"), h("dd", {}, `${record.invocation_type} · ${record.trigger} · attempt ${record.attempt}`),
      h("dt", {}, "duration"), h("dd", {}, `${ms(record.duration_ms)} (billed ${ms(record.billed_ms)})`),
      record.init_ms !== null && record.init_ms !== undefined ? [h("dt", {}, "init"), h("dd", {}, ms(record.init_ms))] : null,
      h("dt", {}, "queue wait"), h("dd", {}, ms(record.queue_ms)),
      h("dt", {}, "memory"), h("dd", {}, `${record.max_memory_mb ?? "–"} of ${record.memory_mb} MB`),
      h("dt", {}, "cost"), h("dd", { class: "cost" }, `${usd(cost.total)} (requests ${usd(cost.requests)}, compute ${usd(cost.compute)})`)),
    h("h2", {}, "Event", record.event_truncated ? h("span", { class: "badge" }, "first 4 KB") : null),
    h("pre", { class: "event" }, pretty(record.event) || "(none)"),
  ];
  if (record.error) {
    parts.push(h("h2", {}, "Error"), h("pre", { class: "error" },
      `${record.error.errorType}: ${record.error.errorMessage}\n${(record.error.stackTrace || []).join("\n")}`));
  } else {
    parts.push(h("h2", {}, "Response", record.response_truncated ? h("span", { class: "badge" }, "first 4 KB") : null),
               h("pre", { class: "response" }, pretty(record.response) || "(none)"));
  }
  parts.push(h("h2", {}, "Logs"), h("pre", { class: "log logs" }, (record.logs || []).join("\n") || "(no log lines kept)"));
  return parts;
}

// Functions: the list with counters, and one function's configuration, counters, cold starts,
// REPORT statistics over its latest invocations, and its logs with live tail (long poll).
import { api } from "./api.js";
import { clock, count, errorBox, h, ms, percentile, pill } from "./dom.js";
import { invocationPanel } from "./invocation.js";
import { setStatus } from "./nav.js";

const COUNTERS = ["invocations", "errors", "throttles", "cold_starts", "recursion_stopped"];
const TAIL_WAIT_MS = 20000;

async function list(view) {
  view.append(h("h1", {}, "Functions"));
  const functions = await api("/functions");
  if (!functions.length) { view.append(h("p", { class: "muted" }, "No function deployed: ripple deploy ripple.yaml")); return null; }
  view.append(h("table", { class: "grid functions" },
    h("thead", {}, h("tr", {}, h("th", {}, "function"), h("th", {}, "runtime"), h("th", { class: "num" }, "memory"),
      h("th", { class: "num" }, "timeout"), COUNTERS.map((name) => h("th", { class: "num" }, name.replace("_", " "))),
      h("th", { class: "num" }, "running"))),
    h("tbody", {}, functions.map((fn) => h("tr", { "data-function": fn.name },
      h("td", {}, h("a", { href: `#/functions/${encodeURIComponent(fn.name)}` }, fn.name)), h("td", {}, fn.runtime),
      h("td", { class: "num" }, `${fn.memory} MB`), h("td", { class: "num" }, `${fn.timeout} s`),
      COUNTERS.map((name) => h("td", { class: "num" }, count(fn.counters[name]))),
      h("td", { class: "num" }, String(fn.concurrency_in_use)))))));
  setStatus(`${functions.length} functions`);
  return null;
}

function reportStats(records) {
  const durations = records.map((r) => r.duration_ms).sort((a, b) => a - b);
  const inits = records.filter((r) => r.init_ms !== null && r.init_ms !== undefined).map((r) => r.init_ms).sort((a, b) => a - b);
  const memory = Math.max(0, ...records.map((r) => r.max_memory_mb || 0));
  return h("dl", { class: "kv report" },
    h("dt", {}, "invocations read"), h("dd", {}, String(records.length)),
    h("dt", {}, "cold starts"), h("dd", {}, `${inits.length} (init p50 ${ms(percentile(inits, 50))}, max ${ms(inits[inits.length - 1])})`),
    h("dt", {}, "duration p50 / p90 / p99 / max"), h("dd", {}, [50, 90, 99, 100].map((p) => ms(percentile(durations, p))).join(" / ")),
    h("dt", {}, "billed total"), h("dd", {}, ms(records.reduce((sum, r) => sum + (r.billed_ms || 0), 0))),
    h("dt", {}, "max memory used"), h("dd", {}, `${memory} MB`),
    h("dt", {}, "errors"), h("dd", {}, String(records.filter((r) => r.status !== "ok").length)));
}

async function detail(view, name) {
  const [fn, records] = await Promise.all([api(`/functions/${encodeURIComponent(name)}`), api("/invocations", { function: name, limit: 200 })]);
  const side = h("div", { class: "side" }, h("p", { class: "muted" }, "Click an invocation for its event, response, logs and cost."));
  const config = Object.entries(fn).filter(([key]) => !["counters", "concurrency_in_use"].includes(key));
  const log = h("pre", { class: "log function-logs" });
  const tail = h("input", { type: "checkbox", checked: true, "aria-label": "live tail" });
  const recent = [...records].reverse().slice(0, 50);
  view.append(h("h1", {}, "Function ", h("span", { class: "mono" }, name)),
    h("div", { class: "split" }, h("div", {},
      h("h2", {}, "Counters"), h("dl", { class: "kv counters" }, COUNTERS.map((key) => [h("dt", {}, key.replace("_", " ")), h("dd", { "data-counter": key }, count(fn.counters[key]))]),
        h("dt", {}, "running now"), h("dd", {}, String(fn.concurrency_in_use))),
      h("h2", {}, "REPORT statistics (latest invocations)"), reportStats(records),
      h("h2", {}, "Latest invocations"),
      h("table", { class: "grid invocations" }, h("thead", {}, h("tr", {}, h("th", {}, "request id"), h("th", {}, "start"), h("th", { class: "num" }, "duration"),
        h("th", { class: "num" }, "billed"), h("th", {}, "outcome"), h("th", {}, "trigger"))),
        h("tbody", {}, recent.map((record) => h("tr", { "data-request-id": record.request_id },
          h("td", {}, h("a", { href: "javascript:void 0", class: "mono", onclick: () => side.replaceChildren(invocationPanel(record.request_id, record.start)) }, record.request_id)),
          h("td", {}, clock(record.start)), h("td", { class: "num" }, ms(record.duration_ms)), h("td", { class: "num" }, ms(record.billed_ms)),
          h("td", {}, pill(record.status === "ok" ? "ok" : "fault", record.status), record.init_ms != null ? h("span", { class: "pill cold" }, "cold") : null),
          h("td", {}, record.trigger))))),
      h("h2", {}, "Logs ", h("label", { class: "muted" }, tail, " live tail")), log,
      h("h2", {}, "Configuration"), h("dl", { class: "kv mono config" }, config.map(([key, value]) => [h("dt", {}, key), h("dd", {}, typeof value === "string" ? value : JSON.stringify(value))]))),
    side));

  // Logs: the latest page, then long polls for what comes after it while the page is open.
  let stopped = false, controller = null;
  const add = (entries) => {
    if (!entries.length) return;
    const atBottom = log.scrollTop + log.clientHeight >= log.scrollHeight - 4;
    log.append(entries.map((entry) => entry.text).join(""));
    if (atBottom) log.scrollTop = log.scrollHeight;
  };
  const first = await api(`/functions/${encodeURIComponent(name)}/logs`, { limit: 200 });
  add(first.entries);
  if (!first.entries.length) log.textContent = "";
  log.scrollTop = log.scrollHeight;
  let after = first.last_id;
  (async () => {
    while (!stopped) {
      if (!tail.checked) { await new Promise((resolve) => setTimeout(resolve, 500)); continue; }
      controller = new AbortController();
      try {
        const page = await api(`/functions/${encodeURIComponent(name)}/logs`, { after, wait_ms: TAIL_WAIT_MS, limit: 500 }, { signal: controller.signal });
        add(page.entries);
        after = page.last_id;
      } catch (error) {
        if (stopped) return;
        await new Promise((resolve) => setTimeout(resolve, 2000));
      }
    }
  })();
  setStatus(`${name}: ${records.length} invocation records`);
  return () => { stopped = true; if (controller) controller.abort(); };
}

export async function render(view, name) {
  try {
    return name ? await detail(view, name) : await list(view);
  } catch (error) {
    view.append(errorBox(error));
    return null;
  }
}

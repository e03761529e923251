// Small helpers shared by the pages: elements, formatting, statistics.
export function h(tag, attrs = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith("on")) element.addEventListener(name.slice(2), value);
    else if (name === "class") element.className = value;
    else if (name === "text") element.textContent = value;
    else element.setAttribute(name, value === true ? "" : value);
  }
  append(element, children);
  return element;
}

export function append(parent, children) {
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    parent.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return parent;
}

const SVG_NS = "http://www.w3.org/2000/svg";
export function s(tag, attrs = {}, ...children) {
  const element = document.createElementNS(SVG_NS, tag);
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null) continue;
    if (name.startsWith("on")) element.addEventListener(name.slice(2), value);
    else if (name === "text") element.textContent = value;
    else element.setAttribute(name, value);
  }
  for (const child of children.flat(Infinity)) if (child) element.append(child);
  return element;
}

export function ms(value) {
  if (value === null || value === undefined || Number.isNaN(value)) return "–";
  if (value >= 60000) return (value / 60000).toFixed(1) + " min";
  if (value >= 1000) return (value / 1000).toFixed(2) + " s";
  if (value >= 10) return value.toFixed(0) + " ms";
  return value.toFixed(value >= 1 ? 1 : 2) + " ms";
}

export function clock(epochSeconds) {
  const date = new Date(epochSeconds * 1000);
  return date.toLocaleTimeString([], { hour12: false }) + "." + String(date.getMilliseconds()).padStart(3, "0");
}

export function dateTime(epochSeconds) {
  const date = new Date(epochSeconds * 1000);
  return date.toLocaleDateString() + " " + clock(epochSeconds);
}

export function count(value) {
  return Number(value || 0).toLocaleString("en-US");
}

export function pill(state, text) {
  return h("span", { class: `pill ${state}` }, text || state);
}

// Percentiles of X-Ray's histogram ([{Value: seconds, Count}]) in milliseconds.
export function histogramPercentiles(histogram, wanted = [50, 90, 99]) {
  const sorted = [...(histogram || [])].sort((a, b) => a.Value - b.Value);
  const total = sorted.reduce((sum, bucket) => sum + bucket.Count, 0);
  const found = {};
  for (const percentile of wanted) {
    if (!total) { found[percentile] = null; continue; }
    const rank = Math.ceil((percentile / 100) * total);
    let seen = 0;
    for (const bucket of sorted) {
      seen += bucket.Count;
      if (seen >= rank) { found[percentile] = bucket.Value * 1000; break; }
    }
  }
  return found;
}

export function percentile(sortedValues, p) {
  if (!sortedValues.length) return null;
  return sortedValues[Math.min(sortedValues.length - 1, Math.max(0, Math.ceil((p / 100) * sortedValues.length) - 1))];
}

// A latency histogram (X-Ray's buckets: seconds → count) as SVG bars over log-spaced bins.
export function histogramChart(histogram, bins = 24) {
  const buckets = [...(histogram || [])].filter((b) => b.Count > 0).sort((a, b) => a.Value - b.Value);
  const width = 340, height = 90, pad = 14;
  const svg = s("svg", { class: "hist", viewBox: `0 0 ${width} ${height}`, role: "img", "aria-label": "latency histogram" });
  if (!buckets.length) return svg;
  const low = Math.max(buckets[0].Value, 1e-6), high = Math.max(buckets[buckets.length - 1].Value, low * 1.0001);
  const span = Math.log(high) - Math.log(low);
  const counts = new Array(bins).fill(0);
  for (const bucket of buckets) {
    const at = span ? Math.floor(((Math.log(Math.max(bucket.Value, low)) - Math.log(low)) / span) * (bins - 1e-9)) : 0;
    counts[Math.min(bins - 1, Math.max(0, at))] += bucket.Count;
  }
  const most = Math.max(...counts);
  const step = (width - 4) / bins;
  counts.forEach((value, index) => {
    if (!value) return;
    const barHeight = Math.max(1, (value / most) * (height - pad - 4));
    const from = low * Math.exp((span * index) / bins), to = low * Math.exp((span * (index + 1)) / bins);
    svg.append(s("rect", { x: 2 + index * step, y: height - pad - barHeight, width: Math.max(1, step - 1), height: barHeight },
      s("title", { text: `${ms(from * 1000)} – ${ms(to * 1000)}: ${value}` })));
  });
  svg.append(s("text", { x: 2, y: height - 2, "font-size": 10, fill: "#6b7385", text: ms(low * 1000) }));
  svg.append(s("text", { x: width - 2, y: height - 2, "font-size": 10, fill: "#6b7385", "text-anchor": "end", text: ms(high * 1000) + " (log)" }));
  return svg;
}

export function errorBox(error) {
  return h("div", { class: "error-box", role: "alert" }, error && error.message ? error.message : String(error));
}

export function traceLink(traceId, text) {
  return h("a", { href: `#/trace/${encodeURIComponent(traceId)}`, class: "mono" }, text || traceId);
}

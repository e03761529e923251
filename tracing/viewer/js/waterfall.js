// A trace's spans as waterfall rows: nested by parent, siblings in start order, and a fan-out
// (more than FOLD_AT siblings of one node, name and kind) folded into one row with its count,
// min, p50 and max. Outliers stay rows of their own: failed spans, spans on the critical path
// and spans slower than p50 + 3 × the interquartile range (and 1.5 × p50).
export const FOLD_AT = 8;

export function duration(span) { return (span.end - span.start) * 1000; }

export function buildTree(spans) {
  const items = new Map(spans.map((span) => [span.span_id, { span, children: [], entries: null }]));
  const roots = [];
  for (const item of items.values()) {
    const parent = item.span.parent_id ? items.get(item.span.parent_id) : null;
    if (parent && parent !== item) parent.children.push(item); else roots.push(item);
  }
  const order = (a, b) => a.span.start - b.span.start || b.span.end - a.span.end;
  for (const item of items.values()) item.children.sort(order);
  roots.sort(order);
  for (const item of items.values()) item.entries = fold(item.span.span_id, item.children);
  return { roots: fold("root", roots), items };
}

function nearestRank(sorted, p) {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))];
}

function fold(parentId, children) {
  if (children.length <= FOLD_AT) return children.map((item) => ({ item }));
  const groups = new Map();
  for (const item of children) {
    const key = `${item.span.node.name}|${item.span.name}|${item.span.kind}`;
    (groups.get(key) || groups.set(key, []).get(key)).push(item);
  }
  const entries = [];
  for (const [key, members] of groups) {
    if (members.length <= FOLD_AT) { entries.push(...members.map((item) => ({ item }))); continue; }
    const sorted = members.map((item) => duration(item.span)).sort((a, b) => a - b);
    const p50 = nearestRank(sorted, 0.5);
    const limit = Math.max(p50 + 3 * (nearestRank(sorted, 0.75) - nearestRank(sorted, 0.25)), 1.5 * p50);
    const outlier = (item) => item.span.status !== "ok" || item.span.critical || duration(item.span) > limit;
    const folded = members.filter((item) => !outlier(item));
    entries.push(...members.filter(outlier).map((item) => ({ item })));
    if (folded.length === 1) entries.push({ item: folded[0] });
    else if (folded.length > 1) entries.push({ fold: summarise(`${parentId}|${key}`, folded) });
  }
  const start = (entry) => (entry.item ? entry.item.span.start : entry.fold.start);
  return entries.sort((a, b) => start(a) - start(b));
}

function summarise(key, members) {
  const sorted = members.map((item) => duration(item.span)).sort((a, b) => a - b);
  const first = members[0].span;
  return { key, members, count: members.length, name: first.name, node: first.node, kind: first.kind,
           min: sorted[0], p50: nearestRank(sorted, 0.5), max: sorted[sorted.length - 1],
           start: Math.min(...members.map((item) => item.span.start)),
           end: Math.max(...members.map((item) => item.span.end)) };
}

// Every fold's key (to unfold them all).
export function foldKeys(tree) {
  const keys = [];
  const entries = [tree.roots, ...[...tree.items.values()].map((item) => item.entries)];
  for (const list of entries) for (const entry of list) if (entry.fold) keys.push(entry.fold.key);
  return keys;
}

// The rows shown: `expanded` holds fold keys opened, `collapsed` span ids closed.
export function visibleRows(tree, expanded, collapsed) {
  const rows = [];
  const walk = (entries, depth) => {
    for (const entry of entries) {
      if (entry.fold) {
        const open = expanded.has(entry.fold.key);
        rows.push({ fold: entry.fold, depth, open });
        if (open) walk(entry.fold.members.map((item) => ({ item })), depth + 1);
        continue;
      }
      const { item } = entry;
      const open = !collapsed.has(item.span.span_id);
      rows.push({ item, depth, open, hasChildren: item.children.length > 0 });
      if (open) walk(item.entries, depth + 1);
    }
  };
  walk(tree.roots, 0);
  return rows;
}

// The label a span row shows: an invocation's part, the AWS operation, else the span's name.
export function spanLabel(span) {
  if (span.segment) return span.segment;
  if (span.kind === "SERVER" && span.request_id) return `${span.node.name} (invocation)`;
  if (span.kind === "CONSUMER" && span.node.type === "AWS::Lambda") return `${span.node.name} (Lambda service)`;
  return span.operation || span.name;
}

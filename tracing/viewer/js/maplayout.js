// Where the service map's nodes go: layers by longest path from the roots (back edges of
// cycles ignored), ordered within a layer by their neighbours (barycentre sweeps), and a
// layer taller than MAX_ROWS wrapped into several columns so many nodes stay readable.
export const NODE_W = 184, NODE_H = 58, GAP_X = 90, GAP_Y = 26;
const MAX_ROWS = 10;

export function layout(services) {
  const nodes = services.map((service, index) => ({ id: service.ReferenceId, service, index, layer: 0, x: 0, y: 0 }));
  const byId = new Map(nodes.map((node) => [node.id, node]));
  const edges = [];
  for (const service of services) {
    for (const edge of service.Edges || []) {
      const from = byId.get(service.ReferenceId), to = byId.get(edge.ReferenceId);
      if (from && to) edges.push({ from, to, edge, back: false });
    }
  }
  const outgoing = new Map(nodes.map((node) => [node, []]));
  const incoming = new Map(nodes.map((node) => [node, []]));
  for (const edge of edges) { outgoing.get(edge.from).push(edge); incoming.get(edge.to).push(edge); }

  // Depth-first from the roots marks back edges; the finishing order reversed is topological.
  const state = new Map(), finished = [];
  const starts = [...nodes].sort((a, b) => (b.service.Root - a.service.Root) || (incoming.get(a).length - incoming.get(b).length));
  for (const start of starts) {
    if (state.get(start)) continue;
    const stack = [[start, 0]];
    state.set(start, 1);
    while (stack.length) {
      const top = stack[stack.length - 1];
      const out = outgoing.get(top[0]);
      if (top[1] < out.length) {
        const edge = out[top[1]++];
        const seen = state.get(edge.to);
        if (seen === 1) edge.back = true;
        else if (!seen) { state.set(edge.to, 1); stack.push([edge.to, 0]); }
      } else {
        state.set(top[0], 2);
        finished.push(top[0]);
        stack.pop();
      }
    }
  }
  for (const node of finished.reverse()) {
    for (const edge of outgoing.get(node)) {
      if (!edge.back && edge.to !== node) edge.to.layer = Math.max(edge.to.layer, node.layer + 1);
    }
  }

  const layers = [];
  for (const node of nodes) (layers[node.layer] ||= []).push(node);
  const rank = new Map();
  layers.forEach((layer) => layer.forEach((node, index) => rank.set(node, index)));
  for (let sweep = 0; sweep < 4; sweep++) {
    for (const layer of layers.slice(1)) {
      const weight = (node) => {
        const before = incoming.get(node).filter((edge) => !edge.back && edge.from.layer < node.layer);
        return before.length ? before.reduce((sum, edge) => sum + rank.get(edge.from), 0) / before.length : rank.get(node);
      };
      layer.sort((a, b) => weight(a) - weight(b) || a.index - b.index);
      layer.forEach((node, index) => rank.set(node, index));
    }
  }

  let column = 0, tallest = 0;
  for (const layer of layers) {
    if (!layer) continue;
    const columns = Math.ceil(layer.length / MAX_ROWS);
    const rows = Math.ceil(layer.length / columns);
    tallest = Math.max(tallest, rows);
    layer.forEach((node, index) => {
      node.x = (column + Math.floor(index / rows)) * (NODE_W + GAP_X);
      node.y = (index % rows) * (NODE_H + GAP_Y);
    });
    column += columns;
  }
  // Centre each column vertically on the tallest one.
  const height = tallest * (NODE_H + GAP_Y);
  const byColumn = new Map();
  for (const node of nodes) (byColumn.get(node.x) || byColumn.set(node.x, []).get(node.x)).push(node);
  for (const members of byColumn.values()) {
    const used = members.length * (NODE_H + GAP_Y);
    for (const node of members) node.y += (height - used) / 2;
  }
  return { nodes, edges, width: column * (NODE_W + GAP_X), height };
}

// The edge's curve and the point where its label goes.
export function edgePath(edge) {
  const { from, to } = edge;
  if (from === to) {
    const x = from.x + NODE_W / 2, y = from.y;
    return { d: `M${x - 20},${y} C${x - 40},${y - 50} ${x + 40},${y - 50} ${x + 20},${y}`, label: [x, y - 40] };
  }
  const forward = to.x > from.x;
  const x1 = forward ? from.x + NODE_W : from.x + NODE_W / 2, y1 = forward ? from.y + NODE_H / 2 : from.y + NODE_H;
  const x2 = forward ? to.x : to.x + NODE_W / 2, y2 = forward ? to.y + NODE_H / 2 : to.y + NODE_H;
  const bend = forward ? Math.max(40, (x2 - x1) / 2) : 0;
  const drop = forward ? 0 : 60 + Math.abs(x2 - x1) / 6;
  const c1 = [x1 + bend, y1 + drop], c2 = [x2 - bend, y2 + drop];
  const label = [(x1 + 3 * c1[0] + 3 * c2[0] + x2) / 8, (y1 + 3 * c1[1] + 3 * c2[1] + y2) / 8];
  return { d: `M${x1},${y1} C${c1[0]},${c1[1]} ${c2[0]},${c2[1]} ${x2},${y2}`, label };
}

// The node-link drawing of a Cypher result: nodes and relationships gathered from the streamed
// rows, placed by a small force layout (bounded in nodes and iterations) and drawn as SVG built
// with DOM calls; every label is text.
import { structToJSON } from "./protobuf.js";
import { svgElement as element } from "./common.js";

/** Nodes drawn at most; more are counted, not drawn (the layout is quadratic in nodes). */
export const MAX_NODES = 300;
/** Relationships kept at most (their ends may come later, so they are kept before drawing). */
export const MAX_RELATIONSHIPS = 3000;
/** Layout passes: enough for a few hundred nodes to settle, bounded for a big result. */
const ITERATIONS = 300;
const WIDTH = 900, HEIGHT = 520;

/** Nodes and relationships of a result, keyed by id, in the order first seen. */
export class GraphCollector {
  constructor() { this.nodes = new Map(); this.relationships = new Map(); this.skippedNodes = 0; this.skippedRelationships = 0; }

  addNode(node) {
    const id = String(node.id ?? 0);
    if (this.nodes.has(id)) return true;
    if (this.nodes.size >= MAX_NODES) { this.skippedNodes += 1; return false; }
    this.nodes.set(id, { id, labels: node.labels ?? [], properties: structToJSON(node.properties) });
    return true;
  }

  addRelationship(r) {
    const id = String(r.id ?? 0);
    if (this.relationships.has(id)) return;
    if (this.relationships.size >= MAX_RELATIONSHIPS) { this.skippedRelationships += 1; return; }
    this.relationships.set(id, { id, type: r.type ?? "", start: String(r.start_node_id ?? 0), end: String(r.end_node_id ?? 0),
                                 properties: structToJSON(r.properties) });
  }

  /** Takes every node and relationship inside a ruvector.v1.GraphValue (paths and lists too). */
  add(value) {
    if (!value) return;
    if (value.node) this.addNode(value.node);
    else if (value.relationship) this.addRelationship(value.relationship);
    else if (value.path) {
      for (const node of value.path.nodes) this.addNode(node);
      for (const relationship of value.path.relationships) this.addRelationship(relationship);
    } else if (value.list) {
      for (const item of value.list.values) this.add(item);
    } else if (value.map) {
      for (const entry of value.map.entries ?? []) this.add(entry.value);
    }
  }

  /** Relationships whose two ends are both drawn. */
  drawnRelationships() {
    return [...this.relationships.values()].filter((r) => this.nodes.has(r.start) && this.nodes.has(r.end));
  }
}

/**
 * Positions for `nodes` (ids) joined by `links` ([start, end] ids): start on a circle (the same
 * picture for the same result), then repulsion between every pair, springs along links and a
 * pull to the centre, with a step that cools each pass.
 */
export function forceLayout(nodes, links, width = WIDTH, height = HEIGHT, iterations = ITERATIONS) {
  const count = nodes.length;
  const index = new Map(nodes.map((id, i) => [id, i]));
  const x = new Float64Array(count), y = new Float64Array(count);
  const radius = Math.min(width, height) / 3;
  for (let i = 0; i < count; i += 1) {
    x[i] = width / 2 + radius * Math.cos((2 * Math.PI * i) / Math.max(count, 1));
    y[i] = height / 2 + radius * Math.sin((2 * Math.PI * i) / Math.max(count, 1));
  }
  const ideal = Math.max(30, Math.sqrt((width * height) / Math.max(count, 1)) * 0.6);
  const edges = links.map(([a, b]) => [index.get(a), index.get(b)]).filter(([a, b]) => a !== undefined && b !== undefined && a !== b);
  const dx = new Float64Array(count), dy = new Float64Array(count);
  for (let pass = 0; pass < iterations; pass += 1) {
    dx.fill(0); dy.fill(0);
    for (let i = 0; i < count; i += 1) {
      for (let j = i + 1; j < count; j += 1) {
        const ex = x[i] - x[j], ey = y[i] - y[j];
        const d2 = Math.max(ex * ex + ey * ey, 0.01);
        const push = (ideal * ideal) / d2;
        dx[i] += ex * push; dy[i] += ey * push; dx[j] -= ex * push; dy[j] -= ey * push;
      }
    }
    for (const [a, b] of edges) {
      const ex = x[a] - x[b], ey = y[a] - y[b];
      const d = Math.max(Math.sqrt(ex * ex + ey * ey), 0.1);
      const pull = d / ideal;
      dx[a] -= ex * pull; dy[a] -= ey * pull; dx[b] += ex * pull; dy[b] += ey * pull;
    }
    const step = 10 * (1 - pass / iterations) + 0.5;
    for (let i = 0; i < count; i += 1) {
      dx[i] += (width / 2 - x[i]) * 0.02; dy[i] += (height / 2 - y[i]) * 0.02;
      const length = Math.sqrt(dx[i] * dx[i] + dy[i] * dy[i]) || 1;
      x[i] = Math.min(width - 20, Math.max(20, x[i] + (dx[i] / length) * Math.min(step, length)));
      y[i] = Math.min(height - 20, Math.max(20, y[i] + (dy[i] / length) * Math.min(step, length)));
    }
  }
  return new Map(nodes.map((id, i) => [id, [x[i], y[i]]]));
}

/** A node's caption: its first label and a name-like property, else its id. */
function caption(node) {
  const p = node.properties;
  const name = p.name ?? p.title ?? p.id;
  return `${node.labels[0] ? `${node.labels[0]} ` : ""}${name !== undefined ? String(name) : `#${node.id}`}`;
}

/** Replaces the children of `svg` with the drawing of `graph` (a GraphCollector). */
export function drawGraph(svg, graph) {
  const nodes = [...graph.nodes.values()];
  const relationships = graph.drawnRelationships();
  const positions = forceLayout(nodes.map((n) => n.id), relationships.map((r) => [r.start, r.end]));
  svg.replaceChildren();
  svg.setAttribute("viewBox", `0 0 ${WIDTH} ${HEIGHT}`);
  const defs = element("defs");
  const marker = element("marker", { id: "arrow", viewBox: "0 0 10 10", refX: 19, refY: 5, markerWidth: 7, markerHeight: 7, orient: "auto" });
  marker.append(element("path", { d: "M0,0 L10,5 L0,10 z", class: "arrow" }));
  defs.append(marker);
  svg.append(defs);
  for (const r of relationships) {
    const [x1, y1] = positions.get(r.start), [x2, y2] = positions.get(r.end);
    const group = element("g", { class: "link", "data-id": r.id });
    const line = element("line", { x1, y1, x2, y2, "marker-end": "url(#arrow)" });
    const title = element("title");
    title.textContent = `${r.type} ${JSON.stringify(r.properties)}`;
    const label = element("text", { x: (x1 + x2) / 2, y: (y1 + y2) / 2 - 3 });
    label.textContent = r.type;
    group.append(line, title, label);
    svg.append(group);
  }
  for (const node of nodes) {
    const [cx, cy] = positions.get(node.id);
    const group = element("g", { class: "node", "data-id": node.id });
    const title = element("title");
    title.textContent = `${node.labels.join(":")} ${JSON.stringify(node.properties)}`;
    const label = element("text", { x: cx + 11, y: cy + 4 });
    label.textContent = caption(node);
    group.append(element("circle", { cx, cy, r: 9 }), title, label);
    svg.append(group);
  }
  return { nodes: nodes.length, relationships: relationships.length };
}

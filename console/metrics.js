// The metrics page: the server's Prometheus text, read from GET /console/metrics on this
// origin (with this tab's key), drawn as bar charts (SVG built with DOM calls) with a table of
// the same numbers beside each.
import { $, metadata, showStatus, bytes, fillTable as table, svgElement } from "./common.js";

/** Bars per chart: the largest values; a server with hundreds of collections stays readable. */
const MAX_BARS = 20;
/** Bytes of metrics text read at most (the page parses it all). */
const MAX_TEXT_BYTES = 8 << 20;

/**
 * Samples of the Prometheus text format: [{name, labels: {...}, value}]. Comments and lines
 * that do not parse (no value that is a number, +Inf, -Inf or NaN) are skipped.
 */
export function parseMetrics(text) {
  const samples = [];
  const line = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)/;
  const label = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;
  for (const raw of text.split("\n")) {
    if (!raw || raw.startsWith("#")) continue;
    const match = line.exec(raw);
    if (!match) continue;
    const labels = {};
    for (const [, key, value] of (match[2] ?? "").matchAll(label)) {
      labels[key] = value.replace(/\\(.)/g, (_, c) => (c === "n" ? "\n" : c));
    }
    const text = match[3];
    const value = text === "+Inf" ? Infinity : text === "-Inf" ? -Infinity : Number(text);
    if (Number.isNaN(value) && text !== "NaN") continue;  // not a sample line
    samples.push({ name: match[1], labels, value });
  }
  return samples;
}

/** Sums of `name`'s samples by the value of label `key`. */
function sumBy(samples, name, key) {
  const sums = new Map();
  for (const s of samples) if (s.name === name) sums.set(s.labels[key], (sums.get(s.labels[key]) ?? 0) + s.value);
  return sums;
}

/**
 * The q-quantile of a cumulative histogram ([[upper bound, count]...], +Inf last), linear
 * within the bucket it falls in, as Prometheus' histogram_quantile does; null when empty.
 */
export function quantile(q, buckets) {
  const total = buckets.length ? buckets[buckets.length - 1][1] : 0;
  if (!total) return null;
  const rank = q * total;
  let lowerBound = 0, lowerCount = 0;
  for (const [bound, count] of buckets) {
    if (count >= rank) {
      if (!Number.isFinite(bound)) return lowerBound;  // in the +Inf bucket: the largest finite bound
      return lowerBound + (bound - lowerBound) * ((rank - lowerCount) / Math.max(count - lowerCount, 1));
    }
    lowerBound = bound; lowerCount = count;
  }
  return lowerBound;
}

/** Latency percentiles by method from ruvector_rpc_duration_seconds_bucket. */
function latencies(samples) {
  const byMethod = new Map();
  for (const s of samples) {
    if (s.name !== "ruvector_rpc_duration_seconds_bucket") continue;
    const bound = s.labels.le === "+Inf" ? Infinity : Number(s.labels.le);
    if (!byMethod.has(s.labels.method)) byMethod.set(s.labels.method, []);
    byMethod.get(s.labels.method).push([bound, s.value]);
  }
  const out = [];
  for (const [method, buckets] of byMethod) {
    buckets.sort((a, b) => a[0] - b[0]);
    out.push({ method, p50: quantile(0.5, buckets), p90: quantile(0.9, buckets), p99: quantile(0.99, buckets),
               count: buckets[buckets.length - 1][1] });
  }
  return out.sort((a, b) => b.count - a.count);
}

/** A horizontal bar chart of [label, value] into `svg`; `format` writes each value. */
function barChart(svg, entries, format) {
  const shown = entries.slice(0, MAX_BARS);
  const max = Math.max(...shown.map(([, v]) => v), 1e-12);
  const rowHeight = 22, labelWidth = 330, barWidth = 420;
  svg.replaceChildren();
  svg.setAttribute("viewBox", `0 0 ${labelWidth + barWidth + 120} ${Math.max(shown.length, 1) * rowHeight + 4}`);
  shown.forEach(([name, value], i) => {
    const y = i * rowHeight + 2;
    const group = svgElement("g", { class: "bar" });
    const label = svgElement("text", { x: labelWidth - 6, y: y + 15, "text-anchor": "end" });
    label.textContent = name.length > 48 ? `…${name.slice(-47)}` : name;
    const bar = svgElement("rect", { x: labelWidth, y, width: Math.max((value / max) * barWidth, 1), height: rowHeight - 6 });
    const title = svgElement("title", {});
    title.textContent = `${name}: ${format(value)}`;
    const amount = svgElement("text", { x: labelWidth + Math.max((value / max) * barWidth, 1) + 6, y: y + 15 });
    amount.textContent = format(value);
    group.append(title, label, bar, amount);
    svg.append(group);
  });
}

function seconds(value) {
  if (value === null) return "–";
  return value < 0.001 ? `${(value * 1e6).toFixed(0)} µs` : value < 1 ? `${(value * 1000).toFixed(1)} ms` : `${value.toFixed(2)} s`;
}

const sorted = (map) => [...map.entries()].filter(([k]) => k !== undefined).sort((a, b) => b[1] - a[1]);

/** Reads the metrics and redraws every chart. */
export async function refreshMetrics() {
  try {
    const response = await fetch("/console/metrics", { headers: metadata(), cache: "no-store" });
    const text = await response.text();
    if (!response.ok) throw new Error(`HTTP ${response.status}: ${text.trim().slice(0, 300)}`);
    if (text.length > MAX_TEXT_BYTES) throw new Error("the metrics text is larger than the page reads");
    const samples = parseMetrics(text);
    const calls = sorted(sumBy(samples, "ruvector_rpc_requests_total", "method"));
    barChart($("metrics-calls-chart"), calls, (v) => String(v));
    table("metrics-calls", calls.map(([method, count]) => [method, String(count)]));
    const latency = latencies(samples);
    barChart($("metrics-latency-chart"), latency.map((l) => [l.method, l.p99 ?? 0]), seconds);
    table("metrics-latency", latency.map((l) => [l.method, String(l.count), seconds(l.p50), seconds(l.p90), seconds(l.p99)]));
    const points = sorted(sumBy(samples, "ruvector_collection_points", "collection"));
    barChart($("metrics-points-chart"), points, (v) => String(v));
    const walBytes = sumBy(samples, "ruvector_wal_bytes_total", "collection");
    const walAppends = sumBy(samples, "ruvector_wal_appends_total", "collection");
    const walSegments = sumBy(samples, "ruvector_wal_segments", "collection");
    barChart($("metrics-wal-chart"), sorted(walBytes), bytes);
    table("metrics-collections", points.map(([name, count]) => [name, String(count), bytes(walBytes.get(name)),
      String(walAppends.get(name) ?? 0), String(walSegments.get(name) ?? 0)]));
    $("metrics-state").textContent = `${samples.length} samples read at ${new Date().toLocaleTimeString()}`;
    showStatus("", true);
  } catch (error) {
    $("metrics-state").textContent = "failed";
    showStatus(`Reading metrics failed: ${error.message}`);
  }
}

export function startMetrics() {
  $("metrics-refresh").addEventListener("click", refreshMetrics);
}

// The Cypher editor: a query with parameters (a JSON object), rows streamed into a table and
// nodes and relationships drawn as they arrive, Cancel, and this tab's history of queries.
import { $, GRAPH, stream, showStatus, describeError, cell, parseJSON } from "./common.js";
import { structToJSON, valueToJSON, jsonToValue } from "./protobuf.js";
import { GraphCollector, drawGraph } from "./graph.js";

// sessionStorage: a tab's own history, gone with the tab (queries may hold data).
const HISTORY_STORAGE = "ruvector.cypherHistory";
const HISTORY_ENTRIES = 50;
// 50 entries of this size stay well inside sessionStorage's few megabytes.
const HISTORY_ENTRY_CHARS = 16 * 1024;
// Rows put in the table; more are counted, not drawn (a browser table of a million rows is
// a frozen page).
const SHOWN_ROWS = 2000;

let running = null;

/** A GraphValue as plain JSON for the table. */
function graphValue(value) {
  if (!value) return null;
  if ("value" in value) return valueToJSON(value.value);
  if ("node" in value) {
    return { id: value.node.id, labels: value.node.labels, properties: structToJSON(value.node.properties) };
  }
  if ("relationship" in value) {
    const r = value.relationship;
    return { id: r.id, type: r.type, start: r.start_node_id, end: r.end_node_id, properties: structToJSON(r.properties) };
  }
  if ("path" in value) {
    return { nodes: value.path.nodes.map((node) => graphValue({ node })),
             relationships: value.path.relationships.map((relationship) => graphValue({ relationship })) };
  }
  if ("list" in value) return value.list.values.map(graphValue);
  // A date, time, datetime or duration: shown as Cypher prints it.
  if ("temporal" in value) return value.temporal.text ?? "";
  if ("map" in value) return Object.fromEntries((value.map.entries ?? []).map((e) => [e.key, graphValue(e.value)]));
  return null;
}

function shownNote(rows) {
  return rows > SHOWN_ROWS ? ` (first ${SHOWN_ROWS} shown)` : "";
}

/** The parameters field as ruvector.v1.Parameter messages. */
function parameters() {
  const text = $("cypher-parameters").value.trim();
  if (!text) return [];
  const object = parseJSON(text, "Parameters");
  if (object === null || typeof object !== "object" || Array.isArray(object)) {
    throw new Error("Parameters must be a JSON object, e.g. {\"name\": \"Ada\"}");
  }
  return Object.entries(object).map(([name, value]) => ({ name, value: jsonToValue(value) }));
}

function history() {
  try {
    const entries = JSON.parse(sessionStorage.getItem(HISTORY_STORAGE) ?? "[]");
    return Array.isArray(entries) ? entries : [];
  } catch {
    return [];
  }
}

/**
 * Puts a query first in this tab's history (once), the oldest beyond HISTORY_ENTRIES dropped.
 * A query with parameters longer than HISTORY_ENTRY_CHARS is not kept, and a full storage
 * drops the history: neither may stop the query from running.
 */
function remember(query, params) {
  if (query.length + params.length > HISTORY_ENTRY_CHARS) return;
  const entries = history().filter((entry) => entry.query !== query || entry.parameters !== params);
  entries.unshift({ query, parameters: params });
  try {
    sessionStorage.setItem(HISTORY_STORAGE, JSON.stringify(entries.slice(0, HISTORY_ENTRIES)));
  } catch {
    sessionStorage.removeItem(HISTORY_STORAGE);  // over the browser's quota
  }
  showHistory();
}

function showHistory() {
  const select = $("cypher-history");
  const entries = history();
  const first = document.createElement("option");
  first.value = "";
  first.textContent = entries.length ? `${entries.length} earlier queries in this tab` : "no earlier queries in this tab";
  select.replaceChildren(first);
  entries.forEach((entry, index) => {
    const option = document.createElement("option");
    option.value = String(index);
    const line = entry.query.replace(/\s+/g, " ");
    option.textContent = (line.length > 90 ? `${line.slice(0, 90)}…` : line) + (entry.parameters ? ` ${entry.parameters}` : "");
    select.append(option);
  });
}

function loadFromHistory() {
  const entry = history()[Number($("cypher-history").value)];
  if ($("cypher-history").value === "" || !entry) return;
  $("cypher-query").value = entry.query;
  $("cypher-parameters").value = entry.parameters ?? "";
}

/** EXPLAIN's or PROFILE's plan (the result operator first) in the plan table. */
function showPlan(plan) {
  const table = $("cypher-plan");
  table.hidden = false;
  $("cypher-plan-caption").textContent = `${plan.mode ?? ""} plan`
    + (plan.planned ? (plan.reason ? ` (${plan.reason})` : "") : ` (interpreted: ${plan.reason ?? ""})`)
    + (plan.cached ? ", cached" : "");
  const profiled = plan.mode === "PROFILE";
  for (const op of plan.operators ?? []) {
    const tr = table.tBodies[0].insertRow();
    cell(tr, op.name ?? "");
    cell(tr, op.details ?? "");
    cell(tr, profiled ? String(op.rows ?? 0) : "");
    cell(tr, profiled ? (Number(op.time_nanos ?? 0) / 1e6).toFixed(3) : "");
  }
}

async function runCypher(event, mode = "") {
  event.preventDefault();
  if (running) return;
  $("cypher-plan").hidden = true;
  $("cypher-plan").tBodies[0].replaceChildren();
  const table = $("cypher-results");
  table.tHead.rows[0].replaceChildren();
  table.tBodies[0].replaceChildren();
  $("cypher-graph").replaceChildren();
  $("cypher-graph-state").textContent = "";
  let params;
  try {
    params = parameters();
  } catch (error) {
    showStatus(error.message);
    return;
  }
  const written = $("cypher-query").value;
  remember(written, $("cypher-parameters").value.trim());
  const query = mode ? `${mode} ${written}` : written;
  running = new AbortController();
  $("cypher-cancel").disabled = false;
  $("cypher-run").disabled = true;
  $("cypher-explain").disabled = true;
  $("cypher-profile").disabled = true;
  $("cypher-state").textContent = "running…";
  const graph = new GraphCollector();
  let rows = 0;
  try {
    // A row limit keeps a runaway query from filling the page; the server stops there.
    const maxRows = Number($("cypher-max-rows").value) || 0;
    await stream(GRAPH + "Execute", { query, parameters: params, max_rows: maxRows }, {
      signal: running.signal,
      onMessage: (part) => {
        if (part.header) {
          for (const column of part.header.columns) {
            const th = document.createElement("th");
            th.scope = "col";
            th.textContent = column;
            table.tHead.rows[0].append(th);
          }
        } else if (part.rows) {
          for (const row of part.rows.rows) {
            rows += 1;
            for (const value of row.values) graph.add(value);
            if (rows > SHOWN_ROWS) continue;
            const tr = table.tBodies[0].insertRow();
            for (const value of row.values) cell(tr, JSON.stringify(graphValue(value)), true);
          }
          $("cypher-state").textContent = `running… ${rows} rows${shownNote(rows)}`;
        } else if (part.summary?.plan) {
          showPlan(part.summary.plan);
        }
      },
    });
    $("cypher-state").textContent =
      `done: ${rows} rows${maxRows && rows >= maxRows ? " (row limit reached)" : ""}${shownNote(rows)}`;
    showStatus("", true);
  } catch (error) {
    if (error.name === "AbortError") {
      $("cypher-state").textContent = `cancelled after ${rows} rows${shownNote(rows)}`;
    } else {
      $("cypher-state").textContent = "failed";
      showStatus(describeError("Query", error));
    }
  } finally {
    running = null;
    $("cypher-cancel").disabled = true;
    $("cypher-run").disabled = false;
    $("cypher-explain").disabled = false;
    $("cypher-profile").disabled = false;
  }
  if (graph.nodes.size) {
    // Drawn once the rows are in: the layout needs every node.
    const drawn = drawGraph($("cypher-graph"), graph);
    $("cypher-graph-state").textContent = `${drawn.nodes} nodes, ${drawn.relationships} relationships drawn`
      + (graph.skippedNodes ? ` (${graph.skippedNodes} more nodes not drawn)` : "")
      + (graph.skippedRelationships ? ` (${graph.skippedRelationships} more relationships not kept)` : "");
  }
}

export function startCypher() {
  $("cypher-form").addEventListener("submit", runCypher);
  $("cypher-explain").addEventListener("click", (event) => runCypher(event, "EXPLAIN"));
  $("cypher-profile").addEventListener("click", (event) => runCypher(event, "PROFILE"));
  $("cypher-cancel").addEventListener("click", () => running?.abort());
  $("cypher-history").addEventListener("change", loadFromHistory);
  // Ctrl+Enter in the query runs it (Enter there is a new line).
  $("cypher-query").addEventListener("keydown", (event) => {
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) runCypher(event);
  });
  showHistory();
}

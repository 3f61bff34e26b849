// The console's pages: collections, search playground, Cypher editor. Every server call is a
// gRPC-Web call (grpcweb.js) carrying the API key of this tab, if one was entered.
import { call, unary, GrpcError } from "./grpcweb.js";
import { structToJSON, jsonToStruct, valueToJSON } from "./protobuf.js";

const VECTOR = "/ruvector.v1.VectorService/";
const GRAPH = "/ruvector.v1.GraphService/";
// sessionStorage: the key lives as long as this tab, never on disk beyond the browser session.
const KEY_STORAGE = "ruvector.apiKey";

const $ = (id) => document.getElementById(id);

function metadata() {
  const key = sessionStorage.getItem(KEY_STORAGE);
  return key ? { authorization: `Bearer ${key}` } : {};
}

function rpc(method, request) {
  return unary(method, request, { metadata: metadata() });
}

function showStatus(text, ok = false) {
  const status = $("status");
  status.className = ok ? "ok" : "";
  status.textContent = text;
}

function describeError(what, error) {
  const hint = error instanceof GrpcError && error.code === 16 ? " (enter an API key or token above)" : "";
  return `${what} failed: ${error.message}${hint}`;
}

function cell(row, content, pre = false) {
  const td = row.insertCell();
  if (pre) {
    const block = document.createElement("pre");
    block.textContent = content;
    td.append(block);
  } else {
    td.textContent = content;
  }
  return td;
}

function bytes(count) {
  const n = Number(count ?? 0);
  return n < 1024 ? `${n} B` : n < 1 << 20 ? `${(n / 1024).toFixed(1)} KiB` : `${(n / (1 << 20)).toFixed(1)} MiB`;
}

// MARK: Pages and the key

function showPage() {
  const page = (location.hash || "#collections").slice(1);
  for (const name of ["collections", "search", "cypher"]) {
    $(`page-${name}`).hidden = name !== page;
    $(`nav-${name}`).toggleAttribute("aria-current", name === page);
    if (name === page) $(`nav-${name}`).setAttribute("aria-current", "page");
  }
  if (page === "collections") refreshCollections();
}

function showKeyState() {
  $("key-state").textContent = sessionStorage.getItem(KEY_STORAGE) ? "key set for this tab" : "no key";
}

// MARK: Collections

const METRICS = { 1: "L2", 2: "cosine", 3: "dot", 4: "Manhattan" };
const INDEX = { 1: "ready", 2: "indexing", 3: "rebuilding" };

async function refreshCollections() {
  try {
    const response = await rpc(VECTOR + "ListCollections", {});
    const body = $("collections-table").tBodies[0];
    body.replaceChildren();
    for (const info of response.collections) {
      const row = body.insertRow();
      row.dataset.name = info.name;
      cell(row, info.name);
      cell(row, String(info.dimension ?? 0));
      cell(row, METRICS[info.metric] ?? "unspecified");
      cell(row, String(info.points_count ?? 0));
      cell(row, bytes(info.memory_bytes));
      cell(row, bytes(info.disk_bytes));
      cell(row, INDEX[info.index_status] ?? "unknown");
      const actions = row.insertCell();
      const remove = document.createElement("button");
      remove.type = "button";
      remove.textContent = "Delete";
      remove.setAttribute("aria-label", `Delete collection ${info.name}`);
      remove.addEventListener("click", () => deleteCollection(info.name));
      actions.append(remove);
    }
  } catch (error) {
    showStatus(describeError("Listing collections", error));
  }
}

async function createCollection(event) {
  event.preventDefault();
  const name = $("create-name").value.trim();
  try {
    await rpc(VECTOR + "CreateCollection",
      { name, dimension: Number($("create-dimension").value), metric: $("create-metric").value });
    showStatus(`Collection ${name} created.`, true);
    $("upsert-collection").value = name;
    $("search-collection").value = name;
    await refreshCollections();
  } catch (error) {
    showStatus(describeError(`Creating ${name}`, error));
  }
}

async function deleteCollection(name) {
  if (!confirm(`Delete collection ${name} and all its points? This cannot be undone.`)) return;
  try {
    const result = await rpc(VECTOR + "DeleteCollection", { name });
    showStatus(`Collection ${name} deleted (${result.points_deleted ?? 0} points).`, true);
    await refreshCollections();
  } catch (error) {
    showStatus(describeError(`Deleting ${name}`, error));
  }
}

function pointId(id) {
  return typeof id === "string" && !/^\d+$/.test(id) ? { uuid: id } : { num: id };
}

function showId(id) {
  return String(id?.num ?? id?.uuid ?? "");
}

async function upsertPoints(event) {
  event.preventDefault();
  const collection = $("upsert-collection").value.trim();
  try {
    const points = JSON.parse($("upsert-points").value);
    if (!Array.isArray(points)) throw new Error("points must be a JSON array");
    const result = await rpc(VECTOR + "Upsert", {
      collection,
      points: points.map((p) => ({ id: pointId(p.id), vector: { values: p.vector }, payload: jsonToStruct(p.payload ?? {}) })),
      wait: "WRITE_WAIT_DURABLE",
    });
    $("upsert-result").textContent = `${result.points_affected ?? 0} points written`;
    showStatus(`Upserted ${result.points_affected ?? 0} points into ${collection}.`, true);
    await refreshCollections();
  } catch (error) {
    showStatus(describeError("Upsert", error));
  }
}

// MARK: Search

function pythonSnippet(collection, vector, k, filter) {
  const request = { collection, vector: { values: vector }, k, ...(filter ? { filter } : {}), with: { with_payload: true } };
  const auth = sessionStorage.getItem(KEY_STORAGE) ? ', metadata=[("authorization", "Bearer " + API_KEY)]' : "";
  return [
    "import json",
    "import grpc",
    "from google.protobuf import json_format",
    "from ruvector.v1 import vector_pb2, vector_pb2_grpc",
    "",
    ...(auth ? ['API_KEY = "..."  # your key'] : []),
    `channel = grpc.insecure_channel(${JSON.stringify(location.host)})`,
    "stub = vector_pb2_grpc.VectorServiceStub(channel)",
    // A JSON string is a valid Python string literal: the request round-trips exactly.
    `request = json_format.ParseDict(json.loads(${JSON.stringify(JSON.stringify(request))}), vector_pb2.SearchRequest())`,
    `for hit in stub.Search(request${auth}).hits:`,
    "    print(hit.id, hit.score, hit.payload)",
  ].join("\n");
}

async function queryVector(collection) {
  const text = $("search-vector").value.trim();
  if ($("search-by-vector").checked) {
    const vector = JSON.parse(text);
    if (!Array.isArray(vector)) throw new Error("the vector must be a JSON array of numbers");
    return vector;
  }
  const id = /^\d+$/.test(text) ? Number(text) : text;
  const found = await rpc(VECTOR + "Get", { collection, ids: [pointId(id)], with: { with_vectors: true } });
  if (!found.points.length) throw new Error(`no point with id ${text} in ${collection}`);
  return found.points[0].vector?.values ?? [];
}

async function search(event) {
  event.preventDefault();
  const collection = $("search-collection").value.trim();
  const body = $("search-results").tBodies[0];
  try {
    const vector = await queryVector(collection);
    const k = Number($("search-k").value);
    const filterText = $("search-filter").value.trim();
    const filter = filterText ? JSON.parse(filterText) : undefined;
    $("search-snippet").value = pythonSnippet(collection, vector, k, filter);
    const response = await rpc(VECTOR + "Search",
      { collection, vector: { values: vector }, k, filter, with: { with_payload: true } });
    body.replaceChildren();
    for (const hit of response.hits) {
      const row = body.insertRow();
      cell(row, showId(hit.id));
      cell(row, (hit.score ?? 0).toFixed(4));
      cell(row, JSON.stringify(structToJSON(hit.payload)), true);
    }
    showStatus(`${response.hits.length} hits in ${response.time_micros ?? 0} µs.`, true);
  } catch (error) {
    body.replaceChildren();
    showStatus(describeError("Search", error));
  }
}

// MARK: Cypher

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
  return null;
}

function shownNote(rows) {
  return rows > SHOWN_ROWS ? ` (first ${SHOWN_ROWS} shown)` : "";
}

let running = null;
// Rows put in the table; more are counted, not drawn (a browser table of a million rows is
// a frozen page).
const SHOWN_ROWS = 2000;

async function runCypher(event) {
  event.preventDefault();
  if (running) return;
  const table = $("cypher-results");
  table.tHead.rows[0].replaceChildren();
  table.tBodies[0].replaceChildren();
  running = new AbortController();
  $("cypher-cancel").disabled = false;
  $("cypher-run").disabled = true;
  $("cypher-state").textContent = "running…";
  let rows = 0;
  try {
    // A row limit keeps a runaway query from filling the page; the server stops there.
    const maxRows = Number($("cypher-max-rows").value) || 0;
    await call(GRAPH + "Execute", { query: $("cypher-query").value, max_rows: maxRows }, {
      metadata: metadata(),
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
            if (rows > SHOWN_ROWS) continue;
            const tr = table.tBodies[0].insertRow();
            for (const value of row.values) cell(tr, JSON.stringify(graphValue(value)), true);
          }
          $("cypher-state").textContent = `running… ${rows} rows${shownNote(rows)}`;
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
  }
}

// MARK: Start

function start() {
  $("key-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const key = $("api-key").value.trim();
    if (key) sessionStorage.setItem(KEY_STORAGE, key); else sessionStorage.removeItem(KEY_STORAGE);
    $("api-key").value = "";
    showKeyState();
    showStatus("", true);
    showPage();
  });
  $("key-forget").addEventListener("click", () => {
    sessionStorage.removeItem(KEY_STORAGE);
    showKeyState();
  });
  $("create-form").addEventListener("submit", createCollection);
  $("refresh-collections").addEventListener("click", refreshCollections);
  $("upsert-form").addEventListener("submit", upsertPoints);
  $("search-form").addEventListener("submit", search);
  $("cypher-form").addEventListener("submit", runCypher);
  $("cypher-cancel").addEventListener("click", () => running?.abort());
  window.addEventListener("hashchange", showPage);
  showKeyState();
  showPage();
}

start();

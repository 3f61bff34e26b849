// The search playground: k nearest neighbours of a typed vector or of a stored point, with a
// filter and the SearchParams options (ef, exact, quantization), and the same query to copy as
// a ruvector CLI command, a grpcurl command and a Python snippet.
import { $, VECTOR, KEY_STORAGE, rpc, showStatus, describeError, cell, pointId, showId, parseJSON } from "./common.js";
import { structToJSON } from "./protobuf.js";

/** Quotes `text` for a POSIX shell: one single-quoted word. */
export function shellQuote(text) {
  return `'${String(text).replaceAll("'", `'"'"'`)}'`;
}

/** A ruvector.v1.Condition in the CLI's --filter JSON (clients/swift Filter+JSON.swift), or throws. */
function cliCondition(condition) {
  if (condition.filter) return { filter: cliFilter(condition.filter) };
  if (condition.has_id) return { has_id: condition.has_id.ids.map((id) => id.num !== undefined ? Number(id.num) : id.uuid) };
  if (condition.is_empty) return { is_empty: condition.is_empty.key };
  if (condition.is_null) return { is_null: condition.is_null.key };
  const field = condition.field;
  if (!field) throw new Error("a condition the CLI cannot express");
  const out = { key: field.key };
  if (field.match) {
    const m = field.match;
    if ("keyword" in m) out.match = m.keyword;
    else if ("integer" in m) out.match = Number(m.integer);
    else if ("boolean" in m) out.match = m.boolean;
    else if (m.any_keywords || m.any_integers) out.match = { any: (m.any_keywords ?? m.any_integers).values.map((v) => m.any_integers ? Number(v) : v) };
    else if (m.except_keywords || m.except_integers) out.match = { except: (m.except_keywords ?? m.except_integers).values.map((v) => m.except_integers ? Number(v) : v) };
    else throw new Error("an empty match");
  } else if (field.range) {
    out.range = field.range;
  } else if ("exists" in field) {
    out.exists = field.exists;
  }
  return out;
}

/** A ruvector.v1.Filter (JSON of its fields) in the CLI's --filter form. */
export function cliFilter(filter) {
  const out = {};
  for (const clause of ["must", "should", "must_not"]) {
    if (filter[clause]?.length) out[clause] = filter[clause].map(cliCondition);
  }
  if (filter.min_should) out.min_should = filter.min_should;
  return out;
}

/** Whether this page came over TLS: the snippets then connect with TLS too (system CAs). */
const overTLS = () => location.protocol === "https:";

/** The same search as a `ruvector search` command line. */
export function cliSnippet(request) {
  const words = ["ruvector", "search", "--server", location.host, ...(overTLS() ? ["--tls"] : []), "--collection", request.collection,
                 "--vector", JSON.stringify(request.vector.values), "--k", String(request.k)];
  const params = request.params ?? {};
  if (params.ef) words.push("--ef", String(params.ef));
  if (params.exact) words.push("--exact");
  if (request.filter) words.push("--filter", JSON.stringify(cliFilter(request.filter)));
  words.push("--with-payload");
  const line = words.map((word, index) => index === 0 || /^[A-Za-z0-9_.:\-]+$/.test(word) ? word : shellQuote(word)).join(" ");
  const notes = [];
  if (params.quantization) notes.push("# The CLI has no quantization options: it searches with the collection's defaults.");
  if (sessionStorage.getItem(KEY_STORAGE)) notes.push("export RUVECTOR_API_KEY=...  # your key");
  return [...notes, line].join("\n");
}

/** The same search as a grpcurl command (the server answers reflection). */
export function grpcurlSnippet(request) {
  const auth = sessionStorage.getItem(KEY_STORAGE) ? ` -H "authorization: Bearer $RUVECTOR_API_KEY"` : "";
  return `grpcurl${overTLS() ? "" : " -plaintext"}${auth} -d ${shellQuote(JSON.stringify(request))} ${location.host} `
    + "ruvector.v1.VectorService/Search";
}

/** The same search in Python with grpcio and the generated stubs. */
export function pythonSnippet(request) {
  const auth = sessionStorage.getItem(KEY_STORAGE) ? ', metadata=[("authorization", "Bearer " + API_KEY)]' : "";
  return [
    "import json",
    "import grpc",
    "from google.protobuf import json_format",
    "from ruvector.v1 import vector_pb2, vector_pb2_grpc",
    "",
    ...(auth ? ['API_KEY = "..."  # your key'] : []),
    overTLS() ? `channel = grpc.secure_channel(${JSON.stringify(location.host)}, grpc.ssl_channel_credentials())`
      : `channel = grpc.insecure_channel(${JSON.stringify(location.host)})`,
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
    const vector = parseJSON(text, "The vector");
    if (!Array.isArray(vector)) throw new Error("the vector must be a JSON array of numbers");
    return vector;
  }
  const id = /^\d+$/.test(text) ? Number(text) : text;
  const found = await rpc(VECTOR + "Get", { collection, ids: [pointId(id)], with: { with_vectors: true } });
  if (!found.points.length) throw new Error(`no point with id ${text} in ${collection}`);
  return found.points[0].vector?.values ?? [];
}

/** ef, exact and the quantization options as a ruvector.v1.SearchParams, or undefined when all are defaults. */
function searchParams() {
  const params = {};
  const ef = Number($("search-ef").value || 0);
  if (ef) params.ef = ef;
  if ($("search-exact").checked) params.exact = true;
  const quantization = {};
  if ($("search-ignore-quantization").checked) quantization.ignore = true;
  const oversampling = Number($("search-oversampling").value || 0);
  if (oversampling) quantization.oversampling = oversampling;
  if (Object.keys(quantization).length) params.quantization = quantization;
  return Object.keys(params).length ? params : undefined;
}

async function search(event) {
  event.preventDefault();
  const collection = $("search-collection").value.trim();
  const body = $("search-results").tBodies[0];
  try {
    const vector = await queryVector(collection);
    const filterText = $("search-filter").value.trim();
    const request = { collection, vector: { values: vector }, k: Number($("search-k").value),
                      ...(filterText ? { filter: parseJSON(filterText, "The filter") } : {}),
                      ...(searchParams() ? { params: searchParams() } : {}), with: { with_payload: true } };
    $("search-snippet").value = pythonSnippet(request);
    $("search-grpcurl").value = grpcurlSnippet(request);
    try {
      $("search-cli").value = cliSnippet(request);
    } catch (error) {
      $("search-cli").value = `# not expressible with the CLI: ${error.message}`;
    }
    const response = await rpc(VECTOR + "Search", request);
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

export function startSearch() {
  $("search-form").addEventListener("submit", search);
}

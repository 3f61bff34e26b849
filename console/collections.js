// The collections page: list, create (every CreateCollectionRequest option), describe, delete,
// and upsert points typed as JSON.
import { $, VECTOR, rpc, showStatus, describeError, cell, button, bytes, pointId, parseJSON } from "./common.js";
import { jsonToStruct } from "./protobuf.js";

export const METRICS = { 1: "L2", 2: "cosine", 3: "dot", 4: "Manhattan" };
const INDEX = { 1: "ready", 2: "indexing", 3: "rebuilding" };
const REPLICATION = { 0: "cluster default", 1: "async", 2: "semi-sync", 3: "sync" };

/** Every collection in the table, each with its Info and Delete buttons. */
export async function refreshCollections() {
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
      row.insertCell().append(
        button("Info", () => showInfo(info.name), `Info on collection ${info.name}`),
        button("Delete", () => deleteCollection(info.name), `Delete collection ${info.name}`));
    }
  } catch (error) {
    showStatus(describeError("Listing collections", error));
  }
}

/** A number field's value, or undefined when empty (the server's default then applies). */
function optionalNumber(id) {
  const text = $(id).value.trim();
  if (text === "") return undefined;
  const value = Number(text);
  if (!Number.isInteger(value) || value < 0) throw new Error(`${$(id).labels[0]?.textContent ?? id} must be a whole number ≥ 0`);
  return value;
}

/** The quantization chosen in the form, as a ruvector.v1.QuantizationConfig. */
function quantization() {
  const subvectors = optionalNumber("create-pq-subvectors");
  switch ($("create-quantization").value) {
    case "scalar": return { scalar: {} };
    case "int4": return { scalar: { bits: 4 } };
    case "float16": return { float16: {} };
    case "binary": return { binary: {} };
    case "pq8": return { product: { bits: 8, subvectors } };
    case "pq4": return { product: { bits: 4, subvectors } };
    case "tiered":
      return { tiered: { hot_threshold: optionalNumber("create-hot-threshold"),
                         retier_interval_queries: optionalNumber("create-retier-interval"), subvectors } };
    default: return undefined;
  }
}

/** The form as a CreateCollectionRequest: unset fields are left out, so the server's defaults apply. */
export function createRequest() {
  const hnsw = { m: optionalNumber("create-m"), ef_construction: optionalNumber("create-ef-construction"),
                 ef_search: optionalNumber("create-ef-search") };
  const anyHnsw = Object.values(hnsw).some((value) => value !== undefined);
  return {
    name: $("create-name").value.trim(),
    dimension: Number($("create-dimension").value),
    metric: $("create-metric").value,
    hnsw: anyHnsw ? hnsw : undefined,
    quantization: quantization(),
    default_wait: $("create-default-wait").value || undefined,
    on_disk: $("create-on-disk").checked || undefined,
    on_disk_graph: $("create-on-disk-graph").checked || undefined,
    shards: optionalNumber("create-shards"),
    replication_factor: optionalNumber("create-replication-factor"),
    write_consistency: $("create-write-consistency").value || undefined,
    min_replicas: optionalNumber("create-min-replicas"),
  };
}

async function createCollection(event) {
  event.preventDefault();
  const name = $("create-name").value.trim();
  try {
    await rpc(VECTOR + "CreateCollection", createRequest());
    showStatus(`Collection ${name} created.`, true);
    for (const id of ["upsert-collection", "search-collection", "points-collection"]) {
      const field = $(id);
      if (field) field.value = name;
    }
    await refreshCollections();
    await showInfo(name);
  } catch (error) {
    showStatus(describeError(`Creating ${name}`, error));
  }
}

/** The quantization of a CollectionInfo in words. */
function describeQuantization(config) {
  if (!config) return "none";
  if (config.scalar) return config.scalar.bits === 4 ? "scalar (int4 residuals)" : "scalar (int8)";
  if (config.float16) return "float16";
  if (config.binary) return "binary";
  if (config.product) {
    return `product (PQ${config.product.bits ?? 8}, ${config.product.subvectors || "default"} subvectors)`;
  }
  if (config.tiered) {
    const t = config.tiered;
    return `tiered (hot threshold ${t.hot_threshold ?? 0}, re-tier every ${t.retier_interval_queries ?? 0} searches, `
      + `${t.subvectors || "default"} subvectors)`;
  }
  return "none";
}

/** GetCollection shown as a list of terms, every value as text. */
export async function showInfo(name) {
  try {
    const info = await rpc(VECTOR + "GetCollection", { name });
    const hnsw = info.hnsw ?? {};
    const tiers = info.tiers;
    const entries = [
      ["Name", info.name],
      ["Dimension", String(info.dimension ?? 0)],
      ["Metric", METRICS[info.metric] ?? "unspecified"],
      ["Points", String(info.points_count ?? 0)],
      ["Memory", bytes(info.memory_bytes)],
      ["Disk (WAL and snapshots)", bytes(info.disk_bytes)],
      ["Index", INDEX[info.index_status] ?? "unknown"],
      ["HNSW", `m ${hnsw.m ?? 0}, ef_construction ${hnsw.ef_construction ?? 0}, ef_search ${hnsw.ef_search ?? 0}, `
        + `full_scan_threshold ${hnsw.full_scan_threshold || "default"}`],
      ["Quantization", describeQuantization(info.quantization)],
      ["Tiers", tiers ? `hot ${tiers.hot ?? 0}, warm ${tiers.warm ?? 0}, cool ${tiers.cool ?? 0}, cold ${tiers.cold ?? 0}, `
        + `archive ${tiers.archive ?? 0}; codes ${bytes(tiers.code_bytes)}; ${tiers.passes ?? 0} passes` : "not tiered (or not built yet)"],
      ["Vectors on disk", info.on_disk ? `yes, ${bytes(info.on_disk_vector_bytes)}` : "no"],
      ["Graph on disk", info.on_disk_graph ? `yes, ${bytes(info.on_disk_graph_bytes)} of level-0 links` : "no"],
      ["Shards", String(info.shards ?? 0)],
      ["Replication", `${info.replication_factor ?? 0} copies, writes ${REPLICATION[info.write_consistency ?? 0]}, `
        + `semi-sync waits for ${info.min_replicas ?? 0}`],
      ["Created", info.created_unix_micros ? new Date(Number(info.created_unix_micros) / 1000).toISOString() : "unknown"],
    ];
    const list = $("info-list");
    list.replaceChildren();
    for (const [term, value] of entries) {
      const dt = document.createElement("dt");
      dt.textContent = term;
      const dd = document.createElement("dd");
      dd.textContent = value;
      dd.dataset.term = term;
      list.append(dt, dd);
    }
    $("info-title").textContent = `Collection ${info.name}`;
    $("collection-info").hidden = false;
  } catch (error) {
    showStatus(describeError(`Describing ${name}`, error));
  }
}

async function deleteCollection(name) {
  if (!confirm(`Delete collection ${name} and all its points? This cannot be undone.`)) return;
  try {
    const result = await rpc(VECTOR + "DeleteCollection", { name });
    showStatus(`Collection ${name} deleted (${result.points_deleted ?? 0} points).`, true);
    if ($("info-title").textContent === `Collection ${name}`) $("collection-info").hidden = true;
    await refreshCollections();
  } catch (error) {
    showStatus(describeError(`Deleting ${name}`, error));
  }
}

async function upsertPoints(event) {
  event.preventDefault();
  const collection = $("upsert-collection").value.trim();
  try {
    const points = parseJSON($("upsert-points").value, "Points");
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

/** Shows the quantization options that apply to the chosen kind only. */
function showQuantizationOptions() {
  const kind = $("create-quantization").value;
  $("pq-options").hidden = !["pq8", "pq4", "tiered"].includes(kind);
  $("tier-options").hidden = kind !== "tiered";
}

export function startCollections() {
  $("create-form").addEventListener("submit", createCollection);
  $("create-quantization").addEventListener("change", showQuantizationOptions);
  $("refresh-collections").addEventListener("click", refreshCollections);
  $("upsert-form").addEventListener("submit", upsertPoints);
  showQuantizationOptions();
}

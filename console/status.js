// Read-only status pages: learning (LearnService.GetModelStatus per collection), routing
// (RouteService.GetStatus per router, with its circuit breakers) and cluster
// (ClusterService.GetState: members, leader, shards with replica lag).
import { $, VECTOR, LEARN, ROUTE, CLUSTER, rpc, stream, showStatus, describeError, cell, fillTable as fill } from "./common.js";
import { GrpcError } from "./grpcweb.js";

const CIRCUIT = { 1: "closed", 2: "open", 3: "half-open" };
const ROLE = { 1: "voter", 2: "learner" };
const fixed = (value, digits = 3) => (value === undefined ? "–" : Number(value).toFixed(digits));
const micros = (value) => (value ? new Date(Number(value) / 1000).toISOString() : "never");

/** One row per collection: its learned model's version, quality against the baseline, feedback. */
export async function refreshLearning() {
  try {
    const collections = (await rpc(VECTOR + "ListCollections", {})).collections;
    const rows = [];
    for (const info of collections) {
      const s = await rpc(LEARN + "GetModelStatus", { collection: info.name });
      rows.push([info.name, String(s.version ?? 0), String(s.latest_version ?? 0), s.activated ? "yes" : "no",
        String(s.parameters ?? 0), micros(s.trained_unix_micros), `${fixed(s.baseline_ndcg_at_10)} → ${fixed(s.model_ndcg_at_10)}`,
        `${fixed(s.baseline_recall_at_10)} → ${fixed(s.model_recall_at_10)}`, String(s.feedback_buffered ?? 0),
        String(s.training_examples ?? 0), s.note ?? ""]);
    }
    fill("learning-table", rows);
    $("learning-state").textContent = `${rows.length} collections`;
  } catch (error) {
    $("learning-state").textContent = "failed";
    showStatus(describeError("Reading model status", error));
  }
}

/** The training run this tab started (LearnService.Train, server streaming), while it runs. */
let training = null;

/** Starts a training run and adds a row per progress message as it arrives; Cancel aborts the
 * call (the server stops the run). The model status is read again at the end. */
async function train(event) {
  event.preventDefault();
  const collection = $("train-collection").value.trim();
  const epochs = $("train-epochs").value.trim();
  const body = $("train-table").tBodies[0];
  body.replaceChildren();
  training = new AbortController();
  $("train-button").disabled = true;
  $("train-cancel").disabled = false;
  $("train-state").textContent = `training ${collection}…`;
  showStatus("", true);
  let epochsDone = 0, done = false;
  try {
    await stream(LEARN + "Train", { collection, epochs: epochs === "" ? undefined : Number(epochs) }, {
      signal: training.signal,
      onMessage: (progress) => {
        epochsDone = Math.max(epochsDone, progress.epoch ?? 0);
        done ||= Boolean(progress.done);
        // The closing message carries no epoch of its own: it ends the run, it adds no row.
        if (progress.done && !progress.epoch) return;
        const row = body.insertRow();
        for (const value of [String(progress.epoch ?? 0), String(progress.step ?? 0), fixed(progress.loss, 4),
          fixed(progress.learning_rate, 6), fixed(progress.eval_ndcg_at_10), fixed(progress.eval_recall_at_10),
          fixed(progress.eval_mrr)]) cell(row, value);
        $("train-state").textContent = `epoch ${progress.epoch ?? 0}…`;
      },
    });
    $("train-state").textContent = done ? `done after ${epochsDone} epochs` : "ended";
  } catch (error) {
    const cancelled = training.signal.aborted;
    $("train-state").textContent = cancelled ? "cancelled" : "failed";
    if (!cancelled) showStatus(describeError(`Training ${collection}`, error));
  } finally {
    training = null;
    $("train-button").disabled = false;
    $("train-cancel").disabled = true;
    await refreshLearning();
  }
}

/** Each router's status, then one row per circuit breaker. */
export async function refreshRouting() {
  try {
    const routers = (await rpc(ROUTE + "ListRouters", {})).routers;
    const rows = [], breakers = [];
    for (const info of routers) {
      const name = info.definition?.name ?? "";
      const s = await rpc(ROUTE + "GetStatus", { router: name });
      rows.push([name, String(s.model_version ?? 0), String(s.outcomes_recorded ?? 0), fixed(s.accuracy),
        fixed(s.calibrated_coverage), String(s.calibration_count ?? 0), String(s.training_examples ?? 0)]);
      for (const b of s.breakers) {
        breakers.push([name, b.candidate ?? "", CIRCUIT[b.state] ?? "unknown", String(b.consecutive_failures ?? 0),
          String(b.openings ?? 0), String(b.routed ?? 0), b.retry_at_unix_micros ? micros(b.retry_at_unix_micros) : "–"]);
      }
    }
    fill("routing-table", rows);
    fill("breakers-table", breakers);
    $("routing-state").textContent = `${rows.length} routers, ${breakers.length} circuit breakers`;
  } catch (error) {
    $("routing-state").textContent = "failed";
    showStatus(describeError("Reading router status", error));
  }
}

/** Members, leader and shards; a single server says it is not a cluster (from its error). */
export async function refreshCluster() {
  try {
    const state = await rpc(CLUSTER + "GetState", { with_shard_progress: true, stale_ok: true });
    const leader = String(state.leader_id ?? 0);
    fill("members-table", state.members.map((m) => [String(m.node_id ?? 0), m.address ?? "", ROLE[m.role] ?? "unknown",
      String(m.node_id ?? 0) === leader ? "leader" : "", m.healthy ? "yes" : "no", String(m.lag_entries ?? 0),
      `${m.last_seen_millis ?? 0} ms ago`]));
    fill("shards-table", state.shards.map((s) => [s.collection ?? "", String(s.shard ?? 0), String(s.primary_node_id ?? 0),
      s.replica_node_ids.map((id, i) => `${id} (${s.replica_lag_records[i] ?? 0} records, ${s.replica_lag_millis[i] ?? 0} ms behind)`)
        .join(", ") || "none", String(s.epoch ?? 0)]));
    $("cluster-state").textContent = `leader ${leader}, term ${state.term ?? 0}, commit index ${state.commit_index ?? 0}, `
      + `answered by node ${state.answered_by ?? 0}${state.stale ? " (may be stale)" : ""}`;
  } catch (error) {
    fill("members-table", []);
    fill("shards-table", []);
    if (error instanceof GrpcError && [9, 12].includes(error.code)) {
      // FAILED_PRECONDITION or UNIMPLEMENTED: this server runs alone.
      $("cluster-state").textContent = `not a cluster (${error.message})`;
    } else {
      $("cluster-state").textContent = "failed";
      showStatus(describeError("Reading the cluster state", error));
    }
  }
}

export function startStatusPages() {
  $("learning-refresh").addEventListener("click", refreshLearning);
  $("train-form").addEventListener("submit", train);
  $("train-cancel").addEventListener("click", () => training?.abort());
  $("routing-refresh").addEventListener("click", refreshRouting);
  $("cluster-refresh").addEventListener("click", refreshCluster);
}

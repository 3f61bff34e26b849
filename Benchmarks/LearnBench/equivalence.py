"""Numeric equivalence of LearnEngine's training with the PyTorch reference (issue 20): both start
from the engine's initial weights, see the same batches with dropout off, and every tensor is
compared.

    python equivalence.py order /tmp/h384.examples /tmp/h384.order          # the reference's batch order
    learn-bench --train-examples /tmp/h384.examples --head bilinear --dropout 0 --clip 0 --warmup 100 \\
        --batch-order /tmp/h384.order --dump /tmp/dump --dump-step 200 --max-steps 200
    python equivalence.py step /tmp/h384.examples /tmp/dump --order /tmp/h384.order --head bilinear
    learn-bench ... the same without --dump-step and --max-steps (12 epochs; DIR/epochN)
    python equivalence.py train /tmp/h384.examples /tmp/dump --order /tmp/h384.order --head bilinear [--dropout 0.1 --seed N]

`order` writes the batches `learner.Learner.train` would draw (numpy's generator seeded with the
seed, one permutation for the split by query, then one per epoch cut by `np.array_split`): one line
per batch, "epoch index index ...", indices into the file's training examples. `step` loads the
engine's parameters before step N (DIR/before) into `reference.GNNReranker` (no self in the
attention, 16 links, dropout 0), runs the order's batch N through the reference's loss, and prints
per tensor the relative difference ||a - b|| / max(||a||, ||b||) of the loss gradient with the
engine's (DIR/grad); it also runs the reference itself through steps 1..N from the engine's
initial weights (DIR/init; Adam, L2 1e-4, warm-up then cosine) and compares its weights before
and after step N and its update with the engine's. `train` trains the reference through the whole
order from the same initial weights, printing each epoch's gate score (the validation score of
`learner.Learner`) and, without dropout, where the engine wrote DIR/epochN, the largest relative
difference of a parameter (the inert ones left out, see `inert`).
"""
from __future__ import annotations

import argparse
import os
import struct
import sys

import numpy as np
import torch

from metrics import dcg_of_gains
from reference import GNNReranker, ModelConfig, learning_rate_at, listwise_loss

K_LINKS = 16


class Examples:
    """The examples file `export_examples.py` writes, parsed into numpy arrays per example."""

    def __init__(self, path: str):
        data = np.memmap(path, dtype=np.uint8, mode="r")
        if bytes(data[:4]) != b"RVLX":
            raise SystemExit(f"{path} is not an examples file")
        self.dimension, train, validation = struct.unpack_from("<III", data, 4)
        offset, examples = 16, []
        d = self.dimension
        for _ in range(train + validation):
            k, n = struct.unpack_from("<II", data, offset)
            offset += 8
            query = np.frombuffer(data, "<f4", d, offset); offset += 4 * d
            nodes = np.frombuffer(data, "<f4", n * d, offset).reshape(n, d); offset += 4 * n * d
            links = []
            for _ in range(k):
                (count,) = struct.unpack_from("<I", data, offset)
                links.append(np.frombuffer(data, "<u4", count, offset + 4).astype(np.int64))
                offset += 4 + 4 * count
            scores = np.frombuffer(data, "<f4", k, offset); offset += 4 * k
            grades = np.frombuffer(data, "<f4", k, offset); offset += 4 * k
            weights = np.frombuffer(data, "<f4", k, offset); offset += 4 * k
            examples.append((query, nodes, links, scores, grades, weights))
        self.train, self.validation = examples[:train], examples[train:]


def batch_tensors(examples: list) -> tuple[torch.Tensor, ...]:
    """The reference's forward inputs for a batch: queries, shown ids, squared distances (computed as
    `learner.Learner._tensors` does), a corpus of every example's nodes, its links (-1 padded) and
    the gains (2^grade - 1) * weight."""
    corpus, neighbours, shown, base = [], [], [], 0
    for query, nodes, links, *_ in examples:
        rows = np.full((len(nodes), K_LINKS), -1, dtype=np.int64)
        for i, listed in enumerate(links):
            rows[i, :len(listed)] = listed + base
        corpus.append(nodes)
        neighbours.append(rows)
        shown.append(base + np.arange(len(links)))
        base += len(nodes)
    corpus_t = torch.from_numpy(np.concatenate(corpus).astype(np.float32))
    queries = torch.from_numpy(np.stack([e[0] for e in examples]).astype(np.float32))
    shown_t = torch.from_numpy(np.stack(shown))
    distances = ((corpus_t[shown_t] - queries.unsqueeze(1)) ** 2).sum(-1)
    gains = torch.from_numpy(np.stack([(2.0 ** e[4].astype(np.float64) - 1) * e[5] for e in examples]).astype(np.float32))
    return queries, shown_t, distances, corpus_t, torch.from_numpy(np.concatenate(neighbours)), gains


def read_npy_dir(path: str) -> dict[str, np.ndarray]:
    """Every <name>.npy under `path`, by name."""
    return {f[:-4]: np.load(os.path.join(path, f)) for f in sorted(os.listdir(path)) if f.endswith(".npy")}


def engine_to_reference(model: GNNReranker) -> dict[str, tuple[torch.Tensor, str]]:
    """Each engine parameter name -> the reference tensor it is (same layouts: Linear weights
    [out, in] row-major in both, GRU gates r, z, n in both, attention heads as contiguous column
    blocks in both); the engine's output layer is [1, hidden] with a bias the reference lacks."""
    mapping = {
        "encoder.node": model.node_encoder, "encoder.query": model.query_encoder,
        "mp0.attention.query": model.attention_q, "mp0.attention.key": model.attention_k,
        "mp0.attention.value": model.attention_v, "mp0.attention.output": model.attention_out,
    }
    if model.config.head == "mlp":
        mapping["head"] = model.mlp_head
    table = {}
    for name, layer in mapping.items():
        table[name + ".weight"] = (layer.weight, f"{name}.weight")
        table[name + ".bias"] = (layer.bias, f"{name}.bias")
    table.update({
        "mp0.gru.input.weight": (model.gru.weight_ih, "gru.weight_ih"), "mp0.gru.input.bias": (model.gru.bias_ih, "gru.bias_ih"),
        "mp0.gru.hidden.weight": (model.gru.weight_hh, "gru.weight_hh"), "mp0.gru.hidden.bias": (model.gru.bias_hh, "gru.bias_hh"),
        "mp0.norm.gamma": (model.norm.weight, "norm.weight"), "mp0.norm.beta": (model.norm.bias, "norm.bias"),
        "output.weight": (model.score_weight, "score_weight"),
    })
    return table


def reference_model(dimension: int, head: str, initial: dict[str, np.ndarray], fresh: bool = True,
                    dropout: float = 0.0) -> GNNReranker:
    """The reference with the engine's architecture (its links, no self) and the engine's weights.
    The engine's output bias must be 0 in a `fresh` model; later it is left out (it adds the same
    to every score of a list, which changes neither the softmax loss nor the order)."""
    model = GNNReranker(dimension, ModelConfig(dropout=dropout, head=head, links=K_LINKS, attend_self=False))
    table = engine_to_reference(model)
    missing = set(initial) - set(table) - {"output.bias"}
    if missing:
        raise SystemExit(f"engine parameters without a reference tensor: {sorted(missing)}")
    if fresh and np.any(initial["output.bias"] != 0):
        raise SystemExit("the engine's output bias is not 0: the reference has none")
    with torch.no_grad():
        for name, (tensor, _) in table.items():
            tensor.copy_(torch.from_numpy(initial[name]).reshape(tensor.shape))
    return model


def relative(a: np.ndarray, b: np.ndarray) -> float:
    """||a - b|| / max(||a||, ||b||) in float64 (0 when both are 0)."""
    a, b = a.astype(np.float64).ravel(), b.astype(np.float64).ravel()
    scale = max(np.linalg.norm(a), np.linalg.norm(b))
    return float(np.linalg.norm(a - b) / scale) if scale > 0 else 0.0


def inert(head: str) -> set[str]:
    """Parameters whose loss gradient is 0 analytically, so both sides move them by rounding noise
    through Adam and weight decay alone: the key bias (it adds q . b to every logit of a softmax)
    and, with the bilinear head, the layer norm's shift (it adds w . (beta * q') to every score of a
    list)."""
    return {"mp0.attention.key.bias"} | ({"mp0.norm.beta"} if head == "bilinear" else set())


def read_order(path: str) -> dict[int, list[np.ndarray]]:
    """The batch-order file, by epoch."""
    order: dict[int, list[np.ndarray]] = {}
    with open(path) as f:
        for line in f:
            fields = [int(x) for x in line.split()]
            order.setdefault(fields[0], []).append(np.array(fields[1:]))
    return order


def optimiser(model: GNNReranker) -> torch.optim.Adam:
    """The reference's optimiser (`learner.Learner.train`)."""
    return torch.optim.Adam(model.parameters(), lr=1e-3, betas=(0.9, 0.999), weight_decay=1e-4)


def gate_score(model: GNNReranker, validation: list) -> float:
    """`learner.Learner._validation_ndcgs`' mean on the file's validation lists (their weights are
    unclipped): DCG@10 of the gains in the model's order over the mean ideal DCG."""
    model.eval()
    totals, ideals = [], []
    with torch.no_grad():
        for start in range(0, len(validation), 64):
            chunk = validation[start:start + 64]
            queries, shown, distances, corpus, neighbours, gains = batch_tensors(chunk)
            scores = model(queries, shown, distances, corpus, neighbours).numpy()
            order = np.argsort(-scores, axis=1, kind="stable")
            for row, g in zip(order, gains.numpy().astype(np.float64)):
                totals.append(dcg_of_gains(g[row], 10))
                ideals.append(dcg_of_gains(np.sort(g)[::-1], 10))
    return float(np.mean(totals) / np.mean(ideals))


def command_order(arguments: argparse.Namespace) -> int:
    """Writes the reference's batch order for the file's training examples."""
    data = Examples(arguments.examples)
    rng = np.random.default_rng(arguments.seed)
    # split_by_query's one permutation of the query groups (one record per query in these runs).
    rng.permutation(len(data.train) + len(data.validation))
    batches_per_epoch = -(-len(data.train) // 32)
    with open(arguments.out, "w") as out:
        for epoch in range(1, arguments.epochs + 1):
            for rows in np.array_split(rng.permutation(len(data.train)), batches_per_epoch):
                out.write(f"{epoch} " + " ".join(map(str, rows.tolist())) + "\n")
    print(f"{arguments.epochs} epochs of {batches_per_epoch} batches to {arguments.out}")
    return 0


def reference_step(model: GNNReranker, opt: torch.optim.Adam, examples: list, rate: float,
                   clip: float = 0.0) -> float:
    """One training step of `learner.Learner.train` on `examples` at `rate`; returns the loss."""
    for group in opt.param_groups:
        group["lr"] = rate
    queries, shown, distances, corpus, neighbours, gains = batch_tensors(examples)
    model.train()
    loss = listwise_loss(model(queries, shown, distances, corpus, neighbours), gains, 1.0)
    opt.zero_grad()
    loss.backward()
    if clip > 0:
        torch.nn.utils.clip_grad_norm_(model.parameters(), clip)
    opt.step()
    return float(loss.detach())


def command_step(arguments: argparse.Namespace) -> int:
    """Step N (the one learn-bench --dump-step wrote), compared tensor by tensor with the engine's:
    the gradient both take from the engine's weights before the step (a pure one-step check), and
    the weights after it when the reference ran steps 1..N itself from the same initial weights."""
    data = Examples(arguments.examples)
    batches = [b for epoch in sorted(read_order(arguments.order)) for b in read_order(arguments.order)[epoch]]
    dump = {d: read_npy_dir(os.path.join(arguments.dump, d)) for d in ("init", "before", "grad", "after")}
    engine_step = dict(line.split() for line in open(os.path.join(arguments.dump, "step.txt")))
    n = int(engine_step["step"])
    batch = [data.train[i] for i in batches[n - 1]]

    # The gradient at the engine's own weights before step n.
    probe = reference_model(data.dimension, arguments.head, dump["before"], fresh=n == 1)
    table = engine_to_reference(probe)
    queries, shown, distances, corpus, neighbours, gains = batch_tensors(batch)
    file_scores = np.stack([e[3] for e in batch])
    recomputed = (-(distances - distances.mean(-1, keepdim=True)) / distances.std(-1, keepdim=True)).numpy()
    print(f"step {n}, batch of {len(batch)}; HNSW scores recomputed as the reference does vs the file's: "
          f"max |difference| {float(np.abs(file_scores - recomputed).max()):.2e}")
    probe.train()
    loss = listwise_loss(probe(queries, shown, distances, corpus, neighbours), gains, 1.0)
    loss.backward()
    loss = loss.detach()
    grads = {name: tensor.grad.detach().numpy().reshape(dump["grad"][name].shape).copy() for name, (tensor, _) in table.items()}

    # The reference's own run of steps 1..n from the engine's initial weights.
    model = reference_model(data.dimension, arguments.head, dump["init"])
    run = engine_to_reference(model)
    opt = optimiser(model)
    total_steps = len(batches)
    for step in range(n - 1):
        reference_step(model, opt, [data.train[i] for i in batches[step]],
                       learning_rate_at(step, total_steps, 1e-3, arguments.warmup), arguments.clip)
    before = {name: tensor.detach().numpy().reshape(dump["before"][name].shape).copy() for name, (tensor, _) in run.items()}
    rate = learning_rate_at(n - 1, total_steps, 1e-3, arguments.warmup)
    run_loss = reference_step(model, opt, batch, rate, arguments.clip)
    print(f"loss at the engine's weights: reference {float(loss):.7f} engine {float(engine_step['loss']):.7f} "
          f"relative {abs(float(loss) - float(engine_step['loss'])) / abs(float(loss)):.2e} "
          f"(the reference's own run: {run_loss:.7f}); rate: reference {rate:.6e} engine {float(engine_step['learning_rate']):.6e}")
    print(f"{'engine parameter':28} {'|grad|':>10} {'grad rel':>10} {'before rel':>10} {'update rel':>10} {'after rel':>10}")
    worst = 0.0
    for name, (tensor, reference_name) in run.items():
        after = tensor.detach().numpy().reshape(dump["after"][name].shape)
        rg = relative(dump["grad"][name], grads[name])
        rb = relative(dump["before"][name], before[name])
        ru = relative(dump["after"][name] - dump["before"][name], after - before[name])
        ra = relative(dump["after"][name], after)
        if name not in inert(arguments.head):
            worst = max(worst, rg)
        flag = "  (inert)" if name in inert(arguments.head) else "  <--" if rg > 1e-4 else ""
        print(f"{name:28} {np.linalg.norm(grads[name]):10.3e} {rg:10.2e} {rb:10.2e} {ru:10.2e} {ra:10.2e}{flag}")
    print(f"output.bias (engine only): gradient {dump['grad']['output.bias'].ravel()[0]:.3e}, "
          f"value {float(dump['after']['output.bias'].ravel()[0]):.3e} (shifts every score alike: no effect on loss or order)")
    print(f"worst gradient relative difference {worst:.2e} (inert parameters left out)")
    return 0


def command_train(arguments: argparse.Namespace) -> int:
    """Trains the reference through the whole order from the engine's initial weights."""
    torch.manual_seed(arguments.seed)
    data = Examples(arguments.examples)
    order = read_order(arguments.order)
    initial = read_npy_dir(os.path.join(arguments.dump, "init"))
    model = reference_model(data.dimension, arguments.head, initial, dropout=arguments.dropout)
    table = engine_to_reference(model)
    opt = optimiser(model)
    total_steps = sum(len(b) for b in order.values())
    print(f"HNSW order's gate score {gate_score(GNNReranker(data.dimension, ModelConfig(links=K_LINKS, attend_self=False)), data.validation):.4f}"
          f" (the learned term of a fresh reference is 0)")
    step = 0
    for epoch in sorted(order)[:arguments.epochs]:
        losses = []
        for rows in order[epoch]:
            rate = learning_rate_at(step, total_steps, 1e-3, arguments.warmup)
            losses.append(reference_step(model, opt, [data.train[i] for i in rows], rate, arguments.clip))
            step += 1
        line = f"epoch {epoch} loss {np.mean(losses):.4f} gate {gate_score(model, data.validation):.4f}"
        engine_dir = os.path.join(arguments.dump, f"epoch{epoch}")
        if os.path.isdir(engine_dir) and arguments.dropout == 0:
            engine = read_npy_dir(engine_dir)
            differences = {name: relative(engine[name], tensor.detach().numpy().reshape(engine[name].shape))
                           for name, (tensor, _) in table.items() if name not in inert(arguments.head)}
            name = max(differences, key=differences.get)
            line += f"; parameters vs the engine's: worst relative {differences[name]:.2e} ({name})"
        print(line, flush=True)
    return 0


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    order = commands.add_parser("order", help="write the reference's batch order")
    order.add_argument("examples")
    order.add_argument("out")
    order.add_argument("--seed", type=int, default=1)
    order.add_argument("--epochs", type=int, default=12)
    for name in ("step", "train"):
        command = commands.add_parser(name)
        command.add_argument("examples")
        command.add_argument("dump", help="the directory learn-bench --dump wrote")
        command.add_argument("--order", required=True)
        command.add_argument("--head", choices=("bilinear", "mlp"), default="bilinear")
        command.add_argument("--warmup", type=int, default=100)
        command.add_argument("--clip", type=float, default=0.0, help="gradient clipping norm (0: none, as the reference)")
        command.add_argument("--epochs", type=int, default=12, help="train: most epochs")
        command.add_argument("--seed", type=int, default=1, help="train: PyTorch's seed (its dropout masks)")
        command.add_argument("--dropout", type=float, default=0.0, help="train: the reference's dropout rate")
    arguments = parser.parse_args(argv)
    torch.set_num_threads(1)
    return {"order": command_order, "step": command_step, "train": command_train}[arguments.command](arguments)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

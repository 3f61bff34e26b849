"""FastGRNN (route-bench, our engine) beside a PyTorch GRU of the same hidden size on scikit-learn's
bundled load_digits, read as 8 time steps of 8 pixels (row by row), same split, same run.

Run (from the repository root, after `swift build -c release --product route-bench`):
    .venv-routebench/bin/python Benchmarks/RouteBench/digits_peer.py [--hidden 32] [--seeds 1 2 3]
Prints a markdown table (accuracy, model bytes) per seed and their means, then the routing-decision
latency table from `route-bench latency`. Set-up and results: docs/benchmarks/route.md.
"""
import argparse
import json
import pathlib
import subprocess
import tempfile
import time

import numpy as np
import torch
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split


def split(seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Pixels scaled to [0, 1] as (n, 8 steps, 8 pixels); a stratified 75/25 split."""
    digits = load_digits()
    x = (digits.data / 16.0).astype(np.float32).reshape(-1, 8, 8)
    return train_test_split(x, digits.target, test_size=0.25, random_state=seed, stratify=digits.target)


def write_csv(path: pathlib.Path, x: np.ndarray, y: np.ndarray) -> None:
    """One row per image: label, then its 64 pixels step by step."""
    with path.open("w") as f:
        for label, image in zip(y, x.reshape(len(x), -1)):
            f.write(str(int(label)) + "," + ",".join(repr(float(v)) for v in image) + "\n")


class GRUClassifier(torch.nn.Module):
    """torch.nn.GRU over the 8 steps, a linear layer on the last state."""

    def __init__(self, hidden: int) -> None:
        super().__init__()
        self.gru = torch.nn.GRU(8, hidden, batch_first=True)
        self.out = torch.nn.Linear(hidden, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Logits for x of shape (batch, 8, 8)."""
        _, h = self.gru(x)
        return self.out(h[-1])


def train_gru(data: tuple, hidden: int, epochs: int, lr: float, batch: int, seed: int) -> dict:
    """Adam on cross-entropy, the same epochs, batch and rate as FastGRNN's stage 1."""
    torch.manual_seed(seed)
    x_train, x_test, y_train, y_test = (torch.tensor(a) for a in data)
    model = GRUClassifier(hidden)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    generator = torch.Generator().manual_seed(seed)
    start = time.perf_counter()
    for _ in range(epochs):
        order = torch.randperm(len(x_train), generator=generator)
        for i in range(0, len(order), batch):
            idx = order[i:i + batch]
            optimizer.zero_grad()
            loss = torch.nn.functional.cross_entropy(model(x_train[idx]), y_train[idx].long())
            loss.backward()
            optimizer.step()
    seconds = time.perf_counter() - start
    with torch.no_grad():
        accuracy = float((model(x_test).argmax(1) == y_test).float().mean())
    weights = sum(p.numel() for p in model.parameters())
    return {"accuracy": accuracy, "bytes": 4 * weights, "examples_per_second": len(x_train) * epochs / seconds}


def run_ours(bench: str, directory: pathlib.Path, args: argparse.Namespace, seed: int) -> dict:
    """route-bench digits on the exported split."""
    command = [bench, "digits", "--train", str(directory / "train.csv"), "--test", str(directory / "test.csv"),
               "--hidden", str(args.hidden), "--epochs", str(args.epochs), "--lr", str(args.lr),
               "--batch", str(args.batch), "--threshold-epochs", str(args.threshold_epochs),
               "--retrain-epochs", str(args.retrain_epochs), "--keep", str(args.keep), "--seed", str(seed)]
    if args.w_rank:
        command += ["--w-rank", str(args.w_rank)]
    if args.u_rank:
        command += ["--u-rank", str(args.u_rank)]
    return json.loads(subprocess.run(command, check=True, capture_output=True, text=True, timeout=1800).stdout)


def main() -> None:
    """Parses flags, runs both per seed, prints the tables."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--bench", default=".build/release/route-bench")
    parser.add_argument("--hidden", type=int, default=32)
    parser.add_argument("--w-rank", type=int, default=0, help="0 = full rank")
    parser.add_argument("--u-rank", type=int, default=0, help="0 = full rank")
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--threshold-epochs", type=int, default=10)
    parser.add_argument("--retrain-epochs", type=int, default=10)
    parser.add_argument("--keep", type=float, default=0.5)
    parser.add_argument("--lr", type=float, default=0.01)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    parser.add_argument("--skip-latency", action="store_true")
    args = parser.parse_args()
    torch.set_num_threads(1)

    print(f"load_digits, 8 steps x 8 pixels, stratified 75/25 split; hidden {args.hidden}, "
          f"W rank {args.w_rank or 'full'}, U rank {args.u_rank or 'full'}; {args.epochs} epochs, batch {args.batch}, "
          f"Adam lr {args.lr}; sparsity: +{args.threshold_epochs} thresholding, +{args.retrain_epochs} retraining, "
          f"keep {args.keep}\n")
    print("| seed | FastGRNN f32 | bytes | FastGRNN int8 | bytes | sparse+int8 | bytes | GRU (PyTorch) | bytes | "
          "FastGRNN - GRU (points) | train ex/s ours | GRU |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    rows = []
    for seed in args.seeds:
        data = split(seed)
        with tempfile.TemporaryDirectory() as d:
            directory = pathlib.Path(d)
            write_csv(directory / "train.csv", data[0], data[2])
            write_csv(directory / "test.csv", data[1], data[3])
            ours = run_ours(args.bench, directory, args, seed)
        gru = train_gru(data, args.hidden, args.epochs, args.lr, args.batch, seed)
        rows.append((ours, gru))
        print(f"| {seed} | {ours['f32_accuracy']:.4f} | {ours['f32_bytes']} | {ours['int8_dense_accuracy']:.4f} | "
              f"{ours['int8_dense_bytes']} | {ours['sparse_int8_accuracy']:.4f} | {ours['sparse_int8_bytes']} | "
              f"{gru['accuracy']:.4f} | {gru['bytes']} | {100 * (ours['f32_accuracy'] - gru['accuracy']):+.2f} | "
              f"{ours['train_examples_per_second']:.0f} | {gru['examples_per_second']:.0f} |")
    mean = lambda values: sum(values) / len(values)  # noqa: E731
    print(f"| mean | {mean([o['f32_accuracy'] for o, _ in rows]):.4f} | | "
          f"{mean([o['int8_dense_accuracy'] for o, _ in rows]):.4f} | | "
          f"{mean([o['sparse_int8_accuracy'] for o, _ in rows]):.4f} | | {mean([g['accuracy'] for _, g in rows]):.4f} | | "
          f"{100 * mean([o['f32_accuracy'] - g['accuracy'] for o, g in rows]):+.2f} | | |")
    print(f"\nsparse f32 accuracy before int8 (mean): {mean([o['sparse_f32_accuracy'] for o, _ in rows]):.4f}; "
          f"non-zero weights {rows[0][0]['nonzero_weights']} of {rows[0][0]['weights']}")
    if not args.skip_latency:
        result = json.loads(subprocess.run([args.bench, "latency"], check=True, capture_output=True, text=True,
                                           timeout=1800).stdout)
        print(f"\nRouter.route (8 steps x 8 features, 4 candidates, conformal set, breakers), "
              f"{result['iterations']} calls each:\n")
        print("| hidden | W rank | U rank | weights | p50 (us) | p99 (us) |")
        print("|---|---|---|---|---|---|")
        for r in result["rows"]:
            print(f"| {r['hidden']} | {r['w_rank'] or 'full'} | {r['u_rank'] or 'full'} | {r['precision']} | "
                  f"{r['p50_micros']:.2f} | {r['p99_micros']:.2f} |")


if __name__ == "__main__":
    main()

"""LearnBench: does learning from feedback lift held-out ranking over plain HNSW order?

Reference mode (default) runs the PyTorch reference re-ranker on every data set and prints one
table: data set, baseline (HNSW order), reference model, ceiling, lift with its paired bootstrap 95%
interval; then the no-harm rows (pure-noise clicks) and the forgetting rows (EWC on and off).

    .venv-learnbench/bin/python Benchmarks/LearnBench/lift.py
    .venv-learnbench/bin/python Benchmarks/LearnBench/lift.py --only hidden-32 --epochs 5

Server mode (`--server HOST:PORT`) drives a real ruvector-server through the Python client with the
same data and clicks (see server_mode.py).
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import replace


import datasets
from clicks import ClickModel
from reference import ModelConfig, TrainConfig

EXPERIMENTS = ("hidden-384", "hidden-32", "digits", "noise-384", "noise-digits", "forgetting")


def parse_arguments(argv: list[str]) -> argparse.Namespace:
    """Command line: which experiments, sizes, seeds and threads."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--server", metavar="HOST:PORT", help="drive a ruvector-server instead")
    parser.add_argument("--only", default=",".join(EXPERIMENTS),
                        help=f"comma-separated experiments (default all: {','.join(EXPERIMENTS)})")
    parser.add_argument("--depth", type=int, default=100, help="HNSW candidates the model re-ranks")
    parser.add_argument("--epochs", type=int, default=TrainConfig.epochs, help="maximum epochs per run")
    parser.add_argument("--hidden", type=int, default=ModelConfig.hidden, help="hidden size")
    parser.add_argument("--head", choices=("bilinear", "mlp"), default=ModelConfig.head,
                        help="reference mode: the learned term's form (see reference.ModelConfig)")
    parser.add_argument("--links", type=int, default=0, help="reference mode: most layer-0 links per candidate (0: all)")
    parser.add_argument("--no-attend-self", action="store_true",
                        help="reference mode: candidates attend to their links only, not to themselves")
    parser.add_argument("--ewc-lambda", type=float, nargs="+", default=[0.4, 10.0, 100.0],
                        help="EWC strengths of the forgetting runs (beside 0 = off)")
    parser.add_argument("--forgetting-hidden", type=int, default=64,
                        help="hidden size of the forgetting runs (four trainings: kept cheaper)")
    parser.add_argument("--seed", type=int, default=1, help="seed of clicks, initialisation and batches")
    parser.add_argument("--init-seed", type=int, help="reference mode: seed of the initial weights only (default --seed)")
    parser.add_argument("--threads", type=int, default=1,
                        help="PyTorch CPU threads (results are bit-identical for a seed and a thread count)")
    parser.add_argument("--click-eta", type=float, default=1.0,
                        help="server mode: examination (1/rank)^eta of the simulated clicks (0: every result examined)")
    parser.add_argument("--irrelevant-click", type=float, default=0.1,
                        help="server mode: click probability of an examined irrelevant result (0: no noise clicks)")
    parser.add_argument("--configure", metavar="KEY=VALUE", action="append", default=[],
                        help="server mode: a model setting passed to db.learn.configure (repeatable)")
    parser.add_argument("--json", metavar="PATH", help="also write every number as JSON")
    parser.add_argument("--verbose", action="store_true", help="print each epoch")
    return parser.parse_args(argv)


def main(argv: list[str]) -> int:
    """Runs the chosen mode and prints its table."""
    arguments = parse_arguments(argv)
    chosen = [name.strip() for name in arguments.only.split(",") if name.strip()]
    unknown = sorted(set(chosen) - set(EXPERIMENTS))
    if unknown:
        print(f"unknown experiments {unknown}; choose from {', '.join(EXPERIMENTS)}", file=sys.stderr)
        return 2
    if arguments.server:
        import server_mode  # the client, not PyTorch

        return server_mode.run(arguments.server, chosen, arguments)
    return run_reference(chosen, arguments)


def run_reference(chosen: list[str], arguments: argparse.Namespace) -> int:
    """The reference peer: every chosen experiment, one table."""
    import torch

    import experiments
    import report

    torch.set_num_threads(arguments.threads)
    torch.use_deterministic_algorithms(True)
    setup = experiments.Setup(depth=arguments.depth, clicks=ClickModel(),
                              model=ModelConfig(hidden=arguments.hidden, head=arguments.head, links=arguments.links,
                                                attend_self=not arguments.no_attend_self),
                              train=TrainConfig(epochs=arguments.epochs, seed=arguments.seed), seed=arguments.seed,
                              init_seed=arguments.init_seed)
    progress = (lambda epoch: print(f"  epoch {epoch.epoch:3d} step {epoch.step:5d} loss {epoch.loss:.4f} "
                                    f"lr {epoch.learning_rate:.2e} validation nDCG@10 {epoch.validation_ndcg:.4f}",
                                    file=sys.stderr, flush=True)) if arguments.verbose else None
    benches: dict[str, experiments.Bench] = {}

    def bench(name: str) -> experiments.Bench:
        if name not in benches:
            benches[name] = experiments.Bench(datasets.by_name(name), arguments.depth, arguments.seed)
        return benches[name]

    started = time.perf_counter()
    lifts, noises, forgetting = [], [], []
    for name in chosen:
        print(f"{name} ...", file=sys.stderr, flush=True)
        if name in ("hidden-384", "hidden-32", "digits"):
            lifts.append(experiments.lift(bench(name), setup, progress))
        elif name.startswith("noise-"):
            noises.append(experiments.noise(bench({"noise-384": "hidden-384", "noise-digits": "digits"}[name]),
                                            setup, progress))
        else:
            task_a, task_b = datasets.forgetting_tasks()
            bench_a = experiments.Bench(task_a, arguments.depth, arguments.seed)
            bench_b = experiments.Bench(task_b, arguments.depth, arguments.seed)
            smaller = replace(setup, model=replace(setup.model, hidden=arguments.forgetting_hidden))
            forgetting += experiments.forgetting(bench_a, bench_b, smaller, [0.0, *arguments.ewc_lambda], progress)
    elapsed = time.perf_counter() - started
    print(report.table(lifts, noises, forgetting, setup, arguments, elapsed))
    if arguments.json:
        with open(arguments.json, "w") as out:
            json.dump(report.as_json(lifts, noises, forgetting, setup, elapsed), out, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

"""The printed table (Markdown, so it pastes into docs/benchmarks/learn.md) and the JSON dump."""
from __future__ import annotations

import os
import platform
from dataclasses import asdict

from evaluation import HoldoutScores
from experiments import ForgettingResult, LiftResult, Setup


def table(lifts: list[LiftResult], noises: list[LiftResult], forgetting: list[ForgettingResult], setup: Setup,
          arguments, elapsed_seconds: float) -> str:
    """Lift rows, no-harm rows and forgetting rows, with the settings that made them."""
    lines = [f"LearnBench reference peer (PyTorch), depth {setup.depth}, hidden {setup.model.hidden}, "
             f"heads {setup.model.heads}, dropout {setup.model.dropout}, at most {setup.train.epochs} epochs, "
             f"seed {setup.seed}, {arguments.threads} threads, {platform.processor() or platform.machine()} "
             f"x{os.cpu_count()}, {elapsed_seconds:.0f} s in all", ""]
    if lifts:
        lines += ["| data set | feedback records | HNSW nDCG@10 | model nDCG@10 | ceiling | lift [95% CI] | "
                  "recall@10 HNSW -> model | MRR HNSW -> model | activated | had it been activated anyway | "
                  "examples/s |", "|---|---|---|---|---|---|---|---|---|---|---|"]
        lines += [_lift_row(result.data.name, result, result.holdout) for result in lifts]
        lines.append("")
    if noises:
        lines += ["No harm: clicks independent of relevance (pure noise, same position bias)",
                  "| data set | feedback records | HNSW nDCG@10 | served nDCG@10 | change [95% CI] | activated | "
                  "had it been activated anyway |", "|---|---|---|---|---|---|---|"]
        lines += [f"| {r.data.name} (noise) | {r.feedback_records} | {_mean(r.holdout.baseline.ndcg):.4f} | "
                  f"{_mean(r.holdout.model.ndcg):.4f} | {r.holdout.lift} | {_verdict(r)} | {r.ungated.lift} |"
                  for r in noises]
        lines.append("")
    if forgetting:
        lines += [f"Forgetting: train on task A, then on task B alone (hidden {arguments.forgetting_hidden}); hold-out "
                  "nDCG@10 of each run's trained weights, activated or not",
                  "| EWC lambda | A: HNSW | A after A | A after B | A drop | B: HNSW | B under A's model | B after B "
                  "| activated A, B |", "|---|---|---|---|---|---|---|---|---|"]
        lines += [f"| {f.ewc_lambda:g} | {f.a_baseline:.4f} | {f.a_after_a:.4f} | {f.a_after_b:.4f} | "
                  f"{f.a_after_a - f.a_after_b:+.4f} | {f.b_baseline:.4f} | {f.b_under_a:.4f} | {f.b_after_b:.4f} | "
                  f"{_yes(f.a_activated)}, {_yes(f.b_activated)} |" for f in forgetting]
    return "\n".join(lines)


def _lift_row(name: str, result: LiftResult, scores: HoldoutScores) -> str:
    base, model = scores.baseline.means(), scores.model.means()
    return (f"| {name} | {result.feedback_records} | {base['ndcg@10']:.4f} | {model['ndcg@10']:.4f} | "
            f"{scores.ceiling.means()['ndcg@10']:.4f} | {scores.lift} | {base['recall@10']:.3f} -> "
            f"{model['recall@10']:.3f} | {base['mrr']:.3f} -> {model['mrr']:.3f} | {_verdict(result)} | "
            f"{result.ungated.lift} | {result.training.examples_per_second:.0f} |")


def _verdict(result: LiftResult) -> str:
    training = result.training
    return (f"{_yes(training.activated)} (epoch {training.best_epoch}, validation "
            f"{training.baseline_validation_ndcg:.3f} -> {training.model_validation_ndcg:.3f})")


def _yes(flag: bool) -> str:
    return "yes" if flag else "no"


def _mean(values) -> float:
    return float(values.mean())


def as_json(lifts: list[LiftResult], noises: list[LiftResult], forgetting: list[ForgettingResult], setup: Setup,
            elapsed_seconds: float) -> dict:
    """Every number of the table, for scripts."""
    def run(result: LiftResult) -> dict:
        return {"data_set": result.data.name, "description": result.data.description,
                "feedback_records": result.feedback_records,
                "training": {k: v for k, v in asdict(result.training).items() if k != "validation_lift"}
                | {"validation_lift": str(result.training.validation_lift)},
                "holdout": _scores(result.holdout), "ungated": _scores(result.ungated)}
    return {"setup": {"depth": setup.depth, "model": asdict(setup.model), "train": asdict(setup.train),
                      "clicks": asdict(setup.clicks), "seed": setup.seed},
            "lift": [run(r) for r in lifts], "noise": [run(r) for r in noises],
            "forgetting": [asdict(f) for f in forgetting], "elapsed_seconds": elapsed_seconds}


def _scores(scores: HoldoutScores) -> dict:
    return {"baseline": scores.baseline.means(), "model": scores.model.means(), "ceiling": scores.ceiling.means(),
            "ndcg_lift": {"mean": scores.lift.mean, "low": scores.lift.low, "high": scores.lift.high}}

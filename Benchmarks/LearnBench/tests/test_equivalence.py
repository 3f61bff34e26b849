"""Self-checks of equivalence.py: every reference parameter receives one engine tensor, and the
examples file is read as export_examples.py lays it out.

    .venv-learnbench/bin/python -m pytest -q Benchmarks/LearnBench/tests
"""
from __future__ import annotations

import pathlib
import struct
import sys

import numpy as np
import pytest

torch = pytest.importorskip("torch")
sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))

import equivalence  # noqa: E402
import reference  # noqa: E402


@pytest.mark.parametrize("head", ["bilinear", "mlp"])
def test_every_reference_parameter_has_one_engine_tensor(head):
    model = reference.GNNReranker(8, reference.ModelConfig(hidden=8, heads=2, head=head))
    mapped = [tensor for tensor, _ in equivalence.engine_to_reference(model).values()]
    assert len({id(t) for t in mapped}) == len(mapped)
    assert {id(p) for p in model.parameters()} == {id(t) for t in mapped}


def test_examples_file_and_batch_tensors(tmp_path):
    d, rng = 3, np.random.default_rng(0)
    examples = []
    for k, extra in ((2, 1), (2, 0)):
        query = rng.normal(size=d).astype("<f4")
        nodes = rng.normal(size=(k + extra, d)).astype("<f4")
        links = [[1, 2][:1 + extra], [0]]
        grades = np.array([1, 0], dtype="<f4")
        weights = np.array([1, 2], dtype="<f4")
        scores = np.array([0.7, -0.7], dtype="<f4")
        examples.append((query, nodes, links, scores, grades, weights))
    path = tmp_path / "two.examples"
    with open(path, "wb") as out:
        out.write(b"RVLX" + struct.pack("<III", d, 1, 1))
        for query, nodes, links, scores, grades, weights in examples:
            out.write(struct.pack("<II", len(links), len(nodes)) + query.tobytes() + nodes.tobytes())
            for listed in links:
                out.write(struct.pack(f"<I{len(listed)}I", len(listed), *listed))
            out.write(scores.tobytes() + grades.tobytes() + weights.tobytes())
    data = equivalence.Examples(str(path))
    assert data.dimension == d and len(data.train) == 1 and len(data.validation) == 1
    np.testing.assert_array_equal(data.validation[0][1], examples[1][1])
    queries, shown, distances, corpus, neighbours, gains = equivalence.batch_tensors(data.train + data.validation)
    # The second example's nodes follow the first's three in the batch corpus, its links shifted by 3.
    assert shown.tolist() == [[0, 1], [3, 4]]
    assert neighbours[0, :2].tolist() == [1, 2] and neighbours[3, :2].tolist() == [4, -1] and neighbours[4, 0] == 3
    assert torch.all(neighbours[2] == -1)
    assert gains.tolist() == [[1.0, 0.0], [1.0, 0.0]]
    expected = ((torch.from_numpy(examples[1][1][:2]) - torch.from_numpy(examples[1][0])) ** 2).sum(-1)
    torch.testing.assert_close(distances[1], expected)

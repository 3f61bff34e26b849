"""Golden values for FastGRNNGoldenTests.swift: an independent numpy (float64) FastGRNN.

The cell is written from the paper (Kusupati et al. 2018, eq. 3-4), not from the Swift code:
    z = sigmoid(W x + U h + b_z), c = tanh(W x + U h + b_h), h' = (zeta (1 - z) + nu) c + z h,
    zeta = sigmoid(zeta'), nu = sigmoid(nu'), W = W1 W2, U = U1 U2, logits = V h_T + b_V,
and the loss is (1 - lam) CE + lam tau^2 KL(softmax(t / tau) || softmax(s / tau)), averaged over rows.
Gradients are central differences of this forward (so they check the Swift BPTT independently).
Parameters, features, labels and teacher logits follow closed formulas the Swift test repeats.

Run: python fastgrnn_golden.py > golden.txt  (numpy only); the Swift test holds the printed values.
"""
import numpy as np

INPUTS, HIDDEN, CLASSES, STEPS, W_RANK, U_RANK, ROWS = 3, 4, 3, 5, 2, 3, 2
TAU, LAM = 3.0, 0.5
SHAPES = [("W1", (HIDDEN, W_RANK)), ("W2", (W_RANK, INPUTS)), ("U1", (HIDDEN, U_RANK)), ("U2", (U_RANK, HIDDEN)),
          ("b_z", (HIDDEN,)), ("b_h", (HIDDEN,)), ("zeta", (1,)), ("nu", (1,)), ("V", (CLASSES, HIDDEN)),
          ("b_V", (CLASSES,))]


def parameter(k: int, shape: tuple) -> np.ndarray:
    """Parameter k's values: 0.6 sin(1.3 k + 0.7 i + 0.1) for flat index i."""
    n = int(np.prod(shape))
    return (0.6 * np.sin(1.3 * k + 0.7 * np.arange(n) + 0.1)).reshape(shape)


def sigmoid(x: np.ndarray) -> np.ndarray:
    """The logistic function."""
    return 1.0 / (1.0 + np.exp(-x))


def softmax(s: np.ndarray) -> np.ndarray:
    """Row-wise softmax."""
    e = np.exp(s - s.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def forward(p: dict, x: np.ndarray) -> np.ndarray:
    """Logits [rows, classes] of sequences x [rows, steps, inputs]."""
    W, U = p["W1"] @ p["W2"], p["U1"] @ p["U2"]
    zeta, nu = sigmoid(p["zeta"][0]), sigmoid(p["nu"][0])
    h = np.zeros((x.shape[0], HIDDEN))
    for t in range(x.shape[1]):
        pre = x[:, t, :] @ W.T + h @ U.T
        z = sigmoid(pre + p["b_z"])
        c = np.tanh(pre + p["b_h"])
        h = (zeta * (1 - z) + nu) * c + z * h
    return h @ p["V"].T + p["b_V"]


def loss(p: dict, x: np.ndarray, labels: np.ndarray, teacher: np.ndarray) -> float:
    """Mean distillation loss over rows."""
    s = forward(p, x)
    ce = -np.log(softmax(s)[np.arange(len(labels)), labels])
    q, pt = softmax(teacher / TAU), softmax(s / TAU)
    kl = (q * (np.log(q) - np.log(pt))).sum(axis=1)
    return float(((1 - LAM) * ce + LAM * TAU * TAU * kl).mean())


def main() -> None:
    """Prints the logits, the loss and every parameter's gradient."""
    p = {name: parameter(k, shape) for k, (name, shape) in enumerate(SHAPES)}
    x = (np.sin(0.37 * np.arange(ROWS * STEPS * INPUTS) + 0.2) * 1.5).reshape(ROWS, STEPS, INPUTS)
    labels = np.array([1, 2])
    teacher = (2.0 * np.cos(0.9 * np.arange(ROWS * CLASSES))).reshape(ROWS, CLASSES)
    np.set_printoptions(precision=17)
    print("logits:", [repr(float(v)) for v in forward(p, x).ravel()])
    print("loss:", repr(loss(p, x, labels, teacher)))
    step = 1e-6
    for name, _ in SHAPES:
        grad = np.zeros(p[name].size)
        flat = p[name].reshape(-1)
        for i in range(flat.size):
            saved = flat[i]
            flat[i] = saved + step
            up = loss(p, x, labels, teacher)
            flat[i] = saved - step
            down = loss(p, x, labels, teacher)
            flat[i] = saved
            grad[i] = (up - down) / (2 * step)
        print(f"{name}:", [repr(float(v)) for v in grad])


if __name__ == "__main__":
    main()

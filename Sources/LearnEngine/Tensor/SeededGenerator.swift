// SeededGenerator lives in its own module, shared with VectorEngine and ClusterEngine; every
// random choice here (initial weights, dropout masks, shuffles, reservoir slots) draws from one,
// and the layers' initialisers take it.
@_exported import SeededRandom

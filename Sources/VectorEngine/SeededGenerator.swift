// SeededGenerator lives in its own module, shared with LearnEngine and ClusterEngine; every
// random choice here (HNSW levels, k-means) draws from one.
@_exported import SeededRandom

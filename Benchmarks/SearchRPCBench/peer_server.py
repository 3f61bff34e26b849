"""The benchmark peer: hnswlib served over Python grpcio, answering ruvector.v1.VectorService/Search
(the server a user could build in an afternoon). Loads base vectors from a float32 file, builds the
index with the same M / ef_construction, then prints 'listening on PORT'.
Usage: peer_server.py BASE.f32 DIM M EFC EF (stubs from the installed Python client, clients/python)"""
import sys
import time
from concurrent import futures

import grpc
import hnswlib
import numpy as np

from ruvector.v1 import common_pb2, vector_pb2, vector_pb2_grpc

base_path, dim, m, efc, ef = sys.argv[1], *map(int, sys.argv[2:6])

base = np.fromfile(base_path, dtype=np.float32).reshape(-1, dim)
index = hnswlib.Index(space="l2", dim=dim)
index.init_index(max_elements=len(base), M=m, ef_construction=efc, random_seed=1)
started = time.perf_counter()
index.add_items(base, np.arange(len(base)), num_threads=1)
build_seconds = time.perf_counter() - started
index.set_ef(ef)
index.set_num_threads(1)


class Peer(vector_pb2_grpc.VectorServiceServicer):
    def Search(self, request, context):
        started = time.perf_counter()
        query = np.asarray(request.vector.values, dtype=np.float32)
        if query.shape != (dim,):
            context.abort(grpc.StatusCode.INVALID_ARGUMENT, f"expected dimension {dim}")
        labels, distances = index.knn_query(query, k=request.k)
        micros = int((time.perf_counter() - started) * 1e6)
        hits = [vector_pb2.ScoredPoint(id=common_pb2.PointId(num=int(label)), score=-float(distance))
                for label, distance in zip(labels[0], distances[0])]
        return vector_pb2.SearchResponse(hits=hits, tag=request.tag, time_micros=micros)


server = grpc.server(futures.ThreadPoolExecutor(max_workers=8))
vector_pb2_grpc.add_VectorServiceServicer_to_server(Peer(), server)
port = server.add_insecure_port("127.0.0.1:0")
server.start()
print(f"listening on {port} build_seconds {build_seconds:.2f}", flush=True)
server.wait_for_termination()

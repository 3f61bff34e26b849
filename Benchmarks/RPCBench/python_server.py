"""The Python peer for the unary RPC benchmark: grpc.testing.TestService/UnaryCall on grpcio."""
import concurrent.futures
import os
import sys

import grpc

# The generated grpc.testing stubs (made by bench_unary.py) join grpcio's package path.
grpc.__path__.append(os.path.join(os.environ["RUVECTOR_TESTING_STUBS"], "grpc"))
from grpc.testing import empty_pb2, messages_pb2, test_pb2_grpc  # noqa: E402


class TestService(test_pb2_grpc.TestServiceServicer):
    def UnaryCall(self, request, context):
        return messages_pb2.SimpleResponse(payload=messages_pb2.Payload(body=b"\x00" * request.response_size))

    def EmptyCall(self, request, context):
        return empty_pb2.Empty()


def main():
    server = grpc.server(concurrent.futures.ThreadPoolExecutor(max_workers=16))
    test_pb2_grpc.add_TestServiceServicer_to_server(TestService(), server)
    port = server.add_insecure_port(sys.argv[1] if len(sys.argv) > 1 else "127.0.0.1:0")
    server.start()
    print(f"listening on 127.0.0.1:{port}", flush=True)
    server.wait_for_termination()


if __name__ == "__main__":
    main()

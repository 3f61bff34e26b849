"""The grpcio reference TestService (../grpcio_interop_server.py) with the interop spec's
CompressedResponse feature: `response_compressed` on UnaryCall and each response parameter's
`compressed` on StreamingOutputCall choose whether that response message is gzip-compressed.

The reference server alone ignores those fields (every response goes out uncompressed), so it
cannot check a client's server_compressed_* cases; this one can. Same command line and output
as the reference server: compressing_interop_server.py [--tls CERT KEY].
"""
import pathlib
import sys

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent.parent))

import grpc  # noqa: E402

import grpcio_interop_server  # noqa: E402  (also generates and registers the grpc.testing stubs)


class CompressingTestService(grpcio_interop_server.TestService):
    """TestService whose responses are compressed when the request asks for it."""

    def UnaryCall(self, request, context):
        if request.response_compressed.value:
            context.set_compression(grpc.Compression.Gzip)
        return super().UnaryCall(request, context)

    def StreamingOutputCall(self, request, context):
        # Compression is chosen per call; a message that must go uncompressed turns it off for
        # itself only.
        if any(parameters.compressed.value for parameters in request.response_parameters):
            context.set_compression(grpc.Compression.Gzip)
        responses = super().StreamingOutputCall(request, context)
        for parameters, response in zip(request.response_parameters, responses):
            if not parameters.compressed.value:
                context.disable_next_message_compression()
            yield response


if __name__ == "__main__":
    # The reference server's main() serves whatever its module calls TestService.
    grpcio_interop_server.TestService = CompressingTestService
    grpcio_interop_server.main()

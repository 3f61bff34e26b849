"""gRPC interoperability cases against ruvector-server's grpc.testing.TestService, driven
by Python grpcio and by the gRPC project's Ruby interop client, over h2c and TLS."""
import subprocess

import pytest

import interop_cases
from conftest import RUBY_GRPC_ROOT, TLS_HOST_OVERRIDE


@pytest.mark.parametrize("case", interop_cases.ALL_CASES, ids=lambda case: case.__name__)
def test_grpcio_interop(channel, case):
    case(channel)


# special_status_message is not in the Ruby client of gRPC 1.51 (Debian's); grpcio covers it.
# The client compression cases are the Ruby client's own (grpcio cannot set or read the
# message flag): a probe that must fail INVALID_ARGUMENT, then compressed and plain requests.
RUBY_CASES = [case.__name__ for case in interop_cases.ALL_CASES if case.__name__ != "special_status_message"] + [
    "client_compressed_unary", "client_compressed_streaming"]


@pytest.mark.parametrize("transport", ["h2c", "tls"])
@pytest.mark.parametrize("case", RUBY_CASES)
def test_ruby_interop_client(request, transport, case):
    server = request.getfixturevalue("h2c_server" if transport == "h2c" else "tls_server")
    args = ["ruby", str(RUBY_GRPC_ROOT / "pb" / "test" / "client.rb"), "--server_host=127.0.0.1",
            f"--server_port={server.port}", f"--test_case={case}"]
    if transport == "tls":
        args += ["--use_tls=true", "--use_test_ca=true", f"--server_host_override={TLS_HOST_OVERRIDE}"]
    else:
        args += ["--use_tls=false"]
    result = subprocess.run(args, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, f"ruby interop {case} over {transport} failed:\n{result.stdout}\n{result.stderr}"

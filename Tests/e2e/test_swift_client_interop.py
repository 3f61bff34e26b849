"""Our Swift client (ruvector-interop-client) passes the gRPC interop cases against a
Python grpcio server, over h2c and TLS."""
import os
import pathlib
import re
import subprocess
import sys

import pytest

import interop_cases
from conftest import TEST_CERTS, TLS_HOST_OVERRIDE

HERE = pathlib.Path(__file__).parent


def _start(args):
    process = subprocess.Popen([sys.executable, str(HERE / "grpcio_interop_server.py"), *args],
                               stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, cwd=HERE)
    match = re.search(r"listening on \S+:(\d+)", process.stdout.readline())
    assert match, "grpcio interop server did not start"
    return process, int(match.group(1))


@pytest.fixture(scope="module", params=["h2c", "tls"])
def grpcio_server(request):
    args = [] if request.param == "h2c" else ["--tls", str(TEST_CERTS / "server1.pem"), str(TEST_CERTS / "server1.key")]
    process, port = _start(args)
    yield request.param, port
    process.terminate()
    process.wait(timeout=10)


@pytest.mark.parametrize("case", [case.__name__ for case in interop_cases.ALL_CASES])
def test_swift_client_against_grpcio(grpcio_server, case):
    transport, port = grpcio_server
    binary = pathlib.Path(os.environ["RUVECTOR_SERVER_BINARY"]).parent / "ruvector-interop-client"
    args = [str(binary), "--server_host", "127.0.0.1", "--server_port", str(port), "--test_case", case]
    if transport == "tls":
        args += ["--use_tls", "true", "--ca_file", str(TEST_CERTS / "ca.pem"), "--server_host_override", TLS_HOST_OVERRIDE]
    result = subprocess.run(args, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, f"{case} over {transport}:\n{result.stdout}\n{result.stderr}"
    assert f"PASS {case}" in result.stdout

"""Unary small-message gRPC benchmark: ruvector-server vs C++ gRPC servers (Debian libgrpc++:
the callback API, the main peer, and the synchronous API) vs a Python grpcio server, all serving
grpc.testing.TestService/UnaryCall, all loaded by the same h2load command in the same run.

Run from the repository root (after scripts/setup.sh):
    swift build -c release --product ruvector-server
    .venv/bin/python Benchmarks/RPCBench/bench_unary.py [--requests 200000] [--connections 4] [--streams 32] [--rounds 3]

Each round runs every server once, in turn (so a noisy moment hits them alike); the table
shows the median round and the range. h2load counts HTTP status only, so every server is also
checked with a sample of real grpcio calls whose grpc-status must be OK. Prints a Markdown
table for docs/benchmarks/unary-rpc.md.
"""
import argparse
import os
import pathlib
import re
import shutil
import statistics
import struct
import subprocess
import sys
import tempfile

ROOT = pathlib.Path(__file__).resolve().parents[2]
HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
from bench_server import process_cpu_seconds  # noqa: E402  (Benchmarks/bench_server.py)
GRPC_PROTO = pathlib.Path("/usr/share/grpc-proto")
BUILD = ROOT / ".build-rpcbench"


def generate_python_stubs():
    from grpc_tools import protoc

    out = BUILD / "py"
    out.mkdir(parents=True, exist_ok=True)
    files = [f"grpc/testing/{n}.proto" for n in ("empty", "messages", "test")]
    assert protoc.main(["protoc", f"-I{GRPC_PROTO}", f"--python_out={out}", f"--grpc_python_out={out}", *files]) == 0
    attach_testing_stubs(out)
    return out


def attach_testing_stubs(out):
    """grpcio owns the `grpc` package; the generated grpc.testing stubs join its path."""
    import grpc

    (out / "grpc" / "testing" / "__init__.py").touch()
    grpc.__path__.append(str(out / "grpc"))


def build_cpp_server():
    out = BUILD / "cpp"
    out.mkdir(parents=True, exist_ok=True)
    binary = out / "cpp_server"
    if binary.exists() and binary.stat().st_mtime > (HERE / "cpp_server.cc").stat().st_mtime:
        return binary
    plugin = shutil.which("grpc_cpp_plugin")
    if not plugin:
        sys.exit("install libgrpc++-dev and protobuf-compiler-grpc (apt-get) for the C++ peer")
    files = [f"grpc/testing/{n}.proto" for n in ("empty", "messages", "test")]
    subprocess.run(["protoc", f"-I{GRPC_PROTO}", f"--cpp_out={out}", f"--grpc_out={out}",
                    f"--plugin=protoc-gen-grpc={plugin}", *files], check=True)
    sources = [str(HERE / "cpp_server.cc")] + [str(out / f) for f in (
        "grpc/testing/empty.pb.cc", "grpc/testing/messages.pb.cc", "grpc/testing/test.pb.cc",
        "grpc/testing/test.grpc.pb.cc")]
    flags = subprocess.run(["pkg-config", "--cflags", "--libs", "grpc++", "protobuf"],
                           check=True, capture_output=True, text=True).stdout.split()
    subprocess.run(["g++", "-O2", "-std=c++17", f"-I{out}", *sources, "-o", str(binary), *flags], check=True)
    return binary


def start(command, env=None):
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env)
    line = process.stdout.readline()
    match = re.search(r"listening on (\S+):(\d+)", line)
    if not match:
        process.kill()
        sys.exit(f"{command[0]} did not start: {line!r}")
    return process, int(match.group(2))


def request_body(payload_bytes, response_bytes):
    from grpc.testing import messages_pb2

    message = messages_pb2.SimpleRequest(response_size=response_bytes,
                                         payload=messages_pb2.Payload(body=b"\x00" * payload_bytes)).SerializeToString()
    return b"\x00" + struct.pack(">I", len(message)) + message


def check_grpc_status(port, samples=200):
    import grpc
    from grpc.testing import messages_pb2, test_pb2_grpc

    with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
        stub = test_pb2_grpc.TestServiceStub(channel)
        for _ in range(samples):
            response, call = stub.UnaryCall.with_call(messages_pb2.SimpleRequest(
                response_size=16, payload=messages_pb2.Payload(body=b"\x00" * 16)))
            assert call.code() == grpc.StatusCode.OK and len(response.payload.body) == 16
    return samples


def run_h2load(port, body_file, args, log_file):
    command = ["h2load", "-n", str(args.requests), "-c", str(args.connections), "-m", str(args.streams),
               "-t", "1", "-d", str(body_file), "-H", "content-type: application/grpc", "-H", "te: trailers",
               "--log-file", str(log_file), f"http://127.0.0.1:{port}/grpc.testing.TestService/UnaryCall"]
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    rps = float(re.search(r"finished in [\d.]+\w+, ([\d.]+) req/s", output).group(1))
    succeeded = int(re.search(r"(\d+) succeeded", output).group(1))
    latencies = sorted(int(line.split("\t")[2]) for line in log_file.read_text().splitlines() if line.strip())
    quantile = lambda q: latencies[min(len(latencies) - 1, int(q * len(latencies)))]
    return {"rps": rps, "succeeded": succeeded, "p50": quantile(0.50), "p99": quantile(0.99),
            "mean": statistics.fmean(latencies)}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=200_000)
    parser.add_argument("--connections", type=int, default=4)
    parser.add_argument("--streams", type=int, default=32)
    parser.add_argument("--rounds", type=int, default=3, help="runs of every server, alternating (default 3)")
    parser.add_argument("--server", default=str(ROOT / ".build" / "release" / "ruvector-server"))
    parser.add_argument("--skip-python", action="store_true", help="leave out the Python grpcio server (slow)")
    args = parser.parse_args()
    if args.rounds < 1 or args.requests < 1:
        parser.error("--rounds and --requests must be at least 1")

    generate_python_stubs()
    cpp_binary = build_cpp_server()
    work = pathlib.Path(tempfile.mkdtemp(prefix="rpcbench-"))
    body = work / "body.bin"
    body.write_bytes(request_body(16, 16))

    main_peer = "C++ gRPC 1.51 (libgrpc++, callback API)"
    servers = {
        "ruvector-server (Swift, nghttp2)": [args.server, "--listen", "127.0.0.1:0", "--data-dir", str(work / "data"),
                                             "--enable-interop-test-service", "--log-level", "error"],
        main_peer: [str(cpp_binary), "127.0.0.1:0", "callback"],
        "C++ gRPC 1.51 (libgrpc++, sync API)": [str(cpp_binary), "127.0.0.1:0", "sync"],
    }
    if not args.skip_python:
        servers["Python grpcio 1.85 (16 threads)"] = [sys.executable, str(HERE / "python_server.py")]
    rounds = {name: [] for name in servers}
    checked = {}
    env = dict(os.environ, RUVECTOR_TESTING_STUBS=str(BUILD / "py"))
    for round_index in range(args.rounds):
        for name, command in servers.items():
            process, port = start(command, env=env)
            try:
                if name not in checked:
                    checked[name] = check_grpc_status(port)
                run_h2load(port, body, argparse.Namespace(requests=5000, connections=args.connections,
                                                          streams=args.streams), work / "warmup.log")
                cpu_before = process_cpu_seconds(process.pid)
                result = run_h2load(port, body, args, work / "h2load.log")
                # The server's own CPU per call: steadier than req/s when client and server share 2 cores.
                result["cpu_us"] = (process_cpu_seconds(process.pid) - cpu_before) / args.requests * 1e6
                rounds[name].append(result)
            finally:
                process.terminate()
                if process.wait(timeout=30) != 0:
                    print(f"warning: {name} exited with {process.returncode}", file=sys.stderr)
            print(f"round {round_index + 1}: {name}: {rounds[name][-1]['rps']:,.0f} req/s", file=sys.stderr)

    # The median round of each server (by req/s), with its latencies.
    results = {name: sorted(runs, key=lambda r: r["rps"])[len(runs) // 2] for name, runs in rounds.items()}
    peer = results[main_peer]["rps"]
    print(f"\nUnary UnaryCall, 16-byte payload and response, h2load -n {args.requests} -c {args.connections} "
          f"-m {args.streams} -t 1, loopback, {os.cpu_count()} cores shared by client and server; "
          f"median of {args.rounds} alternating rounds (range in brackets)\n")
    print("| server | req/s | range | vs C++ callback | server CPU µs per call (range) | p50 µs | p99 µs | grpc-status OK (sampled) |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for name, r in results.items():
        low, high = min(x["rps"] for x in rounds[name]), max(x["rps"] for x in rounds[name])
        cpu = sorted(x["cpu_us"] for x in rounds[name])
        print(f"| {name} | {r['rps']:,.0f} | {low:,.0f}-{high:,.0f} | {r['rps'] / peer:.2f}x | "
              f"{cpu[len(cpu) // 2]:.1f} ({cpu[0]:.1f}-{cpu[-1]:.1f}) | {r['p50']:,} | {r['p99']:,} | "
              f"{checked[name]}/{checked[name]} |")


if __name__ == "__main__":
    main()

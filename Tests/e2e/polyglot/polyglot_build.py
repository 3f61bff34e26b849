"""Builds the polyglot test clients from our .proto files, with Debian's toolchains only.

`go_client()` and `cpp_client()` generate stubs from proto/ruvector/v1 at test time, build a
client and return its path. Everything lives in `.build-polyglot/` at the repository root
(gitignored), each client in a folder named after a digest of its inputs (the protos, the
client's source, this file and the tool versions), so a second run reuses the binary and any
change rebuilds it. Raises `ToolMissing` when a compiler or package is absent.

Go (GOPATH mode, GOPROXY=off, nothing fetched but one Debian package): grpc-go 1.33 from
`golang-google-grpc-dev`, protoc-gen-go built from `golang-google-protobuf-dev`'s sources,
`protoc-gen-go-grpc`. grpc-go's codec calls github.com/golang/protobuf, whose Debian 1.3 package
panics on messages of the new generator; the 1.5 package (built on the new API) owns the same
paths, so unless it is the one installed, its .deb is fetched with `apt-get download` and
unpacked into the cache, first on GOPATH.

C++: `libgrpc++-dev`, `protobuf-compiler-grpc` (grpc_cpp_plugin), g++; the generated code and
cpp/client.cc compile as one translation unit at -O0.
"""
from __future__ import annotations

import hashlib
import os
import pathlib
import shutil
import subprocess
import tempfile

HERE = pathlib.Path(__file__).resolve().parent
REPO = HERE.parents[2]
CACHE = REPO / ".build-polyglot"
PROTO_ROOT = REPO / "proto"
GRPC_PROTO_ROOT = pathlib.Path("/usr/share/grpc-proto")
SYSTEM_GOCODE = pathlib.Path("/usr/share/gocode")
GO_PACKAGE = "ruvector.local/v1"
GOLANG_PROTOBUF_1_5 = "golang-github-golang-protobuf-1-5-dev"
# What the C++ client calls: our three protos and the interop TestService's.
CPP_PROTOS = ["ruvector/v1/common.proto", "ruvector/v1/vector.proto", "ruvector/v1/graph.proto",
              "grpc/testing/empty.proto", "grpc/testing/messages.proto", "grpc/testing/test.proto"]
BUILD_TIMEOUT_SECONDS = 600


class ToolMissing(RuntimeError):
    """A compiler, plugin or Debian package the build needs is not installed."""


def _require_commands(*names: str) -> None:
    missing = [name for name in names if shutil.which(name) is None]
    if missing:
        raise ToolMissing(f"not on PATH: {', '.join(missing)} (scripts/setup.sh installs them)")


def _require_paths(*paths: pathlib.Path) -> None:
    missing = [str(path) for path in paths if not path.exists()]
    if missing:
        raise ToolMissing(f"missing: {', '.join(missing)} (scripts/setup.sh installs them)")


def _run(args: list[str], **options) -> str:
    result = subprocess.run(args, capture_output=True, text=True, timeout=BUILD_TIMEOUT_SECONDS, **options)
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(args[:3])}... failed ({result.returncode}):\n{result.stdout}\n{result.stderr}")
    return result.stdout


def _package_version(package: str) -> str | None:
    result = subprocess.run(["dpkg-query", "-W", "-f=${Status} ${Version}", package], capture_output=True, text=True)
    words = result.stdout.split()
    return words[-1] if result.returncode == 0 and "installed" in words[:3] else None


def _digest(files: list[pathlib.Path], *facts: str) -> str:
    digest = hashlib.sha256()
    for path in [*files, pathlib.Path(__file__)]:
        digest.update(str(path).encode() + b"\0" + path.read_bytes() + b"\0")
    for fact in facts:
        digest.update(fact.encode() + b"\0")
    return digest.hexdigest()[:16]


def _ruvector_protos() -> list[pathlib.Path]:
    return sorted((PROTO_ROOT / "ruvector" / "v1").glob("*.proto"))


def _cached_build(prefix: str, key: str, binary_name: str, build) -> pathlib.Path:
    """The binary of the build keyed `key`, made by `build(folder)` when absent. The folder is
    filled aside and renamed into place, so an interrupted build never looks complete; older
    builds with the same prefix are removed."""
    final = CACHE / f"{prefix}-{key}"
    if (final / binary_name).exists():
        return final / binary_name
    CACHE.mkdir(exist_ok=True)
    work = pathlib.Path(tempfile.mkdtemp(prefix=f"{prefix}-building-", dir=CACHE))
    try:
        build(work)
        shutil.rmtree(final, ignore_errors=True)
        try:
            work.rename(final)
        except OSError:
            # Another run finished the same build first: its binary is as good as ours.
            if not (final / binary_name).exists():
                raise
    finally:
        shutil.rmtree(work, ignore_errors=True)
    for stale in CACHE.glob(f"{prefix}-*"):
        if stale != final and "-building-" not in stale.name:
            shutil.rmtree(stale, ignore_errors=True)
    return final / binary_name


# ---- Go ----

def _golang_protobuf_1_5() -> pathlib.Path | None:
    """A GOPATH entry holding github.com/golang/protobuf 1.5, or None when the system one is 1.5."""
    if _package_version(GOLANG_PROTOBUF_1_5):
        return None
    root = CACHE / "golang-protobuf-1.5"
    gocode = root / "usr" / "share" / "gocode"
    if (gocode / "src" / "github.com" / "golang" / "protobuf").is_dir():
        return gocode
    shutil.rmtree(root, ignore_errors=True)
    root.mkdir(parents=True)
    # apt-get download runs as the unprivileged _apt user when it can; the folder must let it write.
    root.chmod(0o777)
    try:
        _run(["apt-get", "download", GOLANG_PROTOBUF_1_5], cwd=root)
    except RuntimeError:
        if os.geteuid() != 0:
            raise
        # A machine set up from an image may have no package lists yet (CI runs as root).
        _run(["apt-get", "update"])
        _run(["apt-get", "download", GOLANG_PROTOBUF_1_5], cwd=root)
    debs = list(root.glob("*.deb"))
    if len(debs) != 1:
        raise ToolMissing(f"apt-get download {GOLANG_PROTOBUF_1_5} gave {debs}")
    _run(["dpkg-deb", "-x", str(debs[0]), str(root)])
    return gocode


def _go_environment(gopath: list[pathlib.Path]) -> dict[str, str]:
    env = dict(os.environ)
    env.update(GO111MODULE="off", GOPROXY="off", GOFLAGS="", GOPATH=":".join(map(str, gopath)),
               GOCACHE=str(CACHE / "go-cache"), CGO_ENABLED="0")
    return env


def go_client() -> pathlib.Path:
    """The Go client (go/main.go) built against grpc-go 1.33 from Debian; built once per inputs."""
    _require_commands("go", "protoc", "protoc-gen-go-grpc")
    _require_paths(SYSTEM_GOCODE / "src" / "google.golang.org" / "grpc",
                   SYSTEM_GOCODE / "src" / "google.golang.org" / "protobuf" / "cmd" / "protoc-gen-go")
    source = HERE / "go" / "main.go"
    protos = _ruvector_protos()
    versions = [_run(["go", "version"]), _run(["protoc", "--version"])] + [
        str(_package_version(p)) for p in ("golang-google-grpc-dev", "golang-google-protobuf-dev", "protoc-gen-go-grpc")]
    key = _digest([source, *protos], *versions)

    def build(folder: pathlib.Path) -> None:
        golang_protobuf = _golang_protobuf_1_5()
        gopath = [folder / "gopath", *([golang_protobuf] if golang_protobuf else []), SYSTEM_GOCODE]
        env = _go_environment(gopath)
        bin_dir = folder / "bin"
        _run(["go", "build", "-o", str(bin_dir / "protoc-gen-go"), "google.golang.org/protobuf/cmd/protoc-gen-go"], env=env)
        src = folder / "gopath" / "src"
        src.mkdir(parents=True)
        # Our protos name no go_package: the M options map each file to one Go package.
        names = [str(p.relative_to(PROTO_ROOT)) for p in protos]
        mappings = [f"--go_opt=M{n}={GO_PACKAGE};ruvectorpb" for n in names] + [
            f"--go-grpc_opt=M{n}={GO_PACKAGE};ruvectorpb" for n in names]
        _run(["protoc", f"-I{PROTO_ROOT}", f"--plugin=protoc-gen-go={bin_dir / 'protoc-gen-go'}",
              f"--go_out={src}", f"--go-grpc_out={src}", *mappings, *names])
        (src / "ruvector-go-client").mkdir()
        shutil.copy(source, src / "ruvector-go-client" / "main.go")
        _run(["go", "build", "-o", str(folder / "ruvector-go-client"), "ruvector-go-client"], env=env)

    return _cached_build("go", key, "ruvector-go-client", build)


# ---- C++ ----

def _unity_source() -> str:
    """One translation unit: every generated file, then the client. Each generated .pb.cc has
    file-static tables of the same names, renamed per file; headers come first so that the
    renaming touches only those definitions."""
    stems = [name.removesuffix(".proto") for name in CPP_PROTOS]
    lines = ["#include <grpcpp/grpcpp.h>"]
    lines += [f'#include "{stem}.pb.h"\n#include "{stem}.grpc.pb.h"' for stem in stems]
    for n, stem in enumerate(stems):
        lines += [f"#define schemas schemas_{n}", f"#define file_default_instances file_default_instances_{n}",
                  f'#include "{stem}.pb.cc"', f'#include "{stem}.grpc.pb.cc"',
                  "#undef schemas", "#undef file_default_instances"]
    lines.append(f'#include "{HERE / "cpp" / "client.cc"}"')
    return "\n".join(lines) + "\n"


def cpp_client() -> pathlib.Path:
    """The C++ client (cpp/client.cc) built against Debian's libgrpc++; built once per inputs."""
    _require_commands("g++", "protoc", "grpc_cpp_plugin", "pkg-config")
    _require_paths(GRPC_PROTO_ROOT / "grpc" / "testing" / "test.proto")
    if subprocess.run(["pkg-config", "--exists", "grpc++", "protobuf"]).returncode != 0:
        raise ToolMissing("pkg-config finds no grpc++ / protobuf (libgrpc++-dev, libprotobuf-dev)")
    source = HERE / "cpp" / "client.cc"
    protos = [PROTO_ROOT / name if name.startswith("ruvector/") else GRPC_PROTO_ROOT / name for name in CPP_PROTOS]
    flags = _run(["pkg-config", "--cflags", "--libs", "grpc++", "protobuf"]).split()
    versions = [_run(["g++", "--version"]), _run(["protoc", "--version"]),
                _run(["pkg-config", "--modversion", "grpc++", "protobuf"])]
    key = _digest([source, *protos], *versions)

    def build(folder: pathlib.Path) -> None:
        generated = folder / "generated"
        generated.mkdir()
        _run(["protoc", f"-I{PROTO_ROOT}", f"-I{GRPC_PROTO_ROOT}", f"--cpp_out={generated}", f"--grpc_out={generated}",
              f"--plugin=protoc-gen-grpc={shutil.which('grpc_cpp_plugin')}", *CPP_PROTOS])
        unity = generated / "unity.cc"
        unity.write_text(_unity_source())
        _run(["g++", "-std=c++17", "-O0", f"-I{generated}", str(unity), "-o", str(folder / "ruvector-cpp-client"), *flags])

    return _cached_build("cpp", key, "ruvector-cpp-client", build)

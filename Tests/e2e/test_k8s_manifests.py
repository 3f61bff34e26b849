"""deploy/k8s and deploy/Dockerfile, checked offline: no Kubernetes, no Docker, no network.

- Every manifest against the Kubernetes OpenAPI schemas that the pinned kubernetes-validate
  bundles, strictly (an unknown or misspelt field fails), for the oldest Kubernetes the
  manifests need (1.27: gRPC probes went GA) and the newest the package knows.
- What a schema cannot see: the Services and the PodDisruptionBudget select the pods, the
  headless Service is headless and named by the StatefulSet, the probes ask grpc.health on the
  port the server listens on, the kustomization lists every manifest.
- The container's command is run by /bin/sh as the kubelet would run it (its environment
  built from the manifest as the Downward API would), with a stand-in `ruvector-server` that
  prints its arguments: every flag must be one that `ruvector-server --help` (the real
  binary, RUVECTOR_SERVER_BINARY) lists, and the node id, founding list, join address, data
  directory and memory budget must follow from the pod's name and the manifest.
- Those arguments then start the real server on loopback (listen address, data directory and
  metrics moved there; the pods' DNS names routed to loopback ports with --peer-routes, so no
  name is ever resolved): the three founding pods elect a leader and turn Ready, a lone one
  stays unready, a joining pod starts and waits.
- The Dockerfile (hadolint is on neither Debian nor PyPI): base images pinned by version, a
  non-root user, products that Package.swift has, the ports the pods use, a runtime stage
  that installs every shared library the server links.
"""
import math
import os
import pathlib
import re
import shutil
import subprocess
import time
from fractions import Fraction

import grpc
import kubernetes_validate
import pytest
import yaml
from grpc_health.v1 import health_pb2, health_pb2_grpc
from ruvector.v1 import cluster_pb2, cluster_pb2_grpc

from conftest import RunningServer, free_ports, server_binary

ROOT = pathlib.Path(__file__).resolve().parents[2]
K8S = ROOT / "deploy" / "k8s"
DOCKERFILE = ROOT / "deploy" / "Dockerfile"
NAMESPACE = "ruvector-test"
OLDEST_KUBERNETES = "1.27"
READY_WITHIN_SECONDS = 30

# Shared libraries every debian:12-slim image already has (apt needs them).
BASE_IMAGE_PACKAGES = {"libc6", "libgcc-s1", "libstdc++6"}


# MARK: Reading the manifests

def _kustomization() -> dict:
    """deploy/k8s/kustomization.yaml."""
    return yaml.safe_load((K8S / "kustomization.yaml").read_text())


def _resources() -> list[tuple[str, dict]]:
    """(file name, object) for every object of the files the kustomization lists."""
    objects = []
    for name in _kustomization()["resources"]:
        objects += [(name, doc) for doc in yaml.safe_load_all((K8S / name).read_text()) if doc]
    return objects


def _only(kind: str) -> dict:
    """The one object of `kind` among the resources."""
    found = [doc for _, doc in _resources() if doc["kind"] == kind]
    assert len(found) == 1, f"expected one {kind}, found {len(found)}"
    return found[0]


def _services() -> dict[str, dict]:
    """The Services by name."""
    return {doc["metadata"]["name"]: doc for _, doc in _resources() if doc["kind"] == "Service"}


def _client_service() -> dict:
    """The Service clients (and joining pods) use: the one the StatefulSet does not name."""
    headless = _only("StatefulSet")["spec"]["serviceName"]
    others = [svc for name, svc in _services().items() if name != headless]
    assert len(others) == 1, "expected one client Service beside the headless one"
    return others[0]


def _container() -> dict:
    """The StatefulSet's one container."""
    containers = _only("StatefulSet")["spec"]["template"]["spec"]["containers"]
    assert len(containers) == 1
    return containers[0]


def _container_port(name: str) -> int:
    """The container's port called `name`."""
    ports = {port["name"]: port["containerPort"] for port in _container()["ports"]}
    assert name in ports, f"the container has no port named {name!r}: {ports}"
    return ports[name]


_QUANTITY_SCALES = {"": 1, "m": Fraction(1, 1000), "k": 10**3, "M": 10**6, "G": 10**9, "T": 10**12,
                    "Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40}


def _quantity(text) -> Fraction:
    """A Kubernetes quantity ("4Gi", "500m", "2") as a number."""
    match = re.fullmatch(r"([0-9]+(?:\.[0-9]+)?)([A-Za-z]*)", str(text))
    assert match and match.group(2) in _QUANTITY_SCALES, f"not a quantity this test reads: {text!r}"
    return Fraction(match.group(1)) * _QUANTITY_SCALES[match.group(2)]


def _selects(selector: dict, labels: dict) -> bool:
    """True when a non-empty label selector (matchLabels only) picks a pod with `labels`."""
    assert set(selector) <= {"matchLabels"}, f"this test reads matchLabels only: {selector}"
    wanted = selector.get("matchLabels", {})
    return bool(wanted) and all(labels.get(key) == value for key, value in wanted.items())


def _probe(name: str) -> dict:
    """The grpc action of the container's probe `name` (livenessProbe, ...)."""
    probe = _container().get(name)
    assert probe and "grpc" in probe, f"{name} must be Kubernetes' grpc probe (grpc.health.v1)"
    return probe["grpc"]


# MARK: Running the container's command as a pod would

def _downward_value(source: dict, pod_name: str) -> str:
    """What the Downward API puts in an env var `valueFrom` for this pod."""
    if "fieldRef" in source:
        fields = {"metadata.namespace": NAMESPACE, "metadata.name": pod_name}
        assert source["fieldRef"]["fieldPath"] in fields, f"field not emulated: {source}"
        return fields[source["fieldRef"]["fieldPath"]]
    reference = source["resourceFieldRef"]
    assert reference.get("containerName", _container()["name"]) == _container()["name"]
    kind, resource = reference["resource"].split(".")
    value = _quantity(_container()["resources"][kind][resource]) / _quantity(reference.get("divisor", "1"))
    return str(math.ceil(value))


def _kubelet_expand(text: str, env: dict[str, str]) -> str:
    """The kubelet's expansion of command and args: `$(NAME)` of a defined variable, `$$` -> `$`."""
    def replace(match: re.Match) -> str:
        if match.group(0) == "$$":
            return "$"
        return env.get(match.group(1), match.group(0))
    return re.sub(r"\$\$|\$\(([A-Za-z_][A-Za-z0-9_]*)\)", replace, text)


def _run_command(tmp_path: pathlib.Path, pod_name: str) -> subprocess.CompletedProcess:
    """The container's command and args under /bin/sh with the pod's environment; a stand-in
    `ruvector-server` on PATH prints the arguments it was given, NUL-separated."""
    stand_in = tmp_path / "stand-in" / "ruvector-server"
    stand_in.parent.mkdir(exist_ok=True)
    stand_in.write_text("#!/bin/sh\nprintf '%s\\0' \"$@\"\n")
    stand_in.chmod(0o755)
    env = {"PATH": f"{stand_in.parent}:/usr/bin:/bin", "HOSTNAME": pod_name}
    for variable in _container()["env"]:
        env[variable["name"]] = variable["value"] if "value" in variable else _downward_value(variable["valueFrom"], pod_name)
    command = [_kubelet_expand(part, env) for part in _container()["command"] + _container()["args"]]
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=10)


def _pod_args(tmp_path: pathlib.Path, ordinal: int) -> list[str]:
    """The arguments pod `ordinal` of the StatefulSet starts ruvector-server with."""
    result = _run_command(tmp_path, f"{_only('StatefulSet')['metadata']['name']}-{ordinal}")
    assert result.returncode == 0, result.stderr
    return result.stdout.split("\0")[:-1]


def _flags(args: list[str]) -> dict[str, str]:
    """`--flag value` pairs (every flag the pods use takes a value; none may repeat)."""
    assert len(args) % 2 == 0 and all(flag.startswith("--") for flag in args[::2]), args
    flags = dict(zip(args[::2], args[1::2]))
    assert len(flags) == len(args) // 2, f"a flag is given twice: {args}"
    return flags


def _server_flags() -> set[str]:
    """The flags of the real ruvector-server, from its --help."""
    result = subprocess.run([server_binary(), "--help"], capture_output=True, text=True, timeout=30)
    assert result.returncode == 0, result.stderr
    flags = set(re.findall(r"^\s+(?:-\w, )?(--[a-z0-9-]+)", result.stdout, re.M))
    assert "--listen" in flags and "--node-id" in flags, result.stdout
    return flags


def _pod_address(ordinal: int) -> str:
    """Pod `ordinal`'s DNS name through the headless Service, with the gRPC port."""
    statefulset = _only("StatefulSet")
    return (f"{statefulset['metadata']['name']}-{ordinal}.{statefulset['spec']['serviceName']}.{NAMESPACE}"
            f".svc.cluster.local:{_container_port('grpc')}")


def _mib(text: str) -> int:
    """Bytes of a --memory-limit the pods give ("3072MiB" or "3GiB")."""
    match = re.fullmatch(r"([0-9]+)(MiB|GiB)", text)
    assert match, f"--memory-limit {text!r}: expected a whole number of MiB or GiB"
    return int(match.group(1)) << (20 if match.group(2) == "MiB" else 30)


# MARK: Schemas and our own rules

def _schema_problem(doc: dict, version: str) -> str | None:
    """Why `doc` fails the strict schema of its kind for that Kubernetes version, or None."""
    try:
        kubernetes_validate.validate(doc, version, strict=True)
    except kubernetes_validate.ValidationError as error:
        return f"{error.message} (at {'/'.join(str(part) for part in error.path) or 'the top'})"
    return None


@pytest.mark.parametrize("version", [OLDEST_KUBERNETES, kubernetes_validate.latest_version()])
def test_every_manifest_matches_the_kubernetes_schemas(version: str) -> None:
    resources = _resources()
    assert resources
    for name, doc in resources:
        problem = _schema_problem(doc, version)
        assert problem is None, f"{name}: {doc['kind']} {doc['metadata']['name']} is not valid for Kubernetes {version}: {problem}"


def test_kustomization_lists_every_manifest_and_the_image() -> None:
    kustomization = _kustomization()
    on_disk = sorted(path.name for path in K8S.glob("*.yaml") if path.name != "kustomization.yaml")
    assert sorted(kustomization["resources"]) == on_disk
    kinds = sorted(doc["kind"] for _, doc in _resources())
    assert kinds == ["PodDisruptionBudget", "Service", "Service", "StatefulSet"]
    image = _container()["image"]
    name, _, tag = image.rpartition(":")
    assert name and re.search(r"[0-9]", tag) and tag != "latest", f"pin the image by version: {image}"
    assert [entry["name"] for entry in kustomization.get("images", [])] == [name]


def test_services_and_disruption_budget_select_the_pods() -> None:
    statefulset = _only("StatefulSet")
    spec = statefulset["spec"]
    labels = spec["template"]["metadata"]["labels"]
    assert _selects(spec["selector"], labels)
    # OrderedReady would start pod 1 only once pod 0 is Ready, and pod 0 is Ready only once
    # a majority has elected a leader: the founders must start together.
    assert spec["podManagementPolicy"] == "Parallel"
    headless = _services().get(spec["serviceName"])
    assert headless, f"serviceName {spec['serviceName']!r} names no Service here"
    assert headless["spec"]["clusterIP"] == "None"
    # Pods find each other by name before any is Ready (Ready needs a leader).
    assert headless["spec"]["publishNotReadyAddresses"] is True
    client = _client_service()
    assert client["spec"].get("clusterIP") != "None"
    port_names = {port["name"] for port in _container()["ports"]}
    for service in (headless, client):
        assert _selects({"matchLabels": service["spec"]["selector"]}, labels), service["metadata"]["name"]
        for port in service["spec"]["ports"]:
            assert port["targetPort"] in port_names | {_container_port("grpc")}, port
            assert port["port"] == _container_port("grpc"), "joining pods dial the client Service on the gRPC port"
    budget = _only("PodDisruptionBudget")
    assert budget["spec"]["maxUnavailable"] == 1 and "minAvailable" not in budget["spec"]
    assert _selects(budget["spec"]["selector"], labels)
    anti_affinity = spec["template"]["spec"]["affinity"]["podAntiAffinity"]
    for term in anti_affinity["preferredDuringSchedulingIgnoredDuringExecution"]:
        assert _selects(term["podAffinityTerm"]["labelSelector"], labels)


def test_probes_ask_grpc_health_on_the_listen_port(tmp_path: pathlib.Path) -> None:
    flags = _flags(_pod_args(tmp_path, 0))
    listen_port = int(flags["--listen"].rpartition(":")[2])
    assert listen_port == _container_port("grpc")
    assert int(flags["--metrics-listen"].rpartition(":")[2]) == _container_port("metrics")
    for name in ("startupProbe", "livenessProbe", "readinessProbe"):
        assert _probe(name)["port"] == listen_port, name
    assert _probe("startupProbe").get("service", "") == ""
    assert _probe("livenessProbe").get("service", "") == ""
    assert _probe("readinessProbe")["service"] == "ruvector.v1.ClusterService"


@pytest.mark.parametrize("ordinal", [0, 1, 2, 3])
def test_pod_command_gives_the_server_its_flags(tmp_path: pathlib.Path, ordinal: int) -> None:
    statefulset = _only("StatefulSet")
    flags = _flags(_pod_args(tmp_path, ordinal))
    unknown = set(flags) - _server_flags()
    assert not unknown, f"ruvector-server --help has no {sorted(unknown)}"
    assert flags["--node-id"] == str(ordinal + 1)
    assert flags["--advertise-address"] == _pod_address(ordinal)
    founding = int(next(v["value"] for v in _container()["env"] if v["name"] == "RUVECTOR_FOUNDING_NODES"))
    assert founding == statefulset["spec"]["replicas"] == 3
    if ordinal < founding:
        assert flags["--cluster"] == ",".join(f"{i + 1}={_pod_address(i)}" for i in range(founding))
        assert "--join" not in flags
    else:
        client = _client_service()
        assert flags["--join"] == f"{client['metadata']['name']}.{NAMESPACE}.svc.cluster.local:{client['spec']['ports'][0]['port']}"
        assert "--cluster" not in flags
    mounts = {mount["name"]: mount["mountPath"] for mount in _container()["volumeMounts"]}
    claims = [claim["metadata"]["name"] for claim in statefulset["spec"]["volumeClaimTemplates"]]
    assert claims == ["data"] and flags["--data-dir"] == mounts["data"]
    limits = _container()["resources"]["limits"]
    assert _quantity(limits["memory"]) / 2 <= _mib(flags["--memory-limit"]) <= _quantity(limits["memory"])
    cores = math.ceil(_quantity(limits["cpu"]))
    assert flags["--search-threads"] == flags["--import-threads"] == str(cores)
    assert int(flags["--shutdown-grace-seconds"]) < statefulset["spec"]["template"]["spec"]["terminationGracePeriodSeconds"]


def test_pod_command_refuses_a_name_without_ordinal(tmp_path: pathlib.Path) -> None:
    result = _run_command(tmp_path, "ruvector")
    assert result.returncode != 0
    assert "does not end in -ORDINAL" in result.stderr
    assert result.stdout == "", "the server must not start"


# MARK: The pods' arguments on the real server, on loopback

def _on_loopback(args: list[str], port: int, data_dir: pathlib.Path, **moved: str) -> list[str]:
    """A pod's arguments with the listen address, metrics and data directory moved to this
    machine, and the flags in `moved` (peer_routes="..." for --peer-routes) set."""
    flags = _flags(args)
    flags.update({"--listen": f"127.0.0.1:{port}", "--metrics-listen": "127.0.0.1:0", "--data-dir": str(data_dir)})
    flags.update({"--" + name.replace("_", "-"): value for name, value in moved.items()})
    return [part for pair in flags.items() for part in pair]


def _health(server: RunningServer, service: str) -> int:
    """What grpc.health.v1 Check answers for `service`, as the kubelet's gRPC probe asks it."""
    with grpc.insecure_channel(server.address) as channel:
        request = health_pb2.HealthCheckRequest(service=service)
        return health_pb2_grpc.HealthStub(channel).Check(request, timeout=5).status


def _stop_all(servers: list[RunningServer]) -> None:
    """SIGTERM to each server; each must exit 0."""
    codes = [server.stop() for server in servers]
    assert codes == [0] * len(servers), "a node did not stop cleanly on SIGTERM"


def test_founding_pods_elect_a_leader_and_turn_ready(tmp_path: pathlib.Path) -> None:
    readiness = _probe("readinessProbe")["service"]
    ports = free_ports(3)
    routes = ",".join(f"{ordinal + 1}=127.0.0.1:{port}" for ordinal, port in enumerate(ports))
    servers = []
    try:
        for ordinal, port in enumerate(ports):
            # Every peer is dialled on loopback instead of its DNS name.
            args = _on_loopback(_pod_args(tmp_path, ordinal), port, tmp_path / f"data-{ordinal}", peer_routes=routes)
            servers.append(RunningServer(args, tmp_path / f"data-{ordinal}"))
            if ordinal == 0:
                # Alone, a founder has no majority: alive, but kept out of the client Service.
                assert _health(servers[0], "") == health_pb2.HealthCheckResponse.SERVING
                assert _health(servers[0], readiness) == health_pb2.HealthCheckResponse.NOT_SERVING
        deadline = time.monotonic() + READY_WITHIN_SECONDS
        while not all(_health(server, readiness) == health_pb2.HealthCheckResponse.SERVING for server in servers):
            assert time.monotonic() < deadline, "the founding pods did not elect a leader:\n" + \
                "".join(servers[0].stderr_lines[-20:])
            time.sleep(0.1)
        with grpc.insecure_channel(servers[0].address) as channel:
            state = cluster_pb2_grpc.ClusterServiceStub(channel).GetState(cluster_pb2.GetStateRequest(), timeout=10)
        assert {member.node_id: member.address for member in state.members} == \
            {ordinal + 1: _pod_address(ordinal) for ordinal in range(3)}
        assert state.leader_id in (1, 2, 3)
    finally:
        _stop_all(servers)


def test_joining_pod_starts_and_stays_unready_until_admitted(tmp_path: pathlib.Path) -> None:
    # The join target is a closed loopback port: the server keeps asking, never a DNS name.
    closed, listen = free_ports(2)
    args = _on_loopback(_pod_args(tmp_path, 3), listen, tmp_path / "data-3", join=f"127.0.0.1:{closed}")
    server = RunningServer(args, tmp_path / "data-3")
    try:
        assert _health(server, "") == health_pb2.HealthCheckResponse.SERVING
        assert _health(server, _probe("readinessProbe")["service"]) == health_pb2.HealthCheckResponse.NOT_SERVING
    finally:
        _stop_all([server])


# MARK: The Dockerfile

def _dockerfile() -> list[tuple[str, str]]:
    """(INSTRUCTION, rest) of deploy/Dockerfile, continuation lines joined, comments dropped."""
    lines = [line for line in DOCKERFILE.read_text().splitlines() if not line.lstrip().startswith("#")]
    text = re.sub(r"\\\n", " ", "\n".join(lines))
    return [(line.split(None, 1)[0].upper(), line.split(None, 1)[1].strip())
            for line in text.splitlines() if line.strip()]


def _final_stage() -> list[tuple[str, str]]:
    """The instructions of the Dockerfile's last stage (the image), its FROM first."""
    instructions = _dockerfile()
    start = max(i for i, (keyword, _) in enumerate(instructions) if keyword == "FROM")
    return instructions[start:]


def test_dockerfile_is_pinned_non_root_and_builds_real_products() -> None:
    instructions = _dockerfile()
    for keyword, rest in instructions:
        if keyword == "FROM":
            image = rest.split()[0]
            tag = image.rpartition(":")[2] if ":" in image else ""
            assert "@sha256:" in image or (re.search(r"[0-9]", tag) and tag != "latest"), f"pin {image} by version"
    users = [rest for keyword, rest in _final_stage() if keyword == "USER"]
    assert users and users[-1].split(":")[0] not in ("root", "0"), "the image must run as a non-root user"
    package = (ROOT / "Package.swift").read_text()
    products = set(re.findall(r'\.executable\(name: "([^"]+)"', package))
    built = set(re.findall(r"--product (\S+)", " ".join(rest for keyword, rest in instructions if keyword == "RUN")))
    assert "ruvector-server" in built and built <= products, f"Package.swift's executables: {sorted(products)}"
    exposed = {int(port.split("/")[0]) for keyword, rest in _final_stage() if keyword == "EXPOSE" for port in rest.split()}
    assert {_container_port("grpc"), _container_port("metrics")} <= exposed
    copied = " ".join(rest for keyword, rest in _final_stage() if keyword == "COPY")
    assert re.search(r"ruvector-server.* /usr/local/bin/", copied), "the pods exec ruvector-server from PATH"
    ignored = (ROOT / ".dockerignore").read_text().split()
    assert ".build" in ignored and ".git" in ignored and ".venv" in ignored


def test_dockerfile_builds_with_the_tested_toolchain() -> None:
    swift = shutil.which("swift")
    if swift is None:
        pytest.skip("no swift on PATH to compare with (scripts/test.sh puts it there)")
    version = re.search(r"Swift version (\S+)", subprocess.run([swift, "--version"], capture_output=True, text=True).stdout)
    pinned = re.search(r"^ARG SWIFT_VERSION=(\S+)$", DOCKERFILE.read_text(), re.M)
    assert version and pinned and pinned.group(1) == version.group(1)


def _package_of(path: str) -> str | None:
    """The Debian package that installed a file, or None (e.g. a toolchain's library)."""
    for candidate in dict.fromkeys([os.path.realpath(path), path, "/usr" + path]):
        result = subprocess.run(["dpkg", "-S", candidate], capture_output=True, text=True)
        if result.returncode == 0:
            return result.stdout.split(":")[0]
    return None


def test_runtime_stage_installs_every_library_the_server_links() -> None:
    result = subprocess.run(["ldd", server_binary()], capture_output=True, text=True, timeout=30)
    assert result.returncode == 0, result.stderr
    installed = set()
    for keyword, rest in _final_stage():
        if keyword == "RUN" and "apt-get install" in rest:
            command = rest.split("apt-get install", 1)[1].split("&&")[0]
            installed |= {word for word in command.split() if not word.startswith("-") and word != "\\"}
    assert installed
    needed = {}
    for library, path in re.findall(r"^\s*(\S+) => (/\S+)", result.stdout, re.M):
        if "/lib/swift/" in path:
            continue  # the Swift runtime: linked into the image's binary (--static-swift-stdlib)
        package = _package_of(path)
        assert package, f"{library} ({path}) belongs to no Debian package"
        needed[library] = package
    missing = {library: package for library, package in needed.items()
               if package not in installed | BASE_IMAGE_PACKAGES}
    assert not missing, f"the runtime stage installs none of {missing}"
    assert "libnghttp2-14" in needed.values()

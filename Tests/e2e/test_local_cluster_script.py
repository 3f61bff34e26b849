"""deploy/local-cluster.sh, as a user runs it: start three nodes, see the cluster, stop them."""
import os
import pathlib
import random
import socket
import subprocess

ROOT = pathlib.Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "deploy" / "local-cluster.sh"


def free_base_port() -> int:
    """A base port whose next three ports are free now."""
    for _ in range(50):
        base = random.randrange(20000, 60000)
        sockets = []
        try:
            for offset in (1, 2, 3):
                s = socket.socket()
                sockets.append(s)
                s.bind(("127.0.0.1", base + offset))
            return base
        except OSError:
            continue
        finally:
            for s in sockets:
                s.close()
    raise RuntimeError("no three free ports in a row")


def test_start_status_stop(tmp_path):
    binaries = pathlib.Path(os.environ["RUVECTOR_SERVER_BINARY"]).parent
    base = free_base_port()
    env = {**os.environ, "RUVECTOR_BIN_DIR": str(binaries), "RUVECTOR_CLUSTER_BASE_PORT": str(base)}
    folder = tmp_path / "cluster"

    def script(command: str) -> subprocess.CompletedProcess:
        return subprocess.run([str(SCRIPT), command, str(folder)], capture_output=True, text=True, env=env, timeout=60)

    try:
        started = script("start")
        assert started.returncode == 0, started.stderr
        assert f"127.0.0.1:{base + 1}-{base + 3}" in started.stdout
        # Until a leader is elected the status says none; poll a little.
        for _ in range(100):
            status = script("status")
            if status.returncode == 0 and "leader:       none" not in status.stdout:
                break
        assert status.returncode == 0, status.stderr
        assert status.stdout.count("healthy") == 3, status.stdout
        assert script("start").returncode != 0, "a second start must refuse while the nodes run"
    finally:
        stopped = script("stop")
    assert stopped.returncode == 0 and "stopped" in stopped.stdout
    assert not list(folder.glob("*.pid"))
    for node in (1, 2, 3):
        assert (folder / f"node{node}" / "cluster" / "raft").is_dir()
        assert "stopped" in (folder / f"node{node}.log").read_text()

"""The reference pages must not go stale silently: every flag of `ruvector-server --help`,
every key of the config file and of its `vectorLimits` object is in docs/configuration.md
(the `vectorLimits` keys in docs/limits.md too), every metric family the server exposes is in
docs/operations.md, no page lists one the server no longer has, and every relative link of
README.md and docs/ resolves.

The names come from the real binary, not from its sources: the flags from `--help`, the
config keys from the list the server prints when it refuses an unknown key, the metric
families from a scrape of a running server."""
import json
import os
import pathlib
import re
import subprocess
import urllib.request

from conftest import RunningServer, free_ports

ROOT = pathlib.Path(__file__).resolve().parents[2]
CONFIGURATION = ROOT / "docs" / "configuration.md"
OPERATIONS = ROOT / "docs" / "operations.md"
LIMITS = ROOT / "docs" / "limits.md"


def _binary():
    binary = os.environ.get("RUVECTOR_SERVER_BINARY")
    assert binary and os.access(binary, os.X_OK), "set RUVECTOR_SERVER_BINARY to the built ruvector-server"
    return binary


def _run(*args):
    return subprocess.run([_binary(), *args], capture_output=True, text=True, timeout=30)


def _help_flags():
    result = _run("--help")
    assert result.returncode == 0, result.stderr
    flags = set(re.findall(r"^\s+(?:-\w, )?(--[a-z0-9-]+)", result.stdout, re.M))
    assert "--listen" in flags and "--help" in flags, result.stdout
    return flags, set(re.findall(r"RUVECTOR_[A-Z_]+", result.stdout))


def _refused_names(tmp_path, config, pattern):
    """The names the server lists when it refuses `config` (it names every known one)."""
    path = tmp_path / "refused.json"
    path.write_text(json.dumps(config))
    result = _run("--config", str(path), "--listen", "127.0.0.1:0", "--data-dir", str(tmp_path / "never"))
    assert result.returncode != 0, "the server accepted " + json.dumps(config)
    assert not (tmp_path / "never").exists(), "a refused config must not create the data directory"
    match = re.search(pattern, result.stderr)
    assert match, result.stderr
    return set(re.findall(r"[A-Za-z][A-Za-z0-9]*", match.group(1)))


def _tables(text):
    """Rows of the Markdown tables in `text`, as lists of cells."""
    rows = []
    for line in text.splitlines():
        if line.startswith("|") and not re.match(r"^\|[-:| ]+\|$", line):
            rows.append([cell.strip() for cell in line.strip("|").split("|")])
    return rows


def _section(text, heading):
    """The text under a `## heading`, up to the next heading of that level."""
    match = re.search(r"^## %s\n(.*?)(?=^## |\Z)" % re.escape(heading), text, re.M | re.S)
    assert match, "docs page has no '## %s' section" % heading
    return match.group(1)


def _documented_settings():
    text = CONFIGURATION.read_text(encoding="utf-8")
    flags, keys = set(), set()
    for row in _tables(_section(text, "Settings")):
        if row[0] == "Flag":
            continue
        flags.update(re.findall(r"--[a-z0-9-]+", row[0]))
        keys.update(re.findall(r"`([A-Za-z][A-Za-z0-9]*)`", row[1]))
    limits = set()
    for row in _tables(_section(text, "`vectorLimits`")):
        limits.update(re.findall(r"^`([A-Za-z][A-Za-z0-9]*)`$", row[0]))
    return text, flags, keys, limits


def test_every_flag_is_documented_and_every_documented_flag_exists():
    flags, _ = _help_flags()
    _, documented, _, _ = _documented_settings()
    assert flags - documented == set(), "flags of --help missing from docs/configuration.md"
    assert documented - flags == set(), "docs/configuration.md lists flags the server does not have"


def test_every_config_key_is_documented_and_every_documented_key_exists(tmp_path):
    keys = _refused_names(tmp_path, {"noSuchSettingForDocs": 1}, r"known: \[(.*?)\]")
    assert {"listen", "dataDir", "vectorLimits"} <= keys
    _, _, documented, _ = _documented_settings()
    assert keys - documented == set(), "config keys missing from docs/configuration.md"
    assert documented - keys == set(), "docs/configuration.md lists config keys the server refuses"


def _limits_page_vector_limits():
    rows = _tables(_section(LIMITS.read_text(encoding="utf-8"), "VectorService (`vectorLimits`)"))
    return {match for row in rows for match in re.findall(r"^`([A-Za-z][A-Za-z0-9]*)`$", row[0])}


def test_every_vector_limit_is_documented_and_every_documented_limit_exists(tmp_path):
    limits = _refused_names(tmp_path, {"vectorLimits": {"noSuchLimitForDocs": 1}}, r"known: ([A-Za-z, ]+)")
    assert "maxK" in limits
    _, _, _, documented = _documented_settings()
    assert limits - documented == set(), "vectorLimits keys missing from docs/configuration.md"
    assert documented - limits == set(), "docs/configuration.md lists vectorLimits keys the server refuses"
    on_limits_page = _limits_page_vector_limits()
    assert limits - on_limits_page == set(), "vectorLimits keys missing from docs/limits.md"
    assert on_limits_page - limits == set(), "docs/limits.md lists vectorLimits keys the server refuses"


def test_every_flag_on_the_limits_page_exists():
    flags, _ = _help_flags()
    mentioned = set(re.findall(r"(?<![-\w])--[a-z][a-z0-9-]*", LIMITS.read_text(encoding="utf-8")))
    assert mentioned - flags == set(), "docs/limits.md names flags the server does not have"


def test_every_environment_variable_of_help_is_documented():
    _, variables = _help_flags()
    assert variables, "--help names no RUVECTOR_ environment variable"
    text = CONFIGURATION.read_text(encoding="utf-8")
    assert {v for v in variables if "`%s`" % v not in text} == set()


def _scrape(args, data_dir):
    """The metrics a server started with `args` exposes right after it started."""
    running = RunningServer([*args, "--metrics-listen", "127.0.0.1:0"], data_dir)
    try:
        line = running.process.stdout.readline()
        match = re.search(r"metrics on (http://\S+)", line)
        assert match, line
        with urllib.request.urlopen(match.group(1), timeout=10) as response:
            return response.read().decode()
    finally:
        assert running.stop() == 0


def test_every_metric_family_is_documented_and_every_documented_family_exists(tmp_path):
    exposition = _scrape([], tmp_path / "data")
    families = set(re.findall(r"^# TYPE (\S+) ", exposition, re.M))
    assert "ruvector_rpc_requests_total" in families, exposition
    documented = set()
    for row in _tables(_section(OPERATIONS.read_text(encoding="utf-8"), "Metrics")):
        documented.update(re.findall(r"^`(ruvector_[a-z_]+)", row[0]))
    assert families - documented == set(), "metric families missing from docs/operations.md"
    assert documented - families == set(), "docs/operations.md lists metric families the server does not expose"


def test_every_cluster_metric_family_is_documented_and_every_documented_family_exists(tmp_path):
    port = free_ports(1)[0]
    exposition = _scrape(["--listen", f"127.0.0.1:{port}", "--node-id", "1", "--cluster", f"1=127.0.0.1:{port}"],
                         tmp_path / "data")
    families = {f for f in re.findall(r"^# TYPE (\S+) ", exposition, re.M) if f.startswith(("ruvector_raft_", "ruvector_shard_"))}
    assert {"ruvector_raft_term", "ruvector_shard_replica_lag_records"} <= families, exposition
    documented = set()
    for row in _tables(_section(OPERATIONS.read_text(encoding="utf-8"), "Cluster metrics")):
        documented.update(re.findall(r"^`(ruvector_[a-z_]+)", row[0]))
    assert families - documented == set(), "cluster metric families missing from docs/operations.md"
    assert documented - families == set(), "docs/operations.md lists cluster metric families the server does not expose"


def _anchors(path):
    """The anchors GitHub gives the headings of a Markdown file (lower case, punctuation
    dropped, spaces as hyphens; repeats get -1, -2, ...)."""
    anchors, seen = set(), {}
    in_code = False
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("```"):
            in_code = not in_code
        if in_code or not re.match(r"^#{1,6} ", line):
            continue
        slug = re.sub(r"[^\w\- ]", "", line.lstrip("#").strip().lower()).replace(" ", "-")
        count = seen.get(slug, 0)
        seen[slug] = count + 1
        anchors.add(slug if count == 0 else "%s-%d" % (slug, count))
    return anchors


def test_every_relative_link_of_the_docs_resolves():
    pages = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
    broken = []
    for page in pages:
        text = re.sub(r"```.*?```", "", page.read_text(encoding="utf-8"), flags=re.S)
        for target in re.findall(r"\]\(([^)\s]+)\)", text):
            if re.match(r"^[a-z]+:", target):
                continue
            path, _, anchor = target.partition("#")
            resolved = (page.parent / path).resolve() if path else page
            if not resolved.exists():
                broken.append("%s: %s (no such file)" % (page.relative_to(ROOT), target))
            elif anchor and resolved.suffix == ".md" and anchor not in _anchors(resolved):
                broken.append("%s: %s (no such heading)" % (page.relative_to(ROOT), target))
    assert broken == []

"""The web console (docs/console.md) in headless Chromium against the real server: served files
and their headers over HTTP/1.1 and HTTP/2, then the pages driven like a user would: create a
collection, upsert points, search with a filter (and run the page's Python snippet), run Cypher
and see rows stream in, see a bad query's error, cancel a long query (the server sees the call
cancelled), delete with confirmation; with an API key, the page fails clearly until a key is
entered. Screenshots go to each test's tmp_path."""
from __future__ import annotations

import http.client
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import h2.config
import h2.connection
import h2.events
import pytest

from conftest import TEST_CERTS, TLS_HOST_OVERRIDE, RunningServer, wait_for_metrics

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
API_KEY = "console-key-0123456789abcdef01"
WAIT_SECONDS = 15


# MARK: Served files, without a browser


def _get(server: RunningServer, path: str, method: str = "GET") -> http.client.HTTPResponse:
    conn = http.client.HTTPConnection(server.host, server.port, timeout=10)
    conn.request(method, path)
    response = conn.getresponse()
    response.body = response.read()  # type: ignore[attr-defined]
    conn.close()
    return response


def _h2_get(server: RunningServer, path: str, method: str = "GET") -> tuple[dict[str, str], bytes]:
    """One HTTP/2 (prior knowledge) request: the response headers and body."""
    conn = h2.connection.H2Connection(h2.config.H2Configuration(client_side=True))
    conn.initiate_connection()
    headers, body, ended = {}, b"", False
    with socket.create_connection((server.host, server.port), timeout=10) as sock:
        conn.send_headers(1, [(":method", method), (":path", path), (":scheme", "http"),
                              (":authority", server.address)], end_stream=True)
        sock.sendall(conn.data_to_send())
        while not ended:
            data = sock.recv(65536)
            assert data, "connection closed before the response ended"
            for event in conn.receive_data(data):
                if isinstance(event, h2.events.ResponseReceived):
                    headers = {k.decode(): v.decode() for k, v in event.headers}
                elif isinstance(event, h2.events.DataReceived):
                    body += event.data
                    conn.acknowledge_received_data(event.flow_controlled_length, event.stream_id)
                elif isinstance(event, h2.events.StreamEnded):
                    ended = True
            sock.sendall(conn.data_to_send())
    return headers, body


def test_console_files_are_served_with_their_headers(tmp_path):
    server = RunningServer([], tmp_path / "data")
    try:
        index = _get(server, "/")
        assert index.status == 200 and index.getheader("content-type") == "text/html; charset=utf-8"
        assert b'<script type="module" src="/console/app.js">' in index.body
        csp = index.getheader("content-security-policy")
        assert "default-src 'self'" in csp and "script-src 'self'" in csp and "frame-ancestors 'none'" in csp
        assert index.getheader("x-content-type-options") == "nosniff"
        assert index.getheader("cache-control") == "no-cache"
        script = _get(server, "/console/app.js?v=1")
        assert script.status == 200 and script.getheader("content-type").startswith("text/javascript")
        head = _get(server, "/console/app.js", "HEAD")
        assert head.status == 200 and head.body == b"" and int(head.getheader("content-length")) == len(script.body)
        for path in ["/console/", "/console/../console/app.js", "/etc/passwd", "/console/schema"]:
            assert _get(server, path).status == 404, path
        headers, body = _h2_get(server, "/console/grpcweb.js")
        assert headers[":status"] == "200" and headers["x-content-type-options"] == "nosniff"
        assert body == _get(server, "/console/grpcweb.js").body
        headers, body = _h2_get(server, "/console/style.css", "HEAD")
        assert headers[":status"] == "200" and body == b"" and int(headers["content-length"]) > 0
        assert _h2_get(server, "/missing")[0][":status"] == "404"
        # A gRPC method's path is still told that gRPC needs POST.
        assert _get(server, "/ruvector.v1.VectorService/ListCollections").status == 405
    finally:
        server.stop()


@pytest.mark.parametrize("how", ["flag", "config"])
def test_no_console_refuses_get(tmp_path, how):
    config = tmp_path / "config.json"
    config.write_text(json.dumps({"console": False}))
    server = RunningServer(["--no-console"] if how == "flag" else ["--config", str(config)], tmp_path / "data")
    try:
        assert _get(server, "/").status == 405
        assert _h2_get(server, "/console/app.js")[0][":status"] == "405"
    finally:
        server.stop()


# MARK: In the browser


def _start_browser(tmp_path, extra_arguments: list[str]):
    """Headless Chromium through Debian's chromedriver; skips when missing, fails in CI."""
    missing = [path for path in (CHROMIUM, CHROMEDRIVER) if not shutil.which(path)]
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ImportError:
        missing.append("selenium (scripts/requirements-test.txt)")
    if missing:
        message = f"the console tests need {', '.join(missing)} (scripts/setup.sh installs them)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    # The page's console log, read by _assert_no_page_errors (CSP refusals and uncaught errors).
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    for argument in ["--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1280,1000",
                     f"--user-data-dir={tmp_path / 'chromium-profile'}", *extra_arguments]:
        options.add_argument(argument)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(WAIT_SECONDS)
    return driver


@pytest.fixture
def browser(tmp_path):
    """A headless Chromium for one test."""
    driver = _start_browser(tmp_path, [])
    try:
        yield driver
    finally:
        driver.quit()


def _wait(driver, condition, what: str):
    from selenium.common.exceptions import StaleElementReferenceException
    from selenium.webdriver.support.ui import WebDriverWait

    try:
        # A table rebuilt while it is read leaves stale cells: the next poll reads it again.
        return WebDriverWait(driver, WAIT_SECONDS, poll_frequency=0.05,
                             ignored_exceptions=[StaleElementReferenceException]).until(lambda d: condition(d))
    except Exception as error:
        status = driver.find_element("id", "status").text
        raise AssertionError(f"timed out waiting for {what} ({type(error).__name__}); status shown: {status!r}") from error


def _fill(driver, element_id: str, text: str) -> None:
    field = driver.find_element("id", element_id)
    field.clear()
    field.send_keys(text)


def _text(driver, element_id: str) -> str:
    return driver.find_element("id", element_id).text


def _rows(driver, table_id: str) -> list[list[str]]:
    """A table's body cells as text, in one round trip (one per cell takes seconds for 600 rows)."""
    return driver.execute_script(
        "return [...document.querySelectorAll(`#${arguments[0]} tbody tr`)]"
        ".map(row => [...row.cells].map(cell => cell.textContent))", table_id)


def _open_page(driver, server: RunningServer, page: str) -> None:
    """Loads the console at #page and waits until that page shows."""
    driver.get(f"http://{server.address}/#{page}")
    _wait(driver, lambda d: d.find_element("id", f"page-{page}").is_displayed(), f"the {page} page")


def _assert_no_page_errors(driver) -> None:
    """No CSP refusal and no uncaught script error in the page's console log so far."""
    entries = [entry["message"] for entry in driver.get_log("browser") if entry["level"] == "SEVERE"]
    bad = [message for message in entries if "Content Security Policy" in message or "Uncaught" in message]
    assert bad == [], bad


def _info(driver) -> dict[str, str]:
    """The collection info panel as {term: value}."""
    return driver.execute_script(
        "return Object.fromEntries([...document.querySelectorAll('#info-list dd')].map(dd => [dd.dataset.term, dd.textContent]))")


def _wait_cancelled_count(metrics_url: str, count: int) -> None:
    """Waits until the server has counted `count` Cypher calls ended CANCELLED."""
    wait_for_metrics(metrics_url, re.compile(
        r'ruvector_rpc_requests_total\{method="/ruvector.v1.GraphService/Execute",code="CANCELLED"\} ' + str(count) + "\n"),
        timeout=WAIT_SECONDS)


STREAMING_QUERY = "UNWIND range(1, 20000) AS a UNWIND range(1, 20000) AS b RETURN a, b"


def _stream_then_cancel(driver, screenshot) -> None:
    """Runs a query of 400 million rows (it cannot finish first), sees rows arrive, cancels it."""
    _fill(driver, "cypher-max-rows", "0")
    _fill(driver, "cypher-query", STREAMING_QUERY)
    driver.find_element("id", "cypher-run").click()
    _wait(driver, lambda d: re.fullmatch(r"running… \d{4,} rows.*", _text(d, "cypher-state")), "streamed rows")
    assert len(_rows(driver, "cypher-results")) >= 1000
    driver.save_screenshot(str(screenshot))
    driver.find_element("id", "cypher-cancel").click()
    _wait(driver, lambda d: _text(d, "cypher-state").startswith("cancelled after"), "the streaming query to be cancelled")


POINTS = [
    {"id": 1, "vector": [1, 0, 0, 0], "payload": {"lang": "en", "title": "first"}},
    {"id": 2, "vector": [0.9, 0.1, 0, 0], "payload": {"lang": "de", "title": "zweite"}},
    {"id": 3, "vector": [0.8, 0.2, 0.1, 0], "payload": {"lang": "en", "title": "third"}},
]


def _create_and_fill(driver, tmp_path) -> None:
    """Creates collection docs (dimension 4, L2) and upserts POINTS through the page."""
    _fill(driver, "create-name", "docs")
    _fill(driver, "create-dimension", "4")
    driver.find_element("css selector", "#create-metric option[value=METRIC_L2]").click()
    driver.find_element("id", "create-button").click()
    _wait(driver, lambda d: any(row[:3] == ["docs", "4", "L2"] for row in _rows(d, "collections-table")),
          "the new collection in the table")
    assert driver.find_element("id", "upsert-collection").get_attribute("value") == "docs"
    _fill(driver, "upsert-points", json.dumps(POINTS))
    driver.find_element("id", "upsert-button").click()
    _wait(driver, lambda d: any(row[0] == "docs" and row[3] == "3" for row in _rows(d, "collections-table")),
          "3 points in docs")
    driver.save_screenshot(str(tmp_path / "collections.png"))


def _search_with_filter(driver, tmp_path) -> None:
    """A filtered search by vector, its Python snippet run for real, then a search by id."""
    driver.find_element("id", "nav-search").click()
    _wait(driver, lambda d: d.find_element("id", "page-search").is_displayed(), "the search page")
    _fill(driver, "search-vector", "[1, 0, 0, 0]")
    _fill(driver, "search-k", "10")
    _fill(driver, "search-filter", '{"must": [{"field": {"key": "lang", "match": {"keyword": "en"}}}]}')
    driver.find_element("id", "search-button").click()
    _wait(driver, lambda d: len(_rows(d, "search-results")) == 2, "two filtered hits")
    rows = _rows(driver, "search-results")
    assert [row[0] for row in rows] == ["1", "3"], rows
    assert json.loads(rows[0][2]) == {"lang": "en", "title": "first"}
    assert float(rows[0][1]) >= float(rows[1][1])
    driver.save_screenshot(str(tmp_path / "search.png"))
    snippet = driver.find_element("id", "search-snippet").get_attribute("value")
    ran = subprocess.run([sys.executable, "-c", snippet], capture_output=True, text=True, timeout=30)
    assert ran.returncode == 0, ran.stderr
    assert ran.stdout.count("num: ") == 2 and "first" in ran.stdout and "zweite" not in ran.stdout, ran.stdout
    # By an existing point's id: point 2's own vector, no filter.
    driver.find_element("id", "search-by-id").click()
    _fill(driver, "search-vector", "2")
    driver.find_element("id", "search-filter").clear()
    driver.find_element("id", "search-button").click()
    _wait(driver, lambda d: [row[0] for row in _rows(d, "search-results")][:1] == ["2"], "point 2 first")
    assert len(_rows(driver, "search-results")) == 3


def _cypher(driver, tmp_path, metrics_url: str) -> None:
    """Rows of a query, a bad query's error, and a long query cancelled."""
    driver.find_element("id", "nav-cypher").click()
    _wait(driver, lambda d: d.find_element("id", "page-cypher").is_displayed(), "the Cypher page")
    _fill(driver, "cypher-query", "UNWIND range(1, 600) AS i RETURN i AS n")
    driver.find_element("id", "cypher-run").click()
    _wait(driver, lambda d: _text(d, "cypher-state") == "done: 600 rows", "600 rows")
    headers = [cell.text for cell in driver.find_elements("css selector", "#cypher-results thead th")]
    assert headers == ["n"]
    rows = _rows(driver, "cypher-results")
    assert [row[0] for row in rows[:3]] == ["1", "2", "3"] and rows[-1] == ["600"]
    driver.save_screenshot(str(tmp_path / "cypher.png"))

    _fill(driver, "cypher-query", "MATCH (n RETURN n")
    driver.find_element("id", "cypher-run").click()
    _wait(driver, lambda d: _text(d, "cypher-state") == "failed", "the bad query to fail")
    assert re.match(r"Query failed: INVALID_ARGUMENT: .+", _text(driver, "status")), _text(driver, "status")
    driver.save_screenshot(str(tmp_path / "cypher-error.png"))

    # The row limit: the server stops the query there.
    _fill(driver, "cypher-query", "UNWIND range(1, 600) AS i RETURN i AS n")
    _fill(driver, "cypher-max-rows", "300")
    driver.find_element("id", "cypher-run").click()
    _wait(driver, lambda d: _text(d, "cypher-state") == "done: 300 rows (row limit reached)", "300 rows")
    _stream_then_cancel(driver, tmp_path / "cypher-streaming.png")

    # A query that sends nothing until it ends (an aggregate over 400 million rows), cancelled.
    _fill(driver, "cypher-query", "UNWIND range(1, 20000) AS a UNWIND range(1, 20000) AS b RETURN count(*) AS c")
    driver.find_element("id", "cypher-run").click()
    _wait(driver, lambda d: d.find_element("id", "cypher-cancel").is_enabled(), "the cancel button")
    time.sleep(0.3)
    driver.find_element("id", "cypher-cancel").click()
    _wait(driver, lambda d: _text(d, "cypher-state").startswith("cancelled"), "the query to be cancelled")
    # The server saw both calls end CANCELLED: the browser closed the requests, not just the page.
    _wait_cancelled_count(metrics_url, 2)
    assert driver.find_element("id", "cypher-run").is_enabled()


def test_console_pages_end_to_end(tmp_path, browser):
    server = RunningServer(["--metrics-listen", "127.0.0.1:0"], tmp_path / "data")
    try:
        metrics_url = server.read_metrics_url()
        browser.get(f"http://{server.address}/")
        _wait(browser, lambda d: _text(d, "key-state") == "no key", "the page's script to start")
        _create_and_fill(browser, tmp_path)
        _search_with_filter(browser, tmp_path)
        _cypher(browser, tmp_path, metrics_url)
        # Delete, confirmed in the browser's dialog.
        browser.find_element("id", "nav-collections").click()
        # The page lists collections again when shown: a button found before that goes stale.
        _wait(browser, lambda d: d.find_element("css selector", "button[aria-label='Delete collection docs']").click() or True,
              "the delete button")
        browser.switch_to.alert.accept()
        _wait(browser, lambda d: not _rows(d, "collections-table"), "the collection to be gone")
        assert "deleted (3 points)" in _text(browser, "status")
        # Every input has a label.
        unlabelled = browser.execute_script(
            "return [...document.querySelectorAll('input, select, textarea')]"
            ".filter(e => !e.labels || e.labels.length === 0).map(e => e.id)")
        assert unlabelled == []
    finally:
        server.stop()


def test_console_creates_collections_with_options(tmp_path, browser):
    """Create with int8 quantization, HNSW m / ef_search and vectors on disk, then PQ4, int4 and
    tiered ones: the info panel shows what the server applied, and points once written."""
    server = RunningServer([], tmp_path / "data")
    try:
        browser.get(f"http://{server.address}/")
        _wait(browser, lambda d: _text(d, "key-state") == "no key", "the page's script to start")
        # The tier and PQ fields show only for the kinds that use them.
        assert not browser.find_element("id", "create-hot-threshold").is_displayed()
        browser.find_element("css selector", "#create-options summary").click()
        _fill(browser, "create-name", "quant")
        _fill(browser, "create-dimension", "4")
        browser.find_element("css selector", "#create-quantization option[value=scalar]").click()
        assert not browser.find_element("id", "create-pq-subvectors").is_displayed()
        _fill(browser, "create-m", "8")
        _fill(browser, "create-ef-search", "32")
        browser.find_element("id", "create-on-disk").click()
        browser.find_element("id", "create-on-disk-graph").click()
        browser.find_element("id", "create-button").click()
        _wait(browser, lambda d: _info(d).get("Name") == "quant", "the new collection's info")
        info = _info(browser)
        assert info["Quantization"] == "scalar (int8)", info
        assert info["HNSW"].startswith("m 8, ef_construction 200, ef_search 32, "), info
        assert info["Vectors on disk"].startswith("yes") and info["Graph on disk"].startswith("yes"), info
        assert info["Points"] == "0" and info["Metric"] == "cosine" and info["Shards"] == "1", info
        _fill(browser, "upsert-points", json.dumps(POINTS))
        browser.find_element("id", "upsert-button").click()
        _wait(browser, lambda d: any(row[0] == "quant" and row[3] == "3" for row in _rows(d, "collections-table")),
              "3 points in quant")
        browser.find_element("css selector", "button[aria-label='Info on collection quant']").click()
        _wait(browser, lambda d: _info(d).get("Points") == "3", "3 points in the info")
        on_disk = re.fullmatch(r"yes, (\d+) B", _info(browser)["Vectors on disk"])
        assert on_disk and int(on_disk.group(1)) >= 3 * 4 * 4, _info(browser)
        browser.save_screenshot(str(tmp_path / "collection-info.png"))

        # PQ4 with 2 subvectors, then tiered with its thresholds.
        _fill(browser, "create-name", "pq")
        browser.find_element("css selector", "#create-quantization option[value=pq4]").click()
        _fill(browser, "create-pq-subvectors", "2")
        browser.find_element("id", "create-on-disk").click()
        browser.find_element("id", "create-on-disk-graph").click()
        browser.find_element("id", "create-button").click()
        _wait(browser, lambda d: _info(d).get("Name") == "pq", "pq's info")
        assert _info(browser)["Quantization"] == "product (PQ4, 2 subvectors)"
        assert _info(browser)["HNSW"].startswith("m 8, ")
        assert _info(browser)["Vectors on disk"] == "no" and _info(browser)["Graph on disk"] == "no"
        _fill(browser, "create-name", "small")
        browser.find_element("css selector", "#create-quantization option[value=int4]").click()
        assert not browser.find_element("id", "create-pq-subvectors").is_displayed()
        browser.find_element("id", "create-button").click()
        _wait(browser, lambda d: _info(d).get("Name") == "small", "small's info")
        assert _info(browser)["Quantization"] == "scalar (int4 residuals)"
        _fill(browser, "create-name", "tiers")
        browser.find_element("css selector", "#create-quantization option[value=tiered]").click()
        for field in ["create-m", "create-ef-search", "create-pq-subvectors"]:
            browser.find_element("id", field).clear()
        _fill(browser, "create-hot-threshold", "500")
        _fill(browser, "create-retier-interval", "2000")
        browser.find_element("id", "create-button").click()
        _wait(browser, lambda d: _info(d).get("Name") == "tiers", "tiers' info")
        info = _info(browser)
        assert info["Quantization"] == "tiered (hot threshold 500, re-tier every 2000 searches, default subvectors)", info
        assert info["HNSW"].startswith("m 16, ") and info["Vectors on disk"].startswith("yes"), info
        # What the page shows is what the server holds.
        from ruvector.v1 import vector_pb2, vector_pb2_grpc
        import grpc

        with grpc.insecure_channel(server.address) as channel:
            stored = vector_pb2_grpc.VectorServiceStub(channel).GetCollection(vector_pb2.GetCollectionRequest(name="tiers"))
        assert stored.quantization.tiered.hot_threshold == 500 and stored.quantization.tiered.retier_interval_queries == 2000
        assert info["Tiers"] == "not tiered (or not built yet)", info
        # Past the training count (1024 points) the tiers are built: their counts in the info.
        import ruvector

        with ruvector.Client(server.address, timeout=60) as db:
            for start in range(0, 1500, 500):
                db.upsert("tiers", ids=range(start, start + 500),
                          vectors=[[1 + i % 7, i % 5, i % 3, 1] for i in range(start, start + 500)])
            tiers = db.get_collection("tiers").tiers
        assert tiers is not None and tiers.hot + tiers.warm == 1500, tiers
        browser.find_element("css selector", "button[aria-label='Info on collection tiers']").click()
        _wait(browser, lambda d: _info(d).get("Points") == "1500", "1500 points in the info")
        shown = re.fullmatch(r"hot (\d+), warm (\d+), cool (\d+), cold (\d+), archive (\d+); codes [\d.]+ (B|KiB|MiB); (\d+) passes",
                             _info(browser)["Tiers"])
        assert shown and [int(shown.group(i)) for i in (1, 2, 3, 4, 5, 7)] == [
            tiers.hot, tiers.warm, tiers.cool, tiers.cold, tiers.archive, tiers.passes], (_info(browser), tiers)

        # A bad value is the server's clear refusal, shown as such.
        _fill(browser, "create-name", "bad")
        browser.find_element("css selector", "#create-quantization option[value=pq8]").click()
        _fill(browser, "create-pq-subvectors", "9")
        browser.find_element("id", "create-button").click()
        _wait(browser, lambda d: "Creating bad failed: INVALID_ARGUMENT" in _text(d, "status"), "9 subvectors of 4 refused")
        _assert_no_page_errors(browser)
    finally:
        server.stop()


def _upsert_numbered(server: RunningServer, collection: str, count: int) -> None:
    """Collection of `count` 4-d L2 points through grpcio: payload lang (en for odd ids), n = id,
    flag (id divisible by 3)."""
    import grpc
    from ruvector.v1 import common_pb2, vector_pb2, vector_pb2_grpc

    with grpc.insecure_channel(server.address) as channel:
        stub = vector_pb2_grpc.VectorServiceStub(channel)
        stub.CreateCollection(vector_pb2.CreateCollectionRequest(name=collection, dimension=4, metric=vector_pb2.METRIC_L2))
        points = []
        for i in range(count):
            point = vector_pb2.PointStruct(id=common_pb2.PointId(num=i), vector=common_pb2.Vector(values=[i, 1, 0, 0]))
            point.payload.fields["lang"].string_value = "en" if i % 2 else "de"
            point.payload.fields["n"].int_value = i
            point.payload.fields["flag"].bool_value = i % 3 == 0
            points.append(point)
        stub.Upsert(vector_pb2.UpsertRequest(collection=collection, points=points, wait=vector_pb2.WRITE_WAIT_DURABLE))


def _add_condition(driver, clause: str, key: str, operator: str, value: str) -> None:
    driver.find_element("id", "points-add-condition").click()
    row = driver.find_elements("css selector", "#points-conditions .condition")[-1]
    selects = row.find_elements("css selector", "select")
    selects[0].find_element("css selector", f"option[value={clause}]").click()
    inputs = row.find_elements("css selector", "input")
    inputs[0].send_keys(key)
    selects[1].find_element("css selector", f"option[value={operator}]").click()
    if value:
        inputs[1].send_keys(value)


def test_console_points_browser(tmp_path, browser):
    """Scroll 250 points with a filter built from rows (keyword, range, must_not boolean), page
    by page with the server's offsets: exactly the matching ids, each once; then one point's
    payload and vector."""
    server = RunningServer([], tmp_path / "data")
    try:
        _upsert_numbered(server, "numbers", 250)
        _open_page(browser, server, "points")
        _fill(browser, "points-collection", "numbers")
        _fill(browser, "points-limit", "40")
        _add_condition(browser, "must", "lang", "keyword", "en")
        _add_condition(browser, "must", "n", "gte", "100")
        _add_condition(browser, "must_not", "flag", "boolean", "true")
        # A row added by mistake, removed again.
        _add_condition(browser, "must", "n", "lt", "0")
        browser.find_element("css selector", "button[aria-label='Remove condition 4']").click()
        browser.find_element("id", "points-scroll").click()
        expected = [i for i in range(100, 250) if i % 2 == 1 and i % 3 != 0]
        seen: list[int] = []
        for page in range(1, 10):
            _wait(browser, lambda d: _text(d, "points-page").startswith(f"page {page}: "), f"page {page}")
            rows = _rows(browser, "points-table")
            assert 0 < len(rows) <= 40, rows
            for row in rows:
                payload = json.loads(row[1])
                assert payload["lang"] == "en" and payload["n"] >= 100 and payload["flag"] is False, row
                seen.append(int(row[0]))
            if page == 1:
                browser.save_screenshot(str(tmp_path / "points.png"))
            if _text(browser, "points-page").endswith("(last page)"):
                assert not browser.find_element("id", "points-next").is_enabled()
                break
            browser.find_element("id", "points-next").click()
        assert sorted(seen) == expected and len(seen) == len(set(seen)), seen
        sent = json.loads(browser.find_element("id", "points-filter-json").get_attribute("value"))
        assert sent == {"must": [{"field": {"key": "lang", "match": {"keyword": "en"}}},
                                 {"field": {"key": "n", "range": {"gte": 100}}}],
                        "must_not": [{"field": {"key": "flag", "match": {"boolean": True}}}]}
        # The same filter in the search playground: only matching hits, nearest first.
        browser.find_element("id", "points-to-search").click()
        _wait(browser, lambda d: d.find_element("id", "page-search").is_displayed(), "the search page")
        assert json.loads(browser.find_element("id", "search-filter").get_attribute("value")) == sent
        assert browser.switch_to.active_element.get_attribute("id") == "search-vector"
        _fill(browser, "search-vector", "[150, 1, 0, 0]")
        _fill(browser, "search-k", "4")
        browser.find_element("id", "search-button").click()
        # 147 and 153 are multiples of 3: left out. Equal distances may come in either order.
        _wait(browser, lambda d: [{row[0] for row in _rows(d, "search-results")[i:i + 2]} for i in (0, 2)]
              == [{"149", "151"}, {"145", "155"}], "the filtered hits nearest 150")
        browser.find_element("id", "nav-points").click()
        # Back one page: the same points as before.
        browser.find_element("id", "points-previous").click()
        _wait(browser, lambda d: _text(d, "points-page").startswith(f"page {page - 1}: "), "the previous page")
        # One point in full.
        browser.find_element("css selector", "button[aria-label='View point 101']").click()
        _wait(browser, lambda d: d.find_element("id", "point-view").is_displayed(), "the point view")
        assert _text(browser, "point-view-title") == "Point 101"
        assert json.loads(_text(browser, "point-vector")) == [101, 1, 0, 0]
        assert json.loads(_text(browser, "point-payload")) == {"lang": "en", "n": 101, "flag": False}
        browser.save_screenshot(str(tmp_path / "point.png"))
        # A bad row is named, and nothing is sent.
        _add_condition(browser, "must", "n", "integer", "ten")
        browser.find_element("id", "points-scroll").click()
        _wait(browser, lambda d: _text(d, "status") == "Filter: condition 4: 'ten' is not an integer", "the bad row named")
        # Enter in a condition's value runs the scroll (keyboard use).
        from selenium.webdriver.common.keys import Keys

        browser.find_element("css selector", "button[aria-label='Remove condition 5']").click()
        browser.find_element("id", "cond-3-value").send_keys(Keys.ENTER)
        _wait(browser, lambda d: _text(d, "points-page").startswith("page 1: "), "the scroll run by Enter")
        _assert_no_page_errors(browser)
    finally:
        server.stop()


def test_console_search_options_and_snippets(tmp_path, browser):
    """ef, exact and a filter in the playground; the CLI and Python snippets run for real and
    give the page's ids; the grpcurl body is the request the page sent."""
    from google.protobuf import json_format
    from ruvector.v1 import vector_pb2

    cli = Path(os.environ.get("RUVECTOR_CLI_BINARY") or Path(os.environ.get("RUVECTOR_SERVER_BINARY", "")).with_name("ruvector"))
    server = RunningServer([], tmp_path / "data")
    try:
        _upsert_numbered(server, "numbers", 300)
        _open_page(browser, server, "search")
        _fill(browser, "search-collection", "numbers")
        _fill(browser, "search-vector", "[120.2, 1, 0, 0]")
        _fill(browser, "search-k", "5")
        _fill(browser, "search-filter", '{"must": [{"field": {"key": "lang", "match": {"keyword": "en"}}}],'
                                        ' "must_not": [{"field": {"key": "n", "range": {"gt": 120}}}]}')
        _fill(browser, "search-ef", "128")
        browser.find_element("id", "search-exact").click()
        browser.find_element("id", "search-button").click()
        _wait(browser, lambda d: len(_rows(d, "search-results")) == 5, "five hits")
        ids = [row[0] for row in _rows(browser, "search-results")]
        assert ids == ["119", "117", "115", "113", "111"], ids
        browser.save_screenshot(str(tmp_path / "search-options.png"))

        grpcurl = browser.find_element("id", "search-grpcurl").get_attribute("value")
        body = re.search(r"-d '(.*)' ", grpcurl)
        assert body and grpcurl.endswith(f" {server.address} ruvector.v1.VectorService/Search"), grpcurl
        sent = json_format.Parse(body.group(1), vector_pb2.SearchRequest())
        assert sent.params.ef == 128 and sent.params.exact and sent.k == 5 and getattr(sent, "with").with_payload is True
        assert sent.filter.must[0].field.match.keyword == "en" and sent.filter.must_not[0].field.range.gt == 120

        python = browser.find_element("id", "search-snippet").get_attribute("value")
        ran = subprocess.run([sys.executable, "-c", python], capture_output=True, text=True, timeout=30)
        assert ran.returncode == 0, ran.stderr
        assert re.findall(r"num: (\d+)", ran.stdout) == ids, ran.stdout

        command = browser.find_element("id", "search-cli").get_attribute("value")
        assert command.startswith("ruvector search --server ") and "--ef 128 --exact" in command, command
        if not cli.is_file():
            pytest.fail(f"build the CLI beside the server to run the snippet: swift build --product ruvector ({cli})")
        ran = subprocess.run(["bash", "-c", command], capture_output=True, text=True, timeout=60,
                             env={**os.environ, "PATH": f"{cli.parent}:{os.environ['PATH']}"})
        assert ran.returncode == 0, ran.stderr
        # The table: RANK ID SCORE PAYLOAD, one row per hit.
        cli_ids = [line.split()[1] for line in ran.stdout.splitlines()[1:] if line.strip()]
        assert cli_ids == ids, ran.stdout

        # Quantization options: the CLI has none, and the snippet says so; the call still runs.
        browser.find_element("id", "search-ignore-quantization").click()
        _fill(browser, "search-oversampling", "2")
        browser.find_element("id", "search-button").click()
        _wait(browser, lambda d: "no quantization options" in d.find_element("id", "search-cli").get_attribute("value"),
              "the CLI note")
        grpcurl = browser.find_element("id", "search-grpcurl").get_attribute("value")
        sent = json_format.Parse(re.search(r"-d '(.*)' ", grpcurl).group(1), vector_pb2.SearchRequest())
        assert sent.params.quantization.ignore and sent.params.quantization.oversampling == 2
        _wait(browser, lambda d: [row[0] for row in _rows(d, "search-results")] == ids, "the same hits")
        _assert_no_page_errors(browser)
    finally:
        server.stop()


def _drawing(driver) -> dict:
    """The Cypher drawing: node captions and centres, relationship labels."""
    return driver.execute_script("""
        const svg = document.getElementById('cypher-graph');
        return {nodes: [...svg.querySelectorAll('g.node')].map(g => ({
                    text: g.querySelector('text').textContent,
                    x: Number(g.querySelector('circle').getAttribute('cx')),
                    y: Number(g.querySelector('circle').getAttribute('cy'))})),
                links: [...svg.querySelectorAll('g.link text')].map(t => t.textContent)};""")


def test_console_cypher_parameters_drawing_and_history(tmp_path, browser):
    """A query with parameters creates nodes; the nodes and relationship are drawn apart from
    each other inside the picture; a path is drawn; a big result is drawn up to the node bound;
    the tab's history brings a query and its parameters back, survives a reload and is not
    shared with another tab."""
    server = RunningServer([], tmp_path / "data")
    try:
        _open_page(browser, server, "cypher")
        assert _text(browser, "cypher-history") == "no earlier queries in this tab"
        create = ("CREATE (a:Person {name: $a})-[r:KNOWS {since: $year}]->(b:Person {name: $b}) "
                  "RETURN a, r, b")
        _fill(browser, "cypher-query", create)
        _fill(browser, "cypher-parameters", '{"a": "Ada", "b": "Bob", "year": 1843}')
        browser.find_element("id", "cypher-run").click()
        _wait(browser, lambda d: _text(d, "cypher-state") == "done: 1 rows", "the created row")
        row = _rows(browser, "cypher-results")[0]
        assert json.loads(row[0])["properties"] == {"name": "Ada"} and json.loads(row[1])["properties"] == {"since": 1843}
        assert _text(browser, "cypher-graph-state") == "2 nodes, 1 relationships drawn"
        drawing = _drawing(browser)
        assert sorted(node["text"] for node in drawing["nodes"]) == ["Person Ada", "Person Bob"]
        assert drawing["links"] == ["KNOWS"]
        (a, b) = drawing["nodes"]
        assert (a["x"] - b["x"]) ** 2 + (a["y"] - b["y"]) ** 2 > 30 ** 2, drawing
        assert all(0 < node["x"] < 900 and 0 < node["y"] < 520 for node in drawing["nodes"]), drawing
        browser.save_screenshot(str(tmp_path / "cypher-graph.png"))

        # A path: its nodes and relationships are drawn.
        _fill(browser, "cypher-query", "MATCH p = (:Person {name: $from})-[:KNOWS]->() RETURN p")
        _fill(browser, "cypher-parameters", '{"from": "Ada"}')
        browser.find_element("id", "cypher-run").click()
        _wait(browser, lambda d: _text(d, "cypher-graph-state") == "2 nodes, 1 relationships drawn", "the path drawn")

        # More nodes than the drawing takes: the rest are counted.
        _fill(browser, "cypher-query", "UNWIND range(1, 350) AS i CREATE (n:N {name: 'n' + toString(i)}) RETURN n")
        browser.find_element("id", "cypher-parameters").clear()
        browser.find_element("id", "cypher-run").click()
        _wait(browser, lambda d: _text(d, "cypher-state") == "done: 350 rows", "350 rows")
        _wait(browser, lambda d: _text(d, "cypher-graph-state") == "300 nodes, 0 relationships drawn (50 more nodes not drawn)",
              "the drawing bounded")
        points = {(round(node["x"]), round(node["y"])) for node in _drawing(browser)["nodes"]}
        assert len(points) > 250, len(points)  # spread out, not piled up
        browser.save_screenshot(str(tmp_path / "cypher-many.png"))

        # A scalar result draws nothing; parameters that are not an object are refused before sending.
        _fill(browser, "cypher-query", "RETURN $x AS x")
        _fill(browser, "cypher-parameters", "[1]")
        browser.find_element("id", "cypher-run").click()
        _wait(browser, lambda d: "Parameters must be a JSON object" in _text(d, "status"), "the bad parameters")
        _fill(browser, "cypher-parameters", '{"x": [1, 2.5, "three", null, {"k": true}]}')
        browser.find_element("id", "cypher-run").click()
        _wait(browser, lambda d: _text(d, "cypher-state") == "done: 1 rows", "the parameter echoed")
        assert json.loads(_rows(browser, "cypher-results")[0][0]) == [1, 2.5, "three", None, {"k": True}]
        assert _text(browser, "cypher-graph-state") == ""

        # A query longer than a history entry runs and is not kept.
        long_query = "RETURN '" + "x" * 20000 + "' AS long"
        browser.execute_script("document.getElementById('cypher-query').value = arguments[0]", long_query)
        browser.find_element("id", "cypher-parameters").clear()
        browser.find_element("id", "cypher-run").click()
        _wait(browser, lambda d: _text(d, "cypher-state") == "done: 1 rows" and "x" * 100 in _rows(d, "cypher-results")[0][0],
              "the long query's row")
        # History: newest first, the first query and its parameters brought back.
        options = [o.text for o in browser.find_elements("css selector", "#cypher-history option")]
        assert options[0] == "4 earlier queries in this tab" and options[1].startswith("RETURN $x AS x"), options
        browser.find_element("css selector", "#cypher-history option[value='3']").click()
        assert browser.find_element("id", "cypher-query").get_attribute("value") == create
        assert json.loads(browser.find_element("id", "cypher-parameters").get_attribute("value"))["year"] == 1843
        browser.refresh()
        _wait(browser, lambda d: _text(d, "cypher-history").startswith("4 earlier queries"), "the history after a reload")
        browser.switch_to.new_window("tab")
        browser.get(f"http://{server.address}/#cypher")
        _wait(browser, lambda d: _text(d, "cypher-history") == "no earlier queries in this tab", "a new tab's own history")

        # Explain shows the plan and runs nothing; Profile runs the query and counts each operator's rows.
        _fill(browser, "cypher-query", "MATCH (n:N) WHERE n.name STARTS WITH $p RETURN count(*) AS c")
        _fill(browser, "cypher-parameters", '{"p": "n1"}')
        browser.find_element("id", "cypher-explain").click()
        _wait(browser, lambda d: _text(d, "cypher-state") == "done: 0 rows" and _rows(d, "cypher-plan"), "the plan")
        assert [row[0] for row in _rows(browser, "cypher-plan")] == ["ProduceResults", "EagerAggregation", "Filter", "NodeByLabelScan"]
        assert _text(browser, "cypher-plan-caption") == "EXPLAIN plan"
        browser.find_element("id", "cypher-profile").click()
        _wait(browser, lambda d: _text(d, "cypher-state") == "done: 1 rows" and _rows(d, "cypher-plan"), "the profile")
        plan = _rows(browser, "cypher-plan")
        assert [row[2] for row in plan] == ["1", "1", "111", "350"], plan  # n1, n10-n19, n100-n199 of n1..n350
        assert _rows(browser, "cypher-results") == [["111"]] and "PROFILE plan" in _text(browser, "cypher-plan-caption")
        _fill(browser, "cypher-query", "MATCH (n:Nobody) SET n.x = 1 RETURN n")
        browser.find_element("id", "cypher-explain").click()
        _wait(browser, lambda d: "SetProperty" in [row[0] for row in _rows(d, "cypher-plan")], "a plan that writes")
        assert [row[0] for row in _rows(browser, "cypher-plan")] == ["ProduceResults", "Projection", "SetProperty", "NodeByLabelScan"]
        assert _text(browser, "cypher-plan-caption") == "EXPLAIN plan"
        _assert_no_page_errors(browser)
    finally:
        server.stop()


def _metrics_get(server: RunningServer, path: str = "/console/metrics", method: str = "GET",
                 headers: dict[str, str] | None = None) -> http.client.HTTPResponse:
    conn = http.client.HTTPConnection(server.host, server.port, timeout=10)
    conn.request(method, path, headers=headers or {})
    response = conn.getresponse()
    response.body = response.read()  # type: ignore[attr-defined]
    conn.close()
    return response


def test_console_metrics_page(tmp_path, browser):
    """The metrics page draws calls per method, latency percentiles, points and WAL bytes from
    GET /console/metrics, whose text is what --metrics-listen serves."""
    import grpc
    from ruvector.v1 import common_pb2, vector_pb2, vector_pb2_grpc

    server = RunningServer(["--metrics-listen", "127.0.0.1:0"], tmp_path / "data")
    try:
        metrics_url = server.read_metrics_url()
        _upsert_numbered(server, "numbers", 120)
        with grpc.insecure_channel(server.address) as channel:
            stub = vector_pb2_grpc.VectorServiceStub(channel)
            for _ in range(7):
                stub.Search(vector_pb2.SearchRequest(collection="numbers", vector=common_pb2.Vector(values=[1, 1, 0, 0]), k=3))
            with pytest.raises(grpc.RpcError):
                stub.Search(vector_pb2.SearchRequest(collection="missing", vector=common_pb2.Vector(values=[1]), k=3))
        # Same-origin text and the metrics listener agree on the counters.
        page = _metrics_get(server)
        assert page.status == 200 and page.getheader("content-type").startswith("text/plain; version=0.0.4")
        assert page.getheader("cache-control") == "no-store"
        search_calls = re.compile(r'ruvector_rpc_requests_total\{method="/ruvector.v1.VectorService/Search",code="(\w+)"\} (\d+)')
        import urllib.request

        listener = urllib.request.urlopen(metrics_url, timeout=10).read().decode()
        assert dict(search_calls.findall(page.body.decode())) == dict(search_calls.findall(listener)) == {"NOT_FOUND": "1", "OK": "7"}

        browser.get(f"http://{server.address}/#metrics")
        _wait(browser, lambda d: _text(d, "metrics-state").endswith(tuple("0123456789AMP ")) and "samples read" in _text(d, "metrics-state"),
              "the metrics read")
        calls = {row[0]: row[1] for row in _rows(browser, "metrics-calls")}
        assert calls["/ruvector.v1.VectorService/Search"] == "8", calls
        assert calls["/ruvector.v1.VectorService/Upsert"] == "1" and calls["/ruvector.v1.VectorService/CreateCollection"] == "1"
        latency = {row[0]: row[1:] for row in _rows(browser, "metrics-latency")}
        count, p50, p90, p99 = latency["/ruvector.v1.VectorService/Search"]
        assert count == "8" and all(re.fullmatch(r"[\d.]+ (µs|ms|s)", value) for value in (p50, p90, p99)), latency
        collections = _rows(browser, "metrics-collections")
        assert collections[0][:2] == ["numbers", "120"] and collections[0][3] == "1", collections
        bars = browser.execute_script(
            "return ['calls', 'latency', 'points', 'wal'].map(n => document.querySelectorAll(`#metrics-${n}-chart g.bar`).length)")
        assert bars == [len(calls), len(latency), 1, 1], bars
        browser.save_screenshot(str(tmp_path / "metrics.png"))
        # Refresh: the page's own reads are not calls, the new search is.
        with grpc.insecure_channel(server.address) as channel:
            vector_pb2_grpc.VectorServiceStub(channel).Search(
                vector_pb2.SearchRequest(collection="numbers", vector=common_pb2.Vector(values=[1, 1, 0, 0]), k=3))
        browser.find_element("id", "metrics-refresh").click()
        _wait(browser, lambda d: {row[0]: row[1] for row in _rows(d, "metrics-calls")}.get("/ruvector.v1.VectorService/Search") == "9",
              "9 searches after the refresh")
        _assert_no_page_errors(browser)
    finally:
        server.stop()


def test_console_metrics_path_checks_credentials(tmp_path):
    """Adversarial: GET /console/metrics holds data, so with authentication on it answers only
    credentials that may read everything, over HTTP/1.1 and HTTP/2; no path, method or query
    variant gets the text without them; with the console off it is not served at all."""
    import jwt

    secret = "console-metrics-secret-of-at-least-32-bytes-0123"
    read_key = "console-read-key-0123456789abcdef0"
    (tmp_path / "jwt.secret").write_text(secret)
    (tmp_path / "read.key").write_text(read_key)
    server = RunningServer(["--api-key", API_KEY, "--read-only-api-key-file", str(tmp_path / "read.key"),
                            "--jwt-secret-file", str(tmp_path / "jwt.secret")], tmp_path / "data")
    now = int(time.time())
    scoped = jwt.encode({"exp": now + 3600, "sub": "scoped", "collections": {"docs": "read"}}, secret, algorithm="HS256")
    expired = jwt.encode({"exp": now - 3600, "access": "admin"}, secret, algorithm="HS256")
    forged = jwt.encode({"exp": now + 3600, "access": "admin"}, "another-secret-of-at-least-32-bytes-xxxxxx", algorithm="HS256")
    try:
        refused = {
            "no credentials": ({}, 401), "a wrong key": ({"authorization": "Bearer wrong-key-0123456789abcdef"}, 401),
            "an expired token": ({"authorization": f"Bearer {expired}"}, 401),
            "a token signed with another secret": ({"authorization": f"Bearer {forged}"}, 401),
            "a token scoped to one collection": ({"authorization": f"Bearer {scoped}"}, 403),
            "a malformed authorization": ({"authorization": "Basic " + API_KEY}, 401),
        }
        for what, (headers, status) in refused.items():
            for method in ["GET", "HEAD"]:
                response = _metrics_get(server, method=method, headers=headers)
                assert response.status == status, (what, method, response.status)
                assert b"ruvector_" not in response.body and API_KEY.encode() not in response.body, (what, response.body)
                assert response.getheader("cache-control") == "no-store"
        # Variants of the path: never the text without credentials.
        for path in ["/console/metrics?x=1", "/console/metrics#x", "/console/metrics/", "/console//metrics", "/console/Metrics",
                     "/console/./metrics", "/metrics", "/console/metrics%00", "/console/metrics;x"]:
            response = _metrics_get(server, path)
            assert response.status in (401, 404) and b"ruvector_rpc" not in response.body, (path, response.status)
        assert _metrics_get(server, "/console/metrics?x=1").status == 401
        # POST is a gRPC path that does not exist, not the page.
        response = _metrics_get(server, method="POST", headers={"content-type": "application/grpc-web+proto"})
        assert b"ruvector_rpc" not in response.body
        # Accepted: the admin key, the read-only key (both headers), a token reading everything.
        reader = jwt.encode({"exp": now + 3600, "sub": "ops", "access": "read"}, secret, algorithm="HS256")
        for headers in [{"authorization": f"Bearer {API_KEY}"}, {"api-key": read_key}, {"authorization": f"Bearer {reader}"}]:
            response = _metrics_get(server, headers=headers)
            assert response.status == 200 and b"ruvector_rpc_requests_total" in response.body, headers
        # HTTP/2 goes through the same check.
        headers, body = _h2_get(server, "/console/metrics")
        assert headers[":status"] == "401" and b"ruvector_" not in body
    finally:
        server.stop()
    off = RunningServer(["--no-console"], tmp_path / "data-off")
    try:
        assert _metrics_get(off).status == 405
    finally:
        off.stop()


def test_console_status_pages(tmp_path, browser):
    """Learning, routing and cluster pages on a single server: a collection's model status
    (no model yet), training it from the page with the progress streamed in, a router with an
    open circuit breaker, and "not a cluster"."""
    import ruvector
    from ruvector.route import Candidate

    server = RunningServer([], tmp_path / "data")
    try:
        _upsert_numbered(server, "numbers", 10)
        with ruvector.Client(server.address) as db:
            db.route.create_router("llm", [Candidate("small", cost=1.0, latency_millis=50, quality=0.6),
                                           Candidate("large", cost=10.0, latency_millis=400, quality=0.9)],
                                   feature_size=4, time_steps=2, hidden_size=8)
            for _ in range(8):
                decision = db.route.route("llm", [[0.1, 0.2, 0.3, 0.4]] * 2)
                db.route.record_outcome("llm", "small", success=False, request_id=decision.request_id)
            expected = {b.candidate: b.state for b in db.route.status("llm").breakers}
            model = db.learn.status("numbers")
        assert "open" in expected.values(), expected
        browser.get(f"http://{server.address}/#learning")
        _wait(browser, lambda d: _text(d, "learning-state") == "1 collections", "the learning page")
        row = _rows(browser, "learning-table")[0]
        assert row[0] == "numbers" and row[1] == str(model.version) and row[3] == ("yes" if model.activated else "no"), row
        assert row[8] == "0", row
        browser.save_screenshot(str(tmp_path / "learning.png"))

        # Training from the page: the progress streams in row by row, then the status shows version 1.
        _fill(browser, "train-collection", "numbers")
        browser.find_element("id", "train-button").click()
        _wait(browser, lambda d: _text(d, "train-state") == "failed", "training without feedback to fail")
        assert "no feedback was recorded" in _text(browser, "status"), _text(browser, "status")
        with ruvector.Client(server.address) as db:
            for q in range(60):
                query = [q * 0.15 + 0.01, 1, 0.01 * q, 0]
                shown = [h.id for h in db.search("numbers", query, k=10, with_payload=False)]
                db.learn.feedback("numbers", query=query, shown=shown, judgements={i: i % 2 for i in shown})
            db.learn.configure("numbers", hidden_size=8, heads=2)
        _fill(browser, "train-epochs", "3")
        browser.find_element("id", "train-button").click()
        _wait(browser, lambda d: _text(d, "train-state") not in ("", "failed") and not _text(d, "train-state").startswith(("training", "epoch")),
              "the training run to end")
        assert _text(browser, "train-state") == "done after 3 epochs", (_text(browser, "train-state"), _text(browser, "status"))
        progress = _rows(browser, "train-table")
        assert progress and progress[-1][0] == "3" and all(r[2] != "–" for r in progress), progress
        assert [r[0] for r in progress] == sorted(r[0] for r in progress), progress
        _wait(browser, lambda d: _rows(d, "learning-table")[0][2] == "1", "latest model version 1 in the status")
        browser.save_screenshot(str(tmp_path / "training.png"))

        browser.find_element("id", "nav-routing").click()
        _wait(browser, lambda d: _text(d, "routing-state") == "1 routers, 2 circuit breakers", "the routing page")
        assert _rows(browser, "routing-table")[0][:3] == ["llm", "0", "8"], _rows(browser, "routing-table")
        shown = {row[1]: row[2] for row in _rows(browser, "breakers-table")}
        assert shown == expected, (shown, expected)
        browser.save_screenshot(str(tmp_path / "routing.png"))

        browser.find_element("id", "nav-cluster").click()
        _wait(browser, lambda d: _text(d, "cluster-state").startswith("not a cluster ("), "the cluster page")
        assert _rows(browser, "members-table") == [] and _text(browser, "status") == ""
        browser.save_screenshot(str(tmp_path / "cluster.png"))
        _assert_no_page_errors(browser)
    finally:
        server.stop()


def _console_url(server: RunningServer) -> str:
    """The console listener the server announces on its next stdout line (--console-listen)."""
    line = server.process.stdout.readline()
    match = re.search(r"console on (http://\S+)/$", line.strip())
    assert match, line
    return match.group(1)


@pytest.mark.parametrize("how", ["flag", "config"])
def test_console_listen_serves_the_console_on_its_own_port(tmp_path, browser, how):
    """--console-listen: the console and its calls on a port of its own (same data, same
    credential check); the main port then serves no console; with --no-console it is refused."""
    import grpc
    from ruvector.v1 import vector_pb2, vector_pb2_grpc

    config = tmp_path / "config.json"
    config.write_text(json.dumps({"consoleListen": "127.0.0.1:0"}))
    server = RunningServer(["--console-listen", "127.0.0.1:0"] if how == "flag" else ["--config", str(config)],
                           tmp_path / "data")
    try:
        console = _console_url(server)
        port = int(console.rsplit(":", 1)[1])
        assert port != server.port
        # The main port: gRPC as ever, no console.
        assert _get(server, "/").status == 405 and _get(server, "/console/metrics").status == 405
        page = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        page.request("GET", "/")
        index = page.getresponse()
        assert index.status == 200 and b"/console/app.js" in index.read()
        assert "default-src 'self'" in index.getheader("content-security-policy")
        browser.get(console + "/")
        _wait(browser, lambda d: _text(d, "key-state") == "no key", "the page's script to start")
        _create_and_fill(browser, tmp_path)
        # The same server: what the console port wrote, the main port reads.
        with grpc.insecure_channel(server.address) as channel:
            info = vector_pb2_grpc.VectorServiceStub(channel).GetCollection(vector_pb2.GetCollectionRequest(name="docs"))
        assert info.points_count == 3
        browser.find_element("id", "nav-metrics").click()
        # Two GetCollection calls: the page's (its info panel after the create) and the main port's.
        _wait(browser, lambda d: {row[0]: row[1] for row in _rows(d, "metrics-calls")}.get("/ruvector.v1.VectorService/GetCollection") == "2",
              "the main port's call in the console port's metrics")
        _assert_no_page_errors(browser)
    finally:
        server.stop()


def test_console_listen_with_no_console_is_refused(tmp_path):
    from conftest import server_binary

    ran = subprocess.run([server_binary(), "--listen", "127.0.0.1:0", "--data-dir", str(tmp_path / "data"),
                          "--console-listen", "127.0.0.1:0", "--no-console"], capture_output=True, text=True, timeout=30)
    assert ran.returncode != 0 and "--console-listen serves the console, and --no-console" in ran.stderr, ran
    assert "listening on" not in ran.stdout


def test_console_listen_beyond_loopback_without_tls_is_warned(tmp_path):
    """A plaintext console listener on an address that is not the loopback one the warning knows
    (127.0.0.2: still loopback, so nothing leaves the machine) logs the clear-text warning for
    consoleListen; the main port on 127.0.0.1 logs none."""
    server = RunningServer(["--console-listen", "127.0.0.2:0"], tmp_path / "data")
    try:
        _console_url(server)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and not any("TLS is OFF" in line for line in server.stderr_lines):
            time.sleep(0.05)
        warned = [line for line in server.stderr_lines if "TLS is OFF" in line]
        assert len(warned) == 1 and "consoleListen=127.0.0.2:0" in warned[0], server.stderr_lines
    finally:
        server.stop()


def test_console_listen_checks_credentials(tmp_path, browser):
    """The console port asks the same credentials as the main port, for calls and metrics."""
    server = RunningServer(["--console-listen", "127.0.0.1:0", "--api-key", API_KEY], tmp_path / "data")
    try:
        console = _console_url(server)
        host, port = console.removeprefix("http://").rsplit(":", 1)
        conn = http.client.HTTPConnection(host, int(port), timeout=10)
        conn.request("GET", "/console/metrics")
        assert conn.getresponse().status == 401
        browser.get(console + "/")
        _wait(browser, lambda d: "UNAUTHENTICATED" in _text(d, "status"), "the refusal without a key")
        _fill(browser, "api-key", API_KEY)
        browser.find_element("id", "key-save").click()
        _wait(browser, lambda d: _text(d, "status") == "" and _text(d, "key-state") == "key set for this tab", "the key taken")
        browser.find_element("id", "nav-metrics").click()
        _wait(browser, lambda d: "samples read" in _text(d, "metrics-state"), "the metrics read with the key")
    finally:
        server.stop()


PAGES = ["collections", "points", "search", "cypher", "metrics", "learning", "routing", "cluster"]


def _tab_through(driver, limit: int = 150) -> list[str]:
    """Ids (or tag names) of the elements Tab reaches from the top of the page, in order, until
    focus comes back to the first one."""
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.keys import Keys

    driver.execute_script("document.activeElement?.blur(); window.focus();")
    reached: list[str] = []
    for _ in range(limit):
        ActionChains(driver).send_keys(Keys.TAB).perform()
        current = driver.execute_script("const e = document.activeElement; return e ? (e.id || e.tagName) : ''")
        if reached and current == reached[0]:
            break
        reached.append(current)
    return reached


def test_console_accessibility_basics(tmp_path, browser):
    """On every page: every form control has a label with text, every chart and drawing a text
    name; Tab reaches every visible control, the page links switch pages from the keyboard, and
    Enter in a field submits its form."""
    from selenium.webdriver.common.keys import Keys

    server = RunningServer([], tmp_path / "data")
    try:
        _upsert_numbered(server, "numbers", 30)
        browser.get(f"http://{server.address}/")
        _wait(browser, lambda d: _text(d, "key-state") == "no key", "the page's script to start")
        browser.find_element("css selector", "#create-options summary").click()
        browser.get(f"http://{server.address}/#points")
        browser.find_element("id", "points-add-condition").click()
        for page in PAGES:
            browser.get(f"http://{server.address}/#{page}")
            _wait(browser, lambda d: d.find_element("id", f"page-{page}").is_displayed(), f"the {page} page")
            if page == "points":
                browser.find_element("id", "points-add-condition").click()
            unlabelled = browser.execute_script(
                "return [...document.querySelectorAll('input, select, textarea')]"
                ".filter(e => !e.labels || ![...e.labels].some(l => l.textContent.trim())).map(e => e.id)")
            assert unlabelled == [], (page, unlabelled)
            unnamed = browser.execute_script(
                "return [...document.querySelectorAll('svg')].filter(s => s.getAttribute('role') !== 'img'"
                " || !document.getElementById(s.getAttribute('aria-labelledby'))).map(s => s.id)")
            assert unnamed == [], (page, unnamed)
            controls = browser.execute_script(
                f"return [...document.querySelectorAll('#page-{page} input, #page-{page} select, #page-{page} textarea,"
                f" #page-{page} button, #page-{page} summary, nav a, #key-form input, #key-form button')]"
                # A radio group is one Tab stop (its checked radio); arrows move inside it.
                ".filter(e => e.checkVisibility() && !e.disabled && !(e.type === 'radio' && !e.checked))"
                ".map(e => e.id || e.tagName)")
            reached = _tab_through(browser)
            missing = [control for control in controls if control not in reached]
            assert missing == [], (page, missing, reached)
            # The navigation links come first, in the order shown.
            assert [r for r in reached if r.startswith("nav-")] == [f"nav-{p}" for p in PAGES], reached

        # The navigation by keyboard: Enter on a focused link shows its page.
        browser.get(f"http://{server.address}/#collections")
        browser.find_element("id", "nav-points").send_keys(Keys.ENTER)
        _wait(browser, lambda d: d.find_element("id", "page-points").is_displayed(), "the points page by Enter")
        # Enter submits: the points form from its collection field, the search form from its vector field.
        _fill(browser, "points-collection", "numbers" + Keys.ENTER)
        _wait(browser, lambda d: _text(d, "points-page") == "page 1: 30 points (last page)", "the scroll run by Enter")
        browser.find_element("id", "nav-search").send_keys(Keys.ENTER)
        _fill(browser, "search-collection", "numbers")
        _fill(browser, "search-vector", "[3, 1, 0, 0]" + Keys.ENTER)
        _wait(browser, lambda d: [row[0] for row in _rows(d, "search-results")][:1] == ["3"], "the search run by Enter")
        # Cypher: Enter is a new line in the query; Ctrl+Enter runs it.
        browser.find_element("id", "nav-cypher").send_keys(Keys.ENTER)
        _fill(browser, "cypher-query", "RETURN 1 AS one")
        browser.find_element("id", "cypher-query").send_keys(Keys.CONTROL, Keys.ENTER)
        _wait(browser, lambda d: _text(d, "cypher-state") == "done: 1 rows", "the query run by Ctrl+Enter")
        # A status page's refresh by keyboard.
        browser.find_element("id", "nav-learning").send_keys(Keys.ENTER)
        _wait(browser, lambda d: _text(d, "learning-state") == "1 collections", "the learning page")
        browser.find_element("id", "learning-refresh").send_keys(Keys.ENTER)
        _wait(browser, lambda d: _text(d, "learning-state") == "1 collections", "the learning page refreshed")
        _assert_no_page_errors(browser)
    finally:
        server.stop()


@pytest.mark.cluster
def test_console_on_a_cluster(tmp_path, browser):
    """Three nodes: a collection created from the console with 2 shards and 2 copies each (the
    create form's cluster options); its info shows them, and the cluster page shows the members,
    one leader and the collection's shards with their replicas, as GetState has them."""
    sys.path.insert(0, str(Path(__file__).parent / "cluster"))
    from harness import Cluster  # the cluster tests' harness: n servers on the loopback

    cluster = Cluster(3, base_dir=tmp_path / "cluster", proxied=False)
    try:
        cluster.start()
        cluster.wait_ready()
        leader = cluster.leader(timeout=10)
        node = cluster.nodes[leader]
        browser.get(f"http://{node.address}/")
        _wait(browser, lambda d: _text(d, "key-state") == "no key", "the page's script to start")
        browser.find_element("css selector", "#create-options summary").click()
        _fill(browser, "create-name", "spread")
        _fill(browser, "create-shards", "2")
        _fill(browser, "create-replication-factor", "2")
        browser.find_element("css selector", "#create-write-consistency option[value=REPLICATION_MODE_SYNC]").click()
        browser.find_element("id", "create-button").click()
        _wait(browser, lambda d: _info(d).get("Name") == "spread", "the sharded collection's info")
        info = _info(browser)
        assert info["Shards"] == "2" and info["Replication"].startswith("2 copies, writes sync"), info

        browser.find_element("id", "nav-cluster").click()
        state = cluster.state(leader, stale_ok=False)

        def shown_shards(d):
            return [row for row in _rows(d, "shards-table") if row[0] == "spread"]

        _wait(browser, lambda d: len(shown_shards(d)) == 2, "the collection's two shards")
        members = _rows(browser, "members-table")
        assert sorted(row[0] for row in members) == ["1", "2", "3"], members
        assert [row[0] for row in members if row[3] == "leader"] == [str(leader)], members
        assert all(row[4] == "yes" for row in members), members
        assert _text(browser, "cluster-state").startswith(f"leader {leader}, term "), _text(browser, "cluster-state")
        for row in shown_shards(browser):
            assert row[2] in {"1", "2", "3"} and re.fullmatch(r"[123] \(\d+ records, \d+ ms behind\)", row[3]), row
            assert row[3].split()[0] != row[2], row  # the replica is another node than the primary
        assert len(state.members) == 3
        browser.save_screenshot(str(tmp_path / "cluster.png"))
        _assert_no_page_errors(browser)
    finally:
        cluster.stop()


def test_console_with_api_key(tmp_path, browser):
    server = RunningServer(["--api-key", API_KEY], tmp_path / "data")
    try:
        # The page itself needs no key; its calls do.
        browser.get(f"http://{server.address}/")
        _wait(browser, lambda d: "UNAUTHENTICATED" in _text(d, "status"), "the refusal without a key")
        assert "enter an API key or token above" in _text(browser, "status")
        browser.save_screenshot(str(tmp_path / "no-key.png"))
        _fill(browser, "create-name", "secret")
        browser.find_element("id", "create-button").click()
        _wait(browser, lambda d: "Creating secret failed: UNAUTHENTICATED" in _text(d, "status"), "create refused")

        _fill(browser, "api-key", "wrong-key-0123456789abcdef")
        browser.find_element("id", "key-save").click()
        _wait(browser, lambda d: "UNAUTHENTICATED" in _text(d, "status"), "a wrong key refused")

        # By keyboard only: Enter in the key field, then Tab to the collection name and Enter.
        from selenium.webdriver.common.keys import Keys

        _fill(browser, "api-key", API_KEY + Keys.ENTER)
        _wait(browser, lambda d: _text(d, "key-state") == "key set for this tab", "the key to be taken")
        browser.find_element("id", "nav-collections").send_keys(Keys.TAB)
        assert browser.switch_to.active_element.get_attribute("id") == "nav-points"
        browser.find_element("id", "create-name").send_keys(Keys.ENTER)
        _wait(browser, lambda d: any(row[0] == "secret" for row in _rows(d, "collections-table")), "created with the key")
        browser.save_screenshot(str(tmp_path / "with-key.png"))
        # Kept for the tab only: in sessionStorage, nowhere in localStorage, cookies or the page.
        assert browser.execute_script("return sessionStorage.getItem('ruvector.apiKey')") == API_KEY
        assert browser.execute_script("return localStorage.length") == 0
        assert browser.get_cookies() == []
        assert API_KEY not in browser.page_source
        browser.find_element("id", "key-forget").click()
        browser.find_element("id", "refresh-collections").click()
        _wait(browser, lambda d: "UNAUTHENTICATED" in _text(d, "status"), "refused again once forgotten")
    finally:
        server.stop()


CODEC_CASES = {
    "ruvector.v1.SearchRequest": {
        "collection": "docs", "vector": {"values": [1.5, -2.25, 0.0]}, "k": 7,
        "filter": {"must": [{"field": {"key": "lang", "match": {"keyword": "en"}}},
                            {"field": {"key": "year", "range": {"gte": 1990.5}}}],
                   "must_not": [{"has_id": {"ids": [{"num": "18446744073709551615"}, {"uuid": "u-1"}]}}]},
        "params": {"ef": 64, "exact": True}, "with": {"with_payload": True, "payload_keys": ["a", "b"]},
        "score_threshold": 0.25, "tag": "9007199254740993", "read_from": "READ_FROM_ANY",
    },
    "ruvector.v1.UpsertRequest": {
        "collection": "c", "points": [{"id": {"num": 3}, "vector": {"values": [0.5]}, "payload": {"fields": {
            "n": {"int_value": "-5"}, "s": {"struct_value": {"fields": {"x": {"list_value": {"values": [
                {"bool_value": True}, {"double_value": 0.5}, {"string_value": "é✓"}, {"null_value": True}]}}}}}}}}],
        "wait": "WRITE_WAIT_DURABLE",
    },
}


def test_protobuf_codec_matches_python(tmp_path, browser):
    """console/protobuf.js against the protobuf runtime: what it encodes parses to the same
    message, and what Python encodes it decodes and re-encodes to the same message."""
    from google.protobuf import json_format
    from ruvector.v1 import vector_pb2

    server = RunningServer([], tmp_path / "data")
    try:
        browser.get(f"http://{server.address}/")
        for type_name, fields in CODEC_CASES.items():
            python_type = getattr(vector_pb2, type_name.rsplit(".", 1)[1])
            expected = json_format.ParseDict(fields, python_type())
            answer = browser.execute_async_script("""
                const [typeName, fields, pythonBytes, done] = arguments;
                import("/console/protobuf.js").then((pb) => {
                  const decoded = pb.decode(typeName, new Uint8Array(pythonBytes));
                  done({encoded: [...pb.encode(typeName, fields)], reencoded: [...pb.encode(typeName, decoded)], decoded});
                }).catch((error) => done({error: String(error)}));
                """, type_name, fields, list(expected.SerializeToString()))
            assert "error" not in answer, answer
            assert python_type.FromString(bytes(answer["encoded"])) == expected, type_name
            assert python_type.FromString(bytes(answer["reencoded"])) == expected, type_name
        assert answer["decoded"]["points"][0]["payload"]["fields"]["n"] == {"int_value": -5}
        error = browser.execute_async_script("""
            const done = arguments[0];
            import("/console/protobuf.js").then((pb) => { pb.encode("ruvector.v1.SearchRequest", {colection: "x"}); done("no error"); })
              .catch((error) => done(String(error)));""")
        assert "has no field 'colection'" in error
    finally:
        server.stop()


def test_metrics_parsing_and_quantiles_in_the_page(tmp_path, browser):
    """metrics.js: the exposition text parsed with escaped label values, and quantiles of a
    cumulative histogram as Prometheus' histogram_quantile computes them (linear in the bucket;
    the largest finite bound in the +Inf bucket; none when empty)."""
    server = RunningServer([], tmp_path / "data")
    try:
        browser.get(f"http://{server.address}/")
        answer = browser.execute_async_script("""
            const done = arguments[0];
            import("/console/metrics.js").then((m) => {
              const inf = Infinity;
              const buckets = [[0.1, 5], [0.5, 10], [1, 10], [inf, 12]];
              done({
                samples: m.parseMetrics('# HELP x y\\nx_total{method="/a\\\\"b",code="OK"} 3\\nbad line\\ny 2.5\\n'),
                q: [0.25, 0.5, 0.75, 0.9, 0.99].map((q) => m.quantile(q, buckets)),
                empty: m.quantile(0.5, [[0.1, 0], [inf, 0]]),
              });
            }).catch((error) => done({error: String(error)}));""")
        assert "error" not in answer, answer
        assert answer["samples"] == [{"name": "x_total", "labels": {"method": '/a"b', "code": "OK"}, "value": 3},
                                     {"name": "y", "labels": {}, "value": 2.5}], answer["samples"]
        # 12 observations: 5 <= 0.1, 5 in (0.1, 0.5], 0 in (0.5, 1], 2 above 1.
        expected = [0.1 * 3 / 5, 0.1 + 0.4 * 1 / 5, 0.1 + 0.4 * 4 / 5, 1.0, 1.0]
        assert answer["q"] == pytest.approx(expected), answer["q"]
        assert answer["empty"] is None
    finally:
        server.stop()


def test_console_over_tls_uses_http2(tmp_path):
    """Over TLS the browser speaks HTTP/2 (ALPN h2) for the page and its gRPC-Web calls; a
    cancelled query is a reset stream there, and the server still counts it cancelled."""
    server = RunningServer(["--tls-cert", str(TEST_CERTS / "server1.pem"), "--tls-key", str(TEST_CERTS / "server1.key"),
                            "--metrics-listen", "127.0.0.1:0"], tmp_path / "data")
    # The gRPC test certificate names *.test.google.fr; the name is mapped to loopback. The
    # certificate is trusted by ignoring errors: the test is about the protocol, not the CA.
    driver = _start_browser(tmp_path, ["--ignore-certificate-errors",
                                       f"--host-resolver-rules=MAP {TLS_HOST_OVERRIDE} 127.0.0.1"])
    try:
        metrics_url = server.read_metrics_url()
        driver.get(f"https://{TLS_HOST_OVERRIDE}:{server.port}/")
        _wait(driver, lambda d: _text(d, "key-state") == "no key", "the page's script to start")
        _create_and_fill(driver, tmp_path)
        protocols = driver.execute_script(
            "return [...performance.getEntriesByType('navigation'), ...performance.getEntriesByType('resource')]"
            ".map(entry => entry.nextHopProtocol)")
        assert protocols and set(protocols) == {"h2"}, protocols
        # The snippets of a page served over TLS connect with TLS.
        driver.find_element("id", "nav-search").click()
        _fill(driver, "search-vector", "[1, 0, 0, 0]")
        driver.find_element("id", "search-button").click()
        _wait(driver, lambda d: len(_rows(d, "search-results")) == 3, "three hits over TLS")
        snippets = {name: driver.find_element("id", name).get_attribute("value")
                    for name in ["search-cli", "search-grpcurl", "search-snippet"]}
        assert " --tls " in snippets["search-cli"] and "-plaintext" not in snippets["search-grpcurl"], snippets
        assert "grpc.secure_channel(" in snippets["search-snippet"], snippets
        driver.find_element("id", "nav-cypher").click()
        _stream_then_cancel(driver, tmp_path / "tls-streaming.png")
        _wait_cancelled_count(metrics_url, 1)
    finally:
        driver.quit()
        server.stop()

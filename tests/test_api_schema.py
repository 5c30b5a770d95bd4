"""``schemathesis run --checks all`` over the API's own OpenAPI document, with a write key: no failure, no 5xx.

The real command line runs in a subprocess against a test server over a small real index (issue #15): every
phase (examples, coverage, fuzzing, stateful), positive and negative data, every built-in check plus the two
in ``tests/schemathesis_checks.py`` (loaded by ``schemathesis.toml``). Deterministic: derandomized generation,
a fixed number of examples per operation, one worker. The server counts its own answers, so "no 5xx" is
checked on the server's side too, and a failure shows schemathesis's own report.
"""

import json
import subprocess
import sys
import threading
from collections import Counter
from pathlib import Path

import pytest
from conftest import TEST_DATA, WRITE_KEY, settings_for
from werkzeug.serving import WSGIRequestHandler, make_server

from app import create_app
from indexer.context import open_knowledge_base
from indexer.importer import import_file

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES_PER_OPERATION = 200
RUN_TIMEOUT_S = 900


class QuietHandler(WSGIRequestHandler):
    """No access log line for each of the thousands of requests."""

    def log_request(self, code="-", size="-"):
        pass


class CountingServer:
    """The app served on a free local port in a thread, counting the status of every answer."""

    def __init__(self, app):
        self.statuses = Counter()
        inner = app.wsgi_app

        def counting(environ, start_response):
            def counted(status, headers, exc_info=None):
                self.statuses[int(status.split()[0])] += 1
                return start_response(status, headers, exc_info)

            return inner(environ, counted)

        app.wsgi_app = counting
        self.server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=QuietHandler)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc_info):
        self.server.shutdown()
        self.thread.join()


@pytest.fixture(scope="module")
def schema_server(tmp_path_factory):
    """A served app over a small real index, without a rate limit (schemathesis sends thousands of requests)."""
    folder = tmp_path_factory.mktemp("schema") / "var"
    kb = open_knowledge_base(overrides={"KB_DATA_DIR": str(folder), "KB_DATABASE_URL": ""}, environ={})
    import_file(kb.store, TEST_DATA / "calls.json")
    kb.close()
    with CountingServer(create_app(settings_for(folder, KB_RATE_LIMIT=""))) as server:
        yield server


def schemathesis_run(url, report):
    """The command line a reviewer would type, with a fixed example count and no randomness."""
    command = [
        *(sys.executable, "-m", "schemathesis.cli", "run", f"{url}/api/v1/openapi.json"),
        *("--checks", "all", "--mode", "all", "-H", f"Authorization: Bearer {WRITE_KEY}"),
        *("--max-examples", str(EXAMPLES_PER_OPERATION), "--generation-deterministic", "--workers", "1"),
        *("--report", "json", "--report-json-path", str(report), "--no-color"),
    ]
    return subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=RUN_TIMEOUT_S)


@pytest.mark.slow
def test_schemathesis_run_with_all_checks_finds_no_failure_and_no_server_error(schema_server, tmp_path):
    result = schemathesis_run(schema_server.url, tmp_path / "report.json")
    summary = result.stdout[result.stdout.rfind("SUMMARY") :][-3000:] or result.stderr[-3000:]
    report = json.loads((tmp_path / "report.json").read_text())
    server_errors = sum(count for status, count in schema_server.statuses.items() if status >= 500)
    assert (result.returncode, report["failures"], report["errors"], server_errors) == (0, [], [], 0), summary
    assert report["operations"]["tested"] == report["operations"]["total"] == 19
    assert sum(schema_server.statuses.values()) > 2_000

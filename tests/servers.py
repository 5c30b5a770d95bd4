"""Real servers for tests: gunicorn on a free port over a temporary KB_DATA_DIR, and CLI subprocesses."""

import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WRITE_KEY = "test-write-key"
START_TIMEOUT_S = 60


def free_port():
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def kb_environ(data_folder, **settings):
    """The environment of a server or CLI process over ``data_folder`` (no KB_* leaks in from outside)."""
    environ = {name: value for name, value in os.environ.items() if not name.startswith("KB_")}
    environ.update(
        KB_DATA_DIR=str(data_folder),
        KB_DATABASE_URL="",
        KB_API_KEYS=WRITE_KEY,
        KB_SEARCH_KEY_REQUIRED="false",
        KB_LOAD_SAMPLE="false",
        # Off unless a test turns it on: a model in every worker and an embedding thread only cost these tests time.
        KB_SEMANTIC="false",
        PYTHONPATH=str(ROOT),
    )
    environ.update({name: str(value) for name, value in settings.items()})
    return environ


def run_cli(data_folder, *args, timeout=300, **settings):
    """Run ``python -m indexer ARGS`` over ``data_folder``.

    :returns: the :class:`subprocess.CompletedProcess` (text output).
    """
    return subprocess.run(
        [sys.executable, "-m", "indexer", *map(str, args)],
        cwd=ROOT,
        env=kb_environ(data_folder, **settings),
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def start_cli(data_folder, *args, **settings):
    """Start ``python -m indexer ARGS`` without waiting (to kill it); output is discarded."""
    return subprocess.Popen(
        [sys.executable, "-m", "indexer", *map(str, args)],
        cwd=ROOT,
        env=kb_environ(data_folder, **settings),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )


class Response:
    """What a server answered: status, headers (lower-case names), body bytes."""

    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers
        self.body = body

    def json(self):
        """The body read as JSON."""
        return json.loads(self.body)


class Client:
    """Requests to a server on 127.0.0.1:``port`` through http.client."""

    def __init__(self, port):
        self.port = port

    def connection(self, timeout=30):
        """A new http.client connection (it reconnects by itself when the server closes it)."""
        return http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)

    def request(self, method, path, body=None, headers=None, timeout=30, connection=None):
        """One request; a dict or list body is sent as JSON.

        :param connection: an open connection to reuse (kept alive when the server allows it).
        :returns: a :class:`Response`.
        """
        headers = dict(headers or {})
        if isinstance(body, (dict, list)):
            body = json.dumps(body).encode("utf-8")
            headers.setdefault("Content-Type", "application/json")
        conn = connection or self.connection(timeout)
        try:
            conn.request(method, path, body=body, headers=headers)
            answer = conn.getresponse()
            return Response(answer.status, {k.lower(): v for k, v in answer.getheaders()}, answer.read())
        finally:
            if connection is None:
                conn.close()


class Server:
    """``gunicorn wsgi:app`` (the project's gunicorn.conf.py) on a free port; use as a context manager."""

    def __init__(self, data_folder, workers=2, log_path=None, **settings):
        self.data_folder = Path(data_folder)
        self.workers = workers
        self.settings = settings
        self.log_path = Path(log_path or self.data_folder.parent / "gunicorn.log")
        self.port = None
        self.process = None

    @property
    def host(self):
        """host:port the server listens on."""
        return f"127.0.0.1:{self.port}"

    def start(self):
        """Start gunicorn and wait until /healthz answers.

        :raises RuntimeError: with the server's log when it does not come up.
        """
        for _attempt in range(3):
            self.port = free_port()
            environ = kb_environ(self.data_folder, **self.settings)
            environ.update(HOST="127.0.0.1", PORT=str(self.port), WEB_CONCURRENCY=str(self.workers))
            with open(self.log_path, "ab") as log:
                self.process = subprocess.Popen(
                    [sys.executable, "-m", "gunicorn", "-c", str(ROOT / "gunicorn.conf.py"), "wsgi:app"],
                    cwd=ROOT,
                    env=environ,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                )
            if self._wait_until_ready():
                return self
            self.kill()
        raise RuntimeError(f"gunicorn did not start; its log:\n{self.log_path.read_text(errors='replace')[-4000:]}")

    def _wait_until_ready(self):
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                return False
            try:
                if self.request("GET", "/healthz", timeout=2).status == 200:
                    return True
            except OSError:
                pass
            time.sleep(0.1)
        return False

    @property
    def client(self):
        """A :class:`Client` of this server (picklable, for worker processes)."""
        return Client(self.port)

    def connection(self, timeout=30):
        """A new http.client connection to the server."""
        return self.client.connection(timeout)

    def request(self, *args, **kwargs):
        """One request (see :meth:`Client.request`)."""
        return self.client.request(*args, **kwargs)

    def stop(self, timeout=20):
        """Stop gunicorn gracefully (SIGTERM), killing it if it does not stop in time."""
        if self.process is None or self.process.poll() is not None:
            return
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()

    def kill(self):
        """SIGKILL gunicorn's master and workers at once (its own process group)."""
        if self.process is None or self.process.poll() is not None:
            return
        try:
            os.killpg(self.process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.process.wait(10)

    def log(self):
        """What gunicorn and the app wrote so far."""
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc_info):
        self.stop()

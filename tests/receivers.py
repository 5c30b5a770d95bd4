"""Real HTTP receivers on loopback for the webhook tests: each answers from a script and keeps what it got."""

import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Received:
    """One request a receiver got."""

    method: str
    path: str
    headers: dict
    body: bytes


class Receiver:
    """An HTTP server in a thread on 127.0.0.1 answering each request with the next scripted answer.

    An answer is a status, or ``(status, {header: value})``; once the script is used up, the last answer repeats.
    Use as a context manager.
    """

    def __init__(self, *answers):
        self.answers = list(answers) or [200]
        self.received = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def _answer(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                receiver.received.append(Received(self.command, self.path, dict(self.headers), body))
                answer = receiver.answers[min(len(receiver.received), len(receiver.answers)) - 1]
                status, headers = answer if isinstance(answer, tuple) else (answer, {})
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            do_GET = do_POST = do_PUT = _answer  # noqa: N815 (http.server's names)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc_info):
        self.server.shutdown()
        self.server.server_close()

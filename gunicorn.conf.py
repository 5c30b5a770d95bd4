"""gunicorn settings for ``gunicorn wsgi:app`` (used by scripts/serve.sh)."""

import os

bind = f"{os.environ.get('HOST', '127.0.0.1')}:{os.environ.get('PORT', '8000')}"
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
# Threaded workers: a browser opens connections it sends nothing on yet (preconnects). A thread waits on such a
# socket at most 5 s, then hands it back to the worker's poller, so idle sockets never stall the searches; a sync
# worker sat on one until `timeout`, and two of them stopped a two-worker server.
worker_class = "gthread"
threads = int(os.environ.get("WEB_THREADS", "4"))
# Each connection closed after its answer, as the sync workers did: a kept-alive connection stays with the worker
# that accepted it, and at 4 clients that cost 7 % of the searches a second (bench.side_by_side); closed, the
# next request goes to whichever worker is free.
keepalive = 0
# The app (store migration, index check, word lists) is loaded once, before the workers fork.
preload_app = True
timeout = 60
accesslog = None
# gunicorn's largest bounded request line (its default is 4094 bytes): a search URL of about 8,000 plain
# characters. Longer queries go in the body of POST /api/v1/search. 0 would lift the bound altogether, letting
# one request line fill a worker's memory, so it is not used.
limit_request_line = 8190
limit_request_field_size = 8190


def when_ready(server):
    """Print the URL of the agents' page once the server listens."""
    host, port = bind.rsplit(":", 1)
    shown = "localhost" if host in ("127.0.0.1", "0.0.0.0") else host
    print(
        f"\n  Agents' page: http://{shown}:{port}/\n  Search API:   http://{shown}:{port}/api/v1/search?q=printer+offline\n",
        flush=True,
    )


def post_worker_init(worker):
    """Load the embedding model in each worker before it serves: never in the master, which forks the workers
    (``app.services.Services.warm_up_worker``)."""
    services = _services(worker)
    if services is not None:
        services.warm_up_worker()


def worker_exit(server, worker):
    """Stop the worker's background threads before it exits: the thread embedding the backlog must not be inside
    the model when the interpreter shuts down (the model's runtime then aborts the process)."""
    services = _services(worker)
    if services is not None:
        services.close()


def _services(worker):
    """The app's ``app.services.Services`` in a worker, or None before the worker has loaded the app."""
    return getattr(getattr(worker, "wsgi", None), "extensions", {}).get("kb")

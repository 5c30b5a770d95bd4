"""The web service: create_app builds the Flask app (gunicorn runs ``wsgi:app``)."""

import logging
import os
import secrets
from pathlib import Path

from flask import Flask, request
from werkzeug.middleware.proxy_fix import ProxyFix

from app.errors import ApiError, register_error_handlers
from app.limits import init_limiter
from app.outbox_worker import OutboxWorker
from app.sessions import init_sessions
from app.signin_guard import SignInGuard
from index import whoosh_compat
from index.generations import IndexBusyError
from notify.delivery import DeliveryPolicy
from settings import SETTINGS, data_dir, layered_settings

SAMPLE_CALLS = Path(__file__).resolve().parent.parent / "sample" / "calls.jsonl"
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
)


def _load_config(app, test_config):
    app.config.from_pyfile("config.py", silent=True)
    instance = {name: app.config[name] for name in app.config if name.startswith("KB_")}
    app.config.update(layered_settings(instance, os.environ, test_config or {}))
    app.config.update({k: v for k, v in (test_config or {}).items() if not k.startswith("KB_")})
    app.config["MAX_CONTENT_LENGTH"] = app.config["KB_MAX_BODY_BYTES"]
    # Without a configured secret, one is made per start: under gunicorn's preload every worker shares it.
    app.config["SECRET_KEY"] = app.config["KB_SECRET_KEY"] or secrets.token_hex(32)


def _load_sample_if_empty(services):
    if services.store.count() or not SAMPLE_CALLS.exists():
        return
    from indexer.importer import import_file

    outcome = import_file(services.store, SAMPLE_CALLS, actor="sample")
    logging.getLogger(__name__).info("loaded %d sample calls into the empty store", outcome.inserted)


def _refuse_large_bodies(app):
    @app.before_request
    def check_body_size():
        length = request.content_length
        if length is not None and length > app.config["KB_MAX_BODY_BYTES"]:
            raise ApiError(
                f"the request body is {length:,} bytes; the limit is {app.config['KB_MAX_BODY_BYTES']:,}", 413
            )


def _trust_proxies(app):
    """Behind KB_TRUSTED_PROXIES proxies, take the client's address, scheme and host from their headers."""
    hops = app.config["KB_TRUSTED_PROXIES"]
    if hops > 0:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops, x_port=hops, x_prefix=hops)


def _deliver_notifications(app, services):
    """The outbox's delivery thread of this process, started with the first request (after gunicorn's fork)."""
    worker = OutboxWorker(services.store, DeliveryPolicy.from_settings(app.config), app.config["KB_OUTBOX_INTERVAL_S"])
    app.extensions["kb_outbox_worker"] = worker
    services.background.append(worker)
    app.before_request(worker.ensure_running)


def _security_headers(app):
    @app.after_request
    def add_headers(response):
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
        return response


def create_app(test_config=None):
    """Build the app: settings, store, index (built from the store if missing), blueprints.

    :param test_config: a mapping of settings that wins over the environment (tests).
    :returns: the Flask app.
    :raises WhooshVersionError: when the installed Whoosh is not the release this product reads and writes.
    """
    from app import (
        analytics,
        api,
        capture,
        customers,
        deliveries,
        escalations,
        health,
        pages,
        promises,
        team_lead,
        widget,
    )
    from app.services import Services

    whoosh_compat.install()
    app = Flask(__name__, instance_relative_config=True)
    _load_config(app, test_config)
    settings = {name: app.config[name] for name in (s.name for s in SETTINGS)}
    services = Services(settings, data_dir(settings))
    if app.config["KB_LOAD_SAMPLE"]:
        _load_sample_if_empty(services)
    services.rules.current()  # validated at start: a bad file is logged with its line
    services.ensure_index()
    try:
        services.catch_up(timeout=60)
    except IndexBusyError as error:  # an import holds the index: the follower catches up once it is done
        logging.getLogger(__name__).info("starting with the index as it is: %s", error)
    services.warm_up()
    app.extensions["kb"] = services

    @app.before_request
    def start_follower():
        services.follower.ensure_running()
        if services.embedder is not None:
            services.embedder.ensure_running()

    _trust_proxies(app)
    _deliver_notifications(app, services)
    _refuse_large_bodies(app)
    _security_headers(app)
    register_error_handlers(app)
    init_limiter(app)
    init_sessions(app)
    app.extensions["kb_signin_guard"] = SignInGuard()

    @app.before_request
    def agents_sign_in_when_search_needs_a_key():
        return team_lead.agent_required() if request.blueprint == "pages" else None

    app.register_blueprint(pages.bp)
    app.register_blueprint(capture.bp)
    app.register_blueprint(api.bp)
    app.register_blueprint(customers.bp)
    app.register_blueprint(promises.bp)
    app.register_blueprint(health.bp)
    app.register_blueprint(analytics.bp)
    app.register_blueprint(team_lead.bp)
    app.register_blueprint(escalations.bp)
    app.register_blueprint(deliveries.bp)
    app.register_blueprint(widget.bp)  # also installs the CORS hooks for /api/v1/*
    return app

"""Shared fixtures: a real SQLite store and a real Whoosh index in a temporary data folder."""

import hashlib
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import settings as hypothesis_settings

from app import create_app
from bench.data import DEFAULT_DATA, default_data
from index import whoosh_compat
from indexer.cli import cli
from indexer.context import open_knowledge_base

# Property-based and schema tests generate the same examples on every run, so CI never turns red on a
# draw that the developer's run did not make; a new finding comes from raising max_examples, on purpose.
hypothesis_settings.register_profile("repeatable", derandomize=True, database=None)
hypothesis_settings.load_profile("repeatable")

TEST_DATA = Path(__file__).resolve().parent / "data"
# The public data sets (docs/data.md) beside the clone, or None; tests/bench_data.py stands in where it can.
REAL_DATA = default_data()
needs_real_data = pytest.mark.skipif(
    REAL_DATA is None,
    reason=f"needs the public data sets (StackFAQ, GitBugs, Microsoft OfficeDocs-Support, codespell, VarCon; "
    f"docs/data.md), not found at {DEFAULT_DATA}",
)
WRITE_KEY = "test-write-key"
# How the edit history and sign-in sessions name the KB_API_KEYS key above (app.auth.configured_key_id).
WRITE_KEY_ID = "cfg_" + hashlib.sha256(WRITE_KEY.encode("utf-8")).hexdigest()[:8]
# What wsgi.py, the command line and the benchmarks do at process start.
whoosh_compat.install()


def settings_for(data_folder, **more):
    """Settings of a test app over ``data_folder``."""
    return {
        "TESTING": True,
        "KB_DATA_DIR": str(data_folder),
        "KB_API_KEYS": WRITE_KEY,
        "KB_SEARCH_KEY_REQUIRED": "false",
        "KB_FOLLOW_INTERVAL_S": 0.1,
        "KB_DATABASE_URL": "",
        # Ranking by meaning loads a model and embeds in a thread: on only in the tests about it (test_semantic*.py).
        "KB_SEMANTIC": False,
        **more,
    }


@pytest.fixture
def data_folder(tmp_path):
    """An empty data folder."""
    folder = tmp_path / "var"
    folder.mkdir()
    return folder


@pytest.fixture
def app(data_folder):
    """An app over an empty store and index; its threads stopped and its store closed afterwards."""
    app = create_app(settings_for(data_folder))
    yield app
    app.extensions["kb"].close()


@pytest.fixture
def client(app):
    """A test client of ``app``."""
    return app.test_client()


@pytest.fixture
def runner(data_folder, monkeypatch):
    """Runs ``python -m indexer`` commands against the test data folder."""
    monkeypatch.setenv("KB_DATA_DIR", str(data_folder))
    monkeypatch.delenv("KB_DATABASE_URL", raising=False)
    monkeypatch.setenv("KB_SEMANTIC", "false")
    cli_runner = CliRunner()

    def run(*args):
        return cli_runner.invoke(cli, list(map(str, args)), catch_exceptions=False)

    return run


@pytest.fixture
def store(data_folder):
    """The store of the test data folder."""
    kb = open_knowledge_base(overrides={"KB_DATA_DIR": str(data_folder), "KB_DATABASE_URL": ""}, environ={})
    yield kb.store
    kb.close()


@pytest.fixture
def indexed_app(data_folder, runner):
    """An app whose store and index were filled from tests/data/calls.json by the real importer."""
    result = runner("import", TEST_DATA / "calls.json")
    assert result.exit_code == 0, result.output
    app = create_app(settings_for(data_folder))
    yield app
    app.extensions["kb"].close()


@pytest.fixture
def indexed_client(indexed_app):
    """A test client of ``indexed_app``."""
    return indexed_app.test_client()


def auth(key=WRITE_KEY):
    """The header that carries an API key."""
    return {"Authorization": f"Bearer {key}"}


def sign_in(client, key=WRITE_KEY, environ_base=None, **form):
    """Sign ``client`` in at /lead/login as a browser does: open the form (its token), then send the key.

    :param environ_base: WSGI environment of both requests, e.g. ``{"REMOTE_ADDR": ...}``.
    :param form: more form fields, e.g. ``next``.
    :returns: the answer to the form's post.
    """
    environ_base = environ_base or {}
    client.get("/lead/login", environ_base=environ_base)
    with client.session_transaction() as session:
        token = session.get("csrf", "")
    return client.post("/lead/login", data={"key": key, "csrf": token, **form}, environ_base=environ_base)

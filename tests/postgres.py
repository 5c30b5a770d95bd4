"""A throwaway PostgreSQL server for tests, and fixtures giving each test its own database.

The server lives in a temporary folder, listens on 127.0.0.1 (a free port) and on a unix socket in
that folder, trusts local connections, and is removed at the end of the session. PostgreSQL refuses
to run as root, so under root (as in CI) its programs run as the ``postgres`` user.
"""

import glob
import itertools
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import psycopg
import pytest
from servers import free_port

PREFERRED_BIN = Path("/usr/lib/postgresql/15/bin")
START_TIMEOUT_S = 60


def postgres_bin():
    """The folder holding initdb and pg_ctl (PostgreSQL 15 preferred), or None when none is installed."""
    if (PREFERRED_BIN / "initdb").exists():
        return PREFERRED_BIN
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    return Path(found[-1]).parent if found else None


class PostgresServer:
    """One PostgreSQL cluster in a temporary folder; ``start``, ``stop``, ``create_database``."""

    def __init__(self, bin_dir):
        self.bin_dir = Path(bin_dir)
        # Not under pytest's tmp_path: its parents are root-only, and the postgres user must reach this.
        self.root = Path(tempfile.mkdtemp(prefix="kb-postgres-"))
        self.data = self.root / "data"
        self.socket_dir = self.root / "socket"
        self.log_path = self.root / "postgres.log"
        self.port = free_port()
        self._names = itertools.count(1)
        self.socket_dir.mkdir()
        if os.geteuid() == 0:
            shutil.chown(self.root, "postgres", "postgres")
            shutil.chown(self.socket_dir, "postgres", "postgres")

    def _run(self, *args, check=True):
        command = [str(self.bin_dir / args[0]), *map(str, args[1:])]
        if os.geteuid() == 0:
            command = ["runuser", "-u", "postgres", "--", *command]
        return subprocess.run(command, capture_output=True, text=True, check=check, timeout=START_TIMEOUT_S)

    def init(self):
        """Create the cluster: trust authentication, UTF-8, no fsync (a test server loses nothing that matters)."""
        self._run("initdb", "-D", self.data, "-U", "postgres", "-A", "trust", "-E", "UTF8", "--no-sync", "--locale=C")
        return self

    def start(self):
        """Start the server and wait until it accepts connections.

        :raises RuntimeError: with the server's log when it does not come up.
        """
        options = (
            f"-p {self.port} -k {self.socket_dir} -c listen_addresses=127.0.0.1 -c fsync=off"
            " -c synchronous_commit=off -c full_page_writes=off -c max_connections=200"
        )
        result = self._run("pg_ctl", "-D", self.data, "-l", self.log_path, "-o", options, "-w", "start", check=False)
        if result.returncode != 0:
            raise RuntimeError(f"PostgreSQL did not start: {result.stderr}\n{self.log()[-3000:]}")
        return self

    def stop(self):
        """Stop the server at once (``pg_ctl stop -m fast``: sessions are ended, nothing committed is lost)."""
        self._run("pg_ctl", "-D", self.data, "-m", "fast", "-w", "stop", check=False)

    def url(self, database="postgres"):
        """The postgresql:// URL of a database on this server."""
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def create_database(self):
        """A new empty database; returns its URL."""
        name = f"test_{next(self._names)}"
        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(f"CREATE DATABASE {name}")
        return self.url(name)

    def log(self):
        """What the server wrote to its log so far."""
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def remove(self):
        """Stop the server and delete its folder."""
        self.stop()
        shutil.rmtree(self.root, ignore_errors=True)


@pytest.fixture(scope="session")
def postgres_server():
    """One PostgreSQL server for the whole session (skipped when PostgreSQL is not installed)."""
    bin_dir = postgres_bin()
    if bin_dir is None:
        pytest.skip("PostgreSQL is not installed: apt-get install postgresql (scripts/test.sh does it)")
    server = PostgresServer(bin_dir)
    try:
        server.init().start()
        yield server
    finally:
        server.remove()


@pytest.fixture
def postgres_url(postgres_server):
    """The URL of a fresh, empty database for this test alone."""
    return postgres_server.create_database()


@pytest.fixture
def postgres_store(postgres_url):
    """A migrated PostgresCallStore over a fresh database."""
    from store.postgres import PostgresCallStore

    store = PostgresCallStore(postgres_url)
    store.migrate()
    yield store
    store.close()

"""No agent's write pays for copying an import's write-ahead log into the store (issue #17, "a write during a
100,000-call import answers within 1 s").

SQLite copies its write-ahead log into the database file (a checkpoint) in whichever connection commits once the
log is long: after an import's one big transaction, the next agent's write could be that connection and answer
half a second late. The server's connections leave it to the follower thread. Real SQLite files throughout.
"""

import os

from conftest import settings_for

from app import create_app
from store.records import validate_record
from store.sqlite import AUTOCHECKPOINT_PAGES, SqliteCallStore

LONG_TEXT = "The docking station flickers when the laptop wakes from sleep. " * 60


def imported_without_checkpoint(path, count):
    """Write ``count`` long calls the way another process's import whose own checkpoint did not run would."""
    importer = SqliteCallStore(path)
    importer.defer_checkpoints()
    records = [validate_record({"id": f"IMP-{n}", "title": f"Import {n}", "problem": LONG_TEXT}) for n in range(count)]
    importer.upsert(records, actor="import")
    importer.close()


def test_a_write_through_the_server_leaves_a_long_log_to_the_follower(data_folder):
    services = create_app(settings_for(data_folder)).extensions["kb"]  # no request yet: its follower waits
    try:
        database = data_folder / "calls.db"
        imported_without_checkpoint(database, 1500)
        page_size = services.store._db().execute("PRAGMA page_size").fetchone()[0]
        assert os.path.getsize(f"{database}-wal") > AUTOCHECKPOINT_PAGES * page_size
        size_before = os.path.getsize(database)

        agent_call = validate_record({"id": "AGENT-1", "title": "Zqvbnm flickers", "problem": "It flickers."})
        services.store.upsert([agent_call], actor="agent")
        assert os.path.getsize(database) == size_before  # the agent's commit copied nothing

        services.follower.run_once()
        assert os.path.getsize(database) > size_before + AUTOCHECKPOINT_PAGES * page_size
        assert services.store.get("AGENT-1")["title"] == "Zqvbnm flickers"
        assert services.store.count() == 1501
    finally:
        services.close()


def test_the_command_line_store_still_checkpoints_on_commit(data_folder):
    database = data_folder / "calls.db"
    store = SqliteCallStore(database)
    store.migrate()
    records = [validate_record({"id": f"C-{n}", "title": f"Call {n}", "problem": LONG_TEXT}) for n in range(1500)]
    store.upsert(records, actor="import")
    page_size = store._db().execute("PRAGMA page_size").fetchone()[0]
    assert os.path.getsize(database) > AUTOCHECKPOINT_PAGES * page_size
    store.close()

"""Bringing a store backup back in place of the current store."""

import sqlite3


def restore_backup(kb, path):
    """Copy a backup file made by ``backup`` over the SQLite store, in one locked step.

    :param kb: the opened knowledge base.
    :param path: the backup file.
    :returns: how many calls the restored store holds.
    :raises ValueError: when the file is not a store backup or the store is not SQLite.
    """
    if not hasattr(kb.store, "backup_to"):
        raise ValueError("restore works on the SQLite store; restore PostgreSQL with pg_restore")
    try:
        source = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        tables = {row[0] for row in source.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        if not {"calls", "changes"} <= tables:
            raise ValueError(f"{path} is not a knowledge-base backup (it has no calls table)")
        if source.execute("PRAGMA integrity_check").fetchone()[0] != "ok":
            raise ValueError(f"{path} is damaged (SQLite integrity check failed)")
    except sqlite3.DatabaseError as error:
        raise ValueError(f"{path} is not a SQLite backup: {error}") from None
    try:
        target = sqlite3.connect(str(kb.store.path), timeout=30)
        source.backup(target)
        target.close()
    finally:
        source.close()
    kb.store.close()
    return kb.store.count()

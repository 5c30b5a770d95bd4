"""API keys in the store: made, looked up, revoked and expired, kept only as digests.

A mixin for every store, in the manner of ``store.loop``: portable SQL with ``?`` placeholders through the
store's ``_rows(sql, params)`` and ``_run(statements)`` (which returns each statement's row count).
A key is live while it is neither revoked nor past its ``expires_at`` (empty: it never expires). Its id
(``key_`` and 8 hex digits) names it everywhere a person or a session needs to: ``keys list``, the edit
history, the sign-in cookie; the secret is shown once and never stored.
"""

import secrets

from store.base import utc_now
from store.rows import hash_key

# Columns added to api_keys after its first release: the stores add them to an older table on migrate.
ADDED_KEY_COLUMNS = {"expires_at": "TEXT NOT NULL DEFAULT ''"}
_LIVE = "revoked_at = '' AND (expires_at = '' OR expires_at > ?)"


class ApiKeyStore:
    """API keys: create, look up by secret or by id, revoke, list (see module docstring)."""

    def create_key(self, role, name="", expires_at=""):
        """Make a new API key; only its digest is kept.

        :param role: 'search' or 'write'.
        :param name: a label for people (who or what uses the key).
        :param expires_at: ISO 8601 time in UTC after which the key stops working; empty: never.
        :returns: (key id, the secret key, shown this once).
        """
        key_id = "key_" + secrets.token_hex(4)
        secret = f"kb_{role}_{secrets.token_urlsafe(24)}"
        self._run(
            [
                (
                    "INSERT INTO api_keys (id, key_hash, role, name, created_at, revoked_at, expires_at)"
                    " VALUES (?, ?, ?, ?, ?, '', ?)",
                    (key_id, hash_key(secret), role, name, utc_now(), expires_at or ""),
                )
            ]
        )
        return key_id, secret

    def key_for_secret(self, secret):
        """The live key a secret opens, as ``{"id", "role", "name"}``, or None (unknown, revoked, expired)."""
        rows = self._rows(
            f"SELECT id, role, name FROM api_keys WHERE key_hash = ? AND {_LIVE}", (hash_key(secret), utc_now())
        )
        return dict(rows[0]) if rows else None

    def live_key(self, key_id):
        """The live key with this id, as ``{"id", "role", "name"}``, or None: one lookup by primary key."""
        rows = self._rows(f"SELECT id, role, name FROM api_keys WHERE id = ? AND {_LIVE}", (key_id, utc_now()))
        return dict(rows[0]) if rows else None

    def role_of_key(self, secret):
        """The role of a live key, or None when it is unknown, revoked or expired."""
        key = self.key_for_secret(secret)
        return None if key is None else key["role"]

    def revoke_key(self, key_id):
        """Revoke a key by id; returns False when no key with that id is unrevoked."""
        counts = self._run(
            [("UPDATE api_keys SET revoked_at = ? WHERE id = ? AND revoked_at = ''", (utc_now(), key_id))]
        )
        return counts[0] == 1

    def list_keys(self):
        """Every key's id, role, name and dates (never the key itself)."""
        return self._rows(
            "SELECT id, role, name, created_at, revoked_at, expires_at FROM api_keys ORDER BY created_at", ()
        )

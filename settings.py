"""The one list of settings: name, default and a one-line help text each.

Every setting is read from an environment variable of the same name (``KB_*``),
or from the instance ``config.py``, or from the test mapping given to ``create_app``.
This module imports no Flask, so the command line reads the same list.
"""

import os
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Setting:
    """One configuration key with its default and what it is for."""

    name: str
    default: object
    help: str


SETTINGS = (
    Setting("KB_DATA_DIR", "./var", "Folder holding the SQLite store, the Whoosh index and rules."),
    Setting(
        "KB_DATABASE_URL",
        "",
        "Empty for the embedded SQLite store; postgresql://... for a shared PostgreSQL store.",
    ),
    Setting(
        "KB_API_KEYS",
        "",
        "Comma-separated write keys accepted besides keys made with 'indexer keys create'.",
    ),
    Setting(
        "KB_SEARCH_KEY_REQUIRED",
        "auto",
        "Whether searching needs a key: 'true', 'false', or 'auto' (no key from this machine itself, unproxied).",
    ),
    Setting("KB_WIDGET_ORIGINS", "", "Comma-separated origins allowed to call the API from the widget."),
    Setting("KB_MAX_BODY_BYTES", 10_000_000, "Largest request body accepted, in bytes (413 beyond)."),
    Setting("KB_SEARCH_TIME_LIMIT_MS", 300, "Search time limit; the best hits found by then are returned."),
    Setting(
        "KB_RESULT_CACHE_SIZE",
        1024,
        "Recent search results each worker keeps for repeated searches; any write retires them (0: none).",
    ),
    Setting(
        "KB_POSTING_ARRAYS_MB",
        256,
        "Megabytes of decoded posting lists each worker keeps for searching (least recently used out first).",
    ),
    Setting(
        "KB_SEMANTIC",
        True,
        "Rank by meaning too (an embedding model, fused with the words' ranking); false: by words only, as before.",
    ),
    Setting(
        "KB_EMBEDDING_MODEL",
        "minilm-l6-int8",
        "The embedding model ranking by meaning uses: minilm-l6-int8 (English) or e5-small-q4 (multilingual).",
    ),
    Setting(
        "KB_RERANK",
        True,
        "Order the words' and the meaning's candidates by the re-ranker shipped for the embedding model; "
        "false: reciprocal rank fusion.",
    ),
    Setting(
        "KB_EMBED_IN_SERVER",
        True,
        "One worker of each server embeds new calls in a background thread; false: only 'indexer embed' does.",
    ),
    Setting("KB_EMBED_INTERVAL_S", 1.0, "How often the server's embedding thread looks for calls without a vector."),
    Setting("KB_QUERY_VECTOR_CACHE_SIZE", 1024, "Recent query vectors each worker keeps for repeated searches."),
    Setting("KB_FOLLOW_INTERVAL_S", 0.25, "How often each server checks the store for changes to index."),
    Setting(
        "KB_WRITE_INDEX_WAIT_MS",
        500,
        "How long a write waits for its change to be indexed before answering indexed: false.",
    ),
    Setting(
        "KB_FOLLOWER_STUCK_S",
        30.0,
        "Seconds of failing index passes after which /healthz calls the follower stuck and answers 503.",
    ),
    Setting("KB_SYNONYMS_FILE", "", "Synonyms file read at query time (empty: the one shipped in analyzers/data)."),
    Setting("KB_SECRET_KEY", "", "Signs the analytics sign-in cookie; empty: a new random one each start."),
    Setting(
        "KB_COOKIE_SECURE", "auto", "Mark the sign-in cookie Secure: 'auto' (when served over HTTPS), 'true', 'false'."
    ),
    Setting("KB_SESSION_IDLE_MINUTES", 120, "A sign-in ends after this many minutes without a request."),
    Setting("KB_SESSION_MAX_HOURS", 12, "A sign-in ends this many hours after it began, however busy."),
    Setting(
        "KB_TRUSTED_PROXIES",
        0,
        "How many reverse proxies in front of the server to trust for X-Forwarded-For/-Proto/-Host (0: none).",
    ),
    Setting(
        "KB_OUTBOX_INTERVAL_S",
        5.0,
        "How often each server process sends due notifications from the outbox (0: only 'indexer deliver').",
    ),
    Setting("KB_OUTBOX_RETRY_S", 30.0, "Wait before retrying a failed notification; doubles each time, at most 1 h."),
    Setting("KB_OUTBOX_MAX_ATTEMPTS", 10, "Attempts to deliver a notification before giving up on it."),
    Setting("KB_WEBHOOK_TIMEOUT_S", 5.0, "How long one notification POST may take before it counts as failed."),
    Setting("KB_LOAD_SAMPLE", False, "Load the sample knowledge base when the store is empty."),
    Setting(
        "KB_PHONE_REGION",
        "GB",
        "Two-letter region in which a phone number without its country code is read (020 7946 0958 in GB).",
    ),
    Setting("KB_RATE_LIMIT", "15000 per minute", "Requests allowed per key and per address (flask-limiter syntax)."),
)

SETTINGS_BY_NAME = {setting.name: setting for setting in SETTINGS}


def coerce(name, value):
    """Convert a raw (string) value of a setting to the type of its default.

    :param name: the setting's name.
    :param value: the raw value, usually a string from the environment.
    :returns: the value as an int, float, bool or str, like the default.
    :raises ValueError: when the value cannot be read as that type.
    """
    default = SETTINGS_BY_NAME[name].default
    if not isinstance(value, str):
        return value
    if isinstance(default, bool):
        lowered = value.strip().lower()
        if lowered in ("1", "true", "yes", "on"):
            return True
        if lowered in ("0", "false", "no", "off", ""):
            return False
        raise ValueError(f"{name} must be true or false, not {value!r}")
    if isinstance(default, int):
        return int(value)
    if isinstance(default, float):
        return float(value)
    return value


def layered_settings(*layers):
    """Every setting's value from its default and then each layer in turn (later layers win).

    :param layers: mappings from setting names to raw values; other keys are ignored.
    :returns: a dict from setting name to its typed value.
    """
    values = {setting.name: setting.default for setting in SETTINGS}
    for layer in layers:
        for name in values:
            if name in layer:
                values[name] = coerce(name, layer[name])
    return values


def read_settings(environ=None, overrides=None):
    """Every setting's value: defaults, then the environment, then overrides.

    :param environ: the environment mapping (``os.environ`` when None).
    :param overrides: a mapping of setting names to values that wins over both.
    :returns: a dict from setting name to its typed value.
    """
    return layered_settings(os.environ if environ is None else environ, overrides or {})


def data_dir(settings):
    """The data folder as an absolute path, created if missing.

    :param settings: the mapping returned by :func:`read_settings`.
    :returns: a :class:`pathlib.Path`.
    """
    path = Path(settings["KB_DATA_DIR"]).expanduser().resolve()
    path.mkdir(parents=True, exist_ok=True)
    return path

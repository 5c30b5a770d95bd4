"""The parts one server process shares between requests: store, index, search, follower."""

import logging
import time

from app.embed_worker import EmbedWorker
from app.follower import Follower
from app.search_log import SearchLogBuffer
from engine import kernels, nearest
from engine.semantic import SemanticStage
from engine.service import SearchService
from engine.sources import OutcomesFromFeedback, SynonymsFile
from engine.vocabulary import VocabularyCache
from index import grouping
from index.build import apply_changes, rebuild
from index.generations import IndexBusyError, IndexHome, IndexMissingError
from index.schema import matches_call_schema
from rules.customer_messages import CustomerMessagesFile
from rules.customer_notices import customer_notices, customers_of
from rules.logic import apply_on_write_with_key_accounts
from rules.parse import RulesFile
from store.base import StoreUnavailableError, open_store

log = logging.getLogger(__name__)
# How often a write looks whether the follower has indexed it.
INDEX_POLL_S = 0.005


class Services:
    """Store, index home, search service and follower of one server process."""

    def __init__(self, settings, data_folder):
        self.settings = settings
        self.data_folder = data_folder
        self.store = open_store(settings, data_folder)
        self.store.defer_checkpoints()  # the follower checkpoints (Follower.run_once), never a request's commit
        self.home = IndexHome(data_folder)
        self.vocabulary = VocabularyCache()
        self.synonyms = SynonymsFile(settings.get("KB_SYNONYMS_FILE") or None, self.store)
        self.rules = RulesFile(data_folder)
        self.customer_messages = CustomerMessagesFile(data_folder)
        self.search_log = SearchLogBuffer()
        self.search = SearchService(
            self.home,
            self.vocabulary,
            self.synonyms,
            time_limit_ms=settings["KB_SEARCH_TIME_LIMIT_MS"],
            result_cache_size=settings["KB_RESULT_CACHE_SIZE"],
            posting_arrays_mb=settings["KB_POSTING_ARRAYS_MB"],
            outcomes_source=OutcomesFromFeedback(self.store),
            owned_products=self.owned_products,
            semantic=self.semantic_stage(settings, self.home),
        )
        self.follower = Follower(self, settings["KB_FOLLOW_INTERVAL_S"], settings["KB_FOLLOWER_STUCK_S"])
        interval = settings["KB_EMBED_INTERVAL_S"] if settings["KB_EMBED_IN_SERVER"] else 0
        self.embedder = EmbedWorker(self.search, interval) if interval > 0 else None
        # Threads of this process to stop on close: the follower, the embedder, the outbox's delivery (app).
        self.background = [worker for worker in (self.follower, self.embedder) if worker is not None]

    def close(self):
        """Stop this process's background threads, then close the search service and the store."""
        for worker in self.background:
            worker.stop()
        self.search.close()
        self.store.close()

    @staticmethod
    def semantic_stage(settings, home):
        """The ranking by meaning of this process, or None when ``KB_SEMANTIC`` turns it off."""
        if not settings["KB_SEMANTIC"]:
            return None
        cache = settings["KB_QUERY_VECTOR_CACHE_SIZE"]
        return SemanticStage(
            home.root, settings["KB_EMBEDDING_MODEL"], query_cache_size=cache, rerank=settings["KB_RERANK"]
        )

    def owned_products(self, customer_id):
        """The product names a customer's record says they own (empty when there is no record or no store)."""
        try:
            record = self.store.get_customer(customer_id)
        except StoreUnavailableError:
            return frozenset()
        return frozenset(product["name"] for product in record["products"]) if record else frozenset()

    def ensure_index(self):
        """Build the index from the store when it is missing or cannot be opened."""
        try:
            index = self.home.open_index()
            outdated = not matches_call_schema(index.schema)
            index.close()
            if not outdated:
                return
            log.warning("the index was built with another schema or analysis; rebuilding it from the store")
        except IndexMissingError:
            pass
        except Exception as error:  # a damaged index is rebuilt from the store, the source of truth
            log.warning("the index could not be opened (%s); rebuilding it from the store", error)
        rebuild(self.store, self.home)

    def warm_up(self):
        """Load the word lists and the vocabulary now, once, rather than in the first search.

        Under gunicorn the app is preloaded, so the workers fork with all of it in memory, the search's compiled
        loops included (``engine.kernels.warm_up``, ``engine.nearest.warm_up``, and ``index.grouping.warm_up`` for the
        follower's writes). The embedding model is not among it: see :meth:`warm_up_worker`.
        """
        kernels.warm_up()
        nearest.warm_up()
        grouping.warm_up()
        try:
            self.search.warm_up("printer offline")
        except IndexMissingError:
            return
        self.search.close()

    def warm_up_worker(self):
        """Load the embedding model in this process, before its first search (gunicorn's ``post_worker_init``).

        Each worker loads its own after the fork: the model's threads do not survive one
        (``engine.embedding.vectors_name``).
        """
        if self.search.semantic is not None:
            self.search.semantic.query_vector("printer offline")

    def write(self, records, actor, expected=None):
        """The one write path of the web service: service rules, then the store, whose commit acknowledges it
        with the customers' notices of the changes of status it made (``rules.customer_notices``).

        Indexing follows in the follower; the write waits for it at most ``KB_WRITE_INDEX_WAIT_MS``, never
        for the index writer held by an import (see :meth:`indexed_within`).

        :param records: clean records.
        :param actor: who made the change, for the edit history.
        :param expected: compare-and-set versions by id (``CallStore.upsert``), or None.
        :returns: (the store's ``WriteSummary``, True when the index has the change already; when False
            the follower indexes it as soon as the index writer is free, within a second when it is).
        :raises StoreUnavailableError: when the store cannot be written (nothing was).
        """
        started = time.monotonic()
        rules = self.rules.current()
        apply_on_write_with_key_accounts(records, rules, self.store)
        webhook = rules.customer_webhook
        customers = customers_of(self.store, records, webhook)
        notices = customer_notices(records, customers, webhook, self.customer_messages.current())
        summary = self.store.upsert(records, actor=actor, expected=expected, messages=notices)
        return summary, self.indexed_within(summary.latest_seq, started)

    def delete(self, call_id, actor, expected=None):
        """Delete a call from the store, then from the index (see :meth:`write`).

        :raises CallNotFoundError: when the id is unknown.
        """
        started = time.monotonic()
        summary = self.store.delete(call_id, actor=actor, expected=expected)
        return summary, self.indexed_within(summary.latest_seq, started)

    def indexed_within(self, seq, started):
        """Wake the follower and wait until the index holds change ``seq``, at most until ``KB_WRITE_INDEX_WAIT_MS``
        after the write ``started`` (a write that already waited for the store, behind an import's
        transaction, does not wait again), and not at all while a rebuild runs (its swap brings the change).

        :param started: when the write began (``time.monotonic()``).
        :returns: True when it does (the write is searchable now), False when the wait ran out.
        """
        deadline = started + self.settings["KB_WRITE_INDEX_WAIT_MS"] / 1000
        self.follower.ensure_running()
        while not self.index_holds(seq):
            if time.monotonic() >= deadline or self.home.rebuild_in_progress() is not None:
                return False
            self.follower.wake()
            time.sleep(INDEX_POLL_S)
        return True

    def index_holds(self, seq):
        """Whether the index in use has applied every store change up to ``seq``."""
        folder = self.home.current_dir()
        return folder is not None and self.home.read_applied_seq(folder) >= seq

    def catch_up(self, timeout, most=None):
        """Apply pending store changes to the index (the next ``most`` of them, when given).

        :returns: ``(applied, latest)``: the sequence number the index reflects, and the store's.
        """
        folder = self.home.current_dir()
        latest = self.store.latest_seq()
        applied = None if folder is None else self.home.read_applied_seq(folder)
        if applied is not None and applied >= latest:
            return applied, latest
        rebuilt_from = self.home.rebuild_in_progress()
        if applied is not None and rebuilt_from is not None and applied < rebuilt_from:
            # An import rebuilds the index from those changes: its new generation will hold them.
            raise IndexBusyError(f"a rebuild from change {rebuilt_from} is under way")
        return apply_changes(self.store, self.home, timeout=timeout, most=most), latest

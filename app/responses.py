"""What the API answers, declared as pydantic models for the OpenAPI document.

The routes build their answers as dicts (the engine's hits, the store's summaries); these models only
describe them, and ``tests/test_api_schema.py`` checks every answer against them through schemathesis.
"""

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from store.models import Call

_OPEN = ConfigDict(extra="allow")


class ErrorItem(BaseModel):
    """One problem: its message, the field at fault and, in a batch of calls, the record's position."""

    message: str
    field: str = Field(None, description="The field or query parameter at fault.")
    index: int = Field(None, description="The record's position in a batch of calls.")


class Error(BaseModel):
    """The one shape of every error, on every route."""

    ok: Literal[False]
    error: str
    errors: list[ErrorItem] = Field(min_length=1)
    status: int


class Match(BaseModel):
    """Why a hit matched: a typed word, the word it matched, and how; for ``meaning``, the query as meant (typos
    corrected), an empty ``matched`` and the cosine similarity of the call's text to it."""

    query_term: str
    matched: str
    how: Literal["exact", "stem", "spelling-variant", "synonym", "typo", "sounds-like", "meaning", "caller-product"]
    similarity: float | None = Field(default=None, description="Only for how = meaning: -1 to 1, higher is closer.")


class Hit(BaseModel):
    """One ranked past call."""

    id: str
    title: str
    title_html: str = Field(None, description="Escaped title with <mark> around matched words.")
    score: float
    snippet: str = Field(description="Escaped text with <mark> around matched words.")
    resolution: str = Field(description="The resolution, cut after 600 characters.")
    product: str
    category: str
    created_at: str
    tags: list[str] = None
    resolved: bool = None
    matches: list[Match]
    status: str = None
    priority: str = None
    customer_id: str = None
    outcome_boost: float = Field(None, description="How much earlier 'this solved it' feedback raised the score.")


class Correction(BaseModel):
    """One typed word and its correction."""

    model_config = ConfigDict(populate_by_name=True)

    from_: str = Field(alias="from")
    to: str


class DidYouMean(BaseModel):
    """The corrected query, when a typo correction changed the results."""

    text: str
    html: str
    corrections: list[Correction]


class SearchResult(BaseModel):
    """Ranked calls for a query (search and suggest-from-text)."""

    search_id: str | None = Field(None, description="Send it back with /feedback and /events.")
    query: str
    total: int = Field(description="How many calls match, counted up to 100 (see total_exact).")
    total_exact: bool = Field(
        None,
        description="False when total is a lower bound: the count stopped at 100, or the time limit cut the search "
        "short.",
    )
    took_ms: float
    did_you_mean: DidYouMean | None
    timed_out: bool = None
    facets: dict[str, dict[str, int]] = Field(None, description="Counts by product and category (facets=true).")
    results: list[Hit]


class CallsWritten(BaseModel):
    """What a POST of calls did (all or nothing)."""

    ok: Literal[True]
    inserted: int
    updated: int
    unchanged: int
    ids: list[str] = Field(description="The ids as stored (trimmed), in the order sent.")
    indexed: bool = Field(
        description="True: searchable now. False: stored, and indexed by the follower as soon as the index "
        "writer is free (within a second unless an import holds it); the write did not wait longer than "
        "KB_WRITE_INDEX_WAIT_MS."
    )
    seq: int
    versions: dict[str, int] = Field(description="Each call's version now (its ETag, for If-Match), by id.")


class CallPut(BaseModel):
    """The call as stored after a PUT."""

    ok: Literal[True]
    call: Call
    version: int = Field(description="The call's version now, also sent as the ETag header.")
    indexed: bool
    seq: int


class CallDeleted(BaseModel):
    """What a DELETE did."""

    ok: Literal[True]
    deleted: str
    indexed: bool
    seq: int


class Proposal(BaseModel):
    """A synonym proposed from a failed search followed by a solved one."""

    model_config = ConfigDict(populate_by_name=True)

    from_: str = Field(alias="from")
    to: str


class FeedbackRecorded(BaseModel):
    """Feedback kept."""

    ok: Literal[True]
    call_id: str
    query: str
    proposed: Proposal | None


class Recorded(BaseModel):
    """An event kept."""

    ok: Literal[True]


class Health(BaseModel):
    """Store and index reachable, record count, index lag."""

    model_config = _OPEN

    ok: bool
    store: dict[str, Any]
    index: dict[str, Any]

"""What the customer and follow-up routes take and answer (issue #18), declared once as pydantic models.

Requests: the lookup's and the follow-up list's query strings (the customer record itself is
``store.customer_models.CustomerInput``, a promise ``store.follow_ups.FollowUpBody``). Answers: described for
the OpenAPI document (``app/customer_openapi.py``), as ``app/responses.py`` does for calls.
"""

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from app.schemas import ECMA_NOT_BLANK, query_int
from engine.callers import HOW, MAX_LIMIT
from store.customer_models import Customer
from store.follow_ups import STATES
from store.validation import Messages

_QUERY = ConfigDict(strict=True, regex_engine="python-re", extra="ignore")
_RANGE = f"'limit' must be between 1 and {MAX_LIMIT}"


class CustomerLookupParams(BaseModel):
    """The query string of ``GET /api/v1/customers``."""

    model_config = _QUERY

    q: Annotated[
        str,
        Field(
            pattern=ECMA_NOT_BLANK,
            max_length=200,
            description="An account number, a phone number in any common format, an e-mail address or a name as heard.",
            examples=["jon smyth"],
        ),
        Messages(
            missing="the query parameter 'q' is required: an account, phone number, e-mail address or name",
            string_pattern_mismatch="the query 'q' is empty: type an account, phone number, e-mail address or name",
            string_too_long="the query 'q' is longer than 200 characters",
        ),
    ]
    limit: Annotated[
        query_int(ge=1, le=MAX_LIMIT),
        Messages(
            int_type="'limit' must be a whole number, not {value}", greater_than_equal=_RANGE, less_than_equal=_RANGE
        ),
    ] = 10


class FollowUpParams(BaseModel):
    """The query string of ``GET /api/v1/follow-ups``. Empty filters mean "no filter"."""

    model_config = _QUERY

    state: Annotated[Literal[STATES], Messages(literal_error="'state' must be one of due, overdue, done")] = None
    owner: Annotated[str, Field(max_length=100, description="Only this agent's promises.")] = ""
    customer_id: Annotated[str, Field(max_length=200, description="Only this customer's promises.")] = ""


class CallerFound(BaseModel):
    """One customer found, and how."""

    how: Literal[HOW]
    matched: str = Field(description="What of theirs matched: account, number, address, or name as written.")
    customer: Customer


class CallersFound(BaseModel):
    """Customers for what the caller gave, exact matches first."""

    query: str
    results: list[CallerFound]


class LocalTime(BaseModel):
    """The time where the customer is."""

    time_zone: str
    local_time: str = Field(description="ISO 8601 with the zone's offset, to the minute.")
    utc_offset: str
    display: str = Field(description="e.g. Tue 14:05")


class CustomerShown(BaseModel):
    """One customer record, with the time where they are (null when the time zone is unknown)."""

    customer: Customer
    local_time: LocalTime | None


class CustomersWritten(BaseModel):
    """What a POST of customers did (all or nothing)."""

    ok: Literal[True]
    inserted: int
    updated: int
    unchanged: int
    ids: list[str]


class CustomerPut(BaseModel):
    """The customer as stored after a PUT."""

    ok: Literal[True]
    customer: Customer


class FollowUp(BaseModel):
    """A promised follow-up and its state."""

    id: str
    call_id: str
    customer_id: str
    what: str
    due_at: str = Field(description="UTC, to the second.")
    owner: str
    created_at: str
    created_by: str
    done_at: str = Field(description="Empty until kept.")
    done_by: str
    escalated_at: str = Field(description="Set when the rules escalated it (overdue too long).")
    state: Literal[STATES]


class FollowUpWritten(BaseModel):
    """A promise kept in the store, or marked done."""

    ok: Literal[True]
    follow_up: FollowUp


class FollowUps(BaseModel):
    """Promises, soonest due first (most recently kept first for ``state=done``)."""

    now: str
    follow_ups: list[FollowUp]


class CallerContext(BaseModel):
    """The caller panel: the record (if any), open and past calls, every channel's timeline, promises."""

    model_config = ConfigDict(extra="allow")

    customer_id: str
    customer_name: str
    open: list[dict[str, Any]]
    past: list[dict[str, Any]]
    timeline: list[dict[str, Any]] = Field(description="Every call of every channel, newest first.")
    last_contact: dict[str, str] = Field(description="The newest contact on each channel.")
    customer: Customer | None = Field(description="The customer record; null for an account known only from calls.")
    local_time: LocalTime | None
    follow_ups: list[FollowUp] = Field(description="Promises still open (overdue first), then the last kept.")

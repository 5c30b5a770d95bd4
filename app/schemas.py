"""What the API's requests carry besides call records, declared once: feedback, events, suggest-from-text, search.

The same pydantic models validate the requests (``api.py``) and give the OpenAPI document its schemas
(``openapi.py``); the call record itself is ``store.models.CallInput``. JSON bodies are strict: a number is
not a string and ``null`` is not "absent". A query string is text, so its integers and booleans are read from
their text first (``query_int``, ``QueryBool``), as the CSV reader reads its cells, and then validated as strictly.
"""

import re
from typing import Annotated, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError

from app.errors import ApiError
from engine.service import MAX_LIMIT
from store.models import CHANNELS, MAX_ID_CHARS, NOT_BLANK, PRIORITIES, STATUSES
from store.validation import Messages, field_problems

MAX_RECORDS_PER_REQUEST = 1_000
MAX_QUERY_CHARS = 1_000
MAX_SUGGEST_TEXT_CHARS = 20_000
MAX_SEARCH_ID_CHARS = 64
MAX_POSTED_QUERY_CHARS = 20_000
SOURCES = ("page", "widget", "api")

# A query or a description is blank when it holds only the white space ECMA-262 knows (engine.plan.is_blank):
# the engine decides what a query is, and JSON Schema's \s is that same set.
ECMA_NOT_BLANK = r"[^\t\n\x0b\x0c\r \xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\ufeff]"

_STRICT = ConfigDict(strict=True, regex_engine="python-re", extra="ignore")


def _read_int(text):
    if isinstance(text, str) and re.fullmatch(r"-?[0-9]+", text):
        try:
            return int(text)
        except ValueError:  # more digits than Python reads (sys.get_int_max_str_digits)
            return text
    return text


def _read_bool(text):
    word = text.lower() if isinstance(text, str) else text
    return {"true": True, "1": True, "false": False, "0": False}.get(word, text)


def _whole_number(value):
    return int(value) if isinstance(value, float) and value.is_integer() else value


def json_int(**constraints):
    """A JSON integer: JSON Schema counts 5.0 as the integer 5 (``true`` and ``"5"`` stay refused).

    :param constraints: ``Field`` bounds such as ``ge=1``, checked on the number.
    :returns: an ``Annotated`` int type.
    """
    return Annotated[int, Field(**constraints), BeforeValidator(_whole_number)]


def query_int(**constraints):
    """A whole number read from a query string's text (what cannot be read is left for the model to refuse).

    :param constraints: ``Field`` bounds such as ``ge=1``, checked on the number read.
    :returns: an ``Annotated`` int type.
    """
    return Annotated[int, Field(**constraints), BeforeValidator(_read_int)]


# true/false/1/0 in any case, as OpenAPI's query booleans and schemathesis read them; anything else is refused.
QueryBool = Annotated[bool, BeforeValidator(_read_bool)]


class FeedbackBody(BaseModel):
    """Feedback, "this solved it": the call that solved the problem searched for."""

    model_config = ConfigDict(
        **_STRICT,
        json_schema_extra={"examples": [{"call_id": "T-001", "query": "router keeps dropping", "source": "api"}]},
    )

    call_id: Annotated[
        str,
        Field(max_length=MAX_ID_CHARS, pattern=NOT_BLANK, description="The call that solved it."),
        Messages(
            missing="'call_id' is required (the id of the call that solved it)",
            string_pattern_mismatch="'call_id' is required (the id of the call that solved it)",
        ),
    ]
    query: Annotated[str, Field(max_length=MAX_QUERY_CHARS, description="The query that found it.")] = ""
    source: Literal[SOURCES] = "api"
    search_id: Annotated[
        str,
        Field(max_length=MAX_SEARCH_ID_CHARS, description="The search_id of the search response, if any."),
        Messages(string_too_long="'search_id' must be the search_id of a search response"),
    ] = ""


class EventBody(BaseModel):
    """A hit of a search was opened (for the analytics)."""

    model_config = ConfigDict(
        **_STRICT,
        json_schema_extra={
            "examples": [{"search_id": "5f0c2a7d9e4b4c1f8a3b6d2e1c0f9a8b", "call_id": "T-001", "kind": "opened"}]
        },
    )

    search_id: Annotated[
        str,
        Field(max_length=MAX_SEARCH_ID_CHARS, pattern=NOT_BLANK, description="From the search response."),
        Messages(
            missing="'search_id' is required (a string)",
            string_pattern_mismatch="'search_id' is required (a string)",
            string_too_long="'search_id' must be the search_id of a search response",
        ),
    ]
    call_id: Annotated[
        str,
        Field(max_length=MAX_ID_CHARS, pattern=NOT_BLANK, description="The hit that was opened."),
        Messages(
            missing="'call_id' is required (a string)", string_pattern_mismatch="'call_id' is required (a string)"
        ),
    ]
    kind: Annotated[
        Literal["opened"], Messages(literal_error="'kind' must be 'opened' (solved calls go to /api/v1/feedback)")
    ] = "opened"


class SuggestBody(BaseModel):
    """The customer's description as typed during the call."""

    model_config = ConfigDict(
        **_STRICT,
        json_schema_extra={
            "examples": [{"text": "her outlook keeps asking for the pasword since the update", "limit": 5}]
        },
    )

    text: Annotated[
        str,
        Field(max_length=MAX_SUGGEST_TEXT_CHARS, pattern=ECMA_NOT_BLANK),
        Messages(
            missing="'text' is required: the customer's description as typed",
            string_pattern_mismatch="'text' is required: the customer's description as typed",
            string_too_long=f"'text' must be at most {MAX_SUGGEST_TEXT_CHARS:,} characters",
        ),
    ]
    limit: Annotated[
        json_int(ge=1, le=MAX_LIMIT),
        Messages(
            greater_than_equal=f"'limit' must be between 1 and {MAX_LIMIT}",
            less_than_equal=f"'limit' must be between 1 and {MAX_LIMIT}",
        ),
    ] = 5


_RANGE = f"'limit' must be between 1 and {MAX_LIMIT}"
_CHOICE = Messages(literal_error="'{field}' must be one of {choices}")


class SearchParams(BaseModel):
    """The query string of ``GET /api/v1/search``. Empty free-text filters mean "no filter"."""

    model_config = _STRICT

    q: Annotated[
        str,
        Field(pattern=ECMA_NOT_BLANK, description="What the agent typed.", examples=["router keeps dropping"]),
        Messages(
            missing="the query parameter 'q' is required, e.g. /api/v1/search?q=printer+offline",
            string_pattern_mismatch="the query 'q' is empty: type a few words to search for",
        ),
    ]
    limit: Annotated[
        query_int(ge=1, le=MAX_LIMIT),
        Messages(
            int_type="'limit' must be a whole number, not {value}", greater_than_equal=_RANGE, less_than_equal=_RANGE
        ),
    ] = 10
    offset: Annotated[
        query_int(ge=0),
        Messages(
            int_type="'offset' must be a whole number, not {value}", greater_than_equal="'offset' must be 0 or more"
        ),
    ] = 0
    product: Annotated[str, Field(description="Only calls of this product (exact).")] = ""
    category: Annotated[str, Field(description="Only calls of this category (exact).")] = ""
    customer: Annotated[str, Field(description="Only calls of this customer id (exact).")] = ""
    status: Annotated[Literal[STATUSES], _CHOICE] = None
    priority: Annotated[Literal[PRIORITIES], _CHOICE] = None
    facets: Annotated[
        QueryBool,
        Field(description="true adds counts by product and category."),
        Messages(bool_type="'facets' must be true or false"),
    ] = False
    caller: Annotated[
        str, Field(description="The customer on the line: their products come first among equal matches.")
    ] = ""
    contact_channel: Annotated[
        Literal[CHANNELS], Field(description="How the customer being helped got in touch (for the analytics)."), _CHOICE
    ] = None
    session: Annotated[str, Field(description="Anonymous browser session for the search log (cut to 64).")] = ""
    channel: Annotated[str, Field(description="page, widget or api (anything else counts as api).")] = ""


class SearchBody(BaseModel):
    """The JSON body of ``POST /api/v1/search``: the query string's search, for queries too long for a URL."""

    model_config = ConfigDict(
        **_STRICT, json_schema_extra={"examples": [{"q": "router keeps dropping", "limit": 5, "facets": True}]}
    )

    q: Annotated[
        str,
        Field(max_length=MAX_POSTED_QUERY_CHARS, pattern=ECMA_NOT_BLANK, description="What the agent typed."),
        Messages(
            missing="'q' is required: the words to search for",
            string_pattern_mismatch="the query 'q' is empty: type a few words to search for",
            string_too_long=f"'q' must be at most {MAX_POSTED_QUERY_CHARS:,} characters",
        ),
    ]
    limit: Annotated[json_int(ge=1, le=MAX_LIMIT), Messages(greater_than_equal=_RANGE, less_than_equal=_RANGE)] = 10
    offset: Annotated[json_int(ge=0), Messages(greater_than_equal="'offset' must be 0 or more")] = 0
    product: str = ""
    category: str = ""
    customer: str = ""
    status: Annotated[Literal[STATUSES], _CHOICE] = None
    priority: Annotated[Literal[PRIORITIES], _CHOICE] = None
    facets: bool = False
    caller: str = ""
    session: str = ""
    channel: str = ""


def validated(model, data, what):
    """``data`` validated by ``model``, or the one error shape naming every field at fault.

    :param model: a pydantic model class from this module.
    :param data: the parsed JSON body, or a dict of query parameters.
    :param what: "body" (a JSON body: 400 when not an object, 422 for a broken rule) or "query" (400).
    :returns: the model instance.
    :raises ApiError: naming the first field at fault, with every problem in ``errors``.
    """
    if not isinstance(data, dict):
        required = ", ".join(f"'{name}'" for name, info in model.model_fields.items() if info.is_required())
        raise ApiError(f"the request body must be a JSON object with {required}", 400)
    try:
        return model.model_validate(data)
    except ValidationError as error:
        problems = field_problems(error, model)
        errors = [{"field": problem.field, "message": problem.message} for problem in problems]
        raise ApiError(problems[0].message, 422 if what == "body" else 400, problems[0].field, errors) from None

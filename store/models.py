"""What a call record is, declared once: the pydantic models that validate it and document it.

Why pydantic (v2), over marshmallow or attrs:
- strict types for the whole model (``ConfigDict(strict=True)``): a number or ``null`` sent as a title is refused
  naming the field, never stored as ``"42"`` or ``""`` (issue #15). marshmallow's Integer and Boolean fields read
  "5" and "yes" unless each is made strict; attrs with cattrs converts by default.
- JSON Schema is built in: lengths, patterns and choices are field constraints, and the same declarations give
  the OpenAPI document its schemas (``app/openapi.py``). marshmallow needs apispec's plugin to map each field
  type; attrs has no JSON Schema at all.
- the compiled core keeps imports fast: a record validates in about 10 µs, as the hand-written checks did.

Rules JSON Schema can say are field constraints, checked by pydantic before our code runs. Rules across fields
(a title or a problem; ``resolved`` agrees with ``status``) are model validators, written into the schema beside
the properties through ``json_schema_extra``. Texts are cleaned once they are valid (NUL bytes out, white space
trimmed); limits apply to the value as sent, as the document says. Dates: the document names the forms a
client should send (RFC 3339 date-time or date, or empty); the server reads any ISO 8601 form Python reads, as
it always did, so files imported before still import.
"""

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationInfo, model_validator
from pydantic.json_schema import SkipJsonSchema

from store.validation import Messages, rule_error

MAX_TITLE_CHARS = 1_000
MAX_TEXT_CHARS = 100_000
MAX_ID_CHARS = 200
MAX_SHORT_CHARS = 200
MAX_TAGS = 50

STATUSES = ("open", "pending", "resolved")
CHANNELS = ("phone", "email", "web", "chat", "in_person")
PRIORITIES = ("low", "normal", "high", "urgent")

# White space as str.strip() removes it. Spelled out so that Python's re and ECMA-262 (the regex dialect of
# JSON Schema) read the patterns below alike; their own \s differ (\x1c-\x1f, \x85, \ufeff).
SPACE = r"\t\n\x0b\x0c\r\x1c-\x20\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
# A text is blank when nothing is left once NUL bytes and surrounding white space are gone.
NOT_BLANK = rf"[^\x00{SPACE}]"
# An id: white space around it is trimmed; what is left is not empty and holds no control character.
ID_PATTERN = rf"^[{SPACE}]*[^\x00-\x1f{SPACE}](?:[^\x00-\x1f]*[^\x00-\x1f{SPACE}])?[{SPACE}]*$"


def _clean_text(value):
    return value.replace("\x00", "").strip()


def _iso_date(value, info: ValidationInfo):
    if value.strip():
        try:
            datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        except ValueError:
            raise rule_error(
                info.field_name, f"field '{info.field_name}' is not an ISO 8601 date: {value[:40]!r}"
            ) from None
    return value.strip()


def _id_message(value):
    if len(value.strip()) == 0:
        return "field 'id' is required (a non-empty string)"
    return "field 'id' must not contain control characters"


def bounded_text(limit, description):
    """A free text of at most ``limit`` characters; NUL bytes and surrounding white space are dropped.

    :param limit: the most characters the value may have as sent.
    :param description: the field's description in the OpenAPI document.
    :returns: an ``Annotated`` string type.
    """
    return Annotated[str, Field(max_length=limit, description=description), AfterValidator(_clean_text)]


CallId = Annotated[
    str,
    Field(max_length=MAX_ID_CHARS, pattern=ID_PATTERN, description="Unique id; trimmed, no control characters."),
    Messages(
        missing="field 'id' is required (a non-empty string)",
        string_too_long=f"field 'id' is longer than {MAX_ID_CHARS} characters",
        string_pattern_mismatch=_id_message,
    ),
    AfterValidator(str.strip),
]

IsoDate = Annotated[
    str,
    Field(
        json_schema_extra={"anyOf": [{"format": "date-time"}, {"format": "date"}, {"maxLength": 0}]},
        description="ISO 8601, e.g. 2025-03-02T10:14:00Z; empty when unknown.",
    ),
    AfterValidator(_iso_date),
]

Tags = Annotated[
    list[Annotated[str, Field(max_length=MAX_SHORT_CHARS)]],
    Field(max_length=MAX_TAGS, description="Kept trimmed, empty ones left out."),
    Messages(
        list_type="field 'tags' must be a list of strings",
        string_type="field 'tags' must be a list of strings",
        too_long=f"field 'tags' has {{length}} tags; the limit is {MAX_TAGS}",
        string_too_long=f"a tag in 'tags' is longer than {MAX_SHORT_CHARS} characters",
    ),
    AfterValidator(lambda tags: [tag.strip() for tag in tags if tag.strip()]),
]


EXAMPLE_CALL = {
    "id": "CALL-20001",
    "title": "Scanner jams on duplex",
    "problem": "Paper jams every time the scanner turns a page over.",
    "resolution": "Cleaned the rollers",
    "product": "Fujitsu fi-7160",
    "category": "hardware",
    "tags": ["scanner", "jam"],
    "created_at": "2025-06-03T09:12:00Z",
    "customer_id": "ACC-1001",
    "status": "resolved",
}


def _record_rules(schema):
    """The rules across fields, as JSON Schema: a title or a problem; ``resolved`` agrees with ``status``."""
    schema["anyOf"] = [
        {"required": [name], "properties": {name: {"type": "string", "pattern": NOT_BLANK}}}
        for name in ("title", "problem")
    ]
    contradictions = [
        {
            "required": ["status", "resolved"],
            "properties": {"status": {"const": "resolved"}, "resolved": {"const": False}},
        },
        {
            "required": ["status", "resolved"],
            "properties": {"status": {"enum": [s for s in STATUSES if s != "resolved"]}, "resolved": {"const": True}},
        },
    ]
    schema["not"] = {"anyOf": contradictions}
    schema["examples"] = [EXAMPLE_CALL]


class CallInput(BaseModel):
    """A call record as clients send it (API body, import row). Unknown fields are kept as extras."""

    model_config = ConfigDict(strict=True, extra="allow", regex_engine="python-re", json_schema_extra=_record_rules)

    id: CallId
    title: bounded_text(MAX_TITLE_CHARS, "At least one of title and problem is not blank.") = ""
    problem: bounded_text(MAX_TEXT_CHARS, "What the customer reported.") = ""
    resolution: bounded_text(MAX_TEXT_CHARS, "What solved it.") = ""
    product: bounded_text(MAX_SHORT_CHARS, "The product the call was about.") = ""
    category: bounded_text(MAX_SHORT_CHARS, "A category such as printing.") = ""
    tags: Tags = []
    created_at: IsoDate = ""
    resolved: Annotated[bool, Field(description="Default true; with a status, it must agree with it.")] = True
    customer_id: bounded_text(MAX_SHORT_CHARS, "The customer's account or phone number.") = None
    customer_name: bounded_text(MAX_SHORT_CHARS, "The customer's name.") = None
    status: Annotated[Literal[STATUSES], Field(description="Sets resolved (true for resolved).")] = None
    priority: Literal[PRIORITIES] = None
    opened_at: IsoDate = None
    resolved_at: IsoDate = None
    channel: Annotated[Literal[CHANNELS], Field(description="How the customer got in touch.")] = None
    extra: Annotated[
        dict[str, Any],
        Field(description="More fields, kept as they are (merged with unknown top-level fields)."),
        Messages(dict_type="field 'extra' must be a JSON object"),
    ] = {}

    @model_validator(mode="after")
    def _title_or_problem(self):
        if not self.title and not self.problem:
            raise rule_error("title", "at least one of 'title' and 'problem' must be non-empty")
        return self

    @model_validator(mode="after")
    def _resolved_agrees_with_status(self):
        if self.status and "resolved" in self.model_fields_set and self.resolved != (self.status == "resolved"):
            raise rule_error(
                "resolved", f"field 'resolved' ({str(self.resolved).lower()}) contradicts 'status' ({self.status})"
            )
        return self


def _body_rules(schema):
    _record_rules(schema)
    schema["allOf"] = [{"not": {"required": ["id"]}}]
    schema["examples"] = [{key: value for key, value in EXAMPLE_CALL.items() if key != "id"}]


class CallBody(CallInput):
    """PUT's body: a call record without its id, which the URL gives (an id equal to the URL's is tolerated)."""

    model_config = ConfigDict(json_schema_extra=_body_rules)

    id: SkipJsonSchema[CallId] = None


class Call(BaseModel):
    """A stored call as the API shows it: every core field, the extras beside them."""

    model_config = ConfigDict(extra="allow")

    id: str
    title: str
    problem: str
    resolution: str
    product: str
    category: str
    tags: list[str]
    created_at: str
    resolved: bool

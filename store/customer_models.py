"""What a customer record is, declared once (issue #18): the pydantic models that validate it and document it.

As for calls (``store.models``), types are strict and every error names its field; unlike calls, a customer
has no extras: an unknown field is refused (``field 'phone' is not a field of a customer record``), so a
misspelt column never hides a phone number where nobody finds it. Phone numbers are kept in E.164 and e-mail
addresses in lower case (``store.contacts``); ``time_zone`` must be an IANA name that ``zoneinfo`` knows.
``created_at`` and ``updated_at`` are the store's: a client may send them back (an export imported again),
and they are never part of what counts as a change.
"""

import hashlib
import json
from datetime import datetime, timezone
from functools import cache
from typing import Annotated
from zoneinfo import ZoneInfo, available_timezones

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError, ValidationInfo, model_validator
from pydantic.json_schema import SkipJsonSchema

from store.contacts import NotAPhoneNumberError, normalise_email, normalise_phone, region_for
from store.models import MAX_SHORT_CHARS, NOT_BLANK, CallId, IsoDate, bounded_text
from store.validation import Messages, field_problems, rule_error

MAX_CONTACTS = 20
MAX_PRODUCTS = 100
MAX_NOTES_CHARS = 10_000
MAX_PHONE_CHARS = 40
MAX_EMAIL_CHARS = 254
EMAIL_PATTERN = r"^[^@\s]+@[^@\s]+\.[^@\s]+$"
STAMPS = ("created_at", "updated_at")


@cache
def time_zone_names():
    """Every IANA time zone name this machine's ``zoneinfo`` knows (the ``tzdata`` package, else the system's)."""
    return frozenset(available_timezones())


def _known_zone(value, info: ValidationInfo):
    value = value.strip()
    if value and value not in time_zone_names():
        raise rule_error(
            info.field_name, f"field 'time_zone' must be an IANA time zone name such as Europe/London, not {value!r}"
        )
    return value


_STRICT = ConfigDict(strict=True, extra="forbid", regex_engine="python-re")


class Product(BaseModel):
    """A product the customer owns: its name, and its version or serial number where known."""

    model_config = _STRICT

    name: Annotated[
        str,
        Field(max_length=MAX_SHORT_CHARS, pattern=NOT_BLANK, description="As calls name it."),
        AfterValidator(str.strip),
    ]
    version: bounded_text(MAX_SHORT_CHARS, "e.g. 2.1 or firmware 4.0.3") = ""
    serial: bounded_text(MAX_SHORT_CHARS, "Serial number") = ""


Phones = Annotated[
    list[Annotated[str, Field(max_length=MAX_PHONE_CHARS)]],
    Field(max_length=MAX_CONTACTS, description="Any common format; kept in E.164 (+442079460958)."),
    Messages(
        list_type="field 'phones' must be a list of strings", string_type="field 'phones' must be a list of strings"
    ),
]
Emails = Annotated[
    list[Annotated[str, Field(max_length=MAX_EMAIL_CHARS, pattern=r"^\s*[^@\s]+@[^@\s]+\.[^@\s]+\s*$")]],
    Field(max_length=MAX_CONTACTS, description="Kept trimmed and in lower case."),
    Messages(
        list_type="field 'emails' must be a list of strings",
        string_type="field 'emails' must be a list of strings",
        string_pattern_mismatch=lambda value: f"field 'emails' holds {value!r}, which is not an e-mail address",
    ),
]


EXAMPLE_CUSTOMER = {
    "id": "ACC-1001",
    "name": "John Smith",
    "organisation": "Harbour Dental Ltd",
    "phones": ["+44 20 7946 0958"],
    "emails": ["john.smith@harbourdental.example"],
    "city": "Bristol",
    "country": "GB",
    "time_zone": "Europe/London",
    "products": [{"name": "Netgear Nighthawk R7000", "version": "V1.0.11.116"}],
    "notes": "Prefers e-mail.",
    "key_account": True,
}


def _customer_rules(schema):
    schema["anyOf"] = [
        {"required": [name], "properties": {name: {"type": "string", "pattern": NOT_BLANK}}}
        for name in ("name", "organisation")
    ]
    schema["examples"] = [EXAMPLE_CUSTOMER]


class CustomerInput(BaseModel):
    """A customer record as clients send it (API body, import row)."""

    model_config = ConfigDict(**_STRICT, json_schema_extra=_customer_rules)

    id: CallId
    name: bounded_text(MAX_SHORT_CHARS, "The person's name; at least one of name and organisation.") = ""
    organisation: bounded_text(MAX_SHORT_CHARS, "The company or practice.") = ""
    phones: Phones = []
    emails: Emails = []
    city: bounded_text(MAX_SHORT_CHARS, "Where they are.") = ""
    country: bounded_text(MAX_SHORT_CHARS, "A two-letter code (GB) also sets how national numbers read.") = ""
    time_zone: Annotated[
        str,
        Field(max_length=64, description="IANA name, e.g. Europe/London; gives the caller's local time."),
        AfterValidator(_known_zone),
    ] = ""
    products: Annotated[
        list[Product],
        Field(max_length=MAX_PRODUCTS, description="What they own."),
        Messages(
            list_type="field 'products' must be a list of objects with a 'name'",
            model_type="field 'products' must be a list of objects with a 'name'",
            missing="a product in 'products' needs a 'name'",
            string_pattern_mismatch="a product in 'products' needs a 'name'",
            string_type="a product's 'name', 'version' and 'serial' must be strings",
            string_too_long=f"a product's 'name', 'version' or 'serial' is longer than {MAX_SHORT_CHARS} characters",
            extra_forbidden="a product in 'products' has only 'name', 'version' and 'serial'",
        ),
    ] = []
    notes: bounded_text(MAX_NOTES_CHARS, "Preferences: prefers e-mail, hard of hearing...") = ""
    key_account: Annotated[bool, Field(description="Their calls get the rules file's key-account priority.")] = False
    created_at: IsoDate = ""
    updated_at: IsoDate = ""

    @model_validator(mode="after")
    def _name_or_organisation(self):
        if not self.name and not self.organisation:
            raise rule_error("name", "at least one of 'name' and 'organisation' must be non-empty")
        return self


def _body_rules(schema):
    _customer_rules(schema)
    schema["examples"] = [{key: value for key, value in EXAMPLE_CUSTOMER.items() if key != "id"}]


class CustomerBody(CustomerInput):
    """PUT's body: a customer without its id, which the URL gives (an id equal to the URL's is tolerated)."""

    model_config = ConfigDict(json_schema_extra=_body_rules)

    id: SkipJsonSchema[CallId] = None


class Customer(BaseModel):
    """A stored customer as the API shows it."""

    id: str
    name: str
    organisation: str
    phones: list[str] = Field(description="E.164")
    emails: list[str]
    city: str
    country: str
    time_zone: str
    products: list[Product]
    notes: str
    key_account: bool
    created_at: str
    updated_at: str


class InvalidCustomerRecordError(ValueError):
    """A customer record breaks a rule; ``field`` names the offending field (or None)."""

    def __init__(self, message, field=None):
        super().__init__(message)
        self.field = field


def validate_customer(raw, region="GB"):
    """Check a raw mapping against the customer rules and return the clean record.

    :param raw: a mapping, e.g. one JSON object or a CSV row after ``store.cells.typed_customer_cells``.
    :param region: ``KB_PHONE_REGION``: how a number without its country code reads (unless ``country`` is a
        two-letter region code).
    :returns: a dict with every field of :class:`CustomerInput`; phones in E.164, e-mails in lower case.
    :raises InvalidCustomerRecordError: naming the first field that breaks a rule.
    """
    if not isinstance(raw, dict):
        raise InvalidCustomerRecordError(f"a customer record must be a JSON object, not {type(raw).__name__}")
    try:
        customer = CustomerInput.model_validate(raw)
    except ValidationError as error:
        first = field_problems(error, CustomerInput)[0]
        message = first.message.replace("is not a field of this record", "is not a field of a customer record")
        raise InvalidCustomerRecordError(message, first.field) from None
    record = customer.model_dump()
    record["phones"] = _phones(customer.phones, region_for(customer.country, region))
    record["emails"] = list(dict.fromkeys(normalise_email(email) for email in customer.emails))
    return record


def _phones(phones, region):
    kept = []
    for phone in phones:
        if not phone.strip():
            continue
        try:
            kept.append(normalise_phone(phone, region))
        except NotAPhoneNumberError:
            raise InvalidCustomerRecordError(
                f"field 'phones' holds {phone.strip()[:40]!r}, which is not a phone number in {region} "
                "(give it with its country code, e.g. +44 20 7946 0958)",
                "phones",
            ) from None
    return list(dict.fromkeys(kept))


def customer_hash(record):
    """A digest of what a customer record says, its time stamps left out (an unchanged re-import is unchanged)."""
    content = {key: value for key, value in record.items() if key not in STAMPS}
    return hashlib.sha256(json.dumps(content, ensure_ascii=False, sort_keys=True).encode("utf-8")).hexdigest()


def local_time(time_zone, now=None):
    """The time where the customer is.

    :param time_zone: an IANA name, or "" when unknown.
    :param now: the moment (default: now).
    :returns: ``{"time_zone", "local_time" (ISO 8601 with offset, to the minute), "utc_offset" (+01:00),
        "display" (Tue 14:05)}``, or None when the zone is unknown.
    """
    if not time_zone or time_zone not in time_zone_names():
        return None
    moment = (now or datetime.now(timezone.utc)).astimezone(ZoneInfo(time_zone))
    offset = moment.strftime("%z")
    return {
        "time_zone": time_zone,
        "local_time": moment.isoformat(timespec="minutes"),
        "utc_offset": f"{offset[:3]}:{offset[3:]}",
        "display": moment.strftime("%a %H:%M"),
    }

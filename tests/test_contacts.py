"""Phone numbers and e-mail addresses: one form each, and masked wherever text is logged (issue #18)."""

import pytest

from app.search_log import redact
from store.contacts import (
    NotAPhoneNumberError,
    display_phone,
    looks_like_email,
    looks_like_phone,
    mask_contacts,
    normalise_email,
    normalise_phone,
    region_for,
)

ONE_LONDON_NUMBER = [
    "+44 20 7946 0958",
    "020 7946 0958",
    "00442079460958",
    "0044 20 7946 0958",
    "+44 (0)20 7946 0958",
    "(020) 7946-0958",
    "020.7946.0958",
    "+442079460958",
]


@pytest.mark.parametrize("typed", ONE_LONDON_NUMBER, ids=ONE_LONDON_NUMBER)
def test_every_common_format_of_a_number_is_one_number(typed):
    assert normalise_phone(typed, "GB") == "+442079460958"


@pytest.mark.parametrize(
    ("typed", "region", "e164"),
    [
        ("(415) 555-0132", "US", "+14155550132"),
        ("+1 415 555 0132", "GB", "+14155550132"),
        ("01 42 68 53 00", "FR", "+33142685300"),
        ("030 1234567", "DE", "+49301234567"),
    ],
    ids=["us-national", "us-international-read-in-gb", "france-national", "germany-national"],
)
def test_a_national_number_is_read_in_its_region(typed, region, e164):
    assert normalise_phone(typed, region) == e164


@pytest.mark.parametrize("typed", ["12345", "ACC-1001", "+44 1", "phone me", ""], ids=str)
def test_what_is_no_phone_number_is_refused(typed):
    with pytest.raises(NotAPhoneNumberError):
        normalise_phone(typed, "GB")


@pytest.mark.parametrize(
    ("country", "region"), [("FR", "FR"), ("fr", "FR"), ("France", "GB"), ("", "GB"), ("ZZ", "GB")], ids=str
)
def test_a_two_letter_country_sets_the_region_else_the_default(country, region):
    assert region_for(country, "GB") == region


def test_a_stored_number_is_shown_in_international_form():
    assert display_phone("+442079460958") == "+44 20 7946 0958"


def test_email_addresses_are_kept_trimmed_and_in_lower_case():
    assert (normalise_email("  Jo.Smith@Example.COM "), looks_like_email("jo@example.com")) == (
        "jo.smith@example.com",
        True,
    )
    assert (looks_like_email("jo@example"), looks_like_phone("ACC-1001"), looks_like_phone("020 7946 0958")) == (
        False,
        False,
        True,
    )


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("call jo@example.com on 020 7946 0958", "call [email] on [number]"),
        ("ring 00442079460958 now", "ring [number] now"),
        ("+44 20 7946 0958 or 020.7946.0958", "[number] or [number]"),
        ("JO.SMITH@EXAMPLE.CO.UK printer", "[email] printer"),
        ("printer 0x80070005 error E-1102", "printer 0x80070005 error E-1102"),
        ("kb5034441 failed", "kb5034441 failed"),
    ],
    ids=["email-and-phone", "international-digits", "dotted-and-international", "upper-email", "error-codes", "kb"],
)
def test_contacts_are_masked_in_free_text_and_error_codes_are_not(text, masked):
    assert mask_contacts(text) == masked


@pytest.mark.parametrize(
    ("query", "logged"),
    [
        ("jo@example.com outlook", "[email] outlook"),
        ("020.7946.0958 voicemail", "[number] voicemail"),
        ("+44 (0)20 7946 0958 voicemail", "[number] voicemail"),
        ("outlook password", "outlook password"),
    ],
    ids=["email", "dotted-phone", "phone-with-trunk-zero", "nothing-personal"],
)
def test_the_search_log_keeps_no_phone_number_or_email_address(query, logged):
    assert redact(query) == logged

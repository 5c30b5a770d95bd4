"""Phone numbers and e-mail addresses: one form each for storing and finding, and masked in logs (issue #18).

A phone number is kept in E.164 (``+442079460958``), read with Google's libphonenumber rules (the
``phonenumbers`` package): ``+44 20 7946 0958``, ``020 7946 0958`` (in the default region GB) and
``00442079460958`` are one number. A number written without its country code is read in the customer's
country when that is a two-letter region code, else in ``KB_PHONE_REGION``. An e-mail address is kept
trimmed and in lower case.
"""

import re
from functools import lru_cache

import phonenumbers

DEFAULT_REGION = "GB"
# Digits with the separators people type between them: at least this many digits make a phone number.
MIN_PHONE_DIGITS = 6
_PHONE_LIKE = re.compile(r"^\s*\+?[\d\s().\-/\u00a0]+$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
# In free text (search log, analytics export): an address, or a run of 7+ digits with separators that is not
# part of a word (error codes such as 0x80070005 stay).
_EMAIL_IN_TEXT = re.compile(r"[^\s@<>()\[\],;:\"']+@[^\s@<>()\[\],;:\"']+")
_NUMBER_IN_TEXT = re.compile(r"(?<!\w)\+?\(?\d(?:[\s().\-/\u00a0]{0,3}\d){6,}\)?(?!\w)")


class NotAPhoneNumberError(ValueError):
    """A text that cannot be read as a phone number."""


@lru_cache(maxsize=512)
def region_for(country, default_region=DEFAULT_REGION):
    """The region to read national numbers in: the country when it is a known two-letter code.

    :param country: the customer's country as written, e.g. ``"FR"``, ``"fr"`` or ``"France"``.
    :param default_region: ``KB_PHONE_REGION``.
    :returns: e.g. ``"FR"`` for ``"fr"``; the default for ``"France"`` or an empty country.
    """
    code = (country or "").strip().upper()
    if len(code) == 2 and code in phonenumbers.SUPPORTED_REGIONS:
        return code
    return (default_region or DEFAULT_REGION).upper()


def looks_like_phone(text):
    """Whether a typed text is made of digits and phone separators only, with enough digits.

    :param text: e.g. ``"020 7946 0958"`` (yes) or ``"ACC-1001"`` (no).
    """
    return bool(_PHONE_LIKE.match(text or "")) and sum(char.isdigit() for char in text) >= MIN_PHONE_DIGITS


def normalise_phone(text, region=DEFAULT_REGION):
    """A phone number in E.164.

    :param text: as typed, e.g. ``"020 7946 0958"``, ``"+44 (0)20 7946 0958"`` or ``"00442079460958"``.
    :param region: the region of a number written without its country code (see :func:`region_for`).
    :returns: e.g. ``"+442079460958"``.
    :raises NotAPhoneNumberError: when the text is no possible phone number in that region.
    """
    if not looks_like_phone(text):
        raise NotAPhoneNumberError(text)
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        raise NotAPhoneNumberError(text) from None
    if not phonenumbers.is_possible_number(number):
        raise NotAPhoneNumberError(text)
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def display_phone(e164):
    """A stored number as people read it, e.g. ``+44 20 7946 0958`` for ``+442079460958``."""
    try:
        number = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return e164
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)


def looks_like_email(text):
    """Whether a typed text is one e-mail address (``name@domain.tld``)."""
    return bool(_EMAIL.match((text or "").strip()))


def normalise_email(text):
    """An e-mail address as kept and looked up: trimmed, lower case.

    :param text: e.g. ``" Jo.Smith@Example.COM "``.
    :returns: e.g. ``"jo.smith@example.com"``.
    """
    return text.strip().lower()


def mask_contacts(text):
    """The text with every e-mail address and phone-like number masked, for logs and exports.

    :param text: e.g. ``"call jo@example.com on 020 7946 0958"``.
    :returns: e.g. ``"call [email] on [number]"``.
    """
    return _NUMBER_IN_TEXT.sub("[number]", _EMAIL_IN_TEXT.sub("[email]", text or ""))

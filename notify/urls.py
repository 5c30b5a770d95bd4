"""Webhook URLs: what a notification may be sent to, checked where the URL is written (``rules.toml``).

Only ``http://`` and ``https://`` URLs with a host are accepted, and nothing a URL parser would read
differently from a person: no white space or control characters, brackets that close, a port that is a number.
"""

from urllib.parse import urlsplit

SCHEMES = ("http", "https")


class WebhookUrlError(ValueError):
    """A webhook URL that cannot be used; the message says why."""


def check_webhook_url(url):
    """Return ``url`` when a notification may be POSTed to it.

    :param url: the URL as written.
    :raises WebhookUrlError: naming what is wrong with it, e.g. ``http://[::1/hook`` (a bracket never closed).
    """
    if not isinstance(url, str) or not url:
        raise WebhookUrlError("must be an http:// or https:// URL")
    if any(char.isspace() or not char.isprintable() for char in url):
        raise WebhookUrlError("must not hold white space or control characters")
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 (reading it is the check: a port that is not a number raises)
    except ValueError as error:
        raise WebhookUrlError(f"is not a valid URL ({error})") from None
    if parts.scheme.lower() not in SCHEMES:
        raise WebhookUrlError("must be an http:// or https:// URL")
    if not parts.hostname:
        raise WebhookUrlError("must name a host, e.g. https://hooks.example.com/kb")
    return url


def origin_of(url):
    """The scheme, host and port of a URL, for logs and pages: a webhook's path may hold a secret token."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or "?"
        port = f":{parts.port}" if parts.port else ""
    except ValueError:
        return "(invalid URL)"
    host = f"[{host}]" if ":" in host else host
    return f"{parts.scheme}://{host}{port}"

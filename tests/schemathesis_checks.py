"""Checks schemathesis runs beside its own (loaded through ``hooks`` in ``schemathesis.toml``).

- Every error answer has the one error shape, with its real status (docs/api.md, "Errors").
- ``POST /api/v1/calls``: JSON Schema cannot say "ids are unique within the array", so the built-in
  ``positive_data_acceptance`` is switched off for that one operation (``schemathesis.toml``) and this check
  does its job with the rule added: a schema-valid body is accepted, unless an id repeats, which is a 422
  naming ``id`` (the document says so in the operation's 422).
"""

import schemathesis

ERROR_KEYS = {"ok", "error", "errors", "status"}
# What positive_data_acceptance accepts for valid data besides 2xx: no key, a search key, rate limited.
ACCEPTABLE_REFUSALS = {401, 403, 429}


@schemathesis.check
def errors_have_the_error_shape(ctx, response, case):
    """Every 4xx and 5xx answer is ``{"ok": false, "error", "errors", "status"}`` with the real status."""
    if response.status_code < 400:
        return None
    body = response.json()
    shape = (set(body), body["ok"], body["status"], isinstance(body["error"], str), len(body["errors"]) > 0)
    if shape != (ERROR_KEYS, False, response.status_code, True, True):
        raise AssertionError(f"error body not in the error shape: {body!r}")
    return True


def _ids(body):
    records = body if isinstance(body, list) else [body]
    return [record["id"].strip() for record in records]


@schemathesis.check
def valid_batch_is_stored_unless_an_id_repeats(ctx, response, case):
    """Schema-valid calls are stored (2xx); a batch repeating an id is a 422 naming the field 'id'."""
    if case.operation.label != "POST /api/v1/calls" or case.meta is None:
        return None
    if not case.meta.generation.mode.is_positive or response.status_code in ACCEPTABLE_REFUSALS:
        return None
    ids = _ids(case.body)
    if len(set(ids)) == len(ids):
        if not 200 <= response.status_code < 300:
            raise AssertionError(f"valid calls refused with {response.status_code}: {response.text[:300]}")
        return True
    first_error = response.json()["errors"][0] if response.status_code == 422 else {}
    if (response.status_code, first_error.get("field")) != (422, "id") or "duplicate id" not in first_error["message"]:
        raise AssertionError(f"a repeated id not refused as documented: {response.status_code} {response.text[:300]}")
    return True

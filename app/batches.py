"""Batches of records in a JSON body (calls, customers): one object or an array, each validated, all or nothing."""

from app.errors import ApiError
from app.json_body import read_json_body
from app.schemas import MAX_RECORDS_PER_REQUEST


def batch_items(what):
    """The request body as a list of items: one object, or an array of 1 to ``MAX_RECORDS_PER_REQUEST``.

    :param what: the records' name in messages ("call", "customer").
    :raises ApiError: 400 for an empty or too long array (and for a body that is not JSON, see ``read_json_body``).
    """
    body = read_json_body()
    items = body if isinstance(body, list) else [body]
    if not items:
        raise ApiError(f"the array of {what} records is empty", 400)
    if len(items) > MAX_RECORDS_PER_REQUEST:
        raise ApiError(f"at most {MAX_RECORDS_PER_REQUEST:,} records per request; use the importer for more", 400)
    return items


def record_for_id(what, record_id):
    """The request body as the one record a PUT writes at ``record_id`` (the URL's id put in when absent).

    :raises ApiError: 400 for a body that is not an object or names another id, 422 for an id that is not text.
    """
    body = read_json_body()
    if not isinstance(body, dict):
        raise ApiError(f"the request body must be one {what} record (a JSON object)", 400)
    if "id" in body and not isinstance(body["id"], str):
        raise ApiError("field 'id' must be a string", 422, field="id")
    if "id" in body and body["id"] != record_id:
        raise ApiError(f"the body's id '{body['id']}' differs from the URL's '{record_id}'", 400, field="id")
    return {**body, "id": record_id}


def validated_batch(items, validate, invalid_error):
    """Clean records of a batch; every bad record and every repeated id is named with its index (422).

    :param validate: ``validate(item)`` gives the clean record or raises ``invalid_error`` (with ``field``).
    :raises ApiError: 422 listing every error, the first one as the message.
    """
    records, errors, seen = [], [], set()
    for position, item in enumerate(items):
        prefix = f"record {position}: " if len(items) > 1 else ""
        try:
            record = validate(item)
        except invalid_error as error:
            field = {"field": error.field} if error.field else {}
            errors.append({"index": position, "message": prefix + str(error), **field})
            continue
        if record["id"] in seen:
            errors.append({"index": position, "field": "id", "message": f"{prefix}duplicate id '{record['id']}'"})
            continue
        seen.add(record["id"])
        records.append(record)
    if errors:
        raise ApiError(errors[0]["message"], 422, field=errors[0].get("field"), errors=errors)
    return records

"""The customer and follow-up routes in the OpenAPI document (issue #18): which route takes and answers which model.

``app/openapi.py`` registers these models as components and these paths beside its own; the helpers that
spell a response or an error list come from there, passed in, so the two modules do not import each other.
"""

from app.customer_schemas import (
    CallerContext,
    CallersFound,
    CustomerLookupParams,
    CustomerPut,
    CustomerShown,
    CustomersWritten,
    FollowUpParams,
    FollowUps,
    FollowUpWritten,
)
from store.customer_models import CustomerBody, CustomerInput
from store.follow_ups import FollowUpBody

REQUEST_MODELS = (CustomerInput, CustomerBody, FollowUpBody)
RESPONSE_MODELS = (
    CallersFound,
    CustomerShown,
    CustomersWritten,
    CustomerPut,
    FollowUpWritten,
    FollowUps,
    CallerContext,
)
CUSTOMER_404 = "Unknown customer (or route)."
CALL_404 = "Unknown call (or route)."
RULES_422 = (
    "A field breaks a rule (errors[].field names it), including those JSON Schema cannot say: a phone number that "
    "is no possible number in its region, a time zone zoneinfo does not know."
)
BATCH_422 = (
    "A customer record breaks a rule (as for PUT), or an id is repeated within the array; errors[] lists each bad "
    "record with its index and field. Nothing is stored."
)
DUE_422 = "A field breaks a rule (errors[].field names it), e.g. a due time before year 1 or after 9999 in UTC."


def customer_paths(json, errors, body, query_parameters, write, max_records, path_id):
    """(path, path-level parameters, operations) of the customer and follow-up routes.

    :param json: ``app.openapi._json`` (a response with a JSON schema).
    :param errors: ``app.openapi._errors`` (error responses by status).
    :param body: ``app.openapi._body`` (a required JSON body).
    :param query_parameters: ``app.openapi.query_parameters``.
    :param write: the security requirement of a write.
    :param max_records: the most records in one POST.
    :param path_id: the schema of an id in a path.
    """
    customer_id = {"name": "customer_id", "in": "path", "required": True, "schema": path_id}
    # The panel answers any account (one known only from calls, or none: empty lists), as it always did.
    any_account = {"name": "customer_id", "in": "path", "required": True, "schema": {"type": "string", "minLength": 1}}
    call_id = {"name": "call_id", "in": "path", "required": True, "schema": path_id}
    follow_up_id = {"name": "follow_up_id", "in": "path", "required": True, "schema": {"type": "string"}}
    batch = {"type": "array", "items": "CustomerInput", "minItems": 1, "maxItems": max_records}
    return [
        (
            "/api/v1/customers",
            [],
            {
                "get": {
                    "summary": "Find the caller by account number, phone number, e-mail address or name as heard",
                    "parameters": query_parameters(CustomerLookupParams),
                    "responses": {"200": json("CallersFound"), **errors(400, 401, 429, 503)},
                },
                "post": {
                    "summary": "Insert or update one customer record or an array of them (all or nothing)",
                    "security": write,
                    "requestBody": body({"oneOf": ["CustomerInput", batch]}),
                    "responses": {
                        "200": json("CustomersWritten"),
                        "201": json("CustomersWritten", "Created (something was inserted)"),
                        **errors(400, 401, 403, 413, 422, 429, 503, e422=BATCH_422),
                    },
                },
            },
        ),
        (
            "/api/v1/customers/{customer_id}",
            [customer_id],
            {
                "get": {
                    "summary": "One customer record, with the time where they are",
                    "responses": {"200": json("CustomerShown"), **errors(401, 404, 429, 503, e404=CUSTOMER_404)},
                },
                "put": {
                    "summary": "Create or replace the customer with this id",
                    "security": write,
                    "requestBody": body("CustomerBody"),
                    "responses": {
                        "200": json("CustomerPut"),
                        "201": json("CustomerPut", "Created"),
                        **errors(400, 401, 403, 404, 413, 422, 429, 503, e404=CUSTOMER_404, e422=RULES_422),
                    },
                },
            },
        ),
        (
            "/api/v1/customers/{customer_id}/calls",
            [any_account],
            {
                "get": {
                    "summary": "The caller panel: record, open calls first, then past ones, every channel, promises",
                    "responses": {"200": json("CallerContext"), **errors(401, 404, 429, 503)},
                }
            },
        ),
        (
            "/api/v1/calls/{call_id}/follow-ups",
            [call_id],
            {
                "get": {
                    "summary": "The promises made on one call",
                    "responses": {"200": json("FollowUps"), **errors(401, 404, 429, 503)},
                },
                "post": {
                    "summary": "Record a promise made to the customer on a call",
                    "security": write,
                    "requestBody": body("FollowUpBody"),
                    "responses": {
                        "201": json("FollowUpWritten", "Recorded"),
                        **errors(400, 401, 403, 404, 413, 422, 429, 503, e404=CALL_404, e422=DUE_422),
                    },
                },
            },
        ),
        (
            "/api/v1/follow-ups",
            [],
            {
                "get": {
                    "summary": "Promises by state (due, overdue, done), for one owner or customer",
                    "parameters": query_parameters(FollowUpParams),
                    "responses": {"200": json("FollowUps"), **errors(400, 401, 429, 503)},
                }
            },
        ),
        (
            "/api/v1/follow-ups/{follow_up_id}/done",
            [follow_up_id],
            {
                "post": {
                    "summary": "Mark a promise kept",
                    "security": write,
                    "responses": {
                        "200": json("FollowUpWritten"),
                        **errors(401, 403, 404, 429, 503, e404="Unknown follow-up (or route)."),
                    },
                }
            },
        ),
    ]

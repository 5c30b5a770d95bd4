"""The OpenAPI document of the JSON API, assembled by apispec from the pydantic models that validate requests.

Nothing here spells a body's schema: ``store.models`` (call records), ``app.schemas`` (feedback, events,
suggest-from-text, the search query string) and ``app.responses`` (answers) declare them, pydantic turns them
into JSON Schema, and apispec registers them as components and builds the paths. This module only says
which route takes and answers which model, with which errors (checked against the routes by
``tests/test_api.py`` and against the running app by ``tests/test_api_schema.py``).

OpenAPI 3.1, not 3.0: pydantic writes JSON Schema 2020-12, which is 3.1's own schema dialect, so the
schemas go in as generated (``const``, ``{"type": "null"}``) instead of being rewritten into 3.0's subset.
"""

from functools import cache

from apispec import APISpec
from pydantic import TypeAdapter
from pydantic.json_schema import GenerateJsonSchema, models_json_schema

from app import customer_openapi, responses
from app.schemas import MAX_RECORDS_PER_REQUEST, EventBody, FeedbackBody, SearchBody, SearchParams, SuggestBody
from store.models import Call, CallBody, CallId, CallInput

REQUEST_MODELS = (
    CallInput,
    CallBody,
    FeedbackBody,
    EventBody,
    SuggestBody,
    SearchBody,
    *customer_openapi.REQUEST_MODELS,
)
RESPONSE_MODELS = (
    responses.Error,
    Call,
    responses.SearchResult,
    responses.CallsWritten,
    responses.CallPut,
    responses.CallDeleted,
    responses.FeedbackRecorded,
    responses.Recorded,
    responses.Health,
    *customer_openapi.RESPONSE_MODELS,
)
WRITE = [{"bearer": []}]
ERROR_WHEN = {
    400: "A malformed request: a query parameter out of range, a body that is not JSON or not a JSON object (or "
    "nests arrays or objects more than 64 deep, or holds a lone surrogate such as \\ud800), an empty array or more "
    "than 1,000 records, an id in a PUT body that differs from the URL's.",
    401: "No key, or an unknown, revoked or expired one.",
    403: "A search key used to write.",
    404: "Unknown call or route.",
    413: "A body over KB_MAX_BODY_BYTES (refused before it is read).",
    412: "If-Match names a version the call no longer has (or the call does not exist): nothing was written; "
    "the ETag header gives the current version.",
    422: "A field breaks a rule (errors[].field names it).",
    429: "Too many requests (Retry-After says when to try again).",
    503: "The store is unreachable (nothing was written) or no index exists yet.",
}
BATCH_422 = (
    "A call record breaks a rule, or an id is repeated within the array (JSON Schema cannot say that ids are "
    "unique); errors[] lists each bad record with its index and field. Nothing is stored."
)

# Werkzeug routes no URL whose path holds a line break, so such an id (trimmed away in a body) is a 404 here.
UNROUTABLE_404 = "A call id holding a line break: no route matches such a path (in a body it would be trimmed)."


class ComponentSchema(GenerateJsonSchema):
    """pydantic's JSON Schema without the noise: no title per field, no ``"default": null`` for an absent field."""

    def field_title_should_be_set(self, schema):
        """Field titles only repeat the property names."""
        return False

    def default_schema(self, schema):
        """An optional field whose default is None means "absent": it has no default to show."""
        if "default" in schema and schema["default"] is None:
            return self.generate_inner(schema["schema"])
        return super().default_schema(schema)


def component_schemas():
    """Every model's JSON Schema, by component name, with references between them as OpenAPI components.

    :returns: a dict of name to JSON Schema.
    """
    models = [(model, "validation") for model in REQUEST_MODELS] + [
        (model, "serialization") for model in RESPONSE_MODELS
    ]
    _, top = models_json_schema(models, ref_template="#/components/schemas/{model}", schema_generator=ComponentSchema)
    return top["$defs"]


def type_schema(annotated_type):
    """The JSON Schema of one declared type, for a path parameter.

    :param annotated_type: e.g. ``store.models.CallId``.
    :returns: a JSON Schema dict.
    """
    return TypeAdapter(annotated_type).json_schema(schema_generator=ComponentSchema)


def query_parameters(model):
    """A query-string model's fields as OpenAPI parameters, each with its schema and description.

    :param model: a pydantic model such as ``SearchParams``.
    :returns: a list of parameter objects.
    """
    schema = TypeAdapter(model).json_schema(schema_generator=ComponentSchema)
    parameters = []
    for name, field_schema in schema["properties"].items():
        field_schema = dict(field_schema)
        parameter = {
            "name": name,
            "in": "query",
            "required": name in schema.get("required", ()),
            "schema": field_schema,
        }
        if "description" in field_schema:
            parameter["description"] = field_schema.pop("description")
        parameters.append(parameter)
    return parameters


def _json(schema, description="OK"):
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _tagged(response):
    """A response that carries the call's version as its ETag header."""
    etag = {"description": 'The call\'s version, e.g. "3" (send it back in If-Match).', "schema": {"type": "string"}}
    return {**response, "headers": {"ETag": {**etag, "required": True}}}


def _errors(*statuses, **descriptions):
    return {str(status): _json("Error", descriptions.get(f"e{status}", ERROR_WHEN[status])) for status in statuses}


def _body(schema):
    return {"required": True, "content": {"application/json": {"schema": schema}}}


def _paths():
    """(path, path-level parameters, operations) of every documented route."""
    call_id = {"name": "call_id", "in": "path", "required": True, "schema": type_schema(CallId)}
    session_headers = [
        {"name": "X-KB-Session", "in": "header", "schema": {"type": "string"}, "description": "Anonymous session."},
        {"name": "X-KB-Channel", "in": "header", "schema": {"type": "string"}, "description": "page, widget or api."},
    ]
    batch = {"type": "array", "items": "CallInput", "minItems": 1, "maxItems": MAX_RECORDS_PER_REQUEST}
    written = {"200": _json("CallsWritten"), "201": _json("CallsWritten", "Created (something was inserted)")}
    put = {"200": _tagged(_json("CallPut")), "201": _tagged(_json("CallPut", "Created"))}
    if_match = {
        "name": "If-Match",
        "in": "header",
        "schema": {"type": "string"},
        "description": 'Write only if the call is still this version (its ETag, e.g. "3"); 412 otherwise.',
    }
    return [
        (
            "/api/v1/search",
            [],
            {
                "get": {
                    "summary": "Ranked past calls for a query",
                    "parameters": query_parameters(SearchParams) + session_headers,
                    "responses": {"200": _json("SearchResult"), **_errors(400, 401, 429, 503)},
                },
                "post": {
                    "summary": "The same search with its parameters in a JSON body (no URL length limit)",
                    "parameters": session_headers,
                    "requestBody": _body("SearchBody"),
                    "responses": {"200": _json("SearchResult"), **_errors(400, 401, 413, 422, 429, 503)},
                },
            },
        ),
        (
            "/api/v1/calls",
            [],
            {
                "post": {
                    "summary": "Insert or update one call record or an array of them (all or nothing)",
                    "security": WRITE,
                    "requestBody": _body({"oneOf": ["CallInput", batch]}),
                    "responses": {**written, **_errors(400, 401, 403, 413, 422, 429, 503, e422=BATCH_422)},
                }
            },
        ),
        (
            "/api/v1/calls/{call_id}",
            [call_id],
            {
                "get": {
                    "summary": "One call record",
                    "responses": {"200": _tagged(_json("Call")), **_errors(401, 404, 429)},
                },
                "put": {
                    "summary": "Create or replace the call with this id",
                    "security": WRITE,
                    "parameters": [if_match],
                    "requestBody": _body("CallBody"),
                    "responses": {**put, **_errors(400, 401, 403, 404, 412, 413, 422, 429, 503, e404=UNROUTABLE_404)},
                },
                "delete": {
                    "summary": "Delete the call with this id",
                    "security": WRITE,
                    "parameters": [if_match],
                    "responses": {"200": _json("CallDeleted"), **_errors(401, 403, 404, 412, 429, 503)},
                },
            },
        ),
        (
            "/api/v1/feedback",
            [],
            {
                "post": {
                    "summary": "Record that a call solved the problem searched for",
                    "parameters": session_headers[:1],
                    "requestBody": _body("FeedbackBody"),
                    "responses": {
                        "201": _json("FeedbackRecorded", "Recorded"),
                        **_errors(400, 401, 404, 413, 422, 429, 503),
                    },
                }
            },
        ),
        (
            "/api/v1/events",
            [],
            {
                "post": {
                    "summary": "Record that a hit of a search was opened",
                    "parameters": session_headers[:1],
                    "requestBody": _body("EventBody"),
                    "responses": {"201": _json("Recorded", "Recorded"), **_errors(400, 401, 413, 422, 429, 503)},
                }
            },
        ),
        (
            "/api/v1/suggest-from-text",
            [],
            {
                "post": {
                    "summary": "The past calls most like a description typed during the call",
                    "requestBody": _body("SuggestBody"),
                    "responses": {"200": _json("SearchResult"), **_errors(400, 401, 413, 422, 429, 503)},
                }
            },
        ),
        *customer_openapi.customer_paths(
            _json, _errors, _body, query_parameters, WRITE, MAX_RECORDS_PER_REQUEST, type_schema(CallId)
        ),
        (
            "/api/v1/openapi.json",
            [],
            {"get": {"summary": "This document", "responses": {"200": _json({"type": "object"})}}},
        ),
        (
            "/healthz",
            [],
            {
                "get": {
                    "summary": "Store and index reachable, record count, index lag",
                    "responses": {"200": _json("Health"), "503": _json("Health", "Unhealthy")},
                }
            },
        ),
    ]


@cache
def _document():
    spec = APISpec(title="Support knowledge-base search API", version="1", openapi_version="3.1.0")
    spec.components.security_scheme("bearer", {"type": "http", "scheme": "bearer"})
    for name, schema in component_schemas().items():
        spec.components.schema(name, schema)
    for path, parameters, operations in _paths():
        spec.path(path=path, parameters=parameters or None, operations=operations)
    return spec.to_dict()


def openapi_document():
    """The OpenAPI 3.1 document as a dict (built once per process).

    :returns: a JSON-serialisable dict; callers must not change it.
    """
    return _document()

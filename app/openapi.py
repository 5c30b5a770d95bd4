"""The OpenAPI 3 document of the JSON API (checked against the routes by the tests)."""

_ERROR = {"$ref": "#/components/schemas/Error"}
_JSON_ERROR = {"description": "Error", "content": {"application/json": {"schema": _ERROR}}}


def _errors(*statuses):
    return {str(status): _JSON_ERROR for status in statuses}


def _body(schema):
    """A required JSON request body with this schema."""
    return {"required": True, "content": {"application/json": {"schema": schema}}}


def _json(schema, description="OK"):
    return {"description": description, "content": {"application/json": {"schema": schema}}}


# A string with at least one non-space character: the API refuses blank ids, queries and texts.
_NON_BLANK = {"type": "string", "minLength": 1, "pattern": "\\S"}
# A call id: up to 200 characters, not blank, no control characters (store.records).
_CALL_ID_VALUE = {
    "type": "string",
    "minLength": 1,
    "maxLength": 200,
    "pattern": "^[^\\x00-\\x1f]*[^\\x00-\\x20][^\\x00-\\x1f]*$",
}
_CALL_ID = {"name": "call_id", "in": "path", "required": True, "schema": _CALL_ID_VALUE}
_CALL_INPUT = {"$ref": "#/components/schemas/CallInput"}

_COMPONENTS = {
    "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
    "schemas": {
        "Error": {
            "type": "object",
            "required": ["ok", "error", "errors", "status"],
            "properties": {
                "ok": {"type": "boolean", "enum": [False]},
                "error": {"type": "string"},
                "errors": {"type": "array", "items": {"type": "object"}},
                "status": {"type": "integer"},
            },
        },
        "CallInput": {
            "type": "object",
            "required": ["id"],
            "anyOf": [
                {"required": ["title"], "properties": {"title": _NON_BLANK}},
                {"required": ["problem"], "properties": {"problem": _NON_BLANK}},
            ],
            "properties": {
                "id": _CALL_ID_VALUE,
                "title": {"type": "string", "maxLength": 1000},
                "problem": {"type": "string", "maxLength": 100000},
                "resolution": {"type": "string", "maxLength": 100000},
                "product": {"type": "string", "maxLength": 200},
                "category": {"type": "string", "maxLength": 200},
                "tags": {"type": "array", "maxItems": 50, "items": {"type": "string", "maxLength": 200}},
                "created_at": {"type": "string", "format": "date-time"},
                "resolved": {"type": "boolean"},
                "customer_id": {"type": "string", "maxLength": 200},
                "customer_name": {"type": "string", "maxLength": 200},
                "status": {"type": "string", "enum": ["open", "pending", "resolved"]},
                "priority": {"type": "string", "enum": ["low", "normal", "high", "urgent"]},
                "opened_at": {"type": "string", "format": "date-time"},
                "resolved_at": {"type": "string", "format": "date-time"},
                "extra": {"type": "object"},
            },
            # 'resolved' must agree with 'status' when both are given.
            "allOf": [
                {
                    "not": {
                        "anyOf": [
                            {
                                "required": ["status", "resolved"],
                                "properties": {"status": {"enum": ["resolved"]}, "resolved": {"enum": [False]}},
                            },
                            {
                                "required": ["status", "resolved"],
                                "properties": {"status": {"enum": ["open", "pending"]}, "resolved": {"enum": [True]}},
                            },
                        ]
                    }
                }
            ],
            "additionalProperties": True,
        },
        "Call": {
            "type": "object",
            "required": [
                "id",
                "title",
                "problem",
                "resolution",
                "product",
                "category",
                "tags",
                "created_at",
                "resolved",
            ],
            "properties": {
                "id": {"type": "string"},
                "title": {"type": "string"},
                "problem": {"type": "string"},
                "resolution": {"type": "string"},
                "product": {"type": "string"},
                "category": {"type": "string"},
                "tags": {"type": "array", "items": {"type": "string"}},
                "created_at": {"type": "string"},
                "resolved": {"type": "boolean"},
            },
            "additionalProperties": True,
        },
        "Match": {
            "type": "object",
            "required": ["query_term", "matched", "how"],
            "properties": {
                "query_term": {"type": "string"},
                "matched": {"type": "string"},
                "how": {
                    "type": "string",
                    "enum": ["exact", "stem", "spelling-variant", "synonym", "typo", "sounds-like", "caller-product"],
                },
            },
        },
        "Hit": {
            "type": "object",
            "required": [
                "id",
                "title",
                "score",
                "snippet",
                "resolution",
                "product",
                "category",
                "created_at",
                "matches",
            ],
            "properties": {
                "id": {"type": "string"},
                "title": {"type": "string"},
                "title_html": {"type": "string", "description": "Escaped title with <mark> around matched words."},
                "score": {"type": "number"},
                "snippet": {"type": "string", "description": "Escaped text with <mark> around matched words."},
                "resolution": {"type": "string", "description": "The resolution, cut after 600 characters."},
                "product": {"type": "string"},
                "category": {"type": "string"},
                "created_at": {"type": "string"},
                "tags": {"type": "array", "items": {"type": "string"}},
                "resolved": {"type": "boolean"},
                "matches": {"type": "array", "items": {"$ref": "#/components/schemas/Match"}},
                "status": {"type": "string"},
                "priority": {"type": "string"},
                "customer_id": {"type": "string"},
                "outcome_boost": {
                    "type": "number",
                    "description": "How much earlier 'this solved it' feedback raised the score.",
                },
            },
        },
        "SearchResult": {
            "type": "object",
            "required": ["query", "total", "took_ms", "did_you_mean", "results"],
            "properties": {
                "search_id": {
                    "type": "string",
                    "nullable": True,
                    "description": "Send it back with /feedback and /events.",
                },
                "query": {"type": "string"},
                "total": {
                    "type": "integer",
                    "description": "How many calls match, counted up to 100 (see total_exact).",
                },
                "total_exact": {
                    "type": "boolean",
                    "description": "False when total is a lower bound: the count stopped at 100, or the "
                    "time limit cut the search short.",
                },
                "took_ms": {"type": "number"},
                "did_you_mean": {
                    "oneOf": [
                        {"type": "null"},
                        {
                            "type": "object",
                            "required": ["text", "html", "corrections"],
                            "properties": {
                                "text": {"type": "string"},
                                "html": {"type": "string"},
                                "corrections": {"type": "array", "items": {"type": "object"}},
                            },
                        },
                    ]
                },
                "timed_out": {"type": "boolean"},
                "facets": {"type": "object"},
                "results": {"type": "array", "items": {"$ref": "#/components/schemas/Hit"}},
            },
        },
    },
}

# PUT's body: a call record whose id comes from the URL (an 'id' in the body must equal it, else 400).
_COMPONENTS["schemas"]["CallBody"] = {
    **{key: value for key, value in _COMPONENTS["schemas"]["CallInput"].items() if key != "required"},
    "not": {"required": ["id"]},
}


def openapi_document():
    """The OpenAPI 3.0 document as a dict.

    :returns: a JSON-serialisable dict.
    """
    write = [{"bearer": []}]
    return {
        "openapi": "3.0.3",
        "info": {"title": "Support knowledge-base search API", "version": "1"},
        "paths": {
            "/api/v1/search": {
                "get": {
                    "summary": "Ranked past calls for a query",
                    "parameters": [
                        {"name": "q", "in": "query", "required": True, "schema": _NON_BLANK},
                        {
                            "name": "limit",
                            "in": "query",
                            "schema": {"type": "integer", "minimum": 1, "maximum": 50, "default": 10},
                        },
                        {"name": "offset", "in": "query", "schema": {"type": "integer", "minimum": 0, "default": 0}},
                        {"name": "product", "in": "query", "schema": {"type": "string"}},
                        {"name": "category", "in": "query", "schema": {"type": "string"}},
                        {"name": "facets", "in": "query", "schema": {"type": "boolean"}},
                        {"name": "customer", "in": "query", "schema": {"type": "string"}},
                        {
                            "name": "status",
                            "in": "query",
                            "schema": {"type": "string", "enum": ["open", "pending", "resolved"]},
                        },
                        {
                            "name": "priority",
                            "in": "query",
                            "schema": {"type": "string", "enum": ["low", "normal", "high", "urgent"]},
                        },
                        {
                            "name": "caller",
                            "in": "query",
                            "schema": {"type": "string"},
                            "description": "The customer on the line: their products come first among equal matches.",
                        },
                    ],
                    "responses": {
                        "200": _json({"$ref": "#/components/schemas/SearchResult"}),
                        **_errors(400, 401, 429, 503),
                    },
                }
            },
            "/api/v1/calls": {
                "post": {
                    "summary": "Insert or update one call record or an array of them",
                    "security": write,
                    "requestBody": _body(
                        {"oneOf": [_CALL_INPUT, {"type": "array", "items": _CALL_INPUT, "minItems": 1}]}
                    ),
                    "responses": {
                        "200": _json({"type": "object"}),
                        "201": _json({"type": "object"}, "Created"),
                        **_errors(400, 401, 403, 413, 422, 429, 503),
                    },
                }
            },
            "/api/v1/calls/{call_id}": {
                "parameters": [_CALL_ID],
                "get": {
                    "summary": "One call record",
                    "responses": {"200": _json({"$ref": "#/components/schemas/Call"}), **_errors(401, 404, 429)},
                },
                "put": {
                    "summary": "Create or replace the call with this id",
                    "security": write,
                    "requestBody": _body({"$ref": "#/components/schemas/CallBody"}),
                    "responses": {
                        "200": _json({"type": "object"}),
                        "201": _json({"type": "object"}, "Created"),
                        **_errors(400, 401, 403, 413, 422, 429, 503),
                    },
                },
                "delete": {
                    "summary": "Delete the call with this id",
                    "security": write,
                    "responses": {"200": _json({"type": "object"}), **_errors(401, 403, 404, 429, 503)},
                },
            },
            "/api/v1/feedback": {
                "post": {
                    "summary": "Record that a call solved the problem searched for",
                    "requestBody": _body(
                        {
                            "type": "object",
                            "required": ["call_id"],
                            "properties": {
                                "call_id": _NON_BLANK,
                                "query": {"type": "string", "maxLength": 1000},
                                "source": {"type": "string", "enum": ["page", "widget", "api"]},
                                "search_id": {"type": "string"},
                            },
                        }
                    ),
                    "responses": {
                        "201": _json({"type": "object"}, "Recorded"),
                        **_errors(400, 401, 404, 422, 429, 503),
                    },
                }
            },
            "/api/v1/customers/{customer_id}/calls": {
                "get": {
                    "summary": "A customer's open calls first, then their past calls",
                    "parameters": [
                        {
                            "name": "customer_id",
                            "in": "path",
                            "required": True,
                            "schema": {"type": "string", "minLength": 1},
                        }
                    ],
                    "responses": {
                        "200": _json({"type": "object", "required": ["customer_id", "open", "past"]}),
                        **_errors(401, 404, 429, 503),
                    },
                }
            },
            "/api/v1/events": {
                "post": {
                    "summary": "Record that a hit of a search was opened",
                    "requestBody": _body(
                        {
                            "type": "object",
                            "required": ["search_id", "call_id"],
                            "properties": {
                                "search_id": _NON_BLANK,
                                "call_id": _NON_BLANK,
                                "kind": {"type": "string", "enum": ["opened"]},
                            },
                        }
                    ),
                    "responses": {"201": _json({"type": "object"}, "Recorded"), **_errors(400, 401, 422, 429, 503)},
                }
            },
            "/api/v1/suggest-from-text": {
                "post": {
                    "summary": "The past calls most like a description typed during the call",
                    "requestBody": _body(
                        {
                            "type": "object",
                            "required": ["text"],
                            "properties": {
                                "text": {**_NON_BLANK, "maxLength": 20000},
                                "limit": {"type": "integer", "minimum": 1, "maximum": 50},
                            },
                        }
                    ),
                    "responses": {
                        "200": _json({"$ref": "#/components/schemas/SearchResult"}),
                        **_errors(400, 401, 422, 429, 503),
                    },
                }
            },
            "/api/v1/openapi.json": {
                "get": {"summary": "This document", "responses": {"200": _json({"type": "object"})}}
            },
            "/healthz": {
                "get": {
                    "summary": "Store and index reachable, record count, index lag",
                    "responses": {"200": _json({"type": "object"}), "503": _json({"type": "object"}, "Unhealthy")},
                }
            },
        },
        "components": _COMPONENTS,
    }

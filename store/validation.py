"""From pydantic's validation errors to the one-line messages people read, each naming its field.

The models declare their rules once (types, lengths, patterns, choices); this module only words what pydantic
found. A field may carry :class:`Messages` in its ``Annotated`` metadata to word one kind of error its own way
(``field 'id' is required (a non-empty string)``); every other error gets the house wording below, e.g.
``field 'title' must be a string``. A rule across fields is raised with :func:`rule_error`, which names its field.
"""

from typing import Literal, get_args, get_origin

from pydantic_core import PydanticCustomError

RULE_ERROR = "rule"

# What a wrong type must be instead, by pydantic error type.
_TYPE_WORDS = {
    "string_type": "a string",
    "bool_type": "true or false",
    "bool_parsing": "true or false",
    "int_type": "a whole number",
    "int_parsing": "a whole number",
    "int_from_float": "a whole number",
    "list_type": "a list",
    "dict_type": "a JSON object",
    "model_type": "a JSON object",
}

_HOUSE_WORDING = {
    "missing": "field '{field}' is required",
    "string_too_long": "field '{field}' is {length:,} characters long; the limit is {limit:,}",
    "string_too_short": "field '{field}' must not be empty",
    "string_pattern_mismatch": "field '{field}' does not match the pattern {pattern}",
    "too_long": "field '{field}' has {length:,} items; the limit is {limit:,}",
    "literal_error": "field '{field}' must be one of {choices}",
    "greater_than_equal": "field '{field}' must be {ge} or more",
    "less_than_equal": "field '{field}' must be {le} or less",
    "extra_forbidden": "field '{field}' is not a field of this record",
    **{kind: "field '{field}' must be " + words for kind, words in _TYPE_WORDS.items()},
}


class Messages:
    """Wordings of one field's errors, by pydantic error type, as ``str.format`` templates.

    A template may use ``{field}``, ``{value}`` (the value sent, shortened), ``{length}``, ``{limit}``,
    ``{ge}``, ``{le}`` and ``{choices}``; or it is a function of the value sent that returns the message.
    """

    def __init__(self, **templates):
        self.templates = templates

    def __repr__(self):
        return f"Messages({self.templates!r})"


class FieldProblem:
    """One broken rule: the field at fault (or None for the whole value) and the message."""

    def __init__(self, field, message):
        self.field = field
        self.message = message

    def __repr__(self):
        return f"FieldProblem({self.field!r}, {self.message!r})"


def rule_error(field, message):
    """The error a model validator raises when a rule across fields is broken.

    :param field: the field to name in the answer.
    :param message: the whole message, as the user reads it.
    :returns: a ``PydanticCustomError`` that :func:`field_problems` turns back into ``(field, message)``.
    """
    return PydanticCustomError(RULE_ERROR, "{message}", {"field": field, "message": message})


def field_problems(error, model):
    """Every problem pydantic found, worded for people, in the order of the model's fields.

    :param error: a ``pydantic.ValidationError`` raised by ``model``.
    :param model: the model class that was validated.
    :returns: a list of :class:`FieldProblem`.
    """
    return [_problem(detail, model) for detail in error.errors(include_url=False)]


def _problem(detail, model):
    kind, location, context = detail["type"], detail["loc"], detail.get("ctx") or {}
    if kind == RULE_ERROR:
        return FieldProblem(context["field"], context["message"])
    name = str(location[0]) if location else None
    info = model.model_fields.get(name) if name else None
    template = _own_template(info, kind) or _HOUSE_WORDING.get(kind, "field '{field}' is not valid: {detail}")
    value = detail.get("input")
    words = {
        "field": name,
        "value": repr(value[:20]) if isinstance(value, str) else repr(value),
        "length": len(value) if isinstance(value, (str, list, dict)) else 0,
        "limit": context.get("max_length", 0),
        "pattern": context.get("pattern", ""),
        "ge": context.get("ge", ""),
        "le": context.get("le", ""),
        "choices": ", ".join(_choices(info)),
        "detail": detail.get("msg", ""),
    }
    return FieldProblem(name, template(value) if callable(template) else template.format(**words))


def _own_template(info, kind):
    if info is None:
        return None
    for item in info.metadata:
        if isinstance(item, Messages):
            return item.templates.get(kind)
    return None


def _choices(info):
    if info is None or get_origin(info.annotation) is not Literal:
        return ()
    return [str(choice) for choice in get_args(info.annotation)]

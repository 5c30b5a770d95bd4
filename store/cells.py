"""Call records typed as text (a CSV row, the capture form) turned into the values the model expects.

Every cell of a CSV file is text, so before the one strict model validates a row, the cells that stand for
something else are read: ``tags`` split at commas, ``resolved`` read as a yes/no word, ``status`` and
``priority`` folded to lower case (people type "Pending" in spreadsheets). A cell that cannot be read stays
text, and the model refuses it naming the field.
"""

TRUE_WORDS = ("true", "1", "yes")
FALSE_WORDS = ("false", "0", "no")
CHOICE_FIELDS = ("status", "priority")


def split_tags(text):
    """Tags typed in one cell, comma-separated.

    :param text: e.g. ``"printer, offline,"``.
    :returns: e.g. ``["printer", "offline"]`` (trimmed, empty ones left out).
    """
    return [tag.strip() for tag in text.split(",") if tag.strip()]


def read_yes_no(text):
    """A yes/no word as a bool: true/false, 1/0, yes/no in any case.

    :param text: the cell's text.
    :returns: True or False, or the text unchanged when it is none of those words.
    """
    word = text.strip().lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    return text


def typed_cells(cells):
    """A raw call record from text cells, ready for ``store.records.validate_record``.

    :param cells: a dict of field name to text (absent or empty cells left out by the caller, or empty).
    :returns: a new dict; ``tags`` a list, ``resolved`` a bool when readable, choices in lower case.
    """
    typed = dict(cells)
    if isinstance(typed.get("tags"), str):
        typed["tags"] = split_tags(typed["tags"])
    if isinstance(typed.get("resolved"), str):
        typed["resolved"] = read_yes_no(typed["resolved"])
    for name in CHOICE_FIELDS:
        if isinstance(typed.get(name), str):
            typed[name] = typed[name].strip().lower()
    return typed

"""Call records typed as text (a CSV row, the capture form) turned into the values the model expects.

Every cell of a CSV file is text, so before the one strict model validates a row, the cells that stand for
something else are read: ``tags`` split at commas, ``resolved`` read as a yes/no word, ``status`` and
``priority`` folded to lower case (people type "Pending" in spreadsheets). A cell that cannot be read stays
text, and the model refuses it naming the field.
"""

TRUE_WORDS = ("true", "1", "yes")
FALSE_WORDS = ("false", "0", "no")
CHOICE_FIELDS = ("status", "priority", "channel")


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


def split_list(text):
    """Several values typed in one cell, separated by semicolons or commas (phone numbers, e-mail addresses).

    :param text: e.g. ``"020 7946 0958; +33 1 42 68 53 00"``.
    :returns: e.g. ``["020 7946 0958", "+33 1 42 68 53 00"]``.
    """
    return [part.strip() for part in text.replace(",", ";").split(";") if part.strip()]


def read_products(text):
    """Products typed in one cell: ``name|version|serial`` entries separated by semicolons.

    :param text: e.g. ``"Poly Voyager Focus 2|2.1|SN-77; Jabra Evolve2 65"``.
    :returns: e.g. ``[{"name": "Poly Voyager Focus 2", "version": "2.1", "serial": "SN-77"},
        {"name": "Jabra Evolve2 65"}]``.
    """
    products = []
    for entry in (part.strip() for part in text.split(";")):
        if entry:
            fields = [field.strip() for field in entry.split("|")]
            products.append({name: value for name, value in zip(("name", "version", "serial"), fields) if value})
    return products


def typed_customer_cells(cells):
    """A raw customer record from text cells, ready for ``store.customer_models.validate_customer``.

    :param cells: a dict of field name to text (empty cells left out).
    :returns: a new dict: ``phones`` and ``emails`` lists, ``products`` a list of objects, ``key_account`` a bool
        when readable.
    """
    typed = dict(cells)
    for name in ("phones", "emails"):
        if isinstance(typed.get(name), str):
            typed[name] = split_list(typed[name])
    if isinstance(typed.get("products"), str):
        typed["products"] = read_products(typed["products"])
    if isinstance(typed.get("key_account"), str):
        typed["key_account"] = read_yes_no(typed["key_account"])
    return typed

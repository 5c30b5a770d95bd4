"""Splitting support text into chunks: codes, versions, emails and hostnames whole, and their parts.

``"Error E-1102 on mail.example.com"`` gives ``Error``, ``E-1102``, ``E``, ``1102``,
``mail.example.com``, ``mail``, ``example``, ``com``; the parts of a compound share its position,
so a phrase query sees one word there.

Apostrophes inside a word are removed, not split on: ``won't`` and ``wont`` both become ``wont``,
``user's`` becomes ``users`` (the stemmer then meets ``user``). Agents rarely type apostrophes,
so this is what lets their ``wont``/``cant``/``doesnt`` match the articles.
"""

import re

# A word character: \w plus combining accents, so a decomposed "café" stays one word.
_W = r"[\w\u0300-\u036f]"
# "c++", "c#", "f#": one letter with a suffix, not followed by more word characters.
_LANGUAGE = r"(?<!\w)[A-Za-z](?:\+\+|#)(?![\w+#])"
# Words joined by . - @ (codes, versions, hostnames, emails) or by apostrophes inside a word.
_CHUNK = rf"{_W}+(?:[.\-@'\u2019\u02bc]{_W}+)*"
CHUNK_PATTERN = re.compile(rf"{_LANGUAGE}|{_CHUNK}")

_APOSTROPHES = re.compile(r"['\u2019\u02bc]")
_CONNECTOR = re.compile(r"[.\-@]")


def split_chunk(chunk):
    """Break one matched chunk into the texts to emit and their offsets inside the chunk.

    :param chunk: text matched by :data:`CHUNK_PATTERN`, e.g. ``"Wi-Fi"``.
    :returns: a list of ``(text, start, end)``; the whole chunk first, then the joined form of an
        all-letter hyphenated word, then each part: ``("Wi-Fi", 0, 5), ("WiFi", 0, 5),
        ("Wi", 0, 2), ("Fi", 3, 5)``. Apostrophes are removed from every text.
    """
    whole = _APOSTROPHES.sub("", chunk)
    if not _CONNECTOR.search(chunk):
        return [(whole, 0, len(chunk))]
    pieces, begin = [], 0
    for match in _CONNECTOR.finditer(chunk):
        pieces.append((_APOSTROPHES.sub("", chunk[begin : match.start()]), begin, match.start()))
        begin = match.end()
    pieces.append((_APOSTROPHES.sub("", chunk[begin:]), begin, len(chunk)))
    emitted = [(whole, 0, len(chunk))]
    separators = set(_CONNECTOR.findall(chunk))
    if separators == {"-"} and all(text.isalpha() for text, _, _ in pieces):
        emitted.append(("".join(text for text, _, _ in pieces), 0, len(chunk)))
    seen = {text for text, _, _ in emitted}
    for piece in pieces:
        if piece[0] and piece[0] not in seen:
            seen.add(piece[0])
            emitted.append(piece)
    return emitted

"""Reading the word lists of ``analyzers/data/``: two tab-separated columns a line, under a header line."""


def word_pairs(path, header, error, builder):
    """The pairs of a word list, in the file's order; blank lines, ``#`` comments and the header are skipped.

    :param path: the TSV file.
    :param header: its header line (``"variant\\tus"``).
    :param error: the exception class to raise, naming the file and what is wrong.
    :param builder: the script that writes the file (named when it cannot be read).
    :returns: a list of ``(first, second)`` string pairs.
    :raises error: when the file cannot be read or a line lacks two columns (its number named).
    """
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as reason:
        raise error(f"cannot read {path}: {reason}; run {builder}") from reason
    expected = header.replace("\t", "<TAB>")
    pairs = []
    for number, line in enumerate(lines, start=1):
        if not line or line.startswith("#") or line == header:
            continue
        columns = line.split("\t")
        if len(columns) != 2:
            raise error(f"{path}, line {number}: expected '{expected}'")
        pairs.append((columns[0], columns[1]))
    return pairs

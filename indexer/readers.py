"""Reading call records from import files (.jsonl, .json, .csv), each row with its line number."""

import csv
import io
import json
from dataclasses import dataclass
from pathlib import Path

from store.cells import typed_cells

SUPPORTED_SUFFIXES = (".jsonl", ".json", ".csv")


class ImportFileError(ValueError):
    """The file as a whole cannot be read; ``line`` says where, when known."""

    def __init__(self, message, line=None):
        super().__init__(message)
        self.message = message
        self.line = line

    def __str__(self):
        return f"line {self.line}: {self.message}" if self.line else self.message


@dataclass
class RawRow:
    """One row as read from a file, before validation; ``error`` set when it could not be parsed."""

    line: int
    data: object = None
    error: str = ""
    from_cells: bool = False  # a CSV row: every value was text (customer rows are typed by their own rules)


def _line_of_offset(data, offset):
    return data.count(b"\n", 0, offset) + 1


def _decode(data):
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = _line_of_offset(data, error.start)
        raise ImportFileError(f"invalid UTF-8 (byte {data[error.start]:#04x})", line) from None


def read_jsonl(data):
    """Rows of a JSON Lines file; a bad line becomes a row with an error, not an exception.

    :param data: the file's bytes.
    :returns: a list of :class:`RawRow`.
    """
    rows = []
    for number, raw_line in enumerate(data.split(b"\n"), start=1):
        if not raw_line.strip():
            continue
        try:
            text = raw_line.decode("utf-8-sig" if number == 1 else "utf-8")
        except UnicodeDecodeError as error:
            rows.append(RawRow(number, error=f"invalid UTF-8 (byte {raw_line[error.start]:#04x})"))
            continue
        try:
            rows.append(RawRow(number, json.loads(text)))
        except json.JSONDecodeError as error:
            rows.append(RawRow(number, error=f"not valid JSON: {error.msg} (column {error.colno})"))
    return rows


def read_json_array(data):
    """Items of a file holding one JSON array, each with the line it starts on.

    :param data: the file's bytes.
    :returns: a list of :class:`RawRow`.
    :raises ImportFileError: when the file is not valid JSON or not an array.
    """
    text = _decode(data)
    try:
        whole = json.loads(text)
    except json.JSONDecodeError as error:
        raise ImportFileError(f"not valid JSON: {error.msg}", error.lineno) from None
    if not isinstance(whole, list):
        raise ImportFileError(
            f"a .json file must hold an array of call records, not a {type(whole).__name__}; "
            "use .jsonl for one record per line",
            1,
        )
    decoder = json.JSONDecoder()
    rows, position = [], text.index("[") + 1
    for item in whole:
        while text[position] in " \t\r\n,":
            position += 1
        _, end = decoder.raw_decode(text, position)
        rows.append(RawRow(text.count("\n", 0, position) + 1, item))
        position = end
    return rows


def read_csv(data):
    """Rows of a CSV file with a header row, its cells read as typed values (see ``store.cells``).

    Cells are text, so ``tags`` are comma-separated inside one cell and ``resolved`` is a yes/no word;
    the rows then meet the same strict model as JSON rows.

    :param data: the file's bytes.
    :returns: a list of :class:`RawRow` whose data are dicts of the non-empty cells, typed.
    :raises ImportFileError: on invalid UTF-8, broken quoting or a missing header.
    """
    text = _decode(data)
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    rows = []
    try:
        header = next(reader, None)
        if not header:
            raise ImportFileError("the CSV file has no header row", 1)
        header = [name.strip() for name in header]
        if "id" not in header:
            raise ImportFileError("the CSV header has no 'id' column", 1)
        start_line = reader.line_num + 1
        for cells in reader:
            if any(cell.strip() for cell in cells):
                if len(cells) > len(header):
                    rows.append(RawRow(start_line, error=f"{len(cells)} cells but the header has {len(header)}"))
                else:
                    typed = typed_cells({k: v for k, v in zip(header, cells) if v != ""})
                    rows.append(RawRow(start_line, typed, from_cells=True))
            start_line = reader.line_num + 1
    except csv.Error as error:
        line = reader.line_num or 1
        raise ImportFileError(f"broken CSV: {error}", line) from None
    return rows


def read_rows(path):
    """Every row of an import file, chosen by its suffix.

    :param path: a Path to a .jsonl, .json or .csv file.
    :returns: a list of :class:`RawRow`.
    :raises ImportFileError: when the file cannot be read at all.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        raise ImportFileError(f"unsupported file type '{suffix or path.name}': use .jsonl, .json or .csv")
    try:
        data = path.read_bytes()
    except OSError as error:
        raise ImportFileError(f"cannot read the file: {error.strerror}") from None
    if suffix == ".jsonl":
        return read_jsonl(data)
    if suffix == ".json":
        return read_json_array(data)
    return read_csv(data)

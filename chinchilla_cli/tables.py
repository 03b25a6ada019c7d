"""The ground floor of the tabular reader: a file (or stdin) as checked text, its
delimiter and header line, its cells as numbers, and the helpers every reading message
uses (a header listing, a value shown as written).

Pure Python, no numpy: the task-metric rules (metrics.py), which the command line loads
at start, use it too. The readers built on it: formats.py (CSV/TSV, JSON Lines,
TensorBoard into named columns with file:line provenance), runs.py (columns into runs),
logs.py (a training log reduced per run).
"""

from __future__ import annotations

import codecs
import csv
import io
import itertools
import math
import os
import re
import sys
import typing
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager

from chinchilla_cli.errors import InputError
from chinchilla_cli.quantity import parse_quantity

__all__ = [
    "check_text",
    "decoded",
    "empty_error",
    "first_line",
    "is_number",
    "listing",
    "normalise",
    "normalise_path",
    "opened",
    "parse_cell",
    "positions",
    "row_of",
    "show",
    "sniff_delimiter",
]

DELIMITERS = (",", "\t", ";", "|")  # ties go to the earliest
CHUNK_BYTES = 1 << 20
MAX_LINE_CHARS = 64_000_000
_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),  # before UTF-16 LE: it starts with the same two bytes
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
    (codecs.BOM_UTF8, "utf-8-sig"),
)
# 1,000,000 and 1,234.5e3 and 1,500M: commas only between groups of three digits
_GROUPED = re.compile(r"^[+-]?\d{1,3}(?:,\d{3})+(?:\.\d*)?(?:[eE][+-]?\d+)?[kKmMbBgGtTpP]?$")
_SPACES = re.compile(r"[\s_\-]+")
_PATH_SEPARATORS = re.compile(r"[\s_\-/.]+")  # and the path-like names of logged metrics


# ---------------------------------------------------------------------------- opening


def source_name(path: str) -> str:
    """The input as messages name it: the path as given, or "<stdin>" for "-"."""
    return "<stdin>" if path == "-" else str(path)


def row_of(source: str) -> Callable[[int], str]:
    """How messages name row i of a mapping of columns: "source: row i" (0-based)."""

    def where(row: int) -> str:
        return f"{source}: row {row}"

    return where


@contextmanager
def opened(
    path: str, source: str, stdin: typing.TextIO | None
) -> Iterator[tuple[typing.IO[bytes], str]]:
    """The input as seekable bytes (it may be read twice), and what messages call one
    unit of it: "byte", or "character" for a stream that holds text, not bytes."""
    if path == "-":
        stream = sys.stdin if stdin is None else stdin
        buffer = getattr(stream, "buffer", None)
        if buffer is None:  # a text stream with no bytes underneath (io.StringIO)
            yield io.BytesIO(stream.read().encode("utf-8", "surrogatepass")), "character"
            return
        yield io.BytesIO(buffer.read()), "byte"  # a pipe cannot be read twice
        return
    if os.path.isdir(path):
        raise InputError(f"{source}: is a directory, not a table of runs")
    try:
        f = open(path, "rb")
    except FileNotFoundError:
        raise InputError(f"{source}: no such file") from None
    except PermissionError:
        raise InputError(f"{source}: cannot be read (permission denied)") from None
    with f:
        yield f, "byte"


def check_text(data: typing.IO[bytes], source: str, unit: str) -> str:
    """The encoding, once every byte is known to be text: the first NUL or undecodable
    byte, or a line too long for a table, is reported by its line before any parsing."""
    head = data.read(4)
    if not head:
        raise empty_error(source)
    encoding = next((name for bom, name in _BOMS if head.startswith(bom)), "utf-8")
    utf8 = encoding.startswith("utf-8")
    decoder = codecs.getincrementaldecoder(encoding)()
    line, run = 1, 0  # the line at the start of the chunk; characters since a line end
    data.seek(0)
    while True:
        chunk = data.read(CHUNK_BYTES)
        try:
            text, why = decoder.decode(chunk, final=not chunk), ""
        except UnicodeDecodeError as e:
            # the text before it, to see if a NUL came first
            text = e.object[: e.start].decode(encoding) if utf8 else ""
            if not utf8:
                why = "invalid UTF-16/32 text"
            elif not chunk:
                why = f"the file ends inside a UTF-8 character (line {line})"
            else:
                bad, bad_line = e.object[e.start : e.start + 1].hex(), line + text.count("\n")
                why = f"byte 0x{bad} on line {bad_line} is not UTF-8"
        nul = text.find("\x00")
        if nul >= 0:
            nul_line = line + text.count("\n", 0, nul)
            why = f"NUL {unit if utf8 else 'character'} on line {nul_line}"
        if why:
            raise InputError(f"{source}: not a text table (binary data?): {why}")
        if not chunk:
            return encoding
        end = max(text.rfind("\n"), text.rfind("\r"))
        run = run + len(text) if end < 0 else len(text) - end - 1
        if run > MAX_LINE_CHARS:
            raise InputError(
                f"{source}:{line}: the line is longer than "
                f"{MAX_LINE_CHARS // 1_000_000} million characters; not a table of runs?"
            )
        line += text.count("\n")


def empty_error(source: str) -> InputError:
    """The error for a file with no header line."""
    return InputError(
        f"{source}: is empty; expected a header line naming the columns "
        "(e.g. params,tokens,loss), then one line per run"
    )


@contextmanager
def decoded(data: typing.IO[bytes], encoding: str) -> Iterator[typing.TextIO]:
    """The text from its start, line ends untranslated (as the csv module wants)."""
    data.seek(0)
    text = io.TextIOWrapper(data, encoding=encoding, newline="")
    try:
        yield text
    finally:
        text.detach()  # leave `data` open to be read again


# ---------------------------------------------------------------------------- the header


def first_line(text: typing.TextIO, source: str) -> tuple[str, int]:
    """The first line with text, and the blank lines before it."""
    skipped = 0
    for first in text:
        if first.strip():
            return first, skipped
        skipped += 1
    raise empty_error(source)


def csv_reader(first: str, text: typing.TextIO) -> typing.Any:
    """A csv reader of `first` and the lines after it, split at `first`'s delimiter."""
    return csv.reader(itertools.chain([first], text), delimiter=sniff_delimiter(first))


def sniff_delimiter(line: str) -> str:
    """The candidate delimiter found most often outside double quotes; comma if none."""
    counts = dict.fromkeys(DELIMITERS, 0)
    quoted = False
    for ch in line:
        if ch == '"':
            quoted = not quoted
        elif not quoted and ch in counts:
            counts[ch] += 1
    best = max(DELIMITERS, key=counts.__getitem__)
    return best if counts[best] else ","


def header_cells(row: Sequence[str]) -> list[str]:
    """A header row's names: a byte-order mark and the spaces around each removed."""
    return [cell.replace("\ufeff", "").strip() for cell in row]


def normalise(name: str) -> str:
    """A header as matched against known names: case, spaces, "_" and "-" ignored."""
    return _SPACES.sub("", name.replace("\ufeff", "").lower())


def normalise_path(name: str) -> str:
    """A logged metric's name as matched: as `normalise`, "/" and "." ignored too."""
    return _PATH_SEPARATORS.sub("", name.replace("\ufeff", "").lower())


def find_named(header: Sequence[str], name: str) -> list[int]:
    """The columns a user's `name` gives: the exact header text if one column has it,
    else every column equal to it once normalised."""
    hits = [i for i, h in enumerate(header) if h == name.strip()]
    if len(hits) != 1:
        hits = [i for i, h in enumerate(header) if normalise(h) == normalise(name)]
    return hits


# ---------------------------------------------------------------------------- messages


def listing(cells: Sequence[str], limit: int = 20) -> str:
    """Column names for a message: on one line (a quoted header may hold a line break),
    at most `limit` of them."""
    shown = ", ".join(" ".join(str(c).split()) for c in cells[:limit])
    return shown + (f", ... ({len(cells) - limit} more)" if len(cells) > limit else "")


def positions(header: Sequence[str], hits: Sequence[int]) -> str:
    """'name' (column 3) and 'name' (column 5)."""
    return " and ".join(f"{header[i]!r} (column {i + 1})" for i in hits)


def show(value: float) -> str:
    """A value as a message shows it: 3 for 3.0, else repr."""
    text = repr(float(value))
    return text[:-2] if text.endswith(".0") else text


def shown_names(names: Sequence[str], limit: int = 5) -> str:
    """'a', 'b' and 3 more: names for a message, at most `limit` of them."""
    shown = ", ".join(repr(n) for n in names[:limit])
    return shown + (f" and {len(names) - limit} more" if len(names) > limit else "")


def count(n: int, what: str) -> str:
    """'1 run', '2,000 runs'."""
    return f"{n:,} {what}" if n == 1 else f"{n:,} {what}s"


# ---------------------------------------------------------------------------- cells


def is_number(text: str) -> bool:
    """Whether a cell reads as a number (a plain float, 70B, 1,000,000)."""
    try:
        float(text)
        return True
    except ValueError:
        pass
    try:
        parse_quantity(text)
        return True
    except InputError:
        return False


def parse_cell(cell: str, column: str, where: str) -> float:
    """A text cell as a number: plain floats, suffixes (70B), thousands separators; an
    InputError at `where` naming the column and the cell otherwise."""
    where = f"{where}: column {column!r}"
    text = cell.strip()
    if not text:
        raise InputError(f"{where}: the cell is empty; expected a number")
    try:
        return float(text)  # non-finite values are reported by the checks of the values
    except ValueError:
        pass
    if "," in text and not _GROUPED.match(text):
        raise InputError(
            f"{where}: {cell!r} is not a number (a comma is read only as a thousands "
            "separator, as in 1,000,000)"
        )
    try:
        return parse_quantity(text)
    except InputError as e:
        problem = "is not finite" if "not finite" in e.message else "is not a number"
        raise InputError(
            f"{where}: {cell!r} {problem}; expected e.g. 5.76e23, 70B, 1.4T or 1,000,000"
        ) from None


def cell_number(cell: object, column: str, where: str) -> float:
    """A cell of a mapping of columns as a number: strings read as a file's cells, an int
    too large for a float read as infinite (reported as not finite)."""
    if isinstance(cell, str):
        return parse_cell(cell, column, where)
    try:
        return float(cell)  # type: ignore[arg-type]
    except OverflowError:
        return math.inf
    except (TypeError, ValueError):
        raise InputError(f"{where}: column {column!r}: {cell!r} is not a number") from None

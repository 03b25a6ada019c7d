"""Benchmark-only: a frozen copy of chinchilla_cli/runs.py before it moved to np.loadtxt,
which benchmarks/read_speed.py times against the current reader. Not part of the package;
do not import it elsewhere.

Read the user's table of training runs (N, D, C, final loss) for `chinchilla fit`.

One function, `read_runs`, turns a CSV/TSV/semicolon/pipe table (UTF-8 with or without
BOM, or UTF-16/32 with BOM) into float64 arrays. Columns are found by header name; any
two of N, D and C give the third through C = 6 N D.

The text is read in blocks of whole lines and never held whole: a block of plain
numbers (no quotes, no blank or ragged lines, nothing but digits, signs, points and
exponents) is parsed by numpy in one call; the header and every other block go row by
row through the csv module. Either way the values go straight into a flat
`array('d')`, so a million-run file costs well under 100 MB and a couple of seconds.

Every problem with the input is one InputError naming the file and, where it applies,
the line, the column and the offending value.
"""

from __future__ import annotations

import codecs
import csv
import io
import math
import os
import re
import sys
import typing
import warnings
from array import array
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from operator import itemgetter

import numpy as np

from chinchilla_cli.errors import InputError
from chinchilla_cli.quantity import parse_quantity, sci

ROLES = ("params", "tokens", "flops", "loss")
ALIASES: dict[str, tuple[str, ...]] = {
    "params": ("params", "n", "parameters", "model size", "n_params", "num params", "model params"),
    "tokens": ("tokens", "d", "training tokens", "n_tokens", "num tokens"),
    "flops": ("flops", "flop", "c", "compute", "training flop", "training flops", "compute budget"),
    "loss": ("loss", "l", "final loss", "val loss", "validation loss", "eval loss", "train loss"),
}
OPTIONS = {role: f"--{role}-col" for role in ROLES}
SYMBOLS = {"params": "N", "tokens": "D", "flops": "C", "loss": "loss"}
DELIMITERS = (",", "\t", ";", "|")  # ties go to the earliest
FLOPS_PER_PARAM_TOKEN = 6.0  # C = 6 N D

_HEAD_BYTES = 1 << 16
_BLOCK_CHARS = 1 << 20  # text read at a time
_MAX_LINE_CHARS = 64_000_000
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


def _plain_bytes(delimiter: str) -> np.ndarray:
    ok = np.zeros(256, dtype=bool)
    for ch in "0123456789.eE+- \t\r\n" + delimiter:
        ok[ord(ch)] = True
    return ok


# the bytes a block may hold to be parsed by numpy instead of the csv module
_PLAIN = {d: _plain_bytes(d) for d in DELIMITERS}


@dataclass(frozen=True)
class Runs:
    """The kept runs, one array element per run, and how they were read."""

    params: np.ndarray  # N, float64
    tokens: np.ndarray  # D
    flops: np.ndarray  # C
    loss: np.ndarray  # final loss
    source: str  # the path as given, or "<stdin>"
    n_read: int  # data rows read
    n_dropped: int  # rows removed by the filters
    columns: dict[str, str]  # role -> header text used, or "derived"
    derived: tuple[str, ...]  # e.g. "tokens D = C / (6 N) (no tokens column)"
    notes: tuple[str, ...]  # other sentences worth showing (filters, inconsistencies)

    @property
    def n_kept(self) -> int:
        return int(self.loss.shape[0])


def read_runs(
    path: str,
    *,
    params_col: str | None = None,
    tokens_col: str | None = None,
    flops_col: str | None = None,
    loss_col: str | None = None,
    max_loss: float | None = None,
    min_flops: float | None = None,
    max_flops: float | None = None,
    min_rows: int = 10,
    stdin: typing.TextIO | None = None,
) -> Runs:
    """Read the runs in `path` ("-" for `stdin`, default sys.stdin) and apply the filters.

    `*_col` name a column (matched like the built-in names: case, spaces, "_" and "-"
    ignored) instead of finding it by its header. `max_loss` keeps loss <= max_loss,
    `min_flops`/`max_flops` bound C. Raises InputError for anything wrong with the input.
    """
    _check_filters(max_loss, min_flops, max_flops)
    source = "<stdin>" if path == "-" else str(path)
    overrides = {"params": params_col, "tokens": tokens_col, "flops": flops_col, "loss": loss_col}
    with _open_stream(path, source, stdin) as stream:
        try:
            header, header_line, found, data, line_numbers = _read_table(stream, source, overrides)
        except _NotText as e:
            raise InputError(f"{source}: not a text table (binary data?): {e.why}") from None
        except UnicodeDecodeError:  # only for UTF-16/32, whose bytes are not checked upfront
            raise InputError(
                f"{source}: not a text table (binary data?): invalid UTF-16/32 text"
            ) from None
        except OSError as e:
            raise InputError(f"{source}: cannot be read ({e.strerror or e})") from None
    if data.shape[0] == 0:
        raise InputError(
            f"{source}: no data rows after the header (line {header_line}); "
            "expected one line per run below it"
        )
    return _finish(
        source, header, found, data, line_numbers, max_loss, min_flops, max_flops, min_rows
    )


# ---------------------------------------------------------------------------- opening


class _NotText(Exception):
    def __init__(self, why: str) -> None:
        super().__init__(why)
        self.why = why


class _CheckedRaw(io.RawIOBase):
    """Serve `head` and then the rest of `stream`, checking that the bytes are UTF-8 text.

    Checking here, chunk by chunk in C, costs nothing per row and can name the exact
    line of a NUL byte or an undecodable byte (the text decoder reads ahead too far).
    """

    def __init__(self, head: bytes, stream: typing.BinaryIO, check_utf8: bool) -> None:
        super().__init__()
        self._head = head
        self._pos = 0
        self._stream = stream
        self._check = check_utf8
        self._decoder = codecs.getincrementaldecoder("utf-8")()
        self._line = 1  # line number at the start of the next chunk

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: typing.Any) -> int:
        n = len(buffer)
        if self._pos < len(self._head):
            data = self._head[self._pos : self._pos + n]
            self._pos += len(data)
            if self._pos >= len(self._head):
                self._head, self._pos = b"", 0
        else:
            data = self._stream.read(n) or b""
        if self._check:
            self._validate(data)
        buffer[: len(data)] = data
        return len(data)

    def _validate(self, data: bytes) -> None:
        if not data:
            try:
                self._decoder.decode(b"", final=True)
            except UnicodeDecodeError:
                raise _NotText(
                    f"the file ends inside a UTF-8 character (line {self._line})"
                ) from None
            return
        nul = data.find(b"\x00")
        if nul >= 0:
            line = self._line + data.count(b"\n", 0, nul)
            raise _NotText(f"NUL byte on line {line}")
        try:
            self._decoder.decode(data)
        except UnicodeDecodeError as e:
            bad = e.object[e.start : e.start + 1].hex()
            line = self._line + data.count(b"\n", 0, max(0, e.start))
            raise _NotText(f"byte 0x{bad} on line {line} is not UTF-8") from None
        self._line += data.count(b"\n")


@contextmanager
def _open_stream(path: str, source: str, stdin: typing.TextIO | None) -> Iterator[typing.TextIO]:
    """Yield the file as text, line endings untranslated (as the csv module wants)."""
    if path == "-":
        stream = sys.stdin if stdin is None else stdin
        buffer = getattr(stream, "buffer", None)
        # a text stream with no bytes underneath (io.StringIO) is read as it is
        yield stream if buffer is None else _decode(buffer, source)
        return
    if os.path.isdir(path):
        raise InputError(f"{source}: is a directory, not a table of runs")
    try:
        f = open(path, "rb")
    except FileNotFoundError:
        raise InputError(f"{source}: no such file") from None
    except PermissionError:
        raise InputError(f"{source}: cannot be read (permission denied)") from None
    except OSError as e:
        raise InputError(f"{source}: cannot be read ({e.strerror or e})") from None
    with f:
        try:
            text = _decode(f, source)
        except OSError as e:
            raise InputError(f"{source}: cannot be read ({e.strerror or e})") from None
        yield text


def _decode(stream: typing.BinaryIO, source: str) -> io.TextIOWrapper:
    head = stream.read(_HEAD_BYTES) or b""
    if not head:
        raise _empty(source)
    encoding = "utf-8"
    for bom, name in _BOMS:
        if head.startswith(bom):
            encoding = name
            break
    raw = _CheckedRaw(head, stream, check_utf8=encoding.startswith("utf-8"))
    return io.TextIOWrapper(io.BufferedReader(raw, _HEAD_BYTES), encoding=encoding, newline="")


def _empty(source: str) -> InputError:
    return InputError(
        f"{source}: is empty; expected a header line naming the columns "
        "(e.g. params,tokens,loss), then one line per run"
    )


# ---------------------------------------------------------------------------- reading


class _Blocks:
    """The text in blocks of whole lines, and a line feed for the csv module.

    Plain numeric blocks are parsed by numpy (`_fast_block`); the header and any block
    that is not plain go line by line through `csv.reader(self.lines())`, which pulls
    further blocks itself when a quoted cell runs on past the end of one.
    `line` counts the physical lines consumed so far, by either path.
    """

    def __init__(self, stream: typing.TextIO, source: str) -> None:
        self.stream = stream
        self.source = source
        self.pending = ""  # text read after the last complete line
        self.eof = False
        self.queue: deque[str] = deque()  # lines waiting for the csv reader
        self.line = 0

    def next_block(self) -> str:
        """The next run of whole lines (the last one may lack its newline); "" at the end."""
        while True:
            if self.eof:
                block, self.pending = self.pending, ""
                return block
            chunk = self.stream.read(_BLOCK_CHARS)
            if not chunk:
                self.eof = True
                continue
            nul = chunk.find("\x00")
            if nul >= 0:
                line = self.line + 1 + self.pending.count("\n") + chunk.count("\n", 0, nul)
                raise _NotText(f"NUL character on line {line}")
            text = self.pending + chunk if self.pending else chunk
            cut = text.rfind("\n") + 1
            if not cut:  # old Mac line ends: cut after a \r that is surely not half a \r\n
                cut = text.rfind("\r", 0, len(text) - 1) + 1
            if not cut:
                self.pending = text
                if len(text) > _MAX_LINE_CHARS:
                    raise InputError(
                        f"{self.source}:{self.line + 1}: the line is longer than "
                        f"{_MAX_LINE_CHARS // 1_000_000} million characters; not a table of runs?"
                    )
                continue
            self.pending = text[cut:]
            return text[:cut]

    def queue_block(self, block: str) -> None:
        self.queue.extend(io.StringIO(block, newline=""))

    def unqueue(self) -> None:
        """Give the lines the csv reader has not taken back to the block reader."""
        if self.queue:
            self.pending = "".join(self.queue) + self.pending
            self.queue.clear()

    def lines(self) -> Iterator[str]:
        while True:
            while self.queue:
                self.line += 1
                yield self.queue.popleft()
            block = self.next_block()
            if not block:
                return
            self.queue_block(block)


def _read_table(
    stream: typing.TextIO, source: str, overrides: dict[str, str | None]
) -> tuple[list[str], int, dict[str, int], np.ndarray, array]:
    """Header, its line, role -> column index, an (n, k) array of the found roles' values
    in ROLES order, and the line number of each row."""
    blocks = _Blocks(stream, source)
    first = None
    while first is None:  # skip blank lines before the header; sniff the delimiter on it
        block = blocks.next_block()
        if not block:
            raise _empty(source)
        blocks.queue_block(block)
        first = next((line for line in blocks.queue if line.strip()), None)
    delimiter = _sniff_delimiter(first)
    reader = csv.reader(blocks.lines(), delimiter=delimiter)
    try:
        header: list[str] = []
        for row in reader:
            if any(cell.strip() for cell in row):
                header = [cell.replace("\ufeff", "").strip() for cell in row]
                break
        header_line = blocks.line
        if not header:
            raise _empty(source)
        if all(_is_number(cell) for cell in header if cell):
            raise InputError(
                f"{source}:{header_line}: no header row; the first line must name the columns "
                f"(e.g. params,tokens,loss), but it holds only numbers: {_listing(header)}"
            )
        found = _find_columns(header, source, overrides)
        roles = [role for role in ROLES if role in found]
        index = [found[role] for role in roles]
        names = [header[i] for i in index]
        width, k = len(header), len(index)
        values, line_numbers = array("d"), array("q")
        extend, note_line, take = values.extend, line_numbers.append, itemgetter(*index)
        blocks.unqueue()
        try:
            while True:
                if not blocks.queue:
                    block = blocks.next_block()
                    if not block:
                        break
                    table = _fast_block(block, delimiter, width, index)
                    if table is not None:
                        values.frombytes(table.tobytes())
                        first_line = blocks.line + 1
                        rows = np.arange(first_line, first_line + len(table), dtype=np.int64)
                        line_numbers.frombytes(rows.tobytes())
                        blocks.line += len(table)
                        continue
                    blocks.queue_block(block)
                # the csv path, one record at a time until the queued lines are used up
                try:
                    row = next(reader)
                except StopIteration:
                    break
                if len(row) == width:
                    try:
                        extend(map(float, take(row)))  # plain floats
                    except ValueError:
                        del values[len(values) // k * k :]  # a half-appended row
                        parsed = _parse_row(row, index, names, source, blocks.line)
                        if parsed is None:  # a row of empty cells
                            continue
                        extend(parsed)
                elif any(cell.strip() for cell in row):
                    raise InputError(
                        f"{source}:{blocks.line}: expected {width} cells, as in the header "
                        f"(line {header_line}), got {len(row)}"
                    )
                else:  # a blank line
                    continue
                note_line(blocks.line)
        except InputError:
            # report the earliest problem in the file: a bad value may precede this one
            _check_values(_as_table(values, k), line_numbers, names, source)
            raise
    except csv.Error as e:
        raise InputError(f"{source}:{blocks.line}: cannot parse the line ({e})") from None
    table = _as_table(values, k)
    _check_values(table, line_numbers, names, source)
    return header, header_line, found, table, line_numbers


def _fast_block(block: str, delimiter: str, width: int, index: list[int]) -> np.ndarray | None:
    """Parse a block of plain numeric lines with numpy; None unless that is exactly what
    the csv path would read (no quotes, no blank or ragged lines, plain decimal numbers).
    """
    raw = np.frombuffer(block.encode("utf-8", "surrogatepass"), dtype=np.uint8)
    if not _PLAIN[delimiter][raw].all():
        return None
    if block.count("\r") != block.count("\r\n"):
        return None
    if block.endswith("\n"):
        block = block[:-1]
        raw = raw[:-1]
    ends = np.flatnonzero(raw == 10)
    seps = np.flatnonzero(raw == ord(delimiter))
    n_lines = len(ends) + 1
    # cells per line: delimiters before each line end, minus those before the line above
    per_line = np.diff(np.searchsorted(seps, ends), prepend=0)
    if len(seps) != n_lines * (width - 1) or not np.all(per_line == width - 1):
        return None
    text = block if delimiter == "," else block.replace(delimiter, ",")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # numpy < 2: partial reads warn
        try:
            flat = np.fromstring(text.replace("\n", ","), dtype=np.float64, sep=",")
        except ValueError:  # numpy >= 2: a cell that is not a plain number
            return None
    if flat.size != n_lines * width:
        return None
    return np.ascontiguousarray(flat.reshape(n_lines, width)[:, index])


def _as_table(values: array, k: int) -> np.ndarray:
    if not values:
        return np.empty((0, k))
    return np.frombuffer(values, dtype=np.float64).reshape(-1, k)


def _sniff_delimiter(line: str) -> str:
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


def _normalise(name: str) -> str:
    return _SPACES.sub("", name.replace("\ufeff", "").lower())


def _find_columns(
    header: list[str], source: str, overrides: dict[str, str | None]
) -> dict[str, int]:
    normal = [_normalise(h) for h in header]
    found: dict[str, int] = {}
    for role in ROLES:  # options first: they take their column out of the guessing
        name = overrides[role]
        if name is None:
            continue
        option = OPTIONS[role]
        hits = [i for i, h in enumerate(header) if h == name.strip()]
        if len(hits) != 1:
            hits = [i for i, h in enumerate(normal) if h == _normalise(name)]
        if not hits:
            raise InputError(
                f"{option}: no column {name!r} in {source}; columns: {_listing(header)}"
            )
        if len(hits) > 1:
            raise InputError(
                f"{option}: {name!r} matches {len(hits)} columns of {source} "
                f"({_positions(header, hits)}); rename all but one"
            )
        for other, i in found.items():
            if i == hits[0]:
                raise InputError(
                    f"{OPTIONS[other]} and {option} both name column {header[i]!r} of {source}"
                )
        found[role] = hits[0]
    taken = set(found.values())
    for role in ROLES:
        if role in found:
            continue
        accepted = {_normalise(a) for a in ALIASES[role]}
        hits = [i for i, h in enumerate(normal) if h in accepted and i not in taken]
        if len(hits) > 1:
            what = "the loss" if role == "loss" else f"{role} ({SYMBOLS[role]})"
            fix = (
                "rename all but one"
                if len({header[i] for i in hits}) == 1
                else f"choose one with {OPTIONS[role]}"
            )
            raise InputError(
                f"{source}: columns {_positions(header, hits)} "
                f"{'both' if len(hits) == 2 else 'all'} look like {what}; {fix}"
            )
        if hits:
            found[role] = hits[0]
    if "loss" not in found:
        raise InputError(
            f"{source}: no loss column; accepted headers: {', '.join(ALIASES['loss'])} "
            f"(or name one with --loss-col); columns: {_listing(header)}"
        )
    have = [role for role in ("params", "tokens", "flops") if role in found]
    if len(have) < 2:
        got = f"only {have[0]} ({header[found[have[0]]]!r})" if have else "none of them"
        names = "; ".join(f"{r}: {', '.join(ALIASES[r])}" for r in ("params", "tokens", "flops"))
        raise InputError(
            f"{source}: need two of the params (N), tokens (D) and flops (C) columns, "
            f"C = 6 N D gives the third; found {got}. Accepted headers: {names} "
            f"(or name them with --params-col, --tokens-col, --flops-col); "
            f"columns: {_listing(header)}"
        )
    return found


def _listing(cells: list[str], limit: int = 20) -> str:
    # a quoted header may hold a line break; a message stays on one line
    shown = ", ".join(" ".join(c.split()) for c in cells[:limit])
    return shown + (f", ... ({len(cells) - limit} more)" if len(cells) > limit else "")


def _positions(header: list[str], hits: list[int]) -> str:
    return " and ".join(f"{header[i]!r} (column {i + 1})" for i in hits)


def _is_number(text: str) -> bool:
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


def _parse_row(
    row: list[str], index: list[int], names: list[str], source: str, line: int
) -> list[float] | None:
    """The slow path: suffixes, thousands separators, and precise errors. None if blank."""
    if not any(cell.strip() for cell in row):
        return None
    return [_parse_cell(row[i], name, source, line) for i, name in zip(index, names, strict=True)]


def _parse_cell(cell: str, column: str, source: str, line: int) -> float:
    where = f"{source}:{line}: column {column!r}"
    text = cell.strip()
    if not text:
        raise InputError(f"{where}: the cell is empty; expected a number")
    try:
        return float(text)  # non-finite values are reported by _check_values
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
        problem = "is not finite" if "not finite" in str(e) else "is not a number"
        raise InputError(
            f"{where}: {cell!r} {problem}; expected e.g. 5.76e23, 70B, 1.4T or 1,000,000"
        ) from None


def _check_values(table: np.ndarray, lines: array, names: list[str], source: str) -> None:
    """N, D, C and loss must be finite and positive; name the first cell that is not."""
    good = np.isfinite(table) & (table > 0)
    if good.all():
        return
    first = int(np.argmin(good.ravel()))
    row, col = divmod(first, table.shape[1])
    value = float(table[row, col])
    where = f"{source}:{lines[row]}: column {names[col]!r}: {_show(value)!r}"
    if not math.isfinite(value):
        raise InputError(f"{where} is not finite; N, D, C and loss must be finite numbers")
    raise InputError(f"{where} is not positive; N, D, C and loss must all be > 0")


def _check_derived(
    sentence: str,
    cols: dict[str, np.ndarray],
    columns: dict[str, str],
    lines: array,
    source: str,
) -> None:
    """A derived N, D or C can overflow or underflow even when the inputs are fine."""
    role = next(r for r in ("params", "tokens", "flops") if columns[r] == "derived")
    values = cols[role]
    good = np.isfinite(values) & (values > 0)
    if good.all():
        return
    row = int(np.argmin(good))
    given = ", ".join(
        f"{SYMBOLS[r]} = {_show(float(cols[r][row]))}"
        for r in ("params", "tokens", "flops")
        if r != role
    )
    formula = sentence.split(" (")[0]
    raise InputError(
        f"{source}:{lines[row]}: {formula} comes out as {_show(float(values[row]))} "
        f"from {given}; N, D and C must be finite and positive"
    )


def _show(value: float) -> str:
    text = repr(value)
    return text[:-2] if text.endswith(".0") else text


# ---------------------------------------------------------------------------- finishing


def _finish(
    source: str,
    header: list[str],
    found: dict[str, int],
    table: np.ndarray,
    lines: array,
    max_loss: float | None,
    min_flops: float | None,
    max_flops: float | None,
    min_rows: int,
) -> Runs:
    roles = [role for role in ROLES if role in found]
    cols: dict[str, np.ndarray] = {role: table[:, j] for j, role in enumerate(roles)}
    columns = {role: header[found[role]] if role in found else "derived" for role in ROLES}
    derived: list[str] = []
    notes: list[str] = []
    six = FLOPS_PER_PARAM_TOKEN
    with np.errstate(all="ignore"):  # inf, 0 and nan are checked just below
        if "tokens" not in found:
            cols["tokens"] = cols["flops"] / (six * cols["params"])
            derived.append("tokens D = C / (6 N) (no tokens column)")
        elif "params" not in found:
            cols["params"] = cols["flops"] / (six * cols["tokens"])
            derived.append("params N = C / (6 D) (no params column)")
        elif "flops" not in found:
            cols["flops"] = six * cols["params"] * cols["tokens"]
            derived.append("flops C = 6 N D (no flops column)")
        else:
            off = np.abs(cols["flops"] / (six * cols["params"] * cols["tokens"]) - 1.0)
            if np.all(np.isfinite(off)) and off.max() > 0.05:
                notes.append(
                    f"the flops column differs from 6 N D by up to {off.max():.0%} "
                    f"(median {np.median(off):.0%}); C is used as given"
                )
    if derived:
        _check_derived(derived[0], cols, columns, lines, source)

    n_read = table.shape[0]
    keep = np.ones(n_read, dtype=bool)
    for label, mask in (
        (f"loss > {max_loss:g}" if max_loss is not None else "", _le(cols["loss"], max_loss)),
        (f"C < {sci(min_flops)}" if min_flops is not None else "", _ge(cols["flops"], min_flops)),
        (f"C > {sci(max_flops)}" if max_flops is not None else "", _le(cols["flops"], max_flops)),
    ):
        if mask is None:
            continue
        dropped = int(np.count_nonzero(keep & ~mask))
        keep &= mask
        notes.append(
            f"dropped {_rows(dropped)} with {label}" if dropped else f"no rows with {label}"
        )
    n_kept = int(np.count_nonzero(keep))
    if n_kept < min_rows:
        filtered = any(v is not None for v in (max_loss, min_flops, max_flops))
        left = " left after filtering" if filtered else ""
        raise InputError(
            f"{source}: only {n_kept} run{'s' if n_kept != 1 else ''}{left}; "
            f"at least {min_rows} are needed to fit"
            + (f" ({'; '.join(notes)})" if filtered else "")
        )
    if n_kept < n_read:
        cols = {role: values[keep] for role, values in cols.items()}
    else:
        cols = {role: np.ascontiguousarray(values) for role, values in cols.items()}
    return Runs(
        params=cols["params"],
        tokens=cols["tokens"],
        flops=cols["flops"],
        loss=cols["loss"],
        source=source,
        n_read=n_read,
        n_dropped=n_read - n_kept,
        columns=columns,
        derived=tuple(derived),
        notes=tuple(notes),
    )


def _le(values: np.ndarray, bound: float | None) -> np.ndarray | None:
    return None if bound is None else values <= bound


def _ge(values: np.ndarray, bound: float | None) -> np.ndarray | None:
    return None if bound is None else values >= bound


def _rows(n: int) -> str:
    return f"{n} row" if n == 1 else f"{n} rows"


def _check_filters(
    max_loss: float | None, min_flops: float | None, max_flops: float | None
) -> None:
    for option, value in (
        ("--max-loss", max_loss),
        ("--min-flops", min_flops),
        ("--max-flops", max_flops),
    ):
        if value is not None and math.isnan(value):
            raise InputError(f"{option}: nan is not a number")
    if min_flops is not None and max_flops is not None and min_flops > max_flops:
        raise InputError(
            f"--min-flops ({sci(min_flops)}) is above --max-flops ({sci(max_flops)}): "
            "no run can pass both"
        )

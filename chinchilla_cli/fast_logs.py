"""The fast path of reading a CSV/TSV training log: numpy's C parser in chunks, instead of
the csv module row by row. A W&B export of a large sweep reaches a million rows; read
this way it costs about what `np.loadtxt` costs on the same file, and holds only the
columns asked for (8 bytes a row each) plus one chunk of text.

It takes the plain case only -- UTF-8, no quote character anywhere, every line as many
cells as the header, no blank line (so a row's line is its position), numbers wherever a
number is read -- and gives up (None) on anything else: formats.read_csv_table then
reads the file with the csv module, which names the line of any problem. An empty cell
(a row that logs nothing there) is NaN, as on the slow path.
"""

from __future__ import annotations

import io
import typing
import warnings
from collections.abc import Callable, Sequence

import numpy as np
from numpy.typing import NDArray

__all__ = ["CHUNK_BYTES", "read_plain_log"]

CHUNK_BYTES = 2 << 20  # text parsed at a time: bounds the memory beyond the columns
_MAX_TEXT_BYTES = 1024  # a longer run name is left to the csv module


class _NotPlain(Exception):
    """The file is not the plain case: the csv module reads it."""


def read_plain_log(
    data: typing.IO[bytes],
    encoding: str,
    delimiter: str,
    header_line: int,
    names: Sequence[str],
    index: Sequence[int],
    is_text: Callable[[str], bool],
) -> tuple[dict[str, typing.Any], int] | None:
    """The columns `index` of the data below line `header_line` (text columns, those
    `is_text` names, as an object array of str; the others as float64, NaN where
    empty) and the number of rows; None unless the file is the plain case."""
    if encoding not in ("utf-8", "utf-8-sig") or len(delimiter) != 1:
        return None
    data.seek(0)
    head = data.read(3)
    data.seek(3 if head == b"\xef\xbb\xbf" else 0)
    for _ in range(header_line):
        if not data.readline().endswith(b"\n"):
            return None  # no data lines
    texts = [i for i in index if is_text(names[i])]
    floats = [i for i in index if i not in texts]
    try:
        return _read(data, delimiter.encode(), len(names), floats, texts, names)
    except _NotPlain:
        return None


def _read(
    data: typing.IO[bytes],
    delim: bytes,
    width: int,
    floats: list[int],
    texts: list[int],
    names: Sequence[str],
) -> tuple[dict[str, typing.Any], int]:
    columns: dict[int, list[NDArray[typing.Any]]] = {i: [] for i in (*floats, *texts)}
    codes: dict[int, dict[bytes, int]] = {i: {} for i in texts}
    n = 0
    while True:
        chunk = data.read(CHUNK_BYTES)
        if not chunk:
            break
        if not chunk.endswith(b"\n"):
            chunk += data.readline()  # whole lines only
        n += _chunk(chunk, delim, width, floats, texts, columns, codes)
    if not n:
        raise _NotPlain
    out: dict[str, typing.Any] = {}
    for i in floats:
        out[names[i]] = np.concatenate(columns[i])
    for i in texts:
        labels = np.empty(len(codes[i]), dtype=object)
        for label, code in codes[i].items():
            labels[code] = label.decode("utf-8")
        out[names[i]] = labels[np.concatenate(columns[i])]
    return out, n


def _chunk(
    chunk: bytes,
    delim: bytes,
    width: int,
    floats: list[int],
    texts: list[int],
    columns: dict[int, list[NDArray[typing.Any]]],
    codes: dict[int, dict[bytes, int]],
) -> int:
    """Parse one chunk of whole lines into `columns`; its number of rows."""
    if b'"' in chunk or b"\n\n" in chunk or b"\n\r\n" in chunk or chunk[:1] in (b"\n", b"\r"):
        raise _NotPlain  # quotes, or blank lines: the csv module knows them
    lines = chunk.count(b"\n") + (0 if chunk.endswith(b"\n") else 1)
    sample = chunk[: chunk.find(b"\n", 4096) + 1 or None].split(b"\n")
    longest = max(
        (
            len(cells[i])
            for line in sample
            if len(cells := line.split(delim)) == width
            for i in texts
        ),
        default=0,
    )  # the names seen in the first lines; a longer one later is caught below
    filled = _fill_empty(chunk, delim)
    wide = min(2 * longest + 16, _MAX_TEXT_BYTES)
    fields = [(f"c{i}", f"S{wide}") if i in texts else (f"c{i}", "f8") for i in range(width)]
    wanted = sorted((*floats, *texts))
    dtype = np.dtype([fields[i] for i in wanted])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            table = np.loadtxt(
                io.BytesIO(filled),
                dtype=dtype,
                delimiter=delim.decode(),
                comments=None,
                quotechar=None,
                usecols=wanted,
                ndmin=1,
            )
        except (ValueError, TypeError):
            raise _NotPlain from None
    if table.shape[0] != lines:
        raise _NotPlain
    for i in floats:
        columns[i].append(np.ascontiguousarray(table[f"c{i}"]))
    for i in texts:
        column = table[f"c{i}"]
        if len(column) and int(np.char.str_len(column).max()) >= wide:
            raise _NotPlain  # the name may have been cut to the width
        if np.any(column == b"nan"):
            raise _NotPlain  # an empty name filled in (or a run called nan): said slowly
        # a log lists each run's rows together: code the runs of equal names, not each row
        heads = np.flatnonzero(np.concatenate([[True], column[1:] != column[:-1]]))
        known = codes[i]
        head_codes = np.fromiter(
            (known.setdefault(bytes(v), len(known)) for v in column[heads]), np.intp, len(heads)
        )
        columns[i].append(np.repeat(head_codes, np.diff(np.append(heads, len(column)))))
    return int(table.shape[0])


def _fill_empty(chunk: bytes, delim: bytes) -> bytes:
    """Empty cells as "nan": between two delimiters, at a line's start or end."""
    twice, nan = delim + delim, delim + b"nan" + delim
    out = chunk.replace(twice, nan)
    if twice in out:  # three delimiters in a row: the middle one is left
        out = out.replace(twice, nan)
    if b"\r" in out:
        out = out.replace(delim + b"\r\n", delim + b"nan\r\n")
    out = out.replace(delim + b"\n", delim + b"nan\n")
    if b"\n" + delim in out:
        out = out.replace(b"\n" + delim, b"\nnan" + delim)
    if out.startswith(delim):
        out = b"nan" + out
    if out.endswith(delim):
        out += b"nan"
    return out

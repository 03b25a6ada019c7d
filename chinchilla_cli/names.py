"""Names a user types (presets, choices, keys): matching without regard to case, and the
short "did you mean" line for a miss.

Every unknown name the tool reports goes through `unknown`, so the messages read alike
and stay short: the nearest names when some are close, else the first few of the list.
"""

from __future__ import annotations

from collections.abc import Iterable

MAX_SUGGESTIONS = 3  # nearest names offered for a miss
MAX_LISTED = 8  # names listed when none is close (the full list is one command away)


def _folded(text: str) -> str:
    """The form two spellings of a name share: case and separators ignored."""
    return "".join(ch for ch in text.casefold() if ch.isalnum())


def match(name: str, choices: Iterable[str]) -> str | None:
    """The choice `name` means when only case or separators differ (`H100_SXM` ->
    `h100-sxm`), or None."""
    options = list(choices)
    if name in options:
        return name
    folded = _folded(name)
    hits = [c for c in options if _folded(c) == folded]
    return hits[0] if len(hits) == 1 else None


def closest(name: str, choices: Iterable[str], n: int = MAX_SUGGESTIONS) -> list[str]:
    """Up to `n` choices nearest to `name`, best first: those that start with it or
    contain it, then those difflib finds similar."""
    import difflib

    options = list(dict.fromkeys(choices))
    folded = _folded(name)
    by_fold = {_folded(c): c for c in options}
    found: list[str] = []
    if folded:
        found += [c for c in options if _folded(c).startswith(folded)]
        found += [c for c in options if folded in _folded(c) and c not in found]
    similar = difflib.get_close_matches(folded, list(by_fold), n=n, cutoff=0.6)
    found += [by_fold[s] for s in similar if by_fold[s] not in found]
    return found[:n]


def did_you_mean(name: str, choices: Iterable[str]) -> str:
    """`'tokns' (did you mean 'tokens'?)`, or just `'tokns'` when nothing is close."""
    near = closest(name, choices, n=1)
    return f"{name!r} (did you mean {near[0]!r}?)" if near else repr(name)


def unknown(what: str, name: str, choices: Iterable[str], listing: str | None = None) -> str:
    """One short line for a name that is not among `choices`:
    "unknown law 'besiroglu'; did you mean besiroglu2024?". With no close name it lists a
    few choices, or `listing` (where to find them all) when there are many."""
    options = list(dict.fromkeys(choices))
    near = closest(name, options)
    if near:
        return f"unknown {what} {name!r}; did you mean {_either(near)}?"
    if len(options) <= MAX_LISTED:
        return f"unknown {what} {name!r}; expected one of {', '.join(options)}"
    shown = ", ".join(options[:MAX_LISTED])
    more = listing or f"{len(options) - MAX_LISTED} more"
    return f"unknown {what} {name!r}; known: {shown}, ... ({more})"


def _either(names: list[str]) -> str:
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} or {names[-1]}"

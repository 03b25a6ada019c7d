"""Read the YAML presets shipped with the package, and YAML files users hand us.

Importing PyYAML and parsing the presets costs ~60 ms, a fifth of `chinchilla plan`'s
start-up; the same data as JSON loads in ~4 ms (most of it importing json). So a wheel
carries a JSON copy of each preset file beside it, made when the wheel is built
(hatch_build.py calls `preset_json`). A source checkout or editable install has no such
copy and keeps one in the user's cache directory instead. Either copy is used only when it
names this package version and the checksum of the YAML text beside it, and holds a
mapping of name -> mapping; anything else is ignored (and the cache rewritten).
"""

from __future__ import annotations

import functools
import os
import zlib
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from chinchilla_cli import __version__
from chinchilla_cli.errors import InputError
from chinchilla_cli.names import did_you_mean, match, unknown

if TYPE_CHECKING:
    import yaml

KINDS = ("hardware", "hyperparameters", "laws", "models")

# Bump when the layout of the JSON documents changes, so old copies stop validating.
_FORMAT = 1
_HERE = Path(__file__).resolve().parent


def preset_kind(name: str) -> str:
    """The kind of preset `name` means, whatever its case (`Models` -> `models`); an
    InputError with the nearest kinds for any other name."""
    kind = match(name.strip(), KINDS)
    if kind is None:
        raise InputError(unknown("preset kind", name, KINDS), field="kind")
    return kind


@functools.cache
def load_presets(kind: str) -> dict[str, dict[str, Any]]:
    """All entries of presets/<kind>.yaml, by name (`kind` as `preset_kind` reads it)."""
    if kind not in KINDS:
        return load_presets(preset_kind(kind))
    text, built = _shipped(kind)
    entries = _from_json(built, text)
    if entries is not None:
        return entries
    cache = _cache_dir() / f"presets-{kind}.json"
    entries = _from_json(_read_cache(cache), text)
    if entries is not None:
        return entries
    entries = _parse(kind, text)
    document = _document(entries, text)
    if document is not None:
        _write_cache(cache, document)
    return entries


def preset_json(kind: str, text: str) -> str:
    """The JSON document load_presets accepts for the preset YAML `text` (for the build hook).

    Raises InputError when the YAML is not a mapping of name -> mapping, or when its data
    would not survive JSON unchanged (dates, non-string keys), so no wheel ships either.
    """
    document = _document(_parse(kind, text), text)
    if document is None:
        raise InputError(
            f"presets/{kind}.yaml holds values JSON cannot carry unchanged (dates, "
            "non-string keys, NaN); quote them",
            field="kind",
        )
    return document


def _shipped(kind: str) -> tuple[str, str | None]:
    """The text of presets/<kind>.yaml, and of the JSON built beside it (None if there is none)."""
    # A wheel carries presets/ inside the package (hatch force-include); a source checkout
    # (tests run in place, editable installs) has it beside the package. Plain paths first:
    # importlib.resources costs ~6 ms of imports and is needed only for zipped packages.
    for directory in (_HERE / "presets", _HERE.parent / "presets"):
        try:
            text = (directory / f"{kind}.yaml").read_text(encoding="utf-8")
        except OSError:
            continue
        try:
            return text, (directory / f"{kind}.json").read_text(encoding="utf-8")
        except (OSError, ValueError):
            return text, None
    from importlib import resources

    packaged = resources.files("chinchilla_cli") / "presets"
    text = (packaged / f"{kind}.yaml").read_text(encoding="utf-8")
    try:
        return text, (packaged / f"{kind}.json").read_text(encoding="utf-8")
    except (OSError, ValueError):
        return text, None


def _checksum(text: str) -> str:
    # crc32 rather than sha256: it guards against edited YAML, not against an attacker (who
    # could as well edit this file), and hashlib would add ~6 ms of imports to every run.
    return f"crc32:{zlib.crc32(text.encode('utf-8')):08x}:{len(text)}"


def _entries(data: Any) -> dict[str, dict[str, Any]] | None:
    """`data` as a mapping of name -> entry mapping, or None if it is not one."""
    if not isinstance(data, dict):
        return None
    if not all(isinstance(entry, dict) for entry in data.values()):
        return None
    return {str(name): dict(entry) for name, entry in data.items()}


def _parse(kind: str, text: str) -> dict[str, dict[str, Any]]:
    import yaml

    where = f"presets/{kind}.yaml"
    try:
        data = safe_load(text)
    except yaml.YAMLError as e:
        raise InputError(_yaml_error_message(where, e), field="kind") from None
    entries = _entries(data)
    if entries is None:
        raise InputError(f"{where}: expected a mapping of name -> mapping", field="kind")
    return entries


def _document(entries: dict[str, dict[str, Any]], text: str) -> str | None:
    """The JSON copy of `entries`, or None when JSON would not give them back unchanged."""
    import json

    document = {"format": _FORMAT, "version": __version__, "yaml": _checksum(text)}
    try:
        dumped = json.dumps({**document, "entries": entries}, ensure_ascii=False)
        same = json.loads(dumped)["entries"] == entries
    except (TypeError, ValueError, RecursionError):
        return None
    return dumped if same else None


def _from_json(dumped: str | None, text: str) -> dict[str, dict[str, Any]] | None:
    """The entries of a JSON copy made from `text` by this version, or None."""
    if dumped is None:
        return None
    import json

    try:
        document = json.loads(dumped)
    except (ValueError, RecursionError):
        return None
    if not isinstance(document, dict):
        return None
    if (
        document.get("format") != _FORMAT
        or document.get("version") != __version__
        or document.get("yaml") != _checksum(text)
    ):
        return None
    entries = document.get("entries")
    if not isinstance(entries, dict) or not all(isinstance(name, str) for name in entries):
        return None
    return _entries(entries)


def _cache_dir() -> Path:
    explicit = os.environ.get("CHINCHILLA_CACHE_DIR")
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "chinchilla-cli"


def _read_cache(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, ValueError):
        return None


def _write_cache(path: Path, document: str) -> None:
    # The cache only saves time: a directory that cannot be made or written (read-only, a
    # file in its place, a full disk) costs a YAML parse on every run, never the command.
    # The rename keeps a concurrent run from reading a half-written copy.
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp.write_text(document, encoding="utf-8")
        os.replace(tmp, path)
    except OSError:
        try:
            tmp.unlink(missing_ok=True)
        except OSError:
            pass


def preset_name(
    kind: str, name: str, what: str, noun: str | None = None, listing: str | None = None
) -> str:
    """The name of the preset of `kind` that `name` means when only case or separators
    differ (`H100_SXM` -> `h100-sxm`); an InputError about argument `what` naming the
    nearest presets for any other name (an unknown `noun`, by default "<kind> preset";
    `listing` says where to see them all)."""
    entries = load_presets(kind)
    key = match(name.strip(), entries)
    if key is None:
        message = unknown(noun or f"{kind} preset", name, entries, listing)
        raise InputError(message, field=what)
    return key


def lookup(kind: str, name: str, what: str) -> dict[str, Any]:
    """The preset `name` of `kind` (as `preset_name` reads it), or an InputError about
    argument `what` with the nearest names."""
    return load_presets(kind)[preset_name(kind, name, what)]


class _DuplicateKey(Exception):
    """Mixed into the YAML error a repeated mapping key raises, so it can be told apart."""

    key: Any = None
    line = 0
    first_line = 0


@functools.cache
def _strict_loader() -> Any:
    """yaml's safe loader (libyaml's when PyYAML was built with it) refusing duplicate keys.

    Plain YAML loaders keep the last of two equal keys, so a law file that sets E twice
    silently uses the second value; refusing it names both lines instead.
    """
    import yaml
    from yaml.constructor import ConstructorError

    class DuplicateKeyError(ConstructorError, _DuplicateKey):
        pass

    base: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

    class StrictSafeLoader(base):  # type: ignore[misc]
        def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> Any:
            if isinstance(node, yaml.MappingNode):
                seen: dict[Any, yaml.Node] = {}
                for key_node, _ in node.value:
                    # `<<: *anchor` merges are meant to be overridden by the keys beside them.
                    if key_node.tag == "tag:yaml.org,2002:merge":
                        continue
                    key = self.construct_object(key_node, deep=deep)
                    try:
                        first = seen.setdefault(key, key_node)
                    except TypeError:
                        continue  # unhashable: the base class refuses it with its own message
                    if first is not key_node:
                        error = DuplicateKeyError(
                            "while constructing a mapping",
                            first.start_mark,
                            f"found duplicate key {key!r}",
                            key_node.start_mark,
                        )
                        error.key = key
                        error.line = key_node.start_mark.line + 1
                        error.first_line = first.start_mark.line + 1
                        raise error
            return super().construct_mapping(node, deep=deep)

    return StrictSafeLoader


def safe_load(text: str) -> Any:
    """yaml.safe_load (through libyaml when available, ~10x faster) refusing duplicate keys."""
    import yaml

    return yaml.load(text, Loader=_strict_loader())


def _yaml_error_message(where: str, e: yaml.YAMLError) -> str:
    if isinstance(e, _DuplicateKey):
        return f"{where}:{e.line}: duplicate key {e.key!r} (first at line {e.first_line})"
    mark = getattr(e, "problem_mark", None)
    if mark is not None:
        where = f"{where}:{mark.line + 1}"
    problem = getattr(e, "problem", None) or str(e).splitlines()[0]
    if "python/" in str(e):
        problem = "Python object tags are refused (files are read with yaml.safe_load)"
    return f"{where}: not valid YAML: {problem}"


def read_yaml_file(path: str | Path, what: str) -> Any:
    """yaml.safe_load a user's file; every failure is one InputError naming file and line."""
    import yaml

    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise InputError(f"file {str(p)!r} does not exist", field=what) from None
    except IsADirectoryError:
        raise InputError(f"{str(p)!r} is a directory, not a YAML file", field=what) from None
    except UnicodeDecodeError:
        raise InputError(f"{str(p)!r} is not UTF-8 text", field=what) from None
    except OSError as e:
        raise InputError(f"cannot read {str(p)!r}: {e.strerror}", field=what) from None
    try:
        return safe_load(text)
    except yaml.YAMLError as e:
        raise InputError(_yaml_error_message(str(p), e), field=what) from None


def dump_yaml(data: Any) -> str:
    """YAML in the presets' style: keys in order, short lists (sample rows) on one line."""
    import yaml

    return yaml.safe_dump(
        data, sort_keys=False, default_flow_style=None, width=100, allow_unicode=True
    )


def describe_unknown(key: str, known: Iterable[str]) -> str:
    """`'tokns' (did you mean 'tokens'?)`: kept for its callers; names.did_you_mean is
    the one home of the rule (new code calls it)."""
    return did_you_mean(key, known)

"""Read the YAML presets shipped with the package, and YAML files users hand us."""

from __future__ import annotations

import functools
import os
from importlib import resources
from pathlib import Path
from typing import Any

from chinchilla_cli.errors import InputError

KINDS = ("hardware", "laws", "models")


def _preset_text(kind: str) -> str:
    # Installed wheels carry presets/ inside the package (hatch force-include); a source
    # checkout (tests run in place, editable installs) has it beside the package.
    packaged = resources.files("chinchilla_cli") / "presets" / f"{kind}.yaml"
    if packaged.is_file():
        return packaged.read_text(encoding="utf-8")
    return (Path(__file__).resolve().parent.parent / "presets" / f"{kind}.yaml").read_text(
        encoding="utf-8"
    )


@functools.cache
def load_presets(kind: str) -> dict[str, dict[str, Any]]:
    """All entries of presets/<kind>.yaml, by name."""
    if kind not in KINDS:
        raise InputError(f"unknown preset kind {kind!r}; known: {', '.join(KINDS)}")
    data = _parse_cached(kind, _preset_text(kind))
    return {str(name): dict(entry) for name, entry in data.items()}


def _cache_dir() -> Path:
    explicit = os.environ.get("CHINCHILLA_CACHE_DIR")
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "chinchilla-cli"


def _parse_cached(kind: str, text: str) -> Any:
    """The YAML's data, through a JSON copy in the user's cache directory.

    Importing PyYAML and parsing the presets costs ~50 ms, a fifth of `chinchilla plan`'s
    start-up; a JSON copy keyed by the text's checksum loads in under a millisecond. Any
    failure to read or write the cache just falls back to parsing the YAML.
    """
    import json
    import zlib

    key = f"{kind}-{zlib.crc32(text.encode('utf-8')):08x}-{len(text)}.json"
    path = _cache_dir() / key
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        pass
    data = safe_load(text)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{key}.{os.getpid()}.tmp")
        tmp.write_text(json.dumps(data), encoding="utf-8")
        os.replace(tmp, path)
    except OSError:
        pass
    return data


def lookup(kind: str, name: str, what: str) -> dict[str, Any]:
    """The preset `name` of `kind`, or an InputError listing the known names."""
    entries = load_presets(kind)
    key = name.strip().lower()
    if key not in entries:
        raise InputError(f"{what}: unknown {kind} preset {name!r}; known: {', '.join(entries)}")
    return entries[key]


def safe_load(text: str) -> Any:
    """yaml.safe_load, through libyaml when PyYAML was built with it (about 10x faster)."""
    import yaml

    return yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))


def read_yaml_file(path: str | Path, what: str) -> Any:
    """yaml.safe_load a user's file; every failure is one InputError naming file and line."""
    import yaml

    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise InputError(f"{what}: file {str(p)!r} does not exist") from None
    except IsADirectoryError:
        raise InputError(f"{what}: {str(p)!r} is a directory, not a YAML file") from None
    except UnicodeDecodeError:
        raise InputError(f"{what}: {str(p)!r} is not UTF-8 text") from None
    except OSError as e:
        raise InputError(f"{what}: cannot read {str(p)!r}: {e.strerror}") from None
    try:
        return safe_load(text)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f"{p}:{mark.line + 1}" if mark is not None else str(p)
        problem = getattr(e, "problem", None) or str(e).splitlines()[0]
        if "python/" in str(e):
            problem = "Python object tags are refused (files are read with yaml.safe_load)"
        raise InputError(f"{what}: {where}: not valid YAML: {problem}") from None


def dump_yaml(data: Any) -> str:
    """YAML in the presets' style: keys in order, short lists (sample rows) on one line."""
    import yaml

    return yaml.safe_dump(
        data, sort_keys=False, default_flow_style=None, width=100, allow_unicode=True
    )

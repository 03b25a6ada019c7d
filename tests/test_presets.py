"""Reading the presets: the JSON built into the wheel, the run-time cache, duplicate keys."""

from __future__ import annotations

import ast
import json
import os
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from chinchilla_cli import __version__, presets
from chinchilla_cli.errors import InputError
from chinchilla_cli.presets import KINDS, load_presets, preset_json, read_yaml_file

ROOT = Path(__file__).resolve().parent.parent


def _yaml_text(kind: str) -> str:
    return (ROOT / "presets" / f"{kind}.yaml").read_text(encoding="utf-8")


def _expected(kind: str) -> dict:
    import yaml

    return {str(name): dict(entry) for name, entry in yaml.safe_load(_yaml_text(kind)).items()}


def _refuse_yaml(monkeypatch: pytest.MonkeyPatch) -> None:
    def fail(text: str) -> None:
        raise AssertionError("the YAML was parsed")

    monkeypatch.setattr(presets, "safe_load", fail)


@pytest.fixture(autouse=True)
def fresh():
    load_presets.cache_clear()
    yield
    load_presets.cache_clear()


@pytest.fixture
def cache(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """A private cache directory, and presets as a source checkout has them (no built JSON)."""
    directory = tmp_path / "cache"
    monkeypatch.setenv("CHINCHILLA_CACHE_DIR", str(directory))
    monkeypatch.setattr(presets, "_shipped", lambda kind: (_yaml_text(kind), None))
    return directory


def _cached(directory: Path, kind: str = "hardware") -> Path:
    return directory / f"presets-{kind}.json"


def _document(kind: str = "hardware", **changes: object) -> dict:
    document = json.loads(preset_json(kind, _yaml_text(kind)))
    document.update(changes)
    return document


def _assert_rebuilt(directory: Path, kind: str = "hardware") -> None:
    assert json.loads(_cached(directory, kind).read_text(encoding="utf-8")) == _document(kind)


@pytest.mark.parametrize("kind", KINDS)
def test_presets_are_the_yaml(cache, kind):
    assert load_presets(kind) == _expected(kind)


def test_unknown_kind():
    with pytest.raises(InputError, match="unknown preset kind 'gpus'") as e:
        load_presets("gpus")
    assert e.value.field == "kind"


def test_cache_is_created_then_used(cache, monkeypatch):
    first = load_presets("laws")
    _assert_rebuilt(cache, "laws")
    load_presets.cache_clear()
    _refuse_yaml(monkeypatch)
    assert load_presets("laws") == first


def test_cache_leaves_no_temporary_files(cache):
    for kind in KINDS:
        load_presets(kind)
    assert sorted(p.name for p in cache.iterdir()) == [f"presets-{k}.json" for k in KINDS]


@pytest.mark.parametrize(
    "content",
    [b"", b"{not json", b"\xff\xfe\x00garbage", b'{"format": 1, "entr', b"[" * 100_000],
    ids=["empty", "not-json", "not-utf8", "truncated", "deeply-nested"],
)
def test_corrupt_cache_is_rebuilt(cache, content):
    cache.mkdir()
    _cached(cache).write_bytes(content)
    assert load_presets("hardware") == _expected("hardware")
    _assert_rebuilt(cache)


@pytest.mark.parametrize(
    "document",
    [
        [],
        {},
        {"x": 1},
        None,
        "hardware",
        42,
        _document(entries=[]),
        _document(entries={"h100-sxm": 1}),
        _document(entries={"h100-sxm": ["bf16_tflops", 989.4]}),
        _document(entries=None),
        _document(format="1"),
        {k: v for k, v in _document().items() if k != "entries"},
    ],
    ids=[
        "list",
        "empty-dict",
        "dict-of-int",
        "null",
        "string",
        "number",
        "entries-list",
        "entry-int",
        "entry-list",
        "entries-null",
        "format-str",
        "no-entries",
    ],
)
def test_cache_of_the_wrong_shape_is_rebuilt(cache, document):
    cache.mkdir()
    _cached(cache).write_text(json.dumps(document), encoding="utf-8")
    assert load_presets("hardware") == _expected("hardware")
    _assert_rebuilt(cache)


@pytest.mark.parametrize(
    "changes",
    [{"version": "0.0.1"}, {"version": None}, {"yaml": "crc32:00000000:4351"}, {"format": 0}],
    ids=["other-version", "no-version", "other-yaml", "old-format"],
)
def test_stale_cache_is_ignored(cache, changes):
    stale = _document(**changes)
    stale["entries"] = {"stale-chip": {"bf16_tflops": 1}}
    cache.mkdir()
    _cached(cache).write_text(json.dumps(stale), encoding="utf-8")
    assert "stale-chip" not in load_presets("hardware")
    _assert_rebuilt(cache)


def test_edited_yaml_is_reread(cache, monkeypatch):
    load_presets("hardware")
    load_presets.cache_clear()
    edited = _yaml_text("hardware") + "new-chip:\n  bf16_tflops: 1\n"
    monkeypatch.setattr(presets, "_shipped", lambda kind: (edited, None))
    assert load_presets("hardware")["new-chip"] == {"bf16_tflops": 1}


def test_cache_dir_that_is_a_file(cache):
    cache.write_text("not a directory\n", encoding="utf-8")
    assert load_presets("hardware") == _expected("hardware")
    assert cache.read_text(encoding="utf-8") == "not a directory\n"


def test_cache_file_that_is_a_directory(cache):
    _cached(cache).mkdir(parents=True)
    assert load_presets("hardware") == _expected("hardware")
    assert _cached(cache).is_dir() and list(cache.iterdir()) == [_cached(cache)]


@pytest.mark.skipif(
    not hasattr(os, "geteuid") or os.geteuid() == 0,
    reason="root writes to read-only directories; the file-in-the-way case covers root",
)
def test_read_only_cache_dir(cache):
    cache.mkdir()
    cache.chmod(0o500)
    try:
        assert load_presets("hardware") == _expected("hardware")
        assert list(cache.iterdir()) == []
    finally:
        cache.chmod(0o700)


@pytest.mark.parametrize(
    "target, name",
    [(Path, "mkdir"), (Path, "write_text"), (os, "replace")],
    ids=["mkdir", "write", "rename"],
)
def test_cache_write_refused(cache, monkeypatch, target, name):
    """What a read-only or full disk does, for any user (root ignores directory modes)."""

    def refuse(*args: object, **kwargs: object) -> None:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(target, name, refuse)
    assert load_presets("hardware") == _expected("hardware")
    monkeypatch.undo()
    assert not cache.exists() or list(cache.iterdir()) == []


def test_built_json_is_used(monkeypatch, tmp_path):
    monkeypatch.setenv("CHINCHILLA_CACHE_DIR", str(tmp_path / "cache"))
    text = _yaml_text("models")
    built = preset_json("models", text)
    monkeypatch.setattr(presets, "_shipped", lambda kind: (text, built))
    _refuse_yaml(monkeypatch)
    assert load_presets("models") == _expected("models")
    assert not (tmp_path / "cache").exists()


def test_built_json_of_other_yaml_is_ignored(cache, monkeypatch):
    edited = _yaml_text("hardware") + "new-chip:\n  bf16_tflops: 1\n"
    built = preset_json("hardware", _yaml_text("hardware"))
    monkeypatch.setattr(presets, "_shipped", lambda kind: (edited, built))
    assert "new-chip" in load_presets("hardware")


@pytest.mark.parametrize(
    "text, problem",
    [
        ("- a\n- b\n", "expected a mapping of name -> mapping"),
        ("chip:\n  bf16_tflops: 1\nother: 2\n", "expected a mapping of name -> mapping"),
        ("chip:\n  released: 2024-03-01\n", "JSON cannot carry"),
        ("chip:\n  1: one\n", "JSON cannot carry"),
        ("chip:\n  a: 1\nchip:\n  a: 2\n", r"presets/hardware\.yaml:3: duplicate key 'chip'"),
    ],
    ids=["list", "entry-not-mapping", "date", "int-key", "duplicate"],
)
def test_preset_json_refuses(text, problem):
    with pytest.raises(InputError, match=problem):
        preset_json("hardware", text)


def test_wheel_ships_json_it_uses(tmp_path):
    """Build and install the wheel: the JSON is beside each YAML, read without PyYAML or a cache."""
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q"]
        + ["-w", str(tmp_path / "dist"), str(ROOT)],
        check=True,
        timeout=300,
    )
    wheel = next((tmp_path / "dist").glob("*.whl"))
    with zipfile.ZipFile(wheel) as z:
        for kind in KINDS:
            shipped = z.read(f"chinchilla_cli/presets/{kind}.json").decode("utf-8")
            assert shipped == preset_json(kind, _yaml_text(kind))
    target = tmp_path / "site"
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target", str(target)]
        + [str(wheel)],
        check=True,
        timeout=300,
    )
    probe = (
        "import json, sys\n"
        "from chinchilla_cli.presets import KINDS, load_presets\n"
        "data = {k: load_presets(k) for k in KINDS}\n"
        "print(json.dumps({'yaml': 'yaml' in sys.modules, 'data': data}))\n"
    )
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {**os.environ, "PYTHONPATH": str(target), "CHINCHILLA_CACHE_DIR": str(tmp_path / "c")}
    r = subprocess.run(
        [sys.executable, "-c", probe],
        cwd=elsewhere,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert out["yaml"] is False
    assert out["data"] == {kind: _expected(kind) for kind in KINDS}
    assert not (tmp_path / "c").exists()


def _hook(tmp_path: Path):
    pytest.importorskip("hatchling")
    import importlib.util

    spec = importlib.util.spec_from_file_location("hatch_build", ROOT / "hatch_build.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.PresetsJsonHook(str(ROOT), {}, None, None, str(tmp_path), "wheel")


def test_build_hook_adds_json_and_cleans_up(tmp_path):
    hook = _hook(tmp_path)
    build_data: dict = {"force_include": {}}
    hook.initialize("standard", build_data)
    made = {target: Path(source) for source, target in build_data["force_include"].items()}
    assert sorted(made) == [f"chinchilla_cli/presets/{kind}.json" for kind in KINDS]
    for kind in KINDS:
        path = made[f"chinchilla_cli/presets/{kind}.json"]
        assert path.read_text(encoding="utf-8") == preset_json(kind, _yaml_text(kind))
    assert sys.modules["chinchilla_cli.presets"] is presets  # this process keeps its own copy
    hook.finalize("standard", build_data, str(tmp_path / "x.whl"))
    assert not any(path.exists() for path in made.values())


def test_build_hook_skips_editable_installs(tmp_path):
    build_data: dict = {"force_include": {}}
    _hook(tmp_path).initialize("editable", build_data)
    assert build_data == {"force_include": {}}


def _law_file(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "law.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_duplicate_key_is_refused_with_its_line(tmp_path):
    path = _law_file(tmp_path, "name: mine\nE: 1.8\nA: 400\nE: 1.7\n")
    with pytest.raises(InputError) as e:
        read_yaml_file(path, "law")
    assert e.value.message == f"{path}:4: duplicate key 'E' (first at line 2)"
    assert e.value.field == "law"


def test_nested_duplicate_key_is_refused(tmp_path):
    text = "runs:\n  - name: a\n    params: 1e9\n  - name: b\n    params: 2e9\n    name: c\n"
    path = _law_file(tmp_path, text)
    with pytest.raises(InputError, match=re.escape(f"{path}:6: duplicate key 'name'")) as e:
        read_yaml_file(path, "file")
    assert e.value.field == "file"


def test_merge_keys_may_be_overridden(tmp_path):
    path = _law_file(tmp_path, "base: &b {E: 1.8, A: 400}\nlaw:\n  <<: *b\n  E: 1.7\n")
    assert read_yaml_file(path, "law")["law"] == {"E": 1.7, "A": 400}


def test_other_yaml_errors_keep_their_message(tmp_path):
    path = _law_file(tmp_path, "E: [1.8\n")
    with pytest.raises(InputError, match=re.escape(f"{path}:2: not valid YAML")):
        read_yaml_file(path, "law")
    path = _law_file(tmp_path, "E: !!python/name:os.system\n")
    with pytest.raises(InputError, match="refused.*safe_load"):
        read_yaml_file(path, "law")


def test_no_command_line_flags_in_presets_module():
    """The library names arguments; each front end maps them to its own flags."""
    tree = ast.parse(Path(presets.__file__).read_text(encoding="utf-8"))
    strings = [
        n.value for n in ast.walk(tree) if isinstance(n, ast.Constant) and isinstance(n.value, str)
    ]
    assert not [s for s in strings if re.search(r"(?<![\w-])--[a-z]", s)]


def test_version_is_in_the_documents():
    assert json.loads(preset_json("laws", _yaml_text("laws")))["version"] == __version__

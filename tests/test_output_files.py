"""The files the tool writes (--save, --plot, --csv): atomically (a temporary file beside
the target, then a rename), never over an existing file without --force, never a partial
or temporary file left after an error or Ctrl-C, and one clear line when the folder is
missing or cannot be written."""

from __future__ import annotations

import errno
import os
from pathlib import Path

import pytest

from chinchilla_cli import files
from chinchilla_cli.errors import InputError
from chinchilla_cli.law_files import load_law

LAW = load_law("hoffmann2022")
RUNS_TEXT = "params,tokens,loss\n" + "".join(
    f"{n!r},{d!r},{LAW.loss(n, d).total!r}\n"
    for n in (1e8, 3e8, 1e9, 3e9, 1e10)
    for d in (2e9, 1e10, 5e10, 2e11)
)


def leftovers(folder: Path) -> list[str]:
    """Temporary files write_atomic may have left (named .<target>.*.tmp)."""
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".tmp"))


# ---------------------------------------------------------------- write_atomic itself


def partial_then(exc: BaseException):
    def write(tmp: Path) -> None:
        tmp.write_text("half a fi")  # a partial file on disk...
        raise exc  # ...then Ctrl-C, or a crash

    return write


@pytest.mark.parametrize("exc", [KeyboardInterrupt(), RuntimeError("boom"), SystemExit(1)])
def test_an_interrupted_write_leaves_the_old_file_and_no_temporary(tmp_path, exc):
    target = tmp_path / "law.yaml"
    target.write_text("the original\n")
    with pytest.raises(type(exc)):
        files.write_atomic(target, partial_then(exc), "--save", force=True)
    assert target.read_text() == "the original\n"
    assert leftovers(tmp_path) == []


@pytest.mark.parametrize("exc", [KeyboardInterrupt(), RuntimeError("boom")])
def test_an_interrupted_write_leaves_no_file_at_all(tmp_path, exc):
    target = tmp_path / "new.csv"
    with pytest.raises(type(exc)):
        files.write_atomic(target, partial_then(exc), "--csv", force=False)
    assert list(tmp_path.iterdir()) == []


def test_ctrl_c_at_the_rename_leaves_the_old_file(tmp_path, monkeypatch):
    target = tmp_path / "out.csv"
    target.write_text("old\n")

    def interrupted(src, dst):
        raise KeyboardInterrupt

    monkeypatch.setattr(files.os, "replace", interrupted)
    with pytest.raises(KeyboardInterrupt):
        files.write_text_atomic(target, "new\n", "--csv", force=True)
    assert target.read_text() == "old\n" and leftovers(tmp_path) == []


def test_the_write_goes_through_a_temporary_beside_the_target(tmp_path):
    target = tmp_path / "fig.png"
    seen = []

    def write(tmp: Path) -> None:
        seen.append(tmp)
        assert not target.exists()  # nothing at the target until the rename
        tmp.write_bytes(b"done")

    files.write_atomic(target, write, "--plot", force=False)
    assert target.read_bytes() == b"done"
    assert seen[0].parent == tmp_path and seen[0].name.startswith(".fig.png.")
    assert not seen[0].exists() and leftovers(tmp_path) == []
    umask = os.umask(0)
    os.umask(umask)
    assert target.stat().st_mode & 0o777 == 0o666 & ~umask  # a normal file's mode


def test_a_file_that_appears_meanwhile_is_not_overwritten(tmp_path):
    target = tmp_path / "out.csv"

    def write(tmp: Path) -> None:
        target.write_text("someone else's\n")  # another process, while we computed
        tmp.write_text("ours\n")

    with pytest.raises(InputError, match="already exists; pass `force`"):
        files.write_atomic(target, write, "--csv", force=False)
    assert target.read_text() == "someone else's\n" and leftovers(tmp_path) == []


@pytest.mark.parametrize(
    "error", [OSError(errno.ENOSPC, "No space left on device"), PermissionError(13, "denied")]
)
def test_a_failed_write_is_one_line_naming_the_option(tmp_path, error):
    target = tmp_path / "out.csv"

    def write(tmp: Path) -> None:
        tmp.write_text("par")
        raise error

    with pytest.raises(InputError, match=r"^--csv: cannot write .*out\.csv.*: ") as e:
        files.write_atomic(target, write, "--csv", force=False)
    assert "\n" not in str(e.value)
    assert list(tmp_path.iterdir()) == []


def test_a_folder_that_refuses_the_temporary_file(tmp_path, monkeypatch):
    def refuse(*args, **kwargs):
        raise OSError(errno.EROFS, "Read-only file system")

    monkeypatch.setattr(files.tempfile, "mkstemp", refuse)
    with pytest.raises(InputError, match="--save: cannot write .*Read-only file system"):
        files.write_text_atomic(tmp_path / "law.yaml", "x", "--save", force=False)


@pytest.mark.parametrize(
    "name, force, needle",
    [
        ("missing/out.csv", False, "folder '{tmp}/missing' does not exist"),
        ("existing.csv", False, "already exists; pass `force` to overwrite it"),
        ("", False, "already exists; pass `force` to overwrite it"),
        ("", True, "is a directory"),
    ],
)
def test_check_writable_messages(tmp_path, name, force, needle):
    (tmp_path / "existing.csv").write_text("x")
    with pytest.raises(InputError, match="^--csv: ") as e:
        files.check_writable(tmp_path / name if name else tmp_path, "--csv", force=force)
    assert needle.format(tmp=tmp_path) in str(e.value)


# ---------------------------------------------------------------- through the commands


@pytest.fixture
def runs_file(tmp_path) -> str:
    p = tmp_path / "runs.csv"
    p.write_text(RUNS_TEXT)
    return str(p)


def writers(runs_file: str) -> list[tuple[list[str], str, str]]:
    """(command, option, file name) for every option that writes a file."""
    return [
        (["sweep", "--budgets", "1e18:1e19:2", "--sizes", "3"], "--csv", "grid.csv"),
        (["sweep", "--budgets", "1e18:1e19:2", "--sizes", "3"], "--plot", "grid.png"),
        (["fit", runs_file], "--save", "law.yaml"),
        (["fit", runs_file], "--plot", "fit.png"),
        (["plan", "--flops", "1e22"], "--plot", "plan.png"),
        (["compare", "gopher"], "--plot", "compare.png"),
    ]


def one_line_error(r, *needles: str) -> None:
    assert r.exit_code == 2, r.output
    lines = r.stderr.splitlines()
    assert len(lines) == 1 and "Traceback" not in r.output, r.stderr
    for needle in needles:
        assert needle in lines[0], lines[0]


def test_existing_files_are_refused_without_force(run, tmp_path, runs_file):
    for args, option, name in writers(runs_file):
        target = tmp_path / name
        target.write_bytes(b"precious")
        r = run(*args, option, str(target))
        one_line_error(r, option, "already exists", "--force")
        assert target.read_bytes() == b"precious"
        assert leftovers(tmp_path) == []


def test_missing_folders_are_named(run, tmp_path, runs_file):
    for args, option, name in writers(runs_file):
        target = tmp_path / "no" / "such" / name
        r = run(*args, option, str(target))
        one_line_error(r, option, "does not exist")
        assert not (tmp_path / "no").exists()


def test_unwritable_folders_are_named(run, tmp_path, runs_file, monkeypatch):
    """os.access stands in for a read-only folder (the tests may run as root)."""
    real = os.access
    monkeypatch.setattr(
        files.os, "access", lambda p, mode: False if mode == os.W_OK else real(p, mode)
    )
    for args, option, name in writers(runs_file):
        r = run(*args, option, str(tmp_path / name))
        one_line_error(r, option, "is not writable")
    assert leftovers(tmp_path) == [] and not list(tmp_path.glob("grid*"))


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root writes anywhere")
def test_a_really_read_only_folder(run, tmp_path):
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(0o500)
    try:
        r = run("sweep", "--budgets", "1e18:1e19:2", "--csv", str(folder / "grid.csv"))
        one_line_error(r, "--csv", "is not writable")
    finally:
        folder.chmod(0o700)


def test_force_replaces_and_leaves_no_temporary(run, tmp_path, runs_file):
    grid = tmp_path / "grid.csv"
    grid.write_text("old")
    args = ["sweep", "--budgets", "1e18:1e19:2", "--sizes", "3", "--csv", str(grid), "--force"]
    assert run(*args).exit_code == 0
    assert grid.read_text().startswith("budget_flops,")
    law = tmp_path / "law.yaml"
    law.write_text("old")
    r = run("fit", runs_file, "--save", str(law), "--force")
    assert r.exit_code == 0, r.stderr
    assert load_law(str(law)).E == pytest.approx(LAW.E, rel=1e-3)
    assert leftovers(tmp_path) == []


def test_ctrl_c_while_writing_leaves_the_old_file(run, tmp_path, runs_file, monkeypatch):
    """Ctrl-C in the middle of writing --csv or --save: exit 130, one line, the old file
    untouched, no temporary file left."""
    real_write_text = Path.write_text

    def interrupted(self, data, *args, **kwargs):
        if self.name.endswith(".tmp") and self.parent == tmp_path:
            real_write_text(self, data[: len(data) // 2], *args, **kwargs)
            raise KeyboardInterrupt
        return real_write_text(self, data, *args, **kwargs)

    monkeypatch.setattr(Path, "write_text", interrupted)
    for args, option, name in writers(runs_file):
        if option == "--plot":
            continue
        target = tmp_path / name
        target.write_bytes(b"precious")
        r = run(*args, option, str(target), "--force")
        assert r.exit_code == 130, r.output
        assert r.stderr.splitlines() == ["chinchilla: interrupted"]
        assert target.read_bytes() == b"precious"
        assert leftovers(tmp_path) == []


def test_ctrl_c_while_drawing_leaves_no_figure(run, tmp_path, monkeypatch):
    pytest.importorskip("matplotlib")
    from matplotlib.figure import Figure

    def interrupted(self, fname, *args, **kwargs):
        Path(fname).write_bytes(b"\x89PNG half")
        raise KeyboardInterrupt

    monkeypatch.setattr(Figure, "savefig", interrupted)
    target = tmp_path / "plan.png"
    r = run("plan", "--flops", "1e22", "--plot", str(target))
    assert r.exit_code == 130 and r.stderr.splitlines() == ["chinchilla: interrupted"]
    assert list(tmp_path.iterdir()) == []


def test_a_full_disk_is_one_line(run, tmp_path, monkeypatch):
    def full(self, *args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(Path, "write_text", full)
    target = tmp_path / "grid.csv"
    r = run("sweep", "--budgets", "1e18:1e19:2", "--csv", str(target))
    one_line_error(r, "--csv", "cannot write", "No space left on device")
    assert list(tmp_path.iterdir()) == []


def test_a_long_path_is_printed_whole(run, tmp_path):
    """A path longer than the terminal is one line, to be copied whole (a temporary
    directory under pytest-xdist was broken over two lines, and a test missed it)."""
    deep = tmp_path / ("d" * 90)
    deep.mkdir()
    grid, figure = deep / "grid.csv", deep / "sweep.png"
    r = run("sweep", "--budgets", "1e18:1e20:3", "--csv", str(grid))
    assert r.exit_code == 0, r.stderr
    assert f"wrote {grid}: fill in the loss column" in r.stdout
    pytest.importorskip("matplotlib")
    r = run("plan", "--flops", "1e22", "--plot", str(figure))
    assert r.exit_code == 0, r.stderr
    assert f"Wrote the figure to {figure}\n" in r.stdout

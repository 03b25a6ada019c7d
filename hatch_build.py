"""Hatch build hook: ship a JSON copy of each preset YAML file beside it in the wheel.

Importing PyYAML and parsing the presets is most of what reading them costs at run time;
with the JSON copy an installed `chinchilla` skips both, and needs no cache in the user's
home. The copy is made by chinchilla_cli.presets itself (`preset_json`), so the format it
writes is the one it reads back, and a preset file it would refuse fails the build instead
of a user's run.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path
from types import ModuleType
from typing import Any

from hatchling.builders.hooks.plugin.interface import BuildHookInterface


def _import_presets(root: Path) -> ModuleType:
    """chinchilla_cli.presets from the tree being built, not from any installed copy."""
    # A build run inside a process that has already imported the package (a test, a tool)
    # gets its own modules back afterwards.
    owned = [m for m in sys.modules if m.partition(".")[0] == "chinchilla_cli"]
    saved = {name: sys.modules.pop(name) for name in owned}
    sys.path.insert(0, str(root))
    try:
        import chinchilla_cli.presets as presets

        if not Path(presets.__file__).resolve().is_relative_to(root.resolve()):
            raise RuntimeError(f"imported chinchilla_cli from {presets.__file__}, not {root}")
        return presets
    finally:
        sys.path.remove(str(root))
        for name in [m for m in sys.modules if m.partition(".")[0] == "chinchilla_cli"]:
            del sys.modules[name]
        sys.modules.update(saved)


class PresetsJsonHook(BuildHookInterface):  # type: ignore[type-arg]
    PLUGIN_NAME = "presets-json"

    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        # An editable install reads presets/ in the checkout, which may change after the
        # install: it makes its own copies at run time.
        if version == "editable":
            return
        root = Path(self.root)
        presets = _import_presets(root)
        self._tmp = tempfile.mkdtemp(prefix="chinchilla-presets-")
        for kind in presets.KINDS:
            # Read as the package will read its shipped copy, so the checksums agree.
            text = (root / "presets" / f"{kind}.yaml").read_text(encoding="utf-8")
            target = Path(self._tmp) / f"{kind}.json"
            target.write_text(presets.preset_json(kind, text), encoding="utf-8")
            build_data["force_include"][str(target)] = f"chinchilla_cli/presets/{kind}.json"

    def finalize(self, version: str, build_data: dict[str, Any], artifact_path: str) -> None:
        tmp = getattr(self, "_tmp", None)
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)

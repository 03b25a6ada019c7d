"""Jupyter display of result objects, without the core importing rich.

A result's `_repr_mimebundle_` calls `display_bundle`, which loads the views (and rich)
only when a notebook asks to show the result; the core never imports them itself.
"""

from __future__ import annotations

import importlib
from typing import Any


def display_bundle(result: Any) -> dict[str, str]:
    """The tables the command prints for `result`, as text and HTML."""
    views = importlib.import_module("chinchilla_cli.views")
    bundle: dict[str, str] = views.mimebundle(result)
    return bundle

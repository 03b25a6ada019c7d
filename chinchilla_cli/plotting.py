"""Figures (the `plot` extra). matplotlib is imported only here, and only when asked."""

from __future__ import annotations

from typing import Any

from chinchilla_cli.errors import InputError

INSTALL_HINT = "plotting needs matplotlib: pip install 'chinchilla-cli[plot]' (or pip install matplotlib)"


def pyplot() -> Any:
    """matplotlib.pyplot on the headless Agg backend, or a one-line InputError."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise InputError(INSTALL_HINT) from None
    return plt

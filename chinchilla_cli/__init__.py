"""chinchilla: plan compute-optimal language-model training (Hoffmann et al. 2022).

The library behind the `chinchilla` command; each function does what its command does
and returns the same result object, whose `to_dict()` is what the command prints as JSON:

    from chinchilla_cli import plan, fit, compare, sweep, load_law

    plan(chips=1024, days=30).optimal          # Allocation(params=..., tokens=...)
    fit(params=N, tokens=D, loss=L).law        # a ParametricLaw usable as `law=`
    compare("gopher", "chinchilla").rows
    sweep("1e18:1e20:5").runs
    suggest_runs("runs.csv", target_flops=1e23).runs   # the next runs to train
    load_law("hoffmann2022").optimal_params(5.76e23)

Names are imported on first use, so `import chinchilla_cli` stays cheap.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

# public name -> the module that defines it
_EXPORTS = {
    "plan": "planning",
    "frontier_table": "planning",
    "Plan": "planning",
    "Frontier": "planning",
    "fit": "fitting",
    "FitReport": "fitting",
    "Intervention": "interventions",
    "compare": "comparison",
    "Comparison": "comparison",
    "Config": "comparison",
    "sweep": "sweeps",
    "Sweep": "sweeps",
    "suggest_runs": "design",
    "Suggestion": "design",
    "Prediction": "prediction",
    "load_law": "law_files",
    "Law": "laws",
    "ParametricLaw": "laws",
    "AllocationLaw": "laws",
    "KaplanLaw": "laws",
    "DeepSeekLaw": "laws",
    "Allocation": "frontier",
    "ChinchillaError": "errors",
    "InputError": "errors",
    "FitError": "errors",
}

__all__ = [
    "__version__",
    "plan",
    "frontier_table",
    "Plan",
    "Frontier",
    "fit",
    "FitReport",
    "Intervention",
    "compare",
    "Comparison",
    "Config",
    "sweep",
    "Sweep",
    "suggest_runs",
    "Suggestion",
    "Prediction",
    "load_law",
    "Law",
    "ParametricLaw",
    "AllocationLaw",
    "KaplanLaw",
    "DeepSeekLaw",
    "Allocation",
    "ChinchillaError",
    "InputError",
    "FitError",
]

if TYPE_CHECKING:
    from chinchilla_cli.comparison import Comparison, Config, compare
    from chinchilla_cli.design import Suggestion, suggest_runs
    from chinchilla_cli.errors import ChinchillaError, FitError, InputError
    from chinchilla_cli.fitting import FitReport, fit
    from chinchilla_cli.frontier import Allocation
    from chinchilla_cli.interventions import Intervention
    from chinchilla_cli.law_files import load_law
    from chinchilla_cli.laws import AllocationLaw, DeepSeekLaw, KaplanLaw, Law, ParametricLaw
    from chinchilla_cli.planning import Frontier, Plan, frontier_table, plan
    from chinchilla_cli.prediction import Prediction
    from chinchilla_cli.sweeps import Sweep, sweep


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'chinchilla_cli' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"chinchilla_cli.{module}"), name)
    globals()[name] = value  # later lookups skip this function
    return value


def __dir__() -> list[str]:
    return sorted(__all__)

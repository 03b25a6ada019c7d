"""The fit's defaults and bounds, in a module without numpy: the command line shows them
in its help, `sweep` warns by them, and `fit_options.FitOptions` checks by them, without
loading the fitting code. Each is written here once."""

from __future__ import annotations

APPROACHES = ("parametric", "isoflop", "both")  # both: side by side, held-out errors
# the parametric law's functional form (forms.py); compare: each, ranked by ordered cuts
FORMS = ("chinchilla", "kaplan", "coupled", "compare")
HUBER_DELTA = 1e-3  # Hoffmann et al. 2022, section 3.3: Huber delta on log-loss residuals
CI_LEVEL = 95.0  # percent: the bootstrap intervals' level
MAX_CI_LEVEL = 99.99  # percent; higher needs more resamples than any run affords
SEED = 0  # the bootstrap's random seed
FLOPS_TOLERANCE = 0.10  # runs whose C agree within 10% share a budget
MAX_FLOPS_TOLERANCE = 0.5  # wider merges budgets that IsoFLOP grids space ~1.7x apart
MAX_BOOTSTRAP = 100_000  # more resamples than any interval needs; bounds memory and time

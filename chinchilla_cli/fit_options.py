"""How runs are fitted (`chinchilla fit`'s fitting options), as one frozen, validated value
that the fit, the comparison of interventions and the command share.

Every check of a fitting option lives here: `FitOptions` refuses values out of range when
it is made, and `FitOptions.of` takes the API's arguments (None: the default) and also
refuses an argument the fit would not use. The reading options are `ReadOptions`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from chinchilla_cli.errors import InputError
from chinchilla_cli.fit_constraints import Constraints, constraints_from
from chinchilla_cli.fit_defaults import (
    APPROACHES,
    CI_LEVEL,
    FLOPS_TOLERANCE,
    FORMS,
    HUBER_DELTA,
    MAX_BOOTSTRAP,
    MAX_CI_LEVEL,
    MAX_FLOPS_TOLERANCE,
    SEED,
)
from chinchilla_cli.names import match, unknown
from chinchilla_cli.quantity import require

NO_E = Constraints(fixed=(("E", 0.0),))  # `form` kaplan with E=0: eq. 1.5 itself


def form_named(name: str) -> str:
    """The form `name` means, without regard to case; InputError with the nearest names."""
    found = match(str(name).strip(), FORMS)
    if found is None:
        raise InputError(unknown("form", str(name), FORMS), field="form")
    return found


def approach_named(name: str) -> str:
    """The approach `name` means, without regard to case ("Parametric"); InputError with
    the nearest names otherwise."""
    found = match(str(name).strip(), APPROACHES)
    if found is None:
        raise InputError(unknown("approach", str(name), APPROACHES), field="approach")
    return found


@dataclass(frozen=True)
class FitOptions:
    """How a set of runs is fitted.

    `approach` "parametric" (Approach 3), "isoflop" (Approach 2) or "both";
    `huber_delta` the Huber threshold on log-loss residuals; `bootstrap` resamples (0:
    no intervals), drawn with `seed`, give intervals at `ci_level` percent;
    `flops_tolerance` the relative spread of C within one budget; `exhaustive` runs
    every start of the grid; `constraints` fix or tie parameters; `metric_col` the task
    metric the caller named (a metric that cannot be fitted is then an error, not a
    warning); `form` the law's functional form (chinchilla, kaplan, coupled, or compare:
    each, ranked by ordered-cut error); `audit` holds every budget out in turn. Errors
    name the API's arguments (`ci` for `ci_level`)."""

    approach: str = "parametric"
    huber_delta: float = HUBER_DELTA
    bootstrap: int = 0
    seed: int = SEED
    ci_level: float = CI_LEVEL
    flops_tolerance: float = FLOPS_TOLERANCE
    exhaustive: bool = False
    constraints: Constraints = field(default_factory=Constraints)
    metric_col: str | None = None
    form: str = "chinchilla"
    audit: bool = True

    def __post_init__(self) -> None:
        object.__setattr__(self, "approach", approach_named(self.approach))
        object.__setattr__(self, "form", form_named(self.form))
        object.__setattr__(self, "audit", bool(self.audit))
        self._check_form()
        require(self.huber_delta, "huber_delta")
        require(self.bootstrap, "bootstrap", inclusive=True, integer=True, maximum=MAX_BOOTSTRAP)
        if self.bootstrap == 1:
            raise InputError(
                f"an interval needs at least 2 resamples; accepted: 0 or 2 to {MAX_BOOTSTRAP:,}",
                field="bootstrap",
            )
        require(self.seed, "seed", inclusive=True, integer=True)
        require(self.ci_level, "ci", maximum=MAX_CI_LEVEL)
        if self.ci_level < 1:
            level = self.ci_level
            raise InputError(
                f"{level:g} reads as {level:g}%; the level is a percent: did you mean "
                f"{level * 100:g}?",
                field="ci",
            )
        require(self.flops_tolerance, "flops_tolerance")
        if self.flops_tolerance > MAX_FLOPS_TOLERANCE:
            raise InputError(
                f"{self.flops_tolerance:g} would merge distinct budgets (IsoFLOP grids space "
                f"them about 1.7x apart, e.g. 6e18 and 1e19); accepted: up to "
                f"{MAX_FLOPS_TOLERANCE:g}",
                field="flops_tolerance",
            )
        if self.approach == "isoflop" and (self.exhaustive or self.constraints):
            cons = self.constraints
            raise InputError(
                "`exhaustive`, `fix` and `tie` shape the parametric fit; use them with "
                "`approach` parametric or both",
                field="fix" if cons.fixed else "tie" if cons.tied else "exhaustive",
            )
        object.__setattr__(self, "bootstrap", int(self.bootstrap))
        object.__setattr__(self, "seed", int(self.seed))
        object.__setattr__(self, "exhaustive", bool(self.exhaustive))

    def _check_form(self) -> None:
        """Another form than Chinchilla's is a parametric fit without the options only
        Chinchilla's engine has (the census, constraints, the bootstrap, approach both)."""
        if self.form == "chinchilla" or self.constraints == NO_E:
            return
        if self.approach != "parametric":
            raise InputError(
                f"`form` {self.form} is a parametric law; use it with `approach` parametric",
                field="form",
            )
        for name, used in (
            ("exhaustive", self.exhaustive),
            ("bootstrap", self.bootstrap),
            ("fix", self.constraints.fixed),
            ("tie", self.constraints.tied),
        ):
            if used:
                raise InputError(
                    f"applies to Chinchilla's form; not available with `form` {self.form}"
                    + (" (except E=0: Kaplan et al.'s eq. 1.5 itself)" if name == "fix" else ""),
                    field=name,
                )

    @property
    def irreducible(self) -> bool:
        """Whether the law has an irreducible term E (False: `form` kaplan with E=0)."""
        return self.constraints != NO_E

    @classmethod
    def of(
        cls,
        *,
        approach: str = "parametric",
        huber_delta: float | None = None,
        bootstrap: int = 0,
        seed: int | None = None,
        ci: float | None = None,
        flops_tolerance: float = FLOPS_TOLERANCE,
        exhaustive: bool = False,
        fix: Mapping[str, float] | Sequence[str] | None = None,
        tie: Sequence[tuple[str, str] | str] | None = None,
        metric_col: str | None = None,
        form: str = "chinchilla",
        audit: bool = True,
    ) -> FitOptions:
        """The options from `fit`'s arguments (None: the default; `fix` and `tie` as
        `fit_constraints.constraints_from` reads them). An argument the fit would not use
        is refused, not silently ignored: `huber_delta` with `approach` isoflop, `seed`
        or `ci` without `bootstrap`."""
        if approach_named(approach) == "isoflop" and huber_delta is not None:
            raise InputError(
                "applies to the parametric fit, not `approach` isoflop", field="huber_delta"
            )
        if not bootstrap:
            for name, value in (("seed", seed), ("ci", ci)):
                if value is not None:
                    raise InputError(
                        "applies to the bootstrap intervals; give `bootstrap`", field=name
                    )
        return cls(
            approach,
            HUBER_DELTA if huber_delta is None else huber_delta,
            bootstrap,
            SEED if seed is None else seed,
            CI_LEVEL if ci is None else ci,
            flops_tolerance,
            exhaustive,
            NO_E
            if form_named(form) == "kaplan" and _zero_e(fix) and not tie
            else constraints_from(fix, tie),
            metric_col,
            form,
            audit,
        )


def _zero_e(fix: Mapping[str, float] | Sequence[str] | None) -> bool:
    """Whether `fix` holds E, and only E, at 0 (the `form` kaplan without E)."""
    if isinstance(fix, Mapping):
        return set(fix) == {"E"} and float(fix["E"]) == 0.0
    if fix is None or isinstance(fix, str) or len(fix) != 1:
        return False
    name, _, value = str(fix[0]).partition("=")
    try:
        return name.strip() == "E" and float(value) == 0.0
    except ValueError:
        return False


DEFAULT_FIT = FitOptions()  # Approach 3 as the paper runs it, no bootstrap

"""Scaling laws: how loss depends on parameters N and tokens D, and the allocation
of a FLOP budget C = 6 N D that they imply.

Four kinds, one interface (`optimal_params`, `optimal_tokens`, `flops_for_params`,
`flops_for_tokens`, `loss`):
- ParametricLaw: Hoffmann et al. 2022 Approach 3, L = E + A/N^alpha + B/D^beta.
- AllocationLaw: N_opt = k C^a, no loss (Approaches 1 and 2).
- KaplanLaw: Kaplan et al. 2020's allocation and loss (non-embedding N).
- DeepSeekLaw: DeepSeek 2024's allocation in model scale M (C = M D).
`resolve_law` turns a preset name, a YAML path or None (the default) into a law.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from chinchilla_cli.architecture import DEFAULT_ASPECT_RATIO
from chinchilla_cli.architecture import FLOPS_PER_PARAM_TOKEN as FLOPS_PER_PARAM_TOKEN
from chinchilla_cli.errors import InputError
from chinchilla_cli.names import did_you_mean, match, unknown
from chinchilla_cli.presets import load_presets, read_yaml_file
from chinchilla_cli.solvers import golden_min, solve_increasing

if TYPE_CHECKING:
    from chinchilla_cli.accuracy import AccuracyFit

DEFAULT_LAW = "besiroglu2024"


# The frontier of L = E + A/N^alpha + B/D^beta under C = 6ND (Hoffmann et al. 2022,
# eq. 4): N_opt = G (C/6)^a, D_opt = G^-1 (C/6)^b. Written once, for floats and numpy
# arrays alike (the fit applies them to every bootstrap sample at once).
def frontier_exponents(alpha: Any, beta: Any) -> tuple[Any, Any]:
    """(a, b) = (beta / (alpha + beta), alpha / (alpha + beta))."""
    return beta / (alpha + beta), alpha / (alpha + beta)


def frontier_scale(A: Any, B: Any, alpha: Any, beta: Any) -> Any:
    """G = (alpha A / (beta B))^(1 / (alpha + beta))."""
    return (alpha * A / (beta * B)) ** (1.0 / (alpha + beta))


def frontier_params(G: Any, a: Any, flops: Any) -> Any:
    """N_opt = G (C/6)^a."""
    return G * (flops / FLOPS_PER_PARAM_TOKEN) ** a


def tokens_for(flops: Any, params: Any) -> Any:
    """D = C / (6 N): the tokens that spend `flops` on a model of `params`."""
    return flops / (FLOPS_PER_PARAM_TOKEN * params)


Bound = tuple[float | None, float | None]
EXTRAPOLATION_FACTOR = 10.0  # beyond the fitted runs by more than this: say so


@dataclass(frozen=True)
class FitRange:
    """The span of the runs a law was fitted to, [low, high] per quantity (None where
    its source does not say). Beyond it, the law extrapolates."""

    params: Bound | None = None
    tokens: Bound | None = None
    flops: Bound | None = None
    tokens_per_param: Bound | None = None

    def beyond(
        self,
        params: float,
        tokens: float,
        flops: float,
        factor: float = EXTRAPOLATION_FACTOR,
    ) -> list[str]:
        """Phrases for each quantity outside the range by more than `factor`:
        "N 72.7B is 81x above the largest fitted (900M)"."""
        from chinchilla_cli.quantity import human, sci

        out = []
        for label, value, bound, show in (
            ("N", params, self.params, human),
            ("D", tokens, self.tokens, human),
            ("C", flops, self.flops, sci),
            ("D/N", tokens / params, self.tokens_per_param, lambda x: f"{x:.3g}"),
        ):
            if bound is None:
                continue
            lo, hi = bound
            if hi is not None and value > hi * factor:
                out.append(
                    f"{label} {show(value)} is {value / hi:.3g}x the largest fitted ({show(hi)})"
                )
            elif lo is not None and value < lo / factor:
                out.append(
                    f"{label} {show(value)} is {lo / value:.3g}x below the smallest "
                    f"fitted ({show(lo)})"
                )
        return out

    def to_dict(self) -> dict[str, list[float | None] | None]:
        return {
            k: None if v is None else list(v)
            for k, v in (
                ("params", self.params),
                ("tokens", self.tokens),
                ("flops", self.flops),
                ("tokens_per_param", self.tokens_per_param),
            )
        }


def extrapolation_warning(law: Any, params: float, tokens: float, flops: float) -> str | None:
    """One warning when (N, D, C) lies more than a decade outside the law's fitted runs."""
    fit_range = getattr(law, "fit_range", None)
    if fit_range is None:
        return None
    beyond = fit_range.beyond(params, tokens, flops)
    if not beyond:
        return None
    return (
        f"beyond the runs {law.name} was fitted to: {'; '.join(beyond)}; its allocation "
        "and loss here are extrapolations"
    )


@dataclass(frozen=True)
class LossTerms:
    """Predicted loss and its parts. Terms are None where a law has no additive split."""

    total: float
    irreducible: float | None = None
    params_term: float | None = None
    data_term: float | None = None

    def to_dict(self) -> dict[str, float | None]:
        return {
            "total": self.total,
            "irreducible": self.irreducible,
            "params_term": self.params_term,
            "data_term": self.data_term,
        }


@dataclass(frozen=True)
class ParametricLaw:
    """L(N, D) = E + A / N^alpha + B / D^beta (Hoffmann et al. 2022, eq. 2): the loss
    predicted for N parameters trained on D tokens, with its compute-optimal frontier.
    Optionally bootstrap `samples` (E, A, B, alpha, beta rows) for intervals, the
    repeated-data constants of Muennighoff et al. 2023 (`R_D_star`, `R_N_star`), the
    range of the runs it was fitted to, and a task-metric forecast (`accuracy`)."""

    name: str
    E: float
    A: float
    B: float
    alpha: float
    beta: float
    source: str = ""
    notes: tuple[str, ...] = ()
    # bootstrap draws of (E, A, B, alpha, beta), one row each, when the law carries them
    samples: tuple[tuple[float, float, float, float, float], ...] = field(default=(), repr=False)
    samples_source: str = ""
    # Muennighoff et al. 2023: how fast repeated data (R_D*) and excess parameters (R_N*)
    # lose value; None where the law was not fitted with repetition
    R_D_star: float | None = None
    R_N_star: float | None = None
    fit_range: FitRange | None = None
    # a task metric as a sigmoid of this law's loss (`fit` with a metric column), with
    # its own bootstrap samples paired with `samples`; None when the law carries none
    accuracy: AccuracyFit | None = field(default=None, repr=False)
    kind = "parametric"
    splits_6nd = True  # its N_opt and D_opt spend the budget exactly: 6 N D = C
    predicts_loss = True

    # Frontier (HOF eq. 4): N_opt = G (C/6)^a, D_opt = G^-1 (C/6)^b.
    @property
    def a(self) -> float:
        return float(frontier_exponents(self.alpha, self.beta)[0])

    @property
    def b(self) -> float:
        return float(frontier_exponents(self.alpha, self.beta)[1])

    @property
    def G(self) -> float:
        return float(frontier_scale(self.A, self.B, self.alpha, self.beta))

    def optimal_params(self, flops: float) -> float:
        return float(frontier_params(self.G, self.a, flops))

    def optimal_tokens(self, flops: float) -> float:
        return float(tokens_for(flops, self.optimal_params(flops)))

    def flops_for_loss(self, loss: float) -> float | None:
        """C*: the least compute whose compute-optimal run reaches `loss` (None if none).

        Along the frontier L*(C) = E + K x^-g with x = C/6, g = alpha beta / (alpha + beta)
        and K = A G^-alpha + B G^beta, so x = (K / (L - E))^(1/g)."""
        if not math.isfinite(loss) or loss <= self.E:
            return None
        g = self.alpha * self.beta / (self.alpha + self.beta)
        k = self.A * self.G**-self.alpha + self.B * self.G**self.beta
        try:
            flops = FLOPS_PER_PARAM_TOKEN * math.exp((math.log(k) - math.log(loss - self.E)) / g)
        except (OverflowError, ValueError):
            return None
        return flops if math.isfinite(flops) and flops > 0 else None

    def flops_for_params(self, params: float) -> float:
        flops: float = FLOPS_PER_PARAM_TOKEN * (params / self.G) ** (1.0 / self.a)
        return flops

    def flops_for_tokens(self, tokens: float) -> float:
        flops: float = FLOPS_PER_PARAM_TOKEN * (tokens * self.G) ** (1.0 / self.b)
        return flops

    def loss(self, params: float, tokens: float) -> LossTerms:
        n_term = self.A / params**self.alpha
        d_term = self.B / tokens**self.beta
        return LossTerms(self.E + n_term + d_term, self.E, n_term, d_term)

    def data_ceiling(self, tokens: float) -> float:
        """L(inf, D): the best any model could do on `tokens` tokens."""
        ceiling: float = self.E + self.B / tokens**self.beta
        return ceiling

    def parameters(self) -> dict[str, float]:
        return {"E": self.E, "A": self.A, "B": self.B, "alpha": self.alpha, "beta": self.beta}

    def with_parameters(
        self, E: float, A: float, B: float, alpha: float, beta: float
    ) -> ParametricLaw:
        return ParametricLaw(self.name, E, A, B, alpha, beta, self.source, fit_range=self.fit_range)

    def sample_laws(self) -> list[ParametricLaw]:
        """One law per bootstrap sample the law carries (empty when it carries none)."""
        return [self.with_parameters(*row) for row in self.samples]


FORM_LOSS = {  # the fitted forms beyond Chinchilla's (forms.py), as a law file names them
    "kaplan": "E + [(N_c/N)^(alpha_N/alpha_D) + D_c/D]^alpha_D",
    "coupled": "E + (A/N^alpha + B/D^beta)^k",
}
FORM_KEYS = {
    "kaplan": ("E", "N_c", "D_c", "alpha_N", "alpha_D"),
    "coupled": ("E", "A", "B", "alpha", "beta", "k"),
}


@dataclass(frozen=True)
class FormLaw:
    """A fitted law of another form than Chinchilla's: L = E + (A/N^alpha + B/D^beta)^k.

    `form` "coupled" is that law with every parameter fitted (k = 1: Chinchilla's);
    "kaplan" is Kaplan et al. 2020's eq. 1.5 with an irreducible term, the case beta = 1,
    alpha = alpha_N/alpha_D, A = N_c^alpha, B = D_c, k = alpha_D (`parameters` names
    them so). Its compute-optimal N has no closed form: the minimum of L(N, C/(6N))
    over log N, by golden-section search."""

    name: str
    form: str
    E: float
    A: float
    B: float
    alpha: float
    beta: float
    k: float
    source: str = ""
    notes: tuple[str, ...] = ()
    fit_range: FitRange | None = None
    kind = "form"
    splits_6nd = True  # its N_opt and D_opt spend the budget exactly: 6 N D = C
    predicts_loss = True

    def loss(self, params: float, tokens: float) -> LossTerms:
        coupled = (self.A / params**self.alpha + self.B / tokens**self.beta) ** self.k
        return LossTerms(self.E + coupled)  # N and D interact: no additive split

    def optimal_params(self, flops: float) -> float:
        x = flops / FLOPS_PER_PARAM_TOKEN
        mid = 0.5 * math.log(x)  # N = D = sqrt(C/6); search 30 decades of D/N either side

        def log_loss(u: float) -> float:
            return math.log(self.loss(math.exp(u), x / math.exp(u)).total)

        return math.exp(golden_min(log_loss, mid - 35.0, mid + 35.0))

    def optimal_tokens(self, flops: float) -> float:
        return float(tokens_for(flops, self.optimal_params(flops)))

    def flops_for_params(self, params: float) -> float:
        return solve_increasing(self.optimal_params, params, 1.0, 1e60)

    def flops_for_tokens(self, tokens: float) -> float:
        return solve_increasing(self.optimal_tokens, tokens, 1.0, 1e60)

    def parameters(self) -> dict[str, float]:
        if self.form == "kaplan":
            return {
                "E": self.E,
                "N_c": self.A ** (1.0 / self.alpha),
                "D_c": self.B,
                "alpha_N": self.alpha * self.k,
                "alpha_D": self.k,
            }
        return {
            "E": self.E,
            "A": self.A,
            "B": self.B,
            "alpha": self.alpha,
            "beta": self.beta,
            "k": self.k,
        }


def form_law(
    name: str, form: str, values: dict[str, float], source: str = "", **extra: Any
) -> FormLaw:
    """A FormLaw from its parameters as `FormLaw.parameters` names them."""
    v = values
    if form == "kaplan":
        alpha = v["alpha_N"] / v["alpha_D"]
        return FormLaw(
            name,
            form,
            v["E"],
            v["N_c"] ** alpha,
            v["D_c"],
            alpha,
            1.0,
            v["alpha_D"],
            source,
            **extra,
        )
    return FormLaw(
        name, form, v["E"], v["A"], v["B"], v["alpha"], v["beta"], v["k"], source, **extra
    )


@dataclass(frozen=True)
class AllocationLaw:
    """N_opt = k C^a and D_opt = C / (6 N_opt): an allocation with no loss model.

    With basis "tokens" the power law is for the tokens instead (D_opt = k C^a, as the
    Llama 3 paper states its law) and N_opt = C / (6 D_opt).
    """

    name: str
    k: float
    a: float
    source: str = ""
    notes: tuple[str, ...] = ()
    basis: str = "params"
    fit_range: FitRange | None = None
    kind = "allocation"
    splits_6nd = True  # its N_opt and D_opt spend the budget exactly: 6 N D = C
    predicts_loss = False

    def _power(self, flops: float) -> float:
        value: float = self.k * flops**self.a
        return value

    def _inverse(self, value: float) -> float:
        # value = k C^a for the basis quantity; the other is C / (6 value)
        flops: float = (value / self.k) ** (1.0 / self.a)
        return flops

    def _inverse_other(self, value: float) -> float:
        # other = C / (6 k C^a) = C^(1-a) / (6k)  =>  C = (6 k other)^(1/(1-a))
        flops: float = (FLOPS_PER_PARAM_TOKEN * self.k * value) ** (1.0 / (1.0 - self.a))
        return flops

    def optimal_params(self, flops: float) -> float:
        if self.basis == "tokens":
            return flops / (FLOPS_PER_PARAM_TOKEN * self._power(flops))
        return self._power(flops)

    def optimal_tokens(self, flops: float) -> float:
        return flops / (FLOPS_PER_PARAM_TOKEN * self.optimal_params(flops))

    def flops_for_params(self, params: float) -> float:
        return self._inverse_other(params) if self.basis == "tokens" else self._inverse(params)

    def flops_for_tokens(self, tokens: float) -> float:
        return self._inverse(tokens) if self.basis == "tokens" else self._inverse_other(tokens)

    def loss(self, params: float, tokens: float) -> LossTerms | None:
        return None


@dataclass(frozen=True)
class KaplanLaw(AllocationLaw):
    """Kaplan et al. 2020: the allocation N ~ C^0.73 and L(N, D) (Table 2)."""

    N_c: float = 6.4e13
    D_c: float = 1.8e13
    alpha_N: float = 0.076
    alpha_D: float = 0.103
    kind = "kaplan"
    splits_6nd = True  # its N_opt and D_opt spend the budget exactly: 6 N D = C
    predicts_loss = True

    def loss(self, params: float, tokens: float) -> LossTerms:
        # Not a sum of terms: N and D interact inside the power.
        total = (
            (self.N_c / params) ** (self.alpha_N / self.alpha_D) + self.D_c / tokens
        ) ** self.alpha_D
        return LossTerms(total)


@dataclass(frozen=True)
class DeepSeekLaw:
    """DeepSeek LLM (Bi et al. 2024): the optimal model scale M (non-embedding FLOPs per
    token, M = 72·layers·d² + 12·layers·d·seq) and data D for a budget C = M·D (its
    learning-rate and batch-size laws are in presets/hyperparameters.yaml).

    M_opt is turned into parameters through a dense shape with d_model / layers =
    aspect_ratio: N = vocab·d + 12·layers·d². D_opt is the law's own, so 6 N D of the
    split is not C (M counts attention and no embeddings; 6 N the reverse).
    """

    name: str
    k_scale: float
    a_scale: float
    k_tokens: float
    a_tokens: float
    seq_len: int  # DeepSeek's setting of M's attention term (presets/laws.yaml)
    vocab_size: int
    aspect_ratio: float  # d_model / layers of the dense shape that converts M to N
    source: str = ""
    notes: tuple[str, ...] = ()
    fit_range: FitRange | None = None
    kind = "deepseek"
    predicts_loss = False
    # D_opt is DeepSeek's own (C = M D); N comes out of M through a dense shape, so the
    # split's 6 N D differs from C (plans say by how much)
    splits_6nd = False

    def optimal_scale(self, flops: float) -> float:
        """M_opt: non-embedding FLOPs per token."""
        scale: float = self.k_scale * flops**self.a_scale
        return scale

    def deepseek_tokens(self, flops: float) -> float:
        """D_opt as DeepSeek states it (C = M D, not 6 N D)."""
        tokens: float = self.k_tokens * flops**self.a_tokens
        return tokens

    def _width_for_scale(self, scale: float) -> float:
        r, s = self.aspect_ratio, self.seq_len
        return solve_increasing(lambda d: (72 * d**3 + 12 * d**2 * s) / r, scale, 1.0, 1e8)

    def params_for_scale(self, scale: float) -> float:
        d = self._width_for_scale(scale)
        return self.vocab_size * d + 12 * (d / self.aspect_ratio) * d**2

    def optimal_params(self, flops: float) -> float:
        return self.params_for_scale(self.optimal_scale(flops))

    def optimal_tokens(self, flops: float) -> float:
        return self.deepseek_tokens(flops)

    def flops_for_params(self, params: float) -> float:
        return solve_increasing(self.optimal_params, params)

    def flops_for_tokens(self, tokens: float) -> float:
        flops: float = (tokens / self.k_tokens) ** (1.0 / self.a_tokens)
        return flops

    def loss(self, params: float, tokens: float) -> LossTerms | None:
        return None


Law = ParametricLaw | AllocationLaw | KaplanLaw | DeepSeekLaw | FormLaw

KAPLAN_NOTE = (
    "kaplan2020 counts parameters without embeddings and its losses are in nats on "
    "WebText2: they are not comparable with the other laws' losses"
)
ALLOCATION_NOTE = "{name} is an allocation-only law: it predicts no loss"


def preset_law_names() -> list[str]:
    return list(load_presets("laws"))


def load_law(spec: str, what: str = "law") -> Law:
    """A law by preset name or from a YAML file path."""
    presets = load_presets("laws")
    key = spec.strip()
    written_as_path = key.endswith((".yaml", ".yml")) or "/" in key or "\\" in key
    preset = None if written_as_path else match(key, presets)
    if preset is not None:
        return law_from_mapping(preset, presets[preset], where=f"presets/laws.yaml:{preset}")
    if not (written_as_path or Path(key).exists()):
        raise InputError(
            unknown("law", spec, presets, "see `chinchilla presets laws`; or a law YAML file"),
            field=what,
        )
    data = read_yaml_file(key, what)
    if not isinstance(data, dict):
        raise InputError(
            f"{key}: not a law (expected a mapping with name, E, A, B, alpha, beta)", field=what
        )
    name = str(data.get("name") or Path(key).stem)
    return law_from_mapping(name, data, where=key, what=what)


_FIELDS = {
    "parametric": ("E", "A", "B", "alpha", "beta"),
    "allocation": ("a",),
    "kaplan": ("a", "N_c", "D_c", "alpha_N", "alpha_D"),
    "deepseek": (
        "k_scale",
        "a_scale",
        "k_tokens",
        "a_tokens",
        "seq_len",
        "vocab_size",
    ),
}
# What each kind needs, as its error message says it
_NEEDS = {
    "parametric": "E, A, B, alpha, beta",
    "allocation": "a, and k or anchor_flops with anchor_params",
    "kaplan": "a, k (or anchor_flops with anchor_params), N_c, D_c, alpha_N, alpha_D",
    "deepseek": "k_scale, a_scale, k_tokens, a_tokens, seq_len, vocab_size",
}
_OPTIONAL = {
    "name",
    "kind",
    "source",
    "k",
    "anchor_flops",
    "anchor_params",
    "samples",
    "samples_source",
    "ci",
    "fit",
    "basis",
    "R_D_star",
    "R_N_star",
    "seq_len",
    "vocab_size",
    "aspect_ratio",
    "fit_range",
    "accuracy",
    "form",
}


def resolve_law(law: str | Law | None) -> Law:
    """A law object from a preset name, a YAML path, a Law, or None (the default law)."""
    if law is None:
        return load_law(DEFAULT_LAW)
    if isinstance(law, str):
        return load_law(law)
    return law


def _law_keys(kind: str, data: dict[str, Any], where: str, what: str) -> tuple[str, ...]:
    """Refuse a mapping missing a key its kind needs; the notes on keys it ignores."""
    if kind not in _FIELDS:
        raise InputError(
            f"{where}: unknown kind {kind!r}; expected one of {', '.join(_FIELDS)}", field=what
        )
    extra = sorted(set(map(str, data)) - set(_FIELDS[kind]) - _OPTIONAL)
    missing = [f for f in _FIELDS[kind] if f not in data]
    if missing:
        hint = f"; unknown: {', '.join(did_you_mean(k, _FIELDS[kind]) for k in extra)}"
        raise InputError(
            f"{where}: not a {kind} law: missing {', '.join(missing)} "
            f"(a {kind} law needs {_NEEDS[kind]}){hint if extra else ''}",
            field=what,
        )
    known = (*_FIELDS[kind], *_OPTIONAL)
    return tuple(f"{where}: ignored unknown key {did_you_mean(k, known)}" for k in extra)


def law_from_mapping(name: str, data: dict[str, Any], where: str, what: str = "law") -> Law:
    """The law a preset or YAML mapping describes (its `kind`: parametric by default);
    an InputError about `what` naming `where` when a value is missing or out of range."""
    kind = str(data.get("kind", "parametric"))
    form = data.get("form")
    if form is not None and str(form) != "chinchilla":
        return _form_law(name, str(form), data, where, what)
    notes = _law_keys(kind, data, where, what)

    def num(key: str, allow_zero: bool = False, signed: bool = False) -> float:
        v = data[key]
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
            raise InputError(f"{where}: {key} must be a finite number, got {v!r}", field=what)
        if not signed and (v < 0 or (v == 0 and not allow_zero)):
            raise InputError(f"{where}: {key} must be positive, got {v!r}", field=what)
        return float(v)

    def opt_num(key: str) -> float | None:
        return num(key) if data.get(key) is not None else None

    source = str(data.get("source", "")).strip()
    fit_range = _fit_range(data.get("fit_range"), where, what)
    if kind == "parametric":
        samples = _samples(data.get("samples"), where, what)
        return ParametricLaw(
            name,
            num("E", allow_zero=True),
            num("A"),
            num("B"),
            num("alpha"),
            num("beta"),
            source,
            notes,
            samples,
            str(data.get("samples_source", "")).strip(),
            opt_num("R_D_star"),
            opt_num("R_N_star"),
            fit_range,
            accuracy=_accuracy(data.get("accuracy"), where, what, len(samples)),
        )
    if "accuracy" in data:
        raise InputError(
            f"{where}: accuracy: an accuracy forecast goes with a parametric law (the "
            f"metric as a sigmoid of its loss), not a {kind} one",
            field=what,
        )
    if kind == "deepseek":
        return DeepSeekLaw(
            name,
            num("k_scale"),
            num("a_scale"),
            num("k_tokens"),
            num("a_tokens"),
            int(num("seq_len")),
            int(num("vocab_size")),
            opt_num("aspect_ratio") or DEFAULT_ASPECT_RATIO,
            source,
            notes
            + (
                f"{name} gives model scale M in non-embedding FLOPs per token (C = M·D); "
                "N here is converted from M through a dense shape and D is the law's own",
            ),
            fit_range,
        )
    return _allocation_law(name, kind, num, source, notes, fit_range, data, where, what)


def _allocation_law(
    name: str,
    kind: str,
    num: Callable[[str], float],
    source: str,
    notes: tuple[str, ...],
    fit_range: FitRange | None,
    data: dict[str, Any],
    where: str,
    what: str,
) -> Law:
    """An allocation-only or Kaplan law: N_opt = k C^a (k given or from an anchor)."""
    a = num("a")
    if a >= 1:
        raise InputError(f"{where}: a must be below 1 (N_opt = k C^a), got {a!r}", field=what)
    if "k" in data:
        k = num("k")
    elif "anchor_flops" in data and "anchor_params" in data:
        k = num("anchor_params") / num("anchor_flops") ** a
    else:
        raise InputError(f"{where}: give k, or anchor_flops and anchor_params", field=what)
    if kind == "allocation":
        basis = str(data.get("basis", "params"))
        if basis not in ("params", "tokens"):
            raise InputError(f"{where}: basis must be params or tokens, got {basis!r}", field=what)
        return AllocationLaw(
            name, k, a, source, notes + (ALLOCATION_NOTE.format(name=name),), basis, fit_range
        )
    return KaplanLaw(
        name,
        k,
        a,
        source,
        notes + (KAPLAN_NOTE,),
        fit_range=fit_range,
        N_c=num("N_c"),
        D_c=num("D_c"),
        alpha_N=num("alpha_N"),
        alpha_D=num("alpha_D"),
    )


def _accuracy(raw: Any, where: str, what: str, n_samples: int) -> AccuracyFit | None:
    """The `accuracy:` block (a task metric as a sigmoid of the loss), if any."""
    if raw is None:
        return None
    from chinchilla_cli.accuracy import from_mapping

    return from_mapping(raw, where, n_samples, what)


_RANGE_KEYS = ("params", "tokens", "flops", "tokens_per_param")


def _fit_range(raw: Any, where: str, what: str) -> FitRange | None:
    """`fit_range: {params: [lo, hi], ...}`; null bounds and quantities allowed."""
    if raw is None:
        return None
    expected = (
        f"fit_range must map {', '.join(_RANGE_KEYS)} to [low, high] "
        "(positive numbers or null, low <= high)"
    )
    if not isinstance(raw, dict) or not set(map(str, raw)) <= set(_RANGE_KEYS):
        raise InputError(f"{where}: {expected}", field=what)
    bounds: dict[str, Bound | None] = {}
    for key in _RANGE_KEYS:
        pair = raw.get(key)
        if pair is None:
            bounds[key] = None
            continue
        ok = (
            isinstance(pair, list)
            and len(pair) == 2
            and all(
                x is None
                or (
                    isinstance(x, (int, float))
                    and not isinstance(x, bool)
                    and math.isfinite(x)
                    and x > 0
                )
                for x in pair
            )
        )
        if not ok or (None not in pair and pair[0] > pair[1]):
            raise InputError(f"{where}: {expected}; got {key}: {pair!r}", field=what)
        lo, hi = pair
        bounds[key] = (None if lo is None else float(lo), None if hi is None else float(hi))
    return FitRange(**bounds)


def _samples(
    raw: Any, where: str, what: str
) -> tuple[tuple[float, float, float, float, float], ...]:
    if raw is None:
        return ()
    ok = isinstance(raw, list) and all(
        isinstance(r, list)
        and len(r) == 5
        and all(
            isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x) for x in r
        )
        for r in raw
    )
    if not ok:
        raise InputError(
            f"{where}: samples must be a list of [E, A, B, alpha, beta] rows", field=what
        )
    return tuple(tuple(float(x) for x in r) for r in raw)  # type: ignore[misc]


def _form_law(name: str, form: str, data: dict[str, Any], where: str, what: str) -> FormLaw:
    """A law file with `form:` kaplan or coupled (saved by `fit` with `form`)."""
    if form not in FORM_KEYS:
        raise InputError(
            f"{where}: unknown form {form!r}; expected chinchilla, {', '.join(FORM_KEYS)}",
            field=what,
        )
    keys = FORM_KEYS[form]
    missing = [k for k in keys if k not in data]
    if missing:
        raise InputError(
            f"{where}: not a {form} law: missing {', '.join(missing)} (a {form} law needs "
            f"{', '.join(keys)})",
            field=what,
        )
    values = {}
    for key in keys:
        v = data[key]
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
            raise InputError(f"{where}: {key} must be a finite number, got {v!r}", field=what)
        if v < 0 or (v == 0 and key != "E"):
            raise InputError(f"{where}: {key} must be positive, got {v!r}", field=what)
        values[key] = float(v)
    known = {*keys, *_OPTIONAL}
    notes = tuple(
        f"{where}: ignored unknown key {did_you_mean(str(k), known)}"
        for k in sorted(set(map(str, data)) - known)
    )
    return form_law(
        name,
        form,
        values,
        str(data.get("source", "")).strip(),
        notes=notes,
        fit_range=_fit_range(data.get("fit_range"), where, what),
    )

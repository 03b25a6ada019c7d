"""Scaling laws: how loss depends on parameters N and tokens D, and the allocation
of a FLOP budget C = 6 N D that they imply.

Four kinds, one interface (`optimal_params`, `optimal_tokens`, `flops_for_params`,
`flops_for_tokens`, `loss`):
- ParametricLaw: Hoffmann et al. 2022 Approach 3, L = E + A/N^alpha + B/D^beta.
- AllocationLaw: N_opt = k C^a, no loss (Approaches 1 and 2).
- KaplanLaw: Kaplan et al. 2020's allocation and loss (non-embedding N).
- DeepSeekLaw: DeepSeek 2024's allocation in model scale M (C = M D).
Reading a law from a preset or a file: law_files.py (`load_law`, `resolve_law`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from chinchilla_cli.architecture import FLOPS_PER_PARAM_TOKEN as FLOPS_PER_PARAM_TOKEN
from chinchilla_cli.fit_defaults import CI_LEVEL
from chinchilla_cli.moe_scaling import FineGrainedMoE, JointMoE
from chinchilla_cli.quantity import accepts_quantities
from chinchilla_cli.solvers import golden_min, solve_increasing

if TYPE_CHECKING:  # a plan loads them only when its law carries them
    from chinchilla_cli.accuracy import AccuracyFit
    from chinchilla_cli.prediction import Prediction, RunNoise

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
        from chinchilla_cli.quantity import human, sci, times

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
                    f"{label} {show(value)} is {times(value / hi)} the largest fitted ({show(hi)})"
                )
            elif lo is not None and value < lo / factor:
                out.append(
                    f"{label} {show(value)} is {times(lo / value)} below the smallest "
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
    # run-to-run noise of log loss around the law, from its fit's residuals (prediction.py)
    noise: RunNoise | None = None
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

    @accepts_quantities
    def predict(self, params: float, tokens: float, level: float = CI_LEVEL) -> Prediction:
        """The loss of a run of `params` trained on `tokens` (numbers, or text as the
        command line takes them: "10B"), with the law's `level`% interval (over its
        bootstrap samples) and a new run's (adding the run-to-run noise of its fit); either
        is None when the law carries no samples or no noise."""
        from chinchilla_cli.prediction import check_run, predict_loss

        check_run(params, tokens, level)
        losses = [s.loss(params, tokens).total for s in self.sample_laws()]
        total = self.loss(params, tokens).total
        return predict_loss(params, tokens, total, losses, self.noise, level)


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


@dataclass(frozen=True)
class JointMoELaw(ParametricLaw):
    """Ludziejewski et al. 2025's Joint MoE law (moe_scaling.JointMoE) at `experts`
    experts: at a fixed expert count it is Hoffmann et al.'s form in ACTIVE parameters
    (embeddings included), so its frontier under C = 6 N_act D is the closed form of
    ParametricLaw. `at_experts` gives the law at another count; one expert is its dense
    form. `moe_samples` are bootstrap rows of the eleven constants (a fitted law)."""

    moe: JointMoE | None = None
    experts: int = 1
    moe_samples: tuple[tuple[float, ...], ...] = field(default=(), repr=False)
    # the expert counts and total parameters of the runs it was fitted to
    fit_experts: Bound | None = None
    fit_total_params: Bound | None = None
    kind = "joint_moe"

    def at_experts(self, experts: int) -> JointMoELaw:
        assert self.moe is not None
        return joint_moe_law(
            self.name, self.moe, experts, self.source, self.notes, self.fit_range,
            self.moe_samples, self.samples_source, self.fit_experts, self.fit_total_params,
        )  # fmt: skip

    def sample_laws(self) -> list[ParametricLaw]:
        return [
            joint_moe_law(self.name, JointMoE(*row), self.experts, fit_range=self.fit_range)
            for row in self.moe_samples
        ]


def joint_moe_law(
    name: str,
    moe: JointMoE,
    experts: int = 1,
    source: str = "",
    notes: tuple[str, ...] = (),
    fit_range: FitRange | None = None,
    moe_samples: tuple[tuple[float, ...], ...] = (),
    samples_source: str = "",
    fit_experts: Bound | None = None,
    fit_total_params: Bound | None = None,
) -> JointMoELaw:
    """The Joint MoE law `moe` at `experts` experts."""
    c, A, alpha, B, beta = moe.coefficients(experts)
    # samples: a marker that the law carries intervals (sample_laws reads moe_samples)
    return JointMoELaw(
        name, c, A, B, alpha, beta, source, notes,
        samples=tuple((c, A, B, alpha, beta) for _ in moe_samples),
        samples_source=samples_source, fit_range=fit_range, moe=moe, experts=experts,
        moe_samples=moe_samples, fit_experts=fit_experts, fit_total_params=fit_total_params,
    )  # fmt: skip


@dataclass(frozen=True)
class FineGrainedMoELaw:
    """Krajewski et al. 2024's fine-grained MoE law (moe_scaling.FineGrainedMoE) at
    `granularity` G, under its own FLOP model (eq. 10, which charges the router).

    To share the interface of the other laws (C = 6 N D), N here is the
    compute-equivalent ACTIVE parameter count F / (6 D) of eq. 10 (the dense path
    12 d² n_blocks plus the router's FLOPs); `total_params` converts it to the law's own
    N, the total non-embedding parameters. Its frontier is found numerically.
    """

    name: str
    moe: FineGrainedMoE
    granularity: float = 1.0
    source: str = ""
    notes: tuple[str, ...] = ()
    fit_range: FitRange | None = None
    fit_granularity: Bound | None = None
    fit_total_params: Bound | None = None
    kind = "fine_grained_moe"
    splits_6nd = True  # 6 N D = C by construction of N (eq. 10's FLOPs over 6 D)
    predicts_loss = True

    def at_granularity(self, granularity: float) -> FineGrainedMoELaw:
        return replace(self, granularity=float(granularity))

    def blocks(self, params: float) -> float:
        return self.moe.blocks_for_flops_per_token(FLOPS_PER_PARAM_TOKEN * params, self.granularity)

    def total_params(self, params: float) -> float:
        """The law's N (total non-embedding) of the model with `params` active."""
        return self.moe.total_for_blocks(self.blocks(params))

    def loss(self, params: float, tokens: float) -> LossTerms:
        if getattr(params, "shape", None) is not None:  # arrays (a figure's landscape)
            import numpy as np

            total = np.vectorize(self.total_params)(params)
        else:
            total = self.total_params(params)
        m = self.moe
        n_term = (m.g / self.granularity**m.gamma + m.a) / total**m.alpha
        d_term = m.b / tokens**m.beta
        return LossTerms(m.c + n_term + d_term, m.c, n_term, d_term)

    def tokens_for_blocks(self, blocks: float) -> float:
        """D_opt of the model of `blocks` blocks: where the loss's slope in ln N (at
        C = 6 N D fixed) is zero, alpha N-term dlnT/dlnN = beta D-term, dlnT/dlnN being
        3 over the slope of eq. 10's FLOPs in n_blocks."""
        m, g = self.moe, self.granularity
        n_term = (m.g / g**m.gamma + m.a) / m.total_for_blocks(blocks) ** m.alpha
        slope = m.flops_slope(blocks, g)
        tokens: float = (m.beta * m.b * slope / (3 * m.alpha * n_term)) ** (1 / m.beta)
        return tokens

    def _budget_of_blocks(self, blocks: float) -> float:
        return self.moe.flops_per_token(blocks, self.granularity) * self.tokens_for_blocks(blocks)

    def optimal_params(self, flops: float) -> float:
        blocks = solve_increasing(self._budget_of_blocks, flops, 1e-6, 1e9)
        return self.moe.flops_per_token(blocks, self.granularity) / FLOPS_PER_PARAM_TOKEN

    def optimal_tokens(self, flops: float) -> float:
        return float(tokens_for(flops, self.optimal_params(flops)))

    def flops_for_params(self, params: float) -> float:
        return FLOPS_PER_PARAM_TOKEN * params * self.tokens_for_blocks(self.blocks(params))

    def flops_for_tokens(self, tokens: float) -> float:
        blocks = solve_increasing(self.tokens_for_blocks, tokens, 1e-6, 1e9)
        return self.moe.flops_per_token(blocks, self.granularity) * tokens


Law = ParametricLaw | AllocationLaw | KaplanLaw | DeepSeekLaw | FineGrainedMoELaw | FormLaw
# kinds whose losses are on another dataset or tokenizer, or whose N counts differently:
# not comparable with the other laws' losses (views mark them)
INCOMPARABLE_KINDS = ("kaplan", "joint_moe", "fine_grained_moe")
MOE_LAW_NOTE = (
    "{name}'s losses are on {data}: not comparable with the dense laws' losses "
    "(besiroglu2024, hoffmann2022...)"
)

KAPLAN_NOTE = (
    "kaplan2020 counts parameters without embeddings and its losses are in nats on "
    "WebText2: they are not comparable with the other laws' losses"
)
ALLOCATION_NOTE = "{name} is an allocation-only law: it predicts no loss"

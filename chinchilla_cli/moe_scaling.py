"""The two mixture-of-experts scaling laws, as formulas: pure arithmetic, no loading.

Joint MoE (Ludziejewski et al. 2025, arXiv 2502.05172, eq. 6 and Table 3): the loss of
an MoE with E experts, N_act ACTIVE parameters (embeddings included) trained on D tokens,

    L(N_act, D, E) = a Ê^δ N_act^(α + γ ln Ê) + b Ê^ω D^(β + ζ ln Ê) + c,

where Ê saturates the expert count (eq. 4, after Clark et al. 2022): 1/Ê =
1/(E - 1 + (1/E_start - 1/E_max)^-1) + 1/E_max, so a dense model (E = 1) has Ê = E_start.
At a fixed E it is Hoffmann et al.'s form E' + A/N^alpha + B/D^beta with A = a Ê^δ,
alpha = -(α + γ ln Ê) and so on (`JointMoE.coefficients`), its compute C = 6 N_act D.
Experts are top-1 and each the size of the dense FFN (Switch-style).

Fine-grained MoE (Krajewski et al. 2024, arXiv 2402.07871, eq. 9 and Table 1):

    L(N, D, G) = c + (g / G^γ + a) / N^α + b / D^β,

N the TOTAL non-embedding parameters at expansion rate E = 64 (every MoE layer holds 64
times the dense FFN), G the granularity (each token routed to G experts of 1/G the FFN
width), with its own FLOP model (eq. 10) that charges the router:
F = (12 d² c_f + d E G c_r) D n_blocks, c_f = 6, c_r = 14, d = 64 n_blocks and
N = d² (8E + 4) n_blocks.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields

from chinchilla_cli.errors import InputError
from chinchilla_cli.solvers import solve_increasing

# Joint MoE, Appendix A.1: the GPT-2 vocabulary its N_act counts in embeddings, and its
# blocks: N_blocks = d_model / 64 (A.3), attention 4 d², each expert 9 d²
JOINT_VOCAB = 50_257
JOINT_WIDTH_PER_BLOCK = 64


@dataclass(frozen=True)
class JointMoE:
    """The eleven constants of the Joint MoE law (Table 3 for the published fit)."""

    a: float
    alpha: float
    delta: float
    gamma: float
    b: float
    beta: float
    omega: float
    zeta: float
    E_start: float
    E_max: float
    c: float

    def __post_init__(self) -> None:
        if not 1.0 <= self.E_start < self.E_max:
            raise InputError(
                f"E_start must be at least 1 and below E_max, got {self.E_start} and {self.E_max}",
                field="law",
            )

    @classmethod
    def names(cls) -> tuple[str, ...]:
        return tuple(f.name for f in fields(cls))

    def as_tuple(self) -> tuple[float, ...]:
        return tuple(float(getattr(self, n)) for n in self.names())

    def saturated(self, experts: float) -> float:
        """Ê (eq. 4): E_start at one expert, rising towards E_max."""
        inner = experts - 1.0 + 1.0 / (1.0 / self.E_start - 1.0 / self.E_max)
        return 1.0 / (1.0 / inner + 1.0 / self.E_max)

    def coefficients(self, experts: float) -> tuple[float, float, float, float, float]:
        """(irreducible, A, alpha, B, beta) of L = irreducible + A/N^alpha + B/D^beta at
        `experts` experts: A = a Ê^δ, alpha = -(α + γ ln Ê), B = b Ê^ω, beta = -(β + ζ ln Ê)."""
        e_hat = self.saturated(experts)
        log_e = math.log(e_hat)
        return (
            self.c,
            self.a * e_hat**self.delta,
            -(self.alpha + self.gamma * log_e),
            self.b * e_hat**self.omega,
            -(self.beta + self.zeta * log_e),
        )

    def loss(self, active_params: float, tokens: float, experts: float) -> float:
        c, A, alpha, B, beta = self.coefficients(experts)
        return float(c + A / active_params**alpha + B / tokens**beta)


def joint_learning_rate(
    non_embedding_active_params: float,
    experts: int,
    intercept: float,
    params_exponent: float,
    experts_exponent: float,
) -> float:
    """The Joint MoE paper's peak learning rate (eq. 8), LR = exp(intercept + params ln
    N_act,non-embedding + experts ln E); the constants are in presets/laws.yaml."""
    return math.exp(
        intercept
        + params_exponent * math.log(non_embedding_active_params)
        + experts_exponent * math.log(experts)
    )


def joint_shape_params(active_params: float, experts: int) -> tuple[float, float]:
    """(d_model, total parameters) of the Joint MoE paper's own shape (Appendix A.1) with
    `active_params` active: N_act = 2 d V + 13 N_blocks d², N_total = 2 d V + (4 + 9E)
    N_blocks d², N_blocks = d / 64."""

    def active(d: float) -> float:
        return 2 * d * JOINT_VOCAB + 13 * d**3 / JOINT_WIDTH_PER_BLOCK

    d = solve_increasing(active, active_params, 1.0, 1e7)
    total = 2 * d * JOINT_VOCAB + (4 + 9 * experts) * d**3 / JOINT_WIDTH_PER_BLOCK
    return d, total


# Fine-grained MoE eq. 10's constants: FLOPs per parameter of the dense part (c_f), of
# the router per d·E·G (c_r), width per block, and the expansion rate Table 1 fixes
FG_FLOPS_DENSE, FG_FLOPS_ROUTER, FG_WIDTH_PER_BLOCK, FG_EXPANSION = 6, 14, 64, 64


@dataclass(frozen=True)
class FineGrainedMoE:
    """The constants of the fine-grained MoE law (Table 1, expansion 64)."""

    a: float
    alpha: float
    b: float
    beta: float
    g: float
    gamma: float
    c: float
    expansion: int = FG_EXPANSION

    @classmethod
    def names(cls) -> tuple[str, ...]:
        return tuple(f.name for f in fields(cls))

    def loss(self, total_params: float, tokens: float, granularity: float) -> float:
        """L(N, D, G) with N the total non-embedding parameters."""
        n_term = (self.g / granularity**self.gamma + self.a) / total_params**self.alpha
        return float(self.c + n_term + self.b / tokens**self.beta)

    # ---------------------------------------------------------------- eq. 10
    def blocks_for_total(self, total_params: float) -> float:
        """n_blocks of the model with `total_params` = d² (8E + 4) n, d = 64 n."""
        per = FG_WIDTH_PER_BLOCK**2 * (8 * self.expansion + 4)
        return float((total_params / per) ** (1.0 / 3.0))

    def total_for_blocks(self, blocks: float) -> float:
        d = FG_WIDTH_PER_BLOCK * blocks
        return d * d * (8 * self.expansion + 4) * blocks

    def flops_per_token(self, blocks: float, granularity: float) -> float:
        """F / D = (12 d² c_f + d E G c_r) n_blocks (eq. 10; the router grows with G)."""
        d = FG_WIDTH_PER_BLOCK * blocks
        dense = 12 * d * d * FG_FLOPS_DENSE
        router = d * self.expansion * granularity * FG_FLOPS_ROUTER
        return (dense + router) * blocks

    def flops_slope(self, blocks: float, granularity: float) -> float:
        """d ln(F/D) / d ln n_blocks: 3 for the dense path (d ∝ n), 2 for the router."""
        d = FG_WIDTH_PER_BLOCK * blocks
        dense = 12 * d * d * FG_FLOPS_DENSE
        router = d * self.expansion * granularity * FG_FLOPS_ROUTER
        return (3 * dense + 2 * router) / (dense + router)

    def flops(self, total_params: float, tokens: float, granularity: float) -> float:
        """Training FLOPs of eq. 10 for N total non-embedding parameters on D tokens."""
        return self.flops_per_token(self.blocks_for_total(total_params), granularity) * tokens

    def blocks_for_flops_per_token(self, flops_per_token: float, granularity: float) -> float:
        return solve_increasing(
            lambda n: self.flops_per_token(n, granularity), flops_per_token, 1e-6, 1e9
        )

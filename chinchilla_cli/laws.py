"""Scaling laws: how loss depends on parameters N and tokens D, and the allocation
of a FLOP budget C = 6 N D that they imply.

Three kinds, one interface (`optimal_params`, `optimal_tokens`, `flops_for_params`,
`flops_for_tokens`, `loss`):
- ParametricLaw: Hoffmann et al. 2022 Approach 3, L = E + A/N^alpha + B/D^beta.
- AllocationLaw: N_opt = k C^a, no loss (Approaches 1 and 2).
- KaplanLaw: Kaplan et al. 2020's allocation and loss (non-embedding N).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Union

from chinchilla_cli.errors import InputError
from chinchilla_cli.presets import load_presets, read_yaml_file

DEFAULT_LAW = "besiroglu2024"
FLOPS_PER_PARAM_TOKEN = 6.0  # C = 6 N D: forward 2ND plus backward 4ND


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
    kind = "parametric"
    predicts_loss = True

    # Frontier (HOF eq. 4): N_opt = G (C/6)^a, D_opt = G^-1 (C/6)^b.
    @property
    def a(self) -> float:
        return self.beta / (self.alpha + self.beta)

    @property
    def b(self) -> float:
        return self.alpha / (self.alpha + self.beta)

    @property
    def G(self) -> float:
        return (self.alpha * self.A / (self.beta * self.B)) ** (1.0 / (self.alpha + self.beta))

    def optimal_params(self, flops: float) -> float:
        return self.G * (flops / FLOPS_PER_PARAM_TOKEN) ** self.a

    def optimal_tokens(self, flops: float) -> float:
        return (flops / FLOPS_PER_PARAM_TOKEN) / self.optimal_params(flops)

    def flops_for_params(self, params: float) -> float:
        return FLOPS_PER_PARAM_TOKEN * (params / self.G) ** (1.0 / self.a)

    def flops_for_tokens(self, tokens: float) -> float:
        return FLOPS_PER_PARAM_TOKEN * (tokens * self.G) ** (1.0 / self.b)

    def loss(self, params: float, tokens: float) -> LossTerms:
        n_term = self.A / params**self.alpha
        d_term = self.B / tokens**self.beta
        return LossTerms(self.E + n_term + d_term, self.E, n_term, d_term)

    def data_ceiling(self, tokens: float) -> float:
        """L(inf, D): the best any model could do on `tokens` tokens."""
        return self.E + self.B / tokens**self.beta

    def parameters(self) -> dict[str, float]:
        return {"E": self.E, "A": self.A, "B": self.B, "alpha": self.alpha, "beta": self.beta}

    def with_parameters(self, E: float, A: float, B: float, alpha: float, beta: float) -> ParametricLaw:
        return ParametricLaw(self.name, E, A, B, alpha, beta, self.source)


@dataclass(frozen=True)
class AllocationLaw:
    """N_opt = k C^a and D_opt = C / (6 N_opt): an allocation with no loss model."""

    name: str
    k: float
    a: float
    source: str = ""
    notes: tuple[str, ...] = ()
    kind = "allocation"
    predicts_loss = False

    def optimal_params(self, flops: float) -> float:
        return self.k * flops**self.a

    def optimal_tokens(self, flops: float) -> float:
        return flops / (FLOPS_PER_PARAM_TOKEN * self.optimal_params(flops))

    def flops_for_params(self, params: float) -> float:
        return (params / self.k) ** (1.0 / self.a)

    def flops_for_tokens(self, tokens: float) -> float:
        # D = C^(1-a) / (6k)  =>  C = (6 k D)^(1/(1-a))
        return (FLOPS_PER_PARAM_TOKEN * self.k * tokens) ** (1.0 / (1.0 - self.a))

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
    predicts_loss = True

    def loss(self, params: float, tokens: float) -> LossTerms:
        # Not a sum of terms: N and D interact inside the power.
        total = ((self.N_c / params) ** (self.alpha_N / self.alpha_D) + self.D_c / tokens) ** self.alpha_D
        return LossTerms(total)


Law = Union[ParametricLaw, AllocationLaw, KaplanLaw]

KAPLAN_NOTE = (
    "kaplan2020 counts parameters without embeddings and its losses are in nats on "
    "WebText2: they are not comparable with the other laws' losses"
)
ALLOCATION_NOTE = "{name} is an allocation-only law: it predicts no loss"


def preset_law_names() -> list[str]:
    return list(load_presets("laws"))


def load_law(spec: str, what: str = "--law") -> Law:
    """A law by preset name or from a YAML file path."""
    presets = load_presets("laws")
    key = spec.strip()
    if key.lower() in presets:
        return law_from_mapping(key.lower(), presets[key.lower()], where=f"presets/laws.yaml:{key}")
    looks_like_path = key.endswith((".yaml", ".yml")) or "/" in key or "\\" in key or Path(key).exists()
    if not looks_like_path:
        raise InputError(
            f"{what}: unknown law {spec!r}; known: {', '.join(presets)}, or a path to a law YAML file"
        )
    data = read_yaml_file(key, what)
    if not isinstance(data, dict):
        raise InputError(f"{what}: {key}: not a law (expected a mapping with name, E, A, B, alpha, beta)")
    name = str(data.get("name") or Path(key).stem)
    return law_from_mapping(name, data, where=key, what=what)


_FIELDS = {
    "parametric": ("E", "A", "B", "alpha", "beta"),
    "allocation": ("a",),
    "kaplan": ("a", "N_c", "D_c", "alpha_N", "alpha_D"),
}
_OPTIONAL = {"name", "kind", "source", "k", "anchor_flops", "anchor_params", "samples",
             "samples_source", "ci", "fit"}


def law_from_mapping(name: str, data: dict[str, Any], where: str, what: str = "--law") -> Law:
    kind = str(data.get("kind", "parametric"))
    if kind not in _FIELDS:
        raise InputError(f"{what}: {where}: unknown kind {kind!r}; expected one of {', '.join(_FIELDS)}")
    missing = [f for f in _FIELDS[kind] if f not in data]
    if missing:
        raise InputError(
            f"{what}: {where}: not a {kind} law: missing {', '.join(missing)} "
            f"(a parametric law needs name, E, A, B, alpha, beta)"
        )
    extra = sorted(set(map(str, data)) - set(_FIELDS[kind]) - _OPTIONAL)
    notes = tuple(f"{where}: ignored unknown key {k!r}" for k in extra)

    def num(key: str, allow_zero: bool = False) -> float:
        v = data[key]
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
            raise InputError(f"{what}: {where}: {key} must be a finite number, got {v!r}")
        if v < 0 or (v == 0 and not allow_zero):
            raise InputError(f"{what}: {where}: {key} must be positive, got {v!r}")
        return float(v)

    source = str(data.get("source", "")).strip()
    if kind == "parametric":
        samples = _samples(data.get("samples"), where, what)
        return ParametricLaw(name, num("E", allow_zero=True),
                             num("A"), num("B"), num("alpha"), num("beta"), source, notes,
                             samples, str(data.get("samples_source", "")).strip())
    a = num("a")
    if a >= 1:
        raise InputError(f"{what}: {where}: a must be below 1 (N_opt = k C^a), got {a!r}")
    if "k" in data:
        k = num("k")
    elif "anchor_flops" in data and "anchor_params" in data:
        k = num("anchor_params") / num("anchor_flops") ** a
    else:
        raise InputError(f"{what}: {where}: give k, or anchor_flops and anchor_params")
    if kind == "allocation":
        return AllocationLaw(name, k, a, source, notes + (ALLOCATION_NOTE.format(name=name),))
    return KaplanLaw(name, k, a, source, notes + (KAPLAN_NOTE,), num("N_c"), num("D_c"),
                     num("alpha_N"), num("alpha_D"))


def _samples(raw: Any, where: str, what: str) -> tuple[tuple[float, float, float, float, float], ...]:
    if raw is None:
        return ()
    ok = isinstance(raw, list) and all(
        isinstance(r, list) and len(r) == 5
        and all(isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x) for x in r)
        for r in raw
    )
    if not ok:
        raise InputError(f"{what}: {where}: samples must be a list of [E, A, B, alpha, beta] rows")
    return tuple(tuple(float(x) for x in r) for r in raw)  # type: ignore[misc]

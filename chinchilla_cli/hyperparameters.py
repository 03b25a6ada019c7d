"""Learning-rate and batch-size laws: what peak learning rate and what batch (in tokens)
published fits give for a run of N parameters on D tokens, or for a budget of C FLOPs.

The laws live in presets/hyperparameters.yaml, one power law per quantity,
    value = coefficient * N^a * D^b * C^c,
with the exponents a law does not use left at 0:
- Step Law (Li et al. 2025, arXiv 2503.04715): lr = 1.797 N^-0.7129 D^0.3075 and
  B = 0.5807 D^0.5709 tokens. It needs N and D: at a fixed budget the optimal learning
  rate still moves with the split, which a C-only law cannot say.
- DeepSeek LLM (arXiv 2401.02954, eq. 1): lr = 0.3118 C^-0.125, B = 0.2920 C^0.3271
  tokens, with C = M D counted in non-embedding FLOPs. Its constants are corroborated,
  not checked in the paper's text: results carry a note saying so.
Each preset's `status` and `source` say how its constants were checked.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from typing import Any

from chinchilla_cli.errors import InputError
from chinchilla_cli.laws import FLOPS_PER_PARAM_TOKEN

KIND = "hyperparameters"  # presets/hyperparameters.yaml
STATUSES = ("verified", "corroborated")
_VARIABLES = ("params", "tokens", "flops")
_SYMBOLS = {"params": "N", "tokens": "D", "flops": "C"}
_ENTRY_KEYS = (
    "learning_rate",
    "batch_tokens",
    "lr_formula",
    "batch_formula",
    "status",
    "source",
    "params_definition",
    "flops_definition",
    "notes",
)


@dataclass(frozen=True)
class PowerLaw:
    """coefficient * params^params_exponent * tokens^tokens_exponent * flops^flops_exponent."""

    coefficient: float
    params_exponent: float = 0.0
    tokens_exponent: float = 0.0
    flops_exponent: float = 0.0

    @property
    def variables(self) -> tuple[str, ...]:
        """The inputs the law depends on, of params, tokens and flops."""
        return tuple(v for v in _VARIABLES if getattr(self, f"{v}_exponent") != 0)

    def __call__(
        self, params: float | None = None, tokens: float | None = None, flops: float | None = None
    ) -> float:
        """The law's value; every input it depends on must be given."""
        given = {"params": params, "tokens": tokens, "flops": flops}
        value = self.coefficient
        for name in self.variables:
            x = given[name]
            if x is None:
                raise InputError(f"this law needs `{name}`", field=name)
            value *= x ** getattr(self, f"{name}_exponent")
        return value

    def formula(self) -> str:
        """`1.797 N^-0.7129 D^0.3075` (exponents as given, the form the presets print)."""
        terms = [f"{self.coefficient:g}"]
        for name in self.variables:
            terms.append(f"{_SYMBOLS[name]}^{getattr(self, f'{name}_exponent'):g}")
        return " ".join(terms)


@dataclass(frozen=True)
class HyperparameterLaw:
    """A preset of presets/hyperparameters.yaml."""

    name: str
    learning_rate: PowerLaw
    batch_tokens: PowerLaw
    status: str  # "verified" or "corroborated" (see presets/hyperparameters.yaml)
    source: str
    params_definition: str = ""
    flops_definition: str = ""
    notes: tuple[str, ...] = ()

    @property
    def variables(self) -> tuple[str, ...]:
        """Inputs either of the two laws depends on."""
        used = set(self.learning_rate.variables) | set(self.batch_tokens.variables)
        return tuple(v for v in _VARIABLES if v in used)

    def formula(self) -> str:
        return f"lr = {self.learning_rate.formula()}; B = {self.batch_tokens.formula()} tokens"


@dataclass(frozen=True)
class Hyperparameters:
    """A law's peak learning rate and batch size (tokens) for one run."""

    law: str
    learning_rate: float
    batch_tokens: float
    params: float | None  # the inputs the law was evaluated at (None: not used, not given)
    tokens: float | None
    flops: float | None
    status: str
    notes: tuple[str, ...] = ()

    def batch_sequences(self, seq_len: int) -> float:
        """The batch in sequences of `seq_len` tokens (not rounded)."""
        if isinstance(seq_len, bool) or not isinstance(seq_len, int) or seq_len <= 0:
            raise InputError(
                f"`seq_len` must be a positive whole number, got {seq_len!r}", "seq_len"
            )
        return self.batch_tokens / seq_len

    def to_dict(self) -> dict[str, Any]:
        return {
            "law": self.law,
            "learning_rate": self.learning_rate,
            "batch_tokens": self.batch_tokens,
            "params": self.params,
            "tokens": self.tokens,
            "flops": self.flops,
            "status": self.status,
            "notes": list(self.notes),
        }


# ---------------------------------------------------------------- presets


def _power_law(raw: Any, where: str) -> PowerLaw:
    keys = ("coefficient",) + _VARIABLES
    if not isinstance(raw, dict) or set(map(str, raw)) - set(keys) or "coefficient" not in raw:
        raise InputError(
            f"{where} must be a mapping of coefficient and exponents of {', '.join(_VARIABLES)}",
            field="law",
        )
    numbers: dict[str, float] = {}
    for key in keys:
        v = raw.get(key, 0.0)
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
            raise InputError(f"{where}: {key} must be a number, got {v!r}", field="law")
        numbers[key] = float(v)
    if numbers["coefficient"] <= 0:
        raise InputError(f"{where}: coefficient must be positive", field="law")
    return PowerLaw(numbers["coefficient"], numbers["params"], numbers["tokens"], numbers["flops"])


def _law_from_entry(name: str, entry: dict[str, Any]) -> HyperparameterLaw:
    where = f"presets/{KIND}.yaml:{name}"
    unknown = sorted(set(map(str, entry)) - set(_ENTRY_KEYS))
    if unknown:
        raise InputError(
            f"{where}: unknown key {unknown[0]!r}; expected {', '.join(_ENTRY_KEYS)}", field="law"
        )
    status = entry.get("status")
    if status not in STATUSES:
        raise InputError(f"{where}: status must be one of {', '.join(STATUSES)}", field="law")
    notes = entry.get("notes") or []
    if not isinstance(notes, list):
        raise InputError(f"{where}: notes must be a list", field="law")
    return HyperparameterLaw(
        name=name,
        learning_rate=_power_law(entry.get("learning_rate"), f"{where}: learning_rate"),
        batch_tokens=_power_law(entry.get("batch_tokens"), f"{where}: batch_tokens"),
        status=str(status),
        source=" ".join(str(entry.get("source", "")).split()),
        params_definition=" ".join(str(entry.get("params_definition", "")).split()),
        flops_definition=" ".join(str(entry.get("flops_definition", "")).split()),
        notes=tuple(" ".join(str(n).split()) for n in notes),
    )


@functools.cache
def _laws() -> dict[str, HyperparameterLaw]:
    from chinchilla_cli.presets import load_presets

    return {name: _law_from_entry(name, e) for name, e in load_presets(KIND).items()}


def hyperparameter_law_names() -> list[str]:
    """Names of the hyperparameter laws in presets/hyperparameters.yaml."""
    return list(_laws())


def load_hyperparameter_law(name: str) -> HyperparameterLaw:
    """The preset `name`, or an InputError listing the known ones."""
    laws = _laws()
    key = name.strip().lower()
    if key not in laws:
        raise InputError(
            f"unknown hyperparameter law {name!r}; known: {', '.join(laws)}", field="law"
        )
    return laws[key]


# ---------------------------------------------------------------- evaluation


def _positive(value: float | None, field: str) -> float | None:
    if value is None:
        return None
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, float))
        or not math.isfinite(value)
        or value <= 0
    ):
        raise InputError(f"`{field}` must be a positive number, got {value!r}", field=field)
    return float(value)


def optimal_hyperparameters(
    law: str | HyperparameterLaw,
    *,
    params: float | None = None,
    tokens: float | None = None,
    flops: float | None = None,
) -> Hyperparameters:
    """Peak learning rate and batch size (tokens) of `law` for a run.

    Give what the law uses: Step Law needs `params` and `tokens` (or `flops` with one of
    them, the other then C / 6N or C / 6D); DeepSeek's needs `flops` (or `params` and
    `tokens`, C then taken as 6ND, which counts embeddings its C leaves out: a note says
    so). Inputs the law does not use are recorded but play no part.
    """
    spec = law if isinstance(law, HyperparameterLaw) else load_hyperparameter_law(law)
    n, d, c = _positive(params, "params"), _positive(tokens, "tokens"), _positive(flops, "flops")
    notes: list[str] = []
    needs = spec.variables
    if "flops" in needs and c is None:
        if n is None or d is None:
            raise InputError(f"`{spec.name}` needs `flops` (or `params` and `tokens`)", "flops")
        c = FLOPS_PER_PARAM_TOKEN * n * d
        notes.append(
            f"{spec.name}'s C is {spec.flops_definition or 'its own FLOP count'}; "
            "6ND is used in its place"
        )
    if "params" in needs or "tokens" in needs:
        if c is not None and (n is None) != (d is None):
            # one of N, D and the budget fix the other through C = 6ND
            if n is None:
                assert d is not None
                n = c / (FLOPS_PER_PARAM_TOKEN * d)
            else:
                d = c / (FLOPS_PER_PARAM_TOKEN * n)
        missing = [
            v for v in ("params", "tokens") if v in needs and {"params": n, "tokens": d}[v] is None
        ]
        if missing:
            raise InputError(
                f"`{spec.name}` needs `params` and `tokens` (or `flops` with one of them)",
                field=missing[0],
            )
    if spec.status != "verified":
        notes.append(f"{spec.name}'s constants are {spec.status}, not checked in the source text")
    notes.extend(spec.notes)
    return Hyperparameters(
        law=spec.name,
        learning_rate=spec.learning_rate(n, d, c),
        batch_tokens=spec.batch_tokens(n, d, c),
        params=n,
        tokens=d,
        flops=c,
        status=spec.status,
        notes=tuple(notes),
    )


def step_law(params: float, tokens: float) -> Hyperparameters:
    """Step Law (Li et al. 2025): learning rate and batch (tokens) for N params on D tokens."""
    return optimal_hyperparameters("steplaw2025", params=params, tokens=tokens)


def deepseek_llm(flops: float) -> Hyperparameters:
    """DeepSeek LLM (2024) eq. 1 at a budget of `flops` (their C = M·D, non-embedding)."""
    return optimal_hyperparameters("deepseek2024", flops=flops)

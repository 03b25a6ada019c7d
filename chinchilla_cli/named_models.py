"""Famous models as built: the exact shape of a preset in presets/models.yaml, for
`plan(model=...)`.

A named model is planned as the run its authors made: N is its counted (active) parameters
from its published shape (layers, widths, dense-first layers, latent attention, experts),
D its published training tokens unless told otherwise, so the plan prices that run, its
memory (every expert held) and its loss under the chosen law. The counts are compared with
the published totals (`count_mismatch`), and the published chip-hours, where the authors
gave them, with the plan's.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from chinchilla_cli.architecture import Architecture
from chinchilla_cli.costs import Cost
from chinchilla_cli.errors import InputError
from chinchilla_cli.moe import MoEArchitecture, moe_from_mapping
from chinchilla_cli.presets import load_presets, preset_name
from chinchilla_cli.quantity import human
from chinchilla_cli.specs import ShapeSpec

# what a named model fixes: arguments of `plan` that would contradict it
FIXED_BY_MODEL = (
    "flops", "days", "hours", "params", "target_loss", "unique_tokens", "inference_tokens",
    "arch", "kv_heads", "aspect_ratio", "vocab", "seq_len", "experts", "top_k",
    "shared_experts", "expert_ffw", "layers", "d_model", "shape",
)  # fmt: skip


@dataclass(frozen=True)
class PublishedTraining:
    """What the authors say the run took: chip-hours on an accelerator, at a precision."""

    precision: str
    accelerator: str | None
    chips: int | None
    gpu_hours: float | None
    source: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "precision": self.precision,
            "accelerator": self.accelerator,
            "chips": self.chips,
            "gpu_hours": self.gpu_hours,
            "source": self.source,
        }


@dataclass(frozen=True)
class NamedModel:
    """A preset's published shape and run: `architecture` counts its parameters,
    `published_params` (total) and `published_active_params` (a mixture of experts' per
    token, else None) are its authors' figures, `tokens` its training tokens."""

    name: str
    architecture: Architecture | MoEArchitecture
    published_params: float
    published_active_params: float | None
    tokens: float
    source: str
    training: PublishedTraining | None = None
    seq_len_published: bool = True  # False: the preset has none; the default is assumed

    @property
    def total_params(self) -> int:
        return self.architecture.params

    @property
    def active_params(self) -> int:
        return self.architecture.active_params

    @property
    def count_mismatch(self) -> float:
        """The counted total over the published one, minus 1."""
        return self.total_params / self.published_params - 1

    def shape_spec(self) -> ShapeSpec:
        """The shape settings of the model (its vocabulary, sequence and experts), for
        what a plan reads from a shape beside the architecture itself."""
        a = self.architecture
        if isinstance(a, MoEArchitecture):
            return ShapeSpec(
                "moe", a.vocab_size, a.seq_len, a.aspect_ratio, a.n_kv_heads, a.experts,
                a.top_k, a.shared_experts, a.expert_ffw_size,
            )  # fmt: skip
        family = "llama" if a.family == "llama" else "chinchilla"
        return ShapeSpec(family, a.vocab_size, a.seq_len, a.aspect_ratio, a.n_kv_heads)

    def published(self) -> str:
        """The authors' parameter counts, in words."""
        if self.published_active_params is None:
            return f"{human(self.published_params)} parameters"
        return f"{human(self.published_params)} total, {human(self.published_active_params)} active"

    def assumption(self) -> str:
        """What the plan takes from the preset, in one sentence."""
        a = self.architecture
        shape = f"{a.n_layers} layers x d_model {a.d_model:,}"
        if isinstance(a, MoEArchitecture):
            dense = f", the first {a.dense_layers} dense" if a.dense_layers else ""
            attention = ", latent attention" if a.latent_attention is not None else ""
            shared = f" + {a.shared_experts} shared" if a.shared_experts else ""
            shape += (
                f"{dense}{attention}, {a.experts} experts {a.expert_ffw_size:,} wide, "
                f"top-{a.top_k}{shared}"
            )
        return (
            f"{self.name} as built: {shape}, vocabulary {a.vocab_size:,}, sequence "
            f"{a.seq_len:,}{'' if self.seq_len_published else ' (not published: the default)'}"
            f"; counted {human(self.total_params)} parameters"
            + (f" ({human(self.active_params)} active)" if isinstance(a, MoEArchitecture) else "")
            + f", published {self.published()}"
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "total_params": self.total_params,
            "active_params": self.active_params,
            "published_total_params": self.published_params,
            "published_active_params": self.published_active_params,
            "count_mismatch": self.count_mismatch,
            "tokens": self.tokens,
            "training": None if self.training is None else self.training.to_dict(),
            "source": self.source,
        }


def _training(raw: Any) -> PublishedTraining | None:
    if not isinstance(raw, dict):
        return None
    hours = raw.get("gpu_hours")
    chips = raw.get("chips")
    return PublishedTraining(
        str(raw["precision"]),
        None if raw.get("accelerator") is None else str(raw["accelerator"]),
        None if chips is None else int(chips),
        None if hours is None else float(hours),
        str(raw.get("source", "")),
    )


def named_model(name: str) -> NamedModel:
    """The preset `name` of presets/models.yaml as built (case and separators ignored),
    or an InputError about `model` naming the nearest presets."""
    listing = "see `chinchilla presets models`"
    key = preset_name("models", name, "model", "model", listing)
    entry = load_presets("models")[key]
    where = f"presets/models.yaml:{key}"
    moe, dense = entry.get("moe_architecture"), entry.get("architecture")
    if moe is None and dense is None:
        raise InputError(f"{key} has no published shape in the presets", field="model")
    from chinchilla_cli.comparison import architecture_from_mapping  # only a named plan needs it

    arch: Architecture | MoEArchitecture = (
        moe_from_mapping(moe, where) if moe is not None else architecture_from_mapping(dense, where)
    )
    active = entry.get("active_params")
    raw_shape = moe if moe is not None else dense
    return NamedModel(
        key,
        arch,
        float(entry["params"]),
        None if active is None else float(active),
        float(entry["tokens"]),
        " ".join(str(entry.get("source", "")).split()),
        _training(entry.get("training")),
        isinstance(raw_shape, dict) and raw_shape.get("seq_len") is not None,
    )


def refuse_with_model(model: str, given: dict[str, Any]) -> None:
    """Refuse any argument that a named model fixes (its size, shape or budget)."""
    for argument in FIXED_BY_MODEL:
        if given.get(argument) is not None:
            raise InputError(
                f"not with `model` {model}: the model fixes its shape and size (N), "
                "`tokens` its run length (its published tokens by default); a cluster is "
                "`chips` or `deadline_days`",
                field=argument,
            )


def published_cost_findings(model: NamedModel, cost: Cost | None) -> list[str]:
    """The plan's chip-hours beside those the authors published for the run."""
    t = model.training
    if cost is None or t is None or t.gpu_hours is None:
        return []
    return [
        f"{model.name}'s authors report {t.gpu_hours / 1e6:.3g}M {t.accelerator} GPU-hours "
        f"({t.precision}); this costing gives {cost.chip_hours / 1e6:.3g}M chip-hours, "
        f"{cost.chip_hours / t.gpu_hours:.2f}x that"
    ]

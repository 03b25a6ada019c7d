"""Learning-rate and batch-size laws (chinchilla_cli.hyperparameters) against their sources."""

from __future__ import annotations

import json
import math

import pytest

from chinchilla_cli.errors import InputError
from chinchilla_cli.hyperparameters import (
    STATUSES,
    HyperparameterLaw,
    PowerLaw,
    _law_from_entry,
    deepseek_llm,
    hyperparameter_law_names,
    load_hyperparameter_law,
    optimal_hyperparameters,
    step_law,
)
from chinchilla_cli.law_files import load_law
from chinchilla_cli.presets import load_presets


def test_presets_load():
    assert hyperparameter_law_names() == ["steplaw2025", "deepseek2024"]
    for name, entry in load_presets("hyperparameters").items():
        law = load_hyperparameter_law(name)
        assert law.status in STATUSES and law.source
        # the text `chinchilla presets` shows is the law the numbers make
        assert entry["lr_formula"] == law.learning_rate.formula(), name
        assert entry["batch_formula"] == law.batch_tokens.formula(), name


# ---------------------------------------------------------------- Step Law


def test_step_law_constants():
    # step-law/steplaw data/1004_fitted_lr_bs_scaling_model_parameters.csv: mean of the 1000
    # bootstrap fits (natural logs), lr = 1.797 N^-0.7129 D^0.3075, B = 0.5807 D^0.5709 tokens
    law = load_hyperparameter_law("steplaw2025")
    assert law.status == "verified"
    assert law.learning_rate == PowerLaw(1.797, params_exponent=-0.7129, tokens_exponent=0.3075)
    assert law.batch_tokens == PowerLaw(0.5807, tokens_exponent=0.5709)


def test_step_law_worked_numbers():
    # the paper's test point, 1B parameters on 100B tokens
    h = step_law(1e9, 1e11)
    assert h.learning_rate == pytest.approx(1.797 * 1e9**-0.7129 * 1e11**0.3075, rel=1e-12)
    assert h.learning_rate == pytest.approx(1.6632e-3, rel=1e-4)
    assert h.batch_tokens == pytest.approx(1.10625e6, rel=1e-4)
    assert h.batch_sequences(4096) == pytest.approx(1.10625e6 / 4096, rel=1e-4)
    # the paper's rounded law (lr = 1.79 N^-0.713 D^0.307, B = 0.58 D^0.571, seen in
    # secondary copies) lands within 2% of the fits' mean there
    assert h.learning_rate == pytest.approx(1.79 * 1e9**-0.713 * 1e11**0.307, rel=0.02)
    assert h.batch_tokens == pytest.approx(0.58 * 1e11**0.571, rel=0.002)


def test_step_law_shape():
    # "the optimal batch size is primarily influenced by D and remains largely invariant to N"
    assert step_law(1e8, 1e11).batch_tokens == step_law(1e10, 1e11).batch_tokens
    # larger models, smaller rates; more data, larger rates
    assert step_law(1e10, 1e11).learning_rate < step_law(1e9, 1e11).learning_rate
    assert step_law(1e9, 1e12).learning_rate > step_law(1e9, 1e11).learning_rate


def test_step_law_from_a_budget_and_one_side():
    by_n_d = step_law(1e9, 1e11)
    from_n = optimal_hyperparameters("steplaw2025", flops=6e20, params=1e9)
    from_d = optimal_hyperparameters("steplaw2025", flops=6e20, tokens=1e11)
    for h in (from_n, from_d):
        assert h.learning_rate == pytest.approx(by_n_d.learning_rate, rel=1e-12)
        assert h.batch_tokens == pytest.approx(by_n_d.batch_tokens, rel=1e-12)
        assert (h.params, h.tokens) == pytest.approx((1e9, 1e11), rel=1e-12)


# ---------------------------------------------------------------- DeepSeek LLM


def test_deepseek_constants_are_the_laws_presets():
    # DeepSeek LLM (arXiv 2401.02954) eq. 1: lr = 0.3118 C^-0.1250, B = 0.2920 C^0.3271;
    # presets/laws.yaml's deepseek2024 holds only the allocation
    law = load_hyperparameter_law("deepseek2024")
    assert law.status == "verified"
    assert law.learning_rate == PowerLaw(0.3118, flops_exponent=-0.125)
    assert law.batch_tokens == PowerLaw(0.2920, flops_exponent=0.3271)
    # defined once: the allocation law carries no learning-rate or batch constants
    assert not hasattr(load_law("deepseek2024"), "k_lr")
    assert deepseek_llm(1e24).learning_rate == pytest.approx(0.3118 * 1e24**-0.125)


def test_deepseek_worked_numbers():
    h = deepseek_llm(1e24)
    assert h.learning_rate == pytest.approx(3.118e-4, rel=1e-12)  # 0.3118 x (1e24)^-1/8
    assert h.batch_tokens == pytest.approx(2.0691e7, rel=1e-4)
    assert h.params is None and h.tokens is None and h.flops == 1e24
    assert not any("corroborated" in n for n in h.notes)  # verified in section 3.1


@pytest.mark.parametrize(
    "layers, d_model, batch_sequences, lr",
    [
        # deepseek-ai/DeepSeek-LLM README.md section 4: 2T tokens at sequence length 4096;
        # "The 7B model's training involved a batch size of 2304 and a learning rate of
        # 4.2e-4 and the 67B model was trained with a batch size of 4608 and a learning
        # rate of 3.2e-4". Depth and width (30 x 4096, 95 x 8192) from the paper's Table 2
        # as copied in secondary notes.
        (30, 4096, 2304, 4.2e-4),
        (95, 8192, 4608, 3.2e-4),
    ],
)
def test_deepseek_reproduces_its_own_runs(layers, d_model, batch_sequences, lr):
    """The paper set its 7B and 67B hyperparameters with eq. 1; the constants give them
    back: learning rate within 3%, batch within 10% (the 67B run used a rounder batch)."""
    seq = 4096
    scale = 72 * layers * d_model**2 + 12 * layers * d_model * seq  # M, FLOPs per token
    h = deepseek_llm(scale * 2e12)
    assert h.learning_rate == pytest.approx(lr, rel=0.03)
    assert h.batch_tokens == pytest.approx(batch_sequences * seq, rel=0.10)
    assert h.batch_sequences(seq) == pytest.approx(batch_sequences, rel=0.10)


def test_deepseek_from_params_and_tokens_notes_the_count():
    h = optimal_hyperparameters("deepseek2024", params=7e9, tokens=2e12)
    assert h.flops == pytest.approx(6 * 7e9 * 2e12)
    assert h.learning_rate == pytest.approx(0.3118 * (8.4e22) ** -0.125)
    assert any("6ND is used in its place" in n for n in h.notes)


# ---------------------------------------------------------------- inputs and presets


@pytest.mark.parametrize(
    "kwargs, field",
    [
        ({"law": "steplaw2025", "params": 1e9}, "tokens"),
        ({"law": "steplaw2025", "tokens": 1e9}, "params"),
        ({"law": "steplaw2025", "flops": 1e20}, "params"),
        ({"law": "deepseek2024"}, "flops"),
        ({"law": "deepseek2024", "params": 1e9}, "flops"),
        ({"law": "steplaw2025", "params": -1.0, "tokens": 1e9}, "params"),
        ({"law": "steplaw2025", "params": 1e9, "tokens": math.inf}, "tokens"),
        ({"law": "deepseek2024", "flops": 0.0}, "flops"),
        ({"law": "deepseek2024", "flops": True}, "flops"),
        ({"law": "porian2024", "flops": 1e20}, "law"),
    ],
)
def test_bad_inputs(kwargs, field):
    law = kwargs.pop("law")
    with pytest.raises(InputError) as e:
        optimal_hyperparameters(law, **kwargs)
    assert e.value.field == field
    assert "--" not in e.value.message


def test_unknown_law_lists_the_known():
    with pytest.raises(InputError, match="known: steplaw2025, deepseek2024"):
        load_hyperparameter_law("porian2024")
    assert load_hyperparameter_law(" StepLaw2025 ").name == "steplaw2025"


def test_result_to_dict():
    d = step_law(1e9, 1e11).to_dict()
    json.dumps(d)
    assert set(d) == {
        "law",
        "learning_rate",
        "batch_tokens",
        "params",
        "tokens",
        "flops",
        "status",
        "notes",
    }
    with pytest.raises(InputError):
        step_law(1e9, 1e11).batch_sequences(0)


def test_a_law_object_can_be_passed():
    law = HyperparameterLaw(
        "mine", PowerLaw(1e-3), PowerLaw(2.0, tokens_exponent=0.5), "verified", "test"
    )
    h = optimal_hyperparameters(law, tokens=1e10)
    assert (h.learning_rate, h.batch_tokens) == (1e-3, pytest.approx(2e5))
    assert h.notes == ()


GOOD = {
    "learning_rate": {"coefficient": 1.0, "params": -0.5},
    "batch_tokens": {"coefficient": 2.0, "tokens": 0.5},
    "status": "verified",
    "source": "x",
}


@pytest.mark.parametrize(
    "changes, match",
    [
        ({"kind": "hyperparameters"}, "unknown key 'kind'"),
        ({"status": "unverified"}, "status must be one of"),
        ({"learning_rate": {"coefficient": 1.0, "steps": 1}}, "learning_rate must be a mapping"),
        ({"learning_rate": {"params": 1}}, "learning_rate must be a mapping"),
        ({"batch_tokens": {"coefficient": "big"}}, "coefficient must be a number"),
        ({"batch_tokens": {"coefficient": -1.0}}, "coefficient must be positive"),
        ({"notes": "one"}, "notes must be a list"),
    ],
)
def test_malformed_entries(changes, match):
    with pytest.raises(InputError, match=match) as e:
        _law_from_entry("bad", {**GOOD, **changes})
    assert e.value.field == "law"

"""The laws against the numbers printed in Hoffmann et al. 2022 and Besiroglu et al. 2024."""

import numpy as np
import pytest

from chinchilla_cli.errors import InputError
from chinchilla_cli.frontier import optimal_allocation
from chinchilla_cli.law_files import load_law, preset_law_names
from chinchilla_cli.laws import DEFAULT_LAW

GOPHER_BUDGET = 5.76e23


def test_preset_names_and_sources():
    names = preset_law_names()
    for n in [
        "hoffmann2022",
        "hoffmann2022-unrounded",
        "besiroglu2024",
        "hoffmann2022-approach1",
        "hoffmann2022-approach2",
        "kaplan2020",
    ]:
        assert n in names
        assert load_law(n).source
    assert DEFAULT_LAW == "besiroglu2024"


@pytest.mark.parametrize(
    "name, n_opt, d_opt",
    [
        ("hoffmann2022", 32.2e9, 2.98e12),
        ("hoffmann2022-unrounded", 40.4e9, 2.38e12),
        ("besiroglu2024", 72.3e9, 1.33e12),
    ],
)
def test_frontier_at_gopher_budget(name, n_opt, d_opt):
    a = optimal_allocation(load_law(name), GOPHER_BUDGET)
    assert a.params == pytest.approx(n_opt, rel=5e-3)
    assert a.tokens == pytest.approx(d_opt, rel=5e-3)
    assert a.flops == pytest.approx(GOPHER_BUDGET, rel=1e-12)


def test_rounded_law_tokens_per_param():
    a = optimal_allocation(load_law("hoffmann2022"), GOPHER_BUDGET)
    assert a.tokens_per_param == pytest.approx(93, abs=1)
    assert optimal_allocation(
        load_law("besiroglu2024"), GOPHER_BUDGET
    ).tokens_per_param == pytest.approx(18.4, abs=0.1)


@pytest.mark.parametrize(
    "name, chinchilla, gopher",
    [
        ("hoffmann2022", 1.9366, 1.9933),
        ("hoffmann2022-unrounded", 1.9208, 1.9672),
        ("besiroglu2024", 1.9739, 1.9996),
    ],
)
def test_predicted_losses(name, chinchilla, gopher):
    law = load_law(name)
    assert law.loss(70e9, 1.4e12).total == pytest.approx(chinchilla, abs=1e-4)
    assert law.loss(280e9, 300e9).total == pytest.approx(gopher, abs=1e-4)


def test_gopher_data_ceiling():
    assert load_law("hoffmann2022").data_ceiling(300e9) == pytest.approx(1.9411, abs=1e-4)


def test_loss_terms_add_up():
    t = load_law("hoffmann2022").loss(70e9, 1.4e12)
    assert t.irreducible + t.params_term + t.data_term == pytest.approx(t.total)


def test_exponents_match_table2():
    law = load_law("hoffmann2022-unrounded")
    assert law.a == pytest.approx(0.46, abs=0.005)
    assert law.b == pytest.approx(0.54, abs=0.005)


# Tables 3 and A3 of Hoffmann et al. 2022: params, Approach 1 FLOPs, Approach 2 FLOPs.
TABLE3 = np.array(
    [
        [400e6, 1.92e19, 1.84e19],
        [1e9, 1.21e20, 1.20e20],
        [10e9, 1.23e22, 1.32e22],
        [67e9, 5.76e23, 6.88e23],
        [175e9, 3.85e24, 4.54e24],
        [280e9, 9.90e24, 1.18e25],
        [520e9, 3.43e25, 4.19e25],
        [1e12, 1.27e26, 1.59e26],
        [10e12, 1.30e28, 1.75e28],
    ]
)


@pytest.mark.parametrize(
    "name, col, a_ref, n_gopher",
    [("hoffmann2022-approach1", 1, 0.498, 67e9), ("hoffmann2022-approach2", 2, 0.490, 63e9)],
)
def test_allocation_laws_fit_their_tables(name, col, a_ref, n_gopher):
    law = load_law(name)
    a, log_k = np.polyfit(np.log(TABLE3[:, col]), np.log(TABLE3[:, 0]), 1)
    assert law.a == pytest.approx(a, rel=1e-6)
    assert law.k == pytest.approx(np.exp(log_k), rel=1e-6)
    assert law.a == pytest.approx(a_ref, abs=5e-4)
    assert law.optimal_params(GOPHER_BUDGET) == pytest.approx(n_gopher, rel=0.02)
    assert law.loss(1e9, 1e10) is None
    for n, c in zip(TABLE3[:, 0], TABLE3[:, col], strict=True):
        assert law.optimal_params(c) == pytest.approx(n, rel=0.12)


def test_kaplan_anchor_and_loss():
    law = load_law("kaplan2020")
    assert law.optimal_params(1e21) == pytest.approx(4.68e9, rel=1e-9)
    assert law.a == 0.73
    assert any("embeddings" in n for n in law.notes)
    assert law.loss(1e9, 1e12).total > 0


@pytest.mark.parametrize(
    "name", ["hoffmann2022", "besiroglu2024", "hoffmann2022-approach1", "kaplan2020"]
)
def test_inverses(name):
    law = load_law(name)
    for c in (1e19, 5.76e23, 1e27):
        a = optimal_allocation(law, c)
        assert law.flops_for_params(a.params) == pytest.approx(c, rel=1e-9)
        assert law.flops_for_tokens(a.tokens) == pytest.approx(c, rel=1e-9)


def test_law_file(tmp_path):
    p = tmp_path / "mine.yaml"
    p.write_text("name: mine\nE: 1.7\nA: 400\nB: 400\nalpha: 0.3\nbeta: 0.3\n")
    law = load_law(str(p))
    assert law.name == "mine" and law.a == pytest.approx(0.5)


@pytest.mark.parametrize(
    "text, match",
    [
        ("name: x\nE: 1\n", "missing A, B, alpha, beta"),
        ("- 1\n- 2\n", "not a law"),
        ("name: x\nE: 1\nA: 400\nB: 400\nalpha: -0.3\nbeta: 0.3\n", "alpha must be positive"),
        ("name: x\nE: 1\nA: abc\nB: 400\nalpha: 0.3\nbeta: 0.3\n", "A must be a finite number"),
        ("!!python/object:os.system {}\n", "refused"),
        ("a: [1, 2\n", "not valid YAML"),
    ],
)
def test_bad_law_files(tmp_path, text, match):
    p = tmp_path / "bad.yaml"
    p.write_text(text)
    with pytest.raises(InputError, match=match):
        load_law(str(p))


def test_unknown_law_lists_known():
    with pytest.raises(InputError, match="known: .*besiroglu2024"):
        load_law("chinchilla2099")
    with pytest.raises(InputError, match="does not exist"):
        load_law("missing.yaml")


def test_extra_keys_warn(tmp_path):
    p = tmp_path / "x.yaml"
    p.write_text("name: x\nE: 1.7\nA: 400\nB: 400\nalpha: 0.3\nbeta: 0.3\ncolour: red\n")
    assert any("colour" in n for n in load_law(str(p)).notes)


@pytest.mark.parametrize(
    ("text", "needs"),
    [
        ("kind: allocation\nk: 0.1\n", "an allocation law needs a, and k or anchor_flops"),
        ("kind: parametric\nE: 1.7\nA: 400\nB: 400\nalpha: 0.3\n", "parametric law needs E, A"),
        ("kind: kaplan\na: 0.7\nk: 1\n", "kaplan law needs a, k"),
    ],
)
def test_missing_keys_name_that_kinds_keys(tmp_path, text, needs):
    path = tmp_path / "law.yaml"
    path.write_text(text)
    with pytest.raises(InputError) as e:
        load_law(str(path))
    assert needs.replace("an allocation", "a allocation") in str(e.value) or needs in str(e.value)


def test_misspelt_key_gets_did_you_mean(tmp_path):
    path = tmp_path / "law.yaml"
    path.write_text("kind: parametric\nE: 1.7\nA: 400\nB: 400\nalpha: 0.3\nbeat: 0.3\n")
    with pytest.raises(
        InputError, match=r"missing beta .*unknown: 'beat' \(did you mean 'beta'\?\)"
    ):
        load_law(str(path))
    path.write_text("E: 1.7\nA: 400\nB: 400\nalpha: 0.3\nbeta: 0.3\nsorce: x\n")
    law = load_law(str(path))
    assert any("'sorce' (did you mean 'source'?)" in n for n in law.notes)

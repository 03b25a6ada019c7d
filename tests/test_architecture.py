import pytest

from chinchilla_cli.architecture import Architecture, sketch


def test_chinchilla_and_gopher_shapes():
    chinchilla = Architecture(80, 8192, 64, 128, 32768, 32000, 2048)
    gopher = Architecture(80, 16384, 128, 128, 65536, 32000, 2048)
    assert chinchilla.params == pytest.approx(70e9, rel=0.01)
    assert gopher.params == pytest.approx(280e9, rel=0.01)
    # heads x head size = d_model, ffw = 4 d: vocab*d + 13*layers*d^2
    assert chinchilla.params == 32000 * 8192 + 13 * 80 * 8192**2


# Table A9 rows: params (M), d_model, ffw, kv size, heads, layers
TABLE_A9 = [
    (44, 512, 2048, 64, 8, 8),
    (251, 1024, 4096, 64, 16, 16),
    (1018, 1792, 7168, 128, 14, 23),
    (4516, 3072, 12288, 128, 24, 36),
    (9293, 4096, 16384, 128, 32, 42),
    (16183, 5120, 20480, 128, 40, 47),
]


@pytest.mark.parametrize("row", TABLE_A9)
def test_table_a9_counts(row):
    params_m, d, ffw, kv, heads, layers = row
    assert Architecture(layers, d, heads, kv, ffw, 32000, 2048).params == pytest.approx(
        params_m * 1e6, rel=0.009
    )  # "within 0.8%" (44M is 0.80%)


# Table A4: layers, d_model, ffw, heads, kv size, the paper's N, and the ratio of the
# appendix F count to 6ND, with (full) and without (layers) the embedding and logit terms.
TABLE_A4 = [
    (10, 640, 2560, 10, 64, 73e6, 1.03, 1.60),
    (20, 1024, 4096, 16, 64, 305e6, 1.10, 1.32),
    (24, 1280, 5120, 10, 128, 552e6, 1.08, 1.23),
    (26, 1792, 7168, 14, 128, 1.1e9, 1.04, 1.19),
    (28, 2048, 8192, 16, 128, 1.6e9, 1.03, 1.11),
    (40, 3584, 14336, 28, 128, 6.8e9, 0.99, 1.03),
]


@pytest.mark.parametrize("row", TABLE_A4)
def test_table_a4_ratios(row):
    layers, d, ffw, heads, kv, n_paper, ratio_layers, ratio_full = row
    a = Architecture(layers, d, heads, kv, ffw, 32000, 2048)
    # The printed ratios leave embeddings and logits out (the appendix's typo) ...
    assert 3 * a.forward_flops_per_token(with_embeddings=False) / (6 * a.params) == pytest.approx(
        ratio_layers, abs=0.006
    )
    # ... and counting them gives the larger ratios, against the paper's rounded N.
    assert a.flops_per_token / (6 * n_paper) == pytest.approx(ratio_full, abs=0.006)


@pytest.mark.parametrize("target", [44e6, 400e6, 1e9, 7e9, 70e9, 280e9, 1e12])
def test_sketch_follows_shape_rules(target):
    a = sketch(target)
    assert a.params == pytest.approx(target, rel=0.03)
    assert a.ffw_size == 4 * a.d_model
    assert a.head_dim == (64 if a.d_model <= 1024 else 128)
    assert a.n_heads * a.head_dim == a.d_model
    assert 60 <= a.d_model / a.n_layers <= 140


def test_sketch_aspect_ratio_and_vocab():
    wide = sketch(70e9, aspect_ratio=200)
    assert wide.d_model / wide.n_layers > 150
    assert sketch(1e9, vocab_size=50000).vocab_size == 50000
    chin = sketch(70e9)
    assert (chin.n_layers, chin.d_model) == (80, 8192)

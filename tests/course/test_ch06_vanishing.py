"""Chapter 6: residual blocks, LayerNorm, gradient clipping, per-layer diagnostics, the
gradient-norm explorer, and the exercise checkers (fed right and deliberately wrong answers)."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bpcourse.diagnostics import (
    dense_layers,
    layer_factor_norms,
    layer_grad_norms,
    layer_output_stds,
    median_and_range,
)
from bpcourse.exercises import vanishing as ex
from bpcourse.explorers.vanishing import (
    compute_grad_norms,
    deep_network,
    describe_trend,
    grad_norms_explorer,
    log10_window,
    probe_batch,
    render_grad_norms,
)
from bpcourse.plotting import new_figure
from bpcourse.surfaces import RECURRENT_CLIFF, get_surface
from bpkit import SGD, Activation, Dense, Sequential, gradcheck, mse_grad
from bpkit.clipping import clip_grad_norm, global_grad_norm
from bpkit.normalization import LayerNorm
from bpkit.residual import Residual


def _data(seed=0, n=6, d=4):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((n, d)), rng.standard_normal((n, 1))


# ---------------------------------------------------------------- Residual
def test_residual_gradcheck_and_identity_path():
    rng = np.random.default_rng(1)
    X, y = _data()
    inner = Sequential(Dense(4, 4, rng=rng), Activation("tanh"))
    model = Sequential(Residual(inner), Dense(4, 1, rng=rng))
    report = gradcheck(model, X, y)
    assert report.passed, str(report)
    assert report.max_error < 1e-7

    block = Residual(Sequential(Dense(4, 4, rng=rng), Activation("sigmoid")))
    Y = block.forward(X)
    np.testing.assert_allclose(Y, X + block.inner.forward(X))
    block.forward(X)
    dY = np.random.default_rng(2).standard_normal(X.shape)
    dX = block.backward(dY)
    block.inner.forward(X)
    np.testing.assert_allclose(dX, dY + block.inner.backward(dY))


def test_residual_passes_gradient_when_inner_is_dead():
    # Inner weights zero: F's Jacobian is 0, yet dX = dY through the skip path.
    block = Residual(Sequential(Dense(3, 3, init="zero"), Activation("tanh")))
    X, _ = _data(d=3)
    block.forward(X)
    dY = np.ones_like(X)
    np.testing.assert_allclose(block.backward(dY), dY)


def test_residual_shape_errors_in_words():
    block = Residual(Dense(4, 2, rng=0))
    with pytest.raises(ValueError, match=r"keeps the shape.*\(6, 4\).*\(6, 2\)"):
        block.forward(np.zeros((6, 4)))
    with pytest.raises(TypeError, match="bpkit layer"):
        Residual(lambda x: x)
    ok = Residual(Dense(4, 4, rng=0))
    with pytest.raises(RuntimeError, match="forward before backward"):
        ok.backward(np.zeros((6, 4)))


# ---------------------------------------------------------------- LayerNorm
def test_layernorm_gradcheck_inside_a_network():
    rng = np.random.default_rng(3)
    X, y = _data(n=5, d=4)
    model = Sequential(Dense(4, 5, rng=rng), LayerNorm(5), Activation("tanh"), Dense(5, 1, rng=rng))
    model[1].gamma[...] = rng.uniform(0.5, 1.5, 5)
    model[1].beta[...] = rng.normal(0, 0.3, 5)
    report = gradcheck(model, X, y)
    assert report.passed, str(report)
    assert report["1.gamma"].error < 1e-7 and report["dX"].error < 1e-7


def test_layernorm_normalises_each_row_and_is_scale_invariant():
    X = np.random.default_rng(4).normal(3.0, 5.0, (7, 6))
    ln = LayerNorm(6, eps=1e-12)
    Y = ln.forward(X)
    np.testing.assert_allclose(Y.mean(axis=1), 0.0, atol=1e-12)
    np.testing.assert_allclose(Y.std(axis=1), 1.0, rtol=1e-9)
    np.testing.assert_allclose(ln.forward(10.0 * X), Y, rtol=1e-9, atol=1e-12)


def test_layernorm_errors_in_words():
    with pytest.raises(ValueError, match=r"\(batch, 3\).*\(2, 4\)"):
        LayerNorm(3).forward(np.zeros((2, 4)))
    with pytest.raises(ValueError, match="d >= 2"):
        LayerNorm(1)
    with pytest.raises(RuntimeError, match="forward before backward"):
        LayerNorm(3).backward(np.zeros((2, 3)))


# ---------------------------------------------------------------- clipping
def _model_with_grads(scale, seed=5):
    rng = np.random.default_rng(seed)
    model = Sequential(Dense(3, 4, rng=rng), Activation("tanh"), Dense(4, 2, rng=rng))
    X = rng.standard_normal((8, 3))
    model.backward(scale * mse_grad(model.forward(X), np.zeros((8, 2))))
    return model


def test_clip_shrinks_to_max_norm_and_keeps_direction():
    model = _model_with_grads(1e4)
    before = [p.grad.copy() for p in model.parameters()]
    norm = clip_grad_norm(model, 1.0)
    assert norm > 1.0
    np.testing.assert_allclose(global_grad_norm(model), 1.0, rtol=1e-12)
    for p, g in zip(model.parameters(), before, strict=True):
        np.testing.assert_allclose(p.grad, g / norm, rtol=1e-12)


def test_clip_leaves_a_small_gradient_alone():
    model = _model_with_grads(1e-6)
    before = [p.grad.copy() for p in model.parameters()]
    norm = clip_grad_norm(model.parameters(), 1.0)
    assert norm < 1.0
    for p, g in zip(model.parameters(), before, strict=True):
        np.testing.assert_allclose(p.grad, g, rtol=0, atol=0)


@given(scale=st.floats(1e-8, 1e8), max_norm=st.floats(1e-3, 1e3))
@settings(max_examples=40, deadline=None)
def test_clip_never_grows_and_caps(scale, max_norm):
    model = _model_with_grads(scale)
    before = global_grad_norm(model)
    clip_grad_norm(model, max_norm)
    after = global_grad_norm(model)
    assert after <= before * (1 + 1e-12)
    assert after <= max_norm * (1 + 1e-9)


def test_clip_errors_in_words():
    model = _model_with_grads(1.0)
    with pytest.raises(ValueError, match="positive"):
        clip_grad_norm(model, 0.0)
    model.parameters()[0].grad[0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN or inf"):
        clip_grad_norm(model, 1.0)
    with pytest.raises(TypeError, match="Parameter"):
        clip_grad_norm([np.zeros(3)], 1.0)


def test_clip_works_with_an_optimizer_step():
    model = _model_with_grads(1e6)
    w0 = model.parameters()[0].value.copy()
    clip_grad_norm(model, 0.1)
    SGD(model.parameters(), lr=1.0).step()
    step = np.linalg.norm(model.parameters()[0].value - w0)
    assert step <= 0.1 * (1 + 1e-9)


# ---------------------------------------------------------------- diagnostics
def test_layer_grad_norms_match_manual_and_see_inside_residual():
    X, y = probe_batch()
    model = deep_network(5, "tanh", 1.0, np.random.default_rng(0), residual=True, norm=True)
    model.backward(mse_grad(model.forward(X), y))
    dense = dense_layers(model)
    assert len(dense) == 5
    manual = [np.sqrt(np.sum(d.dW**2)) for d in dense]
    np.testing.assert_allclose(layer_grad_norms(model), manual, rtol=1e-12)
    stds = layer_output_stds(model, X, kinds=(Residual,))
    assert len(stds) == 3
    with pytest.raises(ValueError, match="no Dense layers"):
        layer_grad_norms(Sequential(Activation("tanh")))


def test_layer_output_stds_show_he_keeps_scale_and_small_init_shrinks():
    X = np.random.default_rng(0).standard_normal((256, 64))

    def net(init):
        rng = np.random.default_rng(1)
        layers = []
        for _ in range(8):
            layers += [Dense(64, 64, init=init, rng=rng), Activation("relu")]
        return Sequential(*layers)

    he = layer_output_stds(net("he"), X)
    small = layer_output_stds(net("normal"), X)
    assert 0.5 < he[-1] / he[0] < 2.0
    assert small[-1] / small[0] < 1e-6


# ---------------------------------------------------------------- explorer
def test_explorer_has_sixty_frames_and_sliders_change_the_data():
    e = grad_norms_explorer()
    assert np.prod([len(s.values) for s in e.sliders.values()]) == 60
    w = e.widget()
    names = [c.description for c in w.children[:3]]
    assert names[0].startswith("depth") and names[1] == "activation"
    first = w.result
    assert first["depth"] == 10 and first["activation"] == "sigmoid"
    w.children[0].value = 20
    assert w.result["norms"].shape == (20,)
    w.children[1].value = "relu"
    w.children[2].value = 3.0
    moved = w.result
    assert moved["activation"] == "relu" and moved["gain"] == 3.0
    assert np.all(moved["norms"] > first["norms"].max())


def test_explorer_shows_vanishing_for_sigmoid_and_not_for_relu_he():
    sig = compute_grad_norms(20, "sigmoid", 1.0)
    relu = compute_grad_norms(20, "relu", 1.41)
    assert sig["ratio"] < 1e-8
    assert 0.1 < relu["ratio"] < 10
    boom = compute_grad_norms(20, "relu", 3.0)
    assert boom["norms"].min() > 1e6
    assert "vanishes" in grad_norms_explorer().describe_fn(sig, {})


def test_deep_network_errors_in_words():
    rng = np.random.default_rng(0)
    with pytest.raises(ValueError, match="'sigmoid', 'tanh', 'relu'"):
        deep_network(4, "softplus", 1.0, rng)
    with pytest.raises(ValueError, match="depth"):
        deep_network(1, "tanh", 1.0, rng)


# ---------------------------------------------------------------- exercise checkers
def _stub(*args):
    raise NotImplementedError


def test_grad_norms_checker():
    assert ex.check_layer_grad_norms(_stub).status == "not attempted"
    assert ex.check_layer_grad_norms(layer_grad_norms).passed
    wrong = {
        "reversed": lambda m: layer_grad_norms(m)[::-1],
        "squared": lambda m: [v**2 for v in layer_grad_norms(m)],
        "bias": lambda m: [np.sqrt(np.sum(d.dW**2) + np.sum(d.db**2)) for d in dense_layers(m)],
        "weights W": lambda m: [np.linalg.norm(d.W) for d in dense_layers(m)],
        "one norm per Dense": lambda m: [np.linalg.norm(p.grad) for p in m.parameters()],
    }
    for word, fn in wrong.items():
        fb = ex.check_layer_grad_norms(fn)
        assert fb.status == "failed" and word in fb.message, (word, fb.message)


def test_clip_checker():
    def good(grads, c):
        total = np.sqrt(sum(np.sum(g**2) for g in grads))
        return [g * min(1.0, c / total) for g in grads]

    def per_array(grads, c):
        return [g * min(1.0, c / np.linalg.norm(g)) for g in grads]

    def always(grads, c):
        total = np.sqrt(sum(np.sum(g**2) for g in grads))
        return [g * c / total for g in grads]

    def upside_down(grads, c):
        total = np.sqrt(sum(np.sum(g**2) for g in grads))
        return [g * total / c for g in grads]

    assert ex.check_clip(_stub).status == "not attempted"
    assert ex.check_clip(good).passed
    for word, fn in (
        ("own norm", per_array),
        ("only shrinks", always),
        ("upside down", upside_down),
        ("nothing was clipped", lambda g, c: g),
    ):
        fb = ex.check_clip(fn)
        assert fb.status == "failed" and word in fb.message, (word, fb.message)


def test_init_checker():
    def good(n_in, n_out, act):
        return np.sqrt(2 / n_in) if act == "relu" else np.sqrt(2 / (n_in + n_out))

    assert ex.check_init_std(_stub).status == "not attempted"
    assert ex.check_init_std(good).passed
    for word, fn in (
        ("variance", lambda a, b, act: good(a, b, act) ** 2),
        ("Xavier value", lambda a, b, act: np.sqrt(2 / (a + b))),
        ("factor 2", lambda a, b, act: np.sqrt(1 / a)),
        ("He value", lambda a, b, act: np.sqrt(2 / a)),
    ):
        fb = ex.check_init_std(fn)
        assert fb.status == "failed" and word in fb.message, (word, fb.message)


def test_layernorm_checker():
    def good(X, gamma, dY, eps):
        ln = LayerNorm(X.shape[1], eps=eps)
        ln.gamma[...] = gamma
        ln.forward(X)
        return ln.backward(dY)

    def constants(X, gamma, dY, eps):
        return dY * gamma / np.sqrt(X.var(axis=1, keepdims=True) + eps)

    def no_var_path(X, gamma, dY, eps):
        g = dY * gamma
        return (g - g.mean(axis=1, keepdims=True)) / np.sqrt(X.var(axis=1, keepdims=True) + eps)

    def no_gamma(X, gamma, dY, eps):
        return good(X, np.ones_like(gamma), dY, eps)

    assert ex.check_layernorm_backward(_stub).status == "not attempted"
    assert ex.check_layernorm_backward(good).passed
    for word, fn in (
        ("constants", constants),
        ("variance is missing", no_var_path),
        ("gamma is missing", no_gamma),
        ("raised ValueError", lambda *a: (_ for _ in ()).throw(ValueError("boom"))),
    ):
        fb = ex.check_layernorm_backward(fn)
        assert fb.status == "failed" and word in fb.message, (word, fb.message)


def test_explorer_hints_hold_on_the_whole_grid():
    # the chapter's hints: sigmoid falls toward the input at every gain, a larger gain slows
    # the fall without stopping it; for ReLU every norm grows with the gain at depth 20
    sig20 = [compute_grad_norms(20, "sigmoid", g)["ratio"] for g in (0.5, 1.0, 1.41, 2.0, 3.0)]
    assert np.all(np.diff(sig20) > 0) and max(sig20) < 1e-3
    for g in (0.5, 1.0, 1.41, 2.0, 3.0):
        assert (
            compute_grad_norms(20, "sigmoid", g)["ratio"]
            < compute_grad_norms(3, "sigmoid", g)["ratio"]
        )
    relu = [compute_grad_norms(20, "relu", g)["norms"] for g in (1.0, 1.41, 2.0)]
    assert np.all(relu[0] < relu[1]) and np.all(relu[1] < relu[2])
    assert compute_grad_norms(20, "tanh", 3.0)["ratio"] > 10


@pytest.mark.parametrize(
    ("depth", "activation", "gain", "phrase"),
    [
        (3, "sigmoid", 1.0, "vanishes toward the input"),
        (20, "tanh", 3.0, "explodes toward the input"),
        (20, "relu", 3.0, "every norm is huge"),
        (20, "relu", 0.5, "every norm is tiny"),
        (10, "relu", 1.41, "keeps roughly its size"),
        (20, "tanh", 2.0, "grows 7.7-fold"),
    ],
)
def test_explorer_caption_says_what_the_frame_shows(depth, activation, gain, phrase):
    # the caption (alt text of each frame) must agree with the chapter's hints for the frame
    data = compute_grad_norms(depth, activation, gain)
    assert phrase in grad_norms_explorer().describe_fn(data, {})


def test_caption_never_calls_a_several_fold_change_level():
    # issue 13: a 7.7-fold growth was captioned "keeps roughly its size"
    for ratio in (2.5, 7.7, 51.0):
        assert "keeps roughly" not in describe_trend(ratio, 20)
        assert "grows" in describe_trend(ratio, 20)
    for ratio in (0.4, 0.05):
        assert "shrinks" in describe_trend(ratio, 20)
    assert "explodes" in describe_trend(51.0, 20) and "explodes" not in describe_trend(7.7, 20)
    assert "keeps roughly its size" in describe_trend(1.6, 10)
    # the per-layer factor is the (depth - 1)-th root of the ratio
    assert "about 1.23 times per layer" in describe_trend(51.0, 20)


def test_explorer_axis_fits_each_frame_so_a_fifty_fold_growth_is_visible():
    data = compute_grad_norms(20, "tanh", 3.0)
    lo, hi = log10_window(data["norms"])
    logs = np.log10(data["norms"])
    assert lo <= logs.min() and logs.max() <= hi and hi - lo >= 3
    # the growth fills at least a third of the axis (it filled 1.7 of 32 decades before)
    assert (logs.max() - logs.min()) / (hi - lo) > 1 / 3
    fig = new_figure(6, 3.4)
    render_grad_norms(fig, data, {})
    assert fig.axes[0].get_ylim() == (lo, hi)
    # a vanishing sigmoid still fits entirely
    sig = compute_grad_norms(20, "sigmoid", 1.0)["norms"]
    lo, hi = log10_window(sig)
    assert lo <= np.log10(sig).min() and np.log10(sig).max() <= hi


@pytest.mark.parametrize("values", [[1.0], [0.5, 0.5], [1e-13, 3.0], [2e5, 3e5]])
def test_log10_window_is_whole_decades_at_least_three_tall(values):
    lo, hi = log10_window(np.array(values))
    assert isinstance(lo, int) and isinstance(hi, int) and hi - lo >= 3
    assert 10.0**lo <= min(values) and max(values) <= 10.0**hi


def test_layer_factor_norms_split_the_weight_gradient_into_its_two_factors():
    X, y = probe_batch(seed=2)
    net = deep_network(6, "relu", 0.3, np.random.default_rng(0))
    f = layer_factor_norms(net, X, lambda out: mse_grad(out, y))
    np.testing.assert_allclose(f["dW"], layer_grad_norms(net), rtol=1e-12)
    assert np.all(f["dW"] <= f["delta"] * f["input"] * (1 + 1e-12))
    # the first Dense layer's input is the batch itself
    np.testing.assert_allclose(f["input"][0], np.linalg.norm(X))
    # tiny weights: the input shrinks going up, the delta shrinks going down
    assert np.all(np.diff(f["input"]) < 0) and np.all(np.diff(f["delta"]) > 0)
    with pytest.raises(ValueError, match="flat Sequential"):
        layer_factor_norms(
            deep_network(4, "tanh", 1.0, np.random.default_rng(0), residual=True), X, lambda o: o
        )


def test_median_and_range():
    med, lo, hi = median_and_range([[3.0, 1.0], [1.0, 5.0], [2.0, 3.0]])
    np.testing.assert_allclose(med, [2.0, 3.0])
    np.testing.assert_allclose(lo, [1.0, 1.0])
    np.testing.assert_allclose(hi, [3.0, 5.0])
    with pytest.raises(ValueError, match="at least one value"):
        median_and_range([])


@pytest.mark.parametrize("point", [(8.0, -1.0), (3.0, -1.5), (5.0, -2.5), (-1.0, 1.0)])
def test_recurrent_cliff_gradient_is_backpropagation_through_time(point):
    p = np.array(point)
    report = gradcheck(
        lambda: float(RECURRENT_CLIFF.value(p)), {"p": p}, {"p": RECURRENT_CLIFF.grad(p)}
    )
    assert report.max_error < 1e-7, str(report)


def test_recurrent_cliff_is_the_one_unit_recurrence_and_has_its_minimum():
    w, b = 3.0, -1.0
    x = 0.5
    for _ in range(50):
        x = w / (1 + np.exp(-x)) + b
    np.testing.assert_allclose(RECURRENT_CLIFF.value([w, b]), (x - 0.7) ** 2, rtol=1e-12)
    np.testing.assert_allclose(RECURRENT_CLIFF.value(RECURRENT_CLIFF.minimum), 0.0, atol=1e-20)
    np.testing.assert_allclose(RECURRENT_CLIFF.grad(RECURRENT_CLIFF.minimum), 0.0, atol=1e-12)
    assert get_surface("cliff") is RECURRENT_CLIFF
    # the wall: the gradient on the slope above the valley is more than 50 times the
    # gradient near the floor
    assert np.linalg.norm(RECURRENT_CLIFF.grad([8.0, -1.0])) > 50 * np.linalg.norm(
        RECURRENT_CLIFF.grad([2.0, -0.6])
    )


# ---------------------------------------------------------------- batch norm and the stream
@pytest.mark.parametrize("training", [True, False])
def test_batchnorm_reference_is_the_chapters_formulas(training):
    """The BATCHNORM checker's reference (bpkit.BatchNorm) is the chapter's formulas: batch
    statistics (biased variance) and moving averages (unbiased) in training mode, running
    averages and no update in evaluation mode."""
    rng = np.random.default_rng(3)
    X = 3.0 * rng.standard_normal((7, 4)) + 1.0
    gamma, beta = rng.uniform(0.5, 2.0, 4), rng.normal(0.0, 1.0, 4)
    rm, rv, m, eps = rng.normal(0.0, 1.0, 4), rng.uniform(1.0, 4.0, 4), 0.8, 1e-5
    Y, rm_new, rv_new = ex.reference_batchnorm(X, gamma, beta, rm, rv, training, m, eps)
    if training:
        mu, var = X.mean(axis=0), X.var(axis=0)
        want_rm, want_rv = m * rm + (1 - m) * mu, m * rv + (1 - m) * X.var(axis=0, ddof=1)
    else:
        mu, var, want_rm, want_rv = rm, rv, rm, rv
    np.testing.assert_allclose(Y, gamma * (X - mu) / np.sqrt(var + eps) + beta, rtol=1e-12)
    np.testing.assert_allclose(rm_new, want_rm, rtol=1e-12)
    np.testing.assert_allclose(rv_new, want_rv, rtol=1e-12)


def test_batchnorm_in_evaluation_mode_treats_each_row_alone():
    rng = np.random.default_rng(4)
    X, rm, rv = rng.standard_normal((6, 3)), rng.normal(size=3), rng.uniform(1, 2, 3)
    args = (np.ones(3), np.zeros(3), rm, rv)
    whole = ex.reference_batchnorm(X, *args, False, 0.9, 1e-5)[0]
    alone = np.vstack(
        [ex.reference_batchnorm(X[i : i + 1], *args, False, 0.9, 1e-5)[0] for i in range(6)]
    )
    np.testing.assert_allclose(whole, alone, rtol=1e-12)
    in_training = ex.reference_batchnorm(X, *args, True, 0.9, 1e-5)[0]
    assert np.abs(in_training - whole).max() > 0.1  # training mode: the batch's statistics


@pytest.mark.parametrize("s", [1.0, 0.5, 0.0])
def test_stream_variance_formula_matches_he_initialised_residual_blocks(s):
    """v_L = v_0 (1 + 2 s^2)^L for Dense-ReLU-Dense branches (He) whose last layer is scaled
    by s: the median over draws of wide blocks is within 20% (the chapter's derivation)."""
    from bpkit import Sequential
    from bpkit.residual import residual_block

    L, width = 4, 128
    finals = []
    for seed in range(7):
        X = np.random.default_rng(seed).standard_normal((256, width))
        rng = np.random.default_rng(50 + seed)
        stack = Sequential(*[residual_block(width, rng=rng, last_scale=s) for _ in range(L)])
        finals.append(np.mean(stack.forward(X) ** 2) / np.mean(X**2))
    predicted = ex.stream_variances(1.0, 2.0, s, L)[-1]
    assert abs(np.median(finals) / predicted - 1) < 0.2, (np.median(finals), predicted)
    if s == 0.0:
        assert np.all(np.array(finals) == 1.0)

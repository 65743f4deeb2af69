"""Chapter 5, parameter updates: surfaces, schedules, optimizers, checkers, explorers."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import bpkit
from bpcourse.exercises import updates as ex
from bpcourse.explorers import updates as xp
from bpcourse.surfaces import ELONGATED_QUADRATIC, ROSENBROCK, descend, get_surface
from bpkit.data import two_moons
from bpkit.schedules import ExponentialDecay, StepDecay, schedule_callback

# ---------------------------------------------------------------- surfaces


@pytest.mark.parametrize("surface", [ELONGATED_QUADRATIC, ROSENBROCK])
@pytest.mark.parametrize("point", [(-1.2, 1.0), (0.3, -0.7), (1.5, 2.0)])
def test_surface_gradient_matches_central_differences(surface, point):
    p = np.array(point, dtype=np.float64)
    report = bpkit.gradcheck(lambda: float(surface.value(p)), {"p": p}, {"p": surface.grad(p)})
    assert report.passed, str(report)
    assert report.max_error < 1e-7


@pytest.mark.parametrize("surface", [ELONGATED_QUADRATIC, ROSENBROCK])
def test_surface_minimum_has_zero_value_and_gradient(surface):
    np.testing.assert_allclose(surface.value(surface.minimum), 0.0, atol=1e-15)
    np.testing.assert_allclose(surface.grad(surface.minimum), [0.0, 0.0], atol=1e-12)


def test_surface_is_vectorised_over_a_grid():
    X, Y, Z = ROSENBROCK.grid(7)
    assert Z.shape == (7, 7)
    np.testing.assert_allclose(Z[3, 2], ROSENBROCK.value([X[3, 2], Y[3, 2]]))
    G = ELONGATED_QUADRATIC.grad(np.stack([X, Y], axis=-1))
    assert G.shape == (7, 7, 2)


def test_surface_errors_in_words():
    with pytest.raises(ValueError, match=r"shape \(\.\.\., 2\)"):
        ROSENBROCK.value([1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match="'quadratic', 'rosenbrock'"):
        get_surface("banana")


def test_sgd_on_quadratic_diverges_exactly_above_two_over_curvature():
    # GD on curvature b multiplies the y-coordinate by (1 - lr*b) per step: stable iff lr < 2/b
    b = 20.0
    ok = descend(ELONGATED_QUADRATIC, lambda ps: bpkit.SGD(ps, lr=0.99 * 2 / b), 2000)
    bad = descend(ELONGATED_QUADRATIC, lambda ps: bpkit.SGD(ps, lr=1.01 * 2 / b), 2000)
    assert not ok.diverged and ok.values[-1] < ok.values[0]
    assert bad.diverged


def test_descend_follows_the_sgd_recursion_by_hand():
    lr, start = 1e-3, np.array([-1.2, 1.0])
    traj = descend(ROSENBROCK, lambda ps: bpkit.SGD(ps, lr=lr), 5, start=start)
    theta = start.copy()
    for k in range(1, 6):
        theta = theta - lr * ROSENBROCK.grad(theta)
        np.testing.assert_allclose(traj.points[k], theta, rtol=1e-12)


# ---------------------------------------------------------------- optimizers (optim.py)


def test_momentum_and_nesterov_match_their_equations():
    g1, g2 = np.array([1.0, -2.0]), np.array([0.5, 0.25])
    lr, mu = 0.1, 0.9
    for nesterov in (False, True):
        p = bpkit.Parameter("w", np.array([1.0, 1.0]), np.zeros(2))
        opt = bpkit.Momentum([p], lr=lr, momentum=mu, nesterov=nesterov)
        theta, v = p.value.copy(), np.zeros(2)
        for g in (g1, g2):
            p.grad[...] = g
            opt.step()
            v = mu * v + g
            theta = theta - lr * ((g + mu * v) if nesterov else v)
            np.testing.assert_allclose(p.value, theta, rtol=1e-12)


def test_adam_first_step_has_length_lr_whatever_the_gradient_scale():
    for scale in (1e-3, 1.0, 1e3):
        p = bpkit.Parameter("w", np.zeros(3), scale * np.array([1.0, -2.0, 0.5]))
        bpkit.Adam([p], lr=0.01).step()
        np.testing.assert_allclose(np.abs(p.value), 0.01, rtol=1e-4)


# ---------------------------------------------------------------- schedules


def test_step_decay_formula():
    s = StepDecay(0.5, factor=0.1, every=3)
    got = [s(t) for t in range(7)]
    np.testing.assert_allclose(got, [0.5, 0.5, 0.5, 0.05, 0.05, 0.05, 0.005])


def test_exponential_decay_formula():
    s = ExponentialDecay(2.0, factor=0.5)
    np.testing.assert_allclose([s(t) for t in range(4)], [2.0, 1.0, 0.5, 0.25])


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: StepDecay(0.0), "lr0 must be a positive"),
        (lambda: StepDecay(0.1, factor=1.5), "strictly between 0 and 1"),
        (lambda: StepDecay(0.1, every=0), "every must be a whole number"),
        (lambda: ExponentialDecay(0.1, factor=-0.5), "factor must be a positive"),
        (lambda: StepDecay(0.1)(-1), "epoch must be a whole number"),
        (lambda: ExponentialDecay(0.1)(1.5), "epoch must be a whole number"),
    ],
)
def test_schedules_reject_bad_input_in_words(make, message):
    with pytest.raises(ValueError, match=message):
        make()


def test_schedule_callback_sets_the_rate_each_epoch_runs_with():
    X, y = two_moons(20, rng=np.random.default_rng(0))
    model = bpkit.mlp([2, 3, 1], rng=np.random.default_rng(1))
    opt = bpkit.SGD(model.parameters(), lr=1.0)
    sched = StepDecay(0.4, factor=0.5, every=2)
    seen: list[float] = []
    cb = schedule_callback(sched, opt)

    def record(epoch, history):
        seen.append(opt.lr)  # the rate epoch `epoch` ran with
        cb(epoch, history)

    bpkit.train(
        model, X, y, loss="binary_cross_entropy_with_logits", optimizer=opt, epochs=5,
        callback=record,
    )  # fmt: skip
    np.testing.assert_allclose(seen, [sched(t) for t in range(5)])


# ---------------------------------------------------------------- checkers


def _momentum(theta, v, grad, lr, mu, nesterov):
    v = mu * v + grad
    return theta - lr * ((grad + mu * v) if nesterov else v), v


def _adam(theta, m, s, grad, t, lr, b1, b2, eps):
    m = b1 * m + (1 - b1) * grad
    s = b2 * s + (1 - b2) * grad**2
    return theta - lr * (m / (1 - b1**t)) / (np.sqrt(s / (1 - b2**t)) + eps), m, s


def _stub(*args):
    raise NotImplementedError


@pytest.mark.parametrize(
    "check",
    [
        ex.check_momentum_step,
        ex.check_adam_step,
        ex.check_step_decay,
        ex.check_update_ratio,
        ex.check_rmsprop_step,
        ex.check_adamw_step,
        ex.check_warmup_cosine,
    ],
)
def test_untouched_stub_is_not_attempted(check):
    fb = check(_stub)
    assert fb.status == "not attempted"
    assert "not attempted yet" in fb.message


def test_right_answers_pass():
    assert ex.check_momentum_step(_momentum).passed
    assert ex.check_adam_step(_adam).passed
    assert ex.check_step_decay(lambda t, lr0, f, k: lr0 * f ** (t // k)).passed
    assert ex.check_update_ratio(lambda W, g, lr: lr * np.linalg.norm(g) / np.linalg.norm(W)).passed


@pytest.mark.parametrize(
    ("answer", "words"),
    [
        (lambda th, v, g, lr, mu, n: (th + lr * (mu * v + g), mu * v + g), "wrong sign"),
        (lambda th, v, g, lr, mu, n: (th - lr * g, mu * v + g), "plain SGD"),
        (
            lambda th, v, g, lr, mu, n: (th + mu * v - lr * g, mu * v - lr * g),
            "other common convention",
        ),
        (lambda th, v, g, lr, mu, n: (th - lr * (mu * v + g), mu * v + g), "classical step"),
    ],
)
def test_momentum_checker_names_the_mistake(answer, words):
    fb = ex.check_momentum_step(answer)
    assert fb.status == "failed"
    assert words in fb.message


def test_adam_checker_names_missing_bias_correction_and_sqrt():
    def no_bias(theta, m, s, grad, t, lr, b1, b2, eps):
        m = b1 * m + (1 - b1) * grad
        s = b2 * s + (1 - b2) * grad**2
        return theta - lr * m / (np.sqrt(s) + eps), m, s

    def no_sqrt(theta, m, s, grad, t, lr, b1, b2, eps):
        m = b1 * m + (1 - b1) * grad
        s = b2 * s + (1 - b2) * grad**2
        return theta - lr * (m / (1 - b1**t)) / (s / (1 - b2**t) + eps), m, s

    def from_zero(theta, m, s, grad, t, lr, b1, b2, eps):
        return _adam(theta, m, s, grad, t + 1, lr, b1, b2, eps)

    assert "bias correction is missing" in ex.check_adam_step(no_bias).message
    assert "square root is missing" in ex.check_adam_step(no_sqrt).message
    assert "off by one" in ex.check_adam_step(from_zero).message
    assert "as a tuple" in ex.check_adam_step(lambda *a: a[0]).message


@pytest.mark.parametrize(
    ("answer", "words"),
    [
        (lambda t, lr0, f, k: lr0 * f ** ((t + 1) // k), "off by one"),
        (lambda t, lr0, f, k: lr0 * f ** (t / k), "exponential decay"),
        (lambda t, lr0, f, k: lr0 * f * (t // k), "decay multiplies"),
        (lambda t, lr0, f, k: lr0 * f ** round(t / k), "floor division"),
    ],
)
def test_step_decay_checker_names_the_mistake(answer, words):
    fb = ex.check_step_decay(answer)
    assert fb.status == "failed"
    assert words in fb.message


@pytest.mark.parametrize(
    ("answer", "words"),
    [
        (lambda W, g, lr: np.linalg.norm(g) / np.linalg.norm(W), "learning rate is missing"),
        (lambda W, g, lr: np.linalg.norm(W) / np.linalg.norm(lr * g), "upside down"),
        (lambda W, g, lr: np.sum((lr * g) ** 2) / np.sum(W**2), "not their squares"),
        (lambda W, g, lr: 1 / 0, "raised ZeroDivisionError"),
    ],
)
def test_update_ratio_checker_names_the_mistake(answer, words):
    fb = ex.check_update_ratio(answer)
    assert fb.status == "failed"
    assert words in fb.message


def _rmsprop(theta, s, grad, lr, rho, eps):
    s = rho * s + (1 - rho) * grad * grad
    return theta - lr * grad / (np.sqrt(s) + eps), s


def _adamw(theta, m, s, grad, t, lr, wd):
    m = 0.9 * m + 0.1 * grad
    s = 0.999 * s + 0.001 * grad**2
    step = (m / (1 - 0.9**t)) / (np.sqrt(s / (1 - 0.999**t)) + 1e-8)
    return theta - lr * step - lr * wd * theta, m, s


def _warmup_cosine(epoch, lr0, warmup, total, min_factor):
    low = min_factor * lr0
    if epoch <= warmup:
        return lr0 * (epoch + 1) / (warmup + 1)
    if epoch >= total:
        return low
    return low + (lr0 - low) * (1 + np.cos(np.pi * (epoch - warmup) / (total - warmup))) / 2


def test_new_methods_right_answers_pass():
    assert ex.check_rmsprop_step(_rmsprop).passed
    assert ex.check_adamw_step(_adamw).passed
    assert ex.check_warmup_cosine(_warmup_cosine).passed

    # the library itself, called the way a learner might
    def with_bpkit(epoch, lr0, warmup, total, min_factor):
        return bpkit.WarmupCosine(lr0, warmup, total, min_factor)(epoch)

    assert ex.check_warmup_cosine(with_bpkit).passed


def _adagrad_written(theta, s, grad, lr, rho, eps):
    s = s + grad**2  # a learner's Adagrad
    return theta - lr * grad / (np.sqrt(s) + eps), s


def _adam_l2_written(theta, m, s, grad, t, lr, wd):
    return _adamw(theta, m, s, grad + wd * theta, t, lr, 0.0)


def _adamw_uncorrected_written(theta, m, s, grad, t, lr, wd):
    m = 0.9 * m + 0.1 * grad
    s = 0.999 * s + 0.001 * grad**2
    return theta - lr * m / (np.sqrt(s) + 1e-8) - lr * wd * theta, m, s


def _warmup_from_zero_written(epoch, lr0, warmup, total, min_factor):
    if epoch < warmup:
        return lr0 * epoch / warmup
    return _warmup_cosine(epoch, lr0, warmup, total, min_factor)


def _cosine_to_zero_written(epoch, lr0, warmup, total, min_factor):
    return _warmup_cosine(epoch, lr0, warmup, total, 0.0) if epoch < total else 0.0


@pytest.mark.parametrize(
    ("check", "answer", "name", "words"),
    [
        (ex.check_rmsprop_step, _adagrad_written, "adagrad-sum", "that is Adagrad"),
        (
            ex.check_rmsprop_step,
            lambda th, s, g, lr, rho, eps: _rmsprop(th, s, g, lr, 1 - rho, eps),
            "swapped-weights",
            "swapped",
        ),
        (
            ex.check_rmsprop_step,
            lambda th, s, g, lr, rho, eps: (
                th - lr * g / np.sqrt(rho * s + (1 - rho) * g * g + eps),
                rho * s + (1 - rho) * g * g,
            ),
            "eps-inside-root",
            "inside the square root",
        ),
        (ex.check_adamw_step, _adam_l2_written, "l2-in-gradient", "L2 in the loss"),
        (
            ex.check_adamw_step,
            lambda th, m, s, g, t, lr, wd: (
                _adamw(th, m, s, g, t, lr, 0.0)[0] - wd * th,
                *_adamw(th, m, s, g, t, lr, 0.0)[1:],
            ),
            "decay-without-lr",
            "not scaled by the learning rate",
        ),
        (
            ex.check_adamw_step,
            lambda th, m, s, g, t, lr, wd: (
                _adamw(th, m, s, g, t, lr, 0.0)[0] - lr * wd * g,
                *_adamw(th, m, s, g, t, lr, 0.0)[1:],
            ),
            "decay-on-gradient",
            "applied to the gradient",
        ),
        (ex.check_adamw_step, _adamw_uncorrected_written, "no-bias-correction", "bias correction"),
        (
            ex.check_warmup_cosine,
            _warmup_from_zero_written,
            "warmup-from-zero",
            "the warm-up starts at 0",
        ),
        (ex.check_warmup_cosine, _cosine_to_zero_written, "cosine-to-zero", "ends at 0"),
        (
            ex.check_warmup_cosine,
            lambda e, lr0, w, T, mf: (
                lr0 * (e + 1) / w if e < w else _warmup_cosine(e, lr0, w, T, mf)
            ),
            "warmup-peak-early",
            "one epoch early",
        ),
        (
            ex.check_warmup_cosine,
            lambda e, lr0, w, T, mf: _warmup_cosine(e, lr0, w, T, mf / lr0),
            "min-factor-as-rate",
            "fraction of the peak",
        ),
    ],
)
def test_new_checkers_name_the_mistakes_as_learners_write_them(check, answer, name, words):
    fb = check(answer)
    assert fb.status == "failed" and fb.mistake == name, fb
    assert words in fb.message


# ---------------------------------------------------------------- explorers


def test_lr_explorer_slider_changes_the_run_and_reports_divergence():
    e = xp.lr_explorer()
    w = e.widget()
    slider = w.children[0]
    small = w.result
    assert small["status"] == "converging"
    assert small["losses"][-1] < small["losses"][0]
    slider.value = 3.0
    big = w.result
    assert big["status"] == "diverged"
    assert big["fit"] is None
    assert "NaN or infinite" in big["message"]
    assert "diverged" in xp.describe_lr_run(big, {"lr": 3.0})
    assert len(big["losses"]) < len(small["losses"])


def test_lr_explorer_caption_tells_a_crawl_from_a_good_fit():
    # The caption may only say the fit follows the data when the loss is near the noise.
    values = xp.lr_explorer().sliders["lr"].values
    crawl, good = xp.compute_lr_run(values[0]), xp.compute_lr_run(0.0849)
    assert crawl["losses"][-1] > 2 * crawl["noise_mse"] > good["losses"][-1]
    assert "too small" in xp.describe_lr_run(crawl, {})
    assert "follows" not in xp.describe_lr_run(crawl, {})
    assert "follows the noisy sine" in xp.describe_lr_run(good, {})


def test_race_explorers_sliders_change_the_trajectories():
    for surface in ("quadratic", "rosenbrock"):
        e = xp.race_explorer(surface)
        n_frames = np.prod([len(s.values) for s in e.sliders.values()])
        assert n_frames <= 64
        w = e.widget()
        lr_slider, mu_slider, adam_slider = w.children[0], w.children[1], w.children[2]
        first = w.result["runs"]
        mu_slider.value = 0.0
        no_momentum = w.result["runs"]
        # the momentum slider moves momentum and Nesterov, but not SGD or Adam
        np.testing.assert_allclose(first["SGD"]["points"], no_momentum["SGD"]["points"])
        np.testing.assert_allclose(first["Adam"]["points"], no_momentum["Adam"]["points"])
        assert not np.allclose(first["momentum"]["points"], no_momentum["momentum"]["points"])
        # with mu = 0, momentum and Nesterov are exactly SGD
        np.testing.assert_allclose(no_momentum["momentum"]["points"], no_momentum["SGD"]["points"])
        np.testing.assert_allclose(no_momentum["Nesterov"]["points"], no_momentum["SGD"]["points"])
        lr_slider.value = lr_slider.options[0][1]
        slower = w.result["runs"]["SGD"]
        assert not np.allclose(slower["points"], no_momentum["SGD"]["points"])
        # Adam's slider moves Adam only
        before = w.result["runs"]
        adam_slider.value = 0.5
        after = w.result["runs"]
        assert not np.allclose(before["Adam"]["points"], after["Adam"]["points"])
        np.testing.assert_allclose(before["SGD"]["points"], after["SGD"]["points"])
        # every frame carries the tuned baseline, whatever the sliders say
        np.testing.assert_allclose(w.result["best_sgd"], xp.best_sgd(surface)[1])


def test_race_reports_sgd_divergence_on_quadratic_above_the_threshold():
    data = xp.compute_race("quadratic", 0.105, 0.0)
    assert data["runs"]["SGD"]["diverged"]
    assert "SGD diverged" in xp.describe_race(data, {})
    with pytest.raises(ValueError, match="choose one of"):
        xp.race_explorer("saddle")


# ---------------------------------------------------------------- properties


@settings(max_examples=50, deadline=None)
@given(
    lr0=st.floats(1e-4, 10.0),
    factor=st.floats(0.01, 0.99),
    every=st.integers(1, 20),
    epoch=st.integers(0, 200),
)
def test_step_decay_never_increases_and_is_constant_within_a_stage(lr0, factor, every, epoch):
    s = StepDecay(lr0, factor, every)
    assert s(epoch + 1) <= s(epoch)
    stage_start = (epoch // every) * every
    np.testing.assert_allclose(s(epoch), s(stage_start))
    np.testing.assert_allclose(s(stage_start), lr0 * factor ** (epoch // every))


@settings(max_examples=50, deadline=None)
@given(
    lr=st.floats(1e-3, 0.099),
    x0=st.floats(-4.0, 4.0),
    y0=st.floats(-1.5, 1.5),
    steps=st.integers(1, 40),
)
def test_sgd_on_the_quadratic_matches_the_closed_form(lr, x0, y0, steps):
    # each coordinate is multiplied by (1 - lr * curvature) per step
    traj = descend(ELONGATED_QUADRATIC, lambda ps: bpkit.SGD(ps, lr=lr), steps, start=[x0, y0])
    expected = [x0 * (1 - lr * 1.0) ** steps, y0 * (1 - lr * 20.0) ** steps]
    np.testing.assert_allclose(traj.points[-1], expected, rtol=1e-9, atol=1e-12)


# ---------------------------------------------------------------- issue 13: tuned settings
def test_quadratic_tuning_matches_a_brute_force_search_and_gives_sqrt_kappa():
    t = xp.quadratic_tuning(1.0, 20.0)

    def worst(lr, mu):  # slowest direction of heavy ball over the curvatures 1 and 20
        sizes = []
        for lam in (1.0, 20.0):
            sizes.append(max(abs(np.roots([1.0, -(1 + mu - lr * lam), mu]))))
        return max(sizes)

    assert abs(worst(t["momentum_lr"], t["momentum_mu"]) - t["momentum_rate"]) < 1e-6
    assert abs(worst(t["gd_lr"], 0.0) - t["gd_rate"]) < 1e-12
    grid = [(a, m) for a in np.linspace(0.06, 0.2, 57) for m in np.linspace(0, 0.8, 41)]
    assert min(worst(a, m) for a, m in grid) > t["momentum_rate"] - 1e-9
    # the speed-up in steps per factor e tends to sqrt(kappa) / 2 : kappa / 2
    for kappa in (100.0, 1e4):
        tk = xp.quadratic_tuning(1.0, kappa)
        steps_gd, steps_mom = -1 / np.log(tk["gd_rate"]), -1 / np.log(tk["momentum_rate"])
        np.testing.assert_allclose(steps_gd / steps_mom, np.sqrt(kappa), rtol=0.02)
    with pytest.raises(ValueError, match="0 < lam_min <= lam_max"):
        xp.quadratic_tuning(2.0, 1.0)


def test_tuned_momentum_beats_the_best_plain_descent_on_the_quadratic():
    t = xp.TUNED
    mom = descend(
        ELONGATED_QUADRATIC,
        lambda ps: bpkit.Momentum(ps, lr=t["momentum_lr"], momentum=t["momentum_mu"]),
        100,
    )
    lr, values = xp.best_sgd("quadratic")
    assert mom.values[-1] < 1e-25 and values[-1] > 1e-9
    # best_sgd's rate is near 2 / (lam_min + lam_max) and no neighbour does better
    assert abs(lr / t["gd_lr"] - 1) < 0.1
    for other in (0.95 * lr, 1.05 * lr):
        run = descend(ELONGATED_QUADRATIC, lambda ps, o=other: bpkit.SGD(ps, lr=o), 100)
        assert run.diverged or run.values[-1] >= values[-1]


def test_stacked_training_is_bpkit_train_step_for_step():
    X, y = two_moons(60, noise=0.2, rng=np.random.default_rng(3))
    schedule = StepDecay(1.0, factor=0.5, every=2)
    rates = np.array([schedule(e) for e in range(5)])
    for batch_size in (None, 6, 1):
        model = bpkit.mlp([2, 16, 1], "tanh", rng=np.random.default_rng(4))
        opt = bpkit.SGD(model.parameters(), lr=1.0)
        history = bpkit.train(
            model, X, y, loss="binary_cross_entropy_with_logits", optimizer=opt, epochs=5,
            batch_size=batch_size, rng=np.random.default_rng(9),
            callback=schedule_callback(schedule, opt),
        )  # fmt: skip
        params = xp.stacked_mlp([4, 4])
        out = xp.train_stacked(params, X, y, [9, 9], batch_size, np.vstack([rates, rates]))
        np.testing.assert_array_equal(out["step_loss"][0], history.step_loss)
        np.testing.assert_array_equal(out["step_loss"][1], history.step_loss)
        np.testing.assert_array_equal(params["W1"][0], model[0].W)
        np.testing.assert_array_equal(params["W2"][0], model[2].W)
        np.testing.assert_allclose(
            out["full_loss"][0, -1],
            bpkit.binary_cross_entropy_with_logits(model.predict(X), y),
            rtol=1e-12,
        )
    with pytest.raises(ValueError, match="must agree"):
        xp.train_stacked(xp.stacked_mlp([1]), X, y, [1, 2], None, np.ones((1, 2)))


@pytest.mark.parametrize(
    ("name", "weight_decay"),
    [(n, wd) for n in xp.STACKED_OPTIMIZERS for wd in (0.0, 0.05)],
)
def test_stacked_training_with_every_optimizer_is_bpkit_train_bit_for_bit(name, weight_decay):
    """Each optimizer of train_stacked, with weight decay too, against bpkit.train with the
    optimizer's class (L2 for all but AdamW, decoupled for AdamW), on two networks at once."""
    classes = {
        "sgd": bpkit.SGD,
        "adagrad": bpkit.Adagrad,
        "rmsprop": bpkit.RMSProp,
        "adam": bpkit.Adam,
        "adamw": bpkit.AdamW,
    }
    X, y = two_moons(60, noise=0.2, rng=np.random.default_rng(3))
    rates = np.array([0.05, 0.03, 0.02])
    params = xp.stacked_mlp([4, 5])
    out = xp.train_stacked(
        params, X, y, [9, 8], 6, np.vstack([rates, rates]), optimizer=name,
        weight_decay=weight_decay, step_rms=True,
    )  # fmt: skip
    for row, (seed, shuffle) in enumerate(((4, 9), (5, 8))):
        model = bpkit.mlp([2, 16, 1], "tanh", rng=np.random.default_rng(seed))
        opt = classes[name](model.parameters(), lr=rates[0], weight_decay=weight_decay)

        def record(epoch, history, model=model, opt=opt):
            if epoch + 1 < len(rates):
                opt.lr = rates[epoch + 1]

        history = bpkit.train(
            model, X, y, loss="binary_cross_entropy_with_logits", optimizer=opt,
            epochs=len(rates), batch_size=6, rng=np.random.default_rng(shuffle), callback=record,
        )  # fmt: skip
        np.testing.assert_array_equal(out["step_loss"][row], history.step_loss)
        np.testing.assert_array_equal(params["W1"][row], model[0].W)
        assert np.all(out["step_rms"][row] > 0)
    with pytest.raises(ValueError, match="optimizer must be one of"):
        xp.train_stacked(xp.stacked_mlp([1]), X, y, [1], 6, np.ones((1, 1)), optimizer="lbfgs")


def test_stacked_step_rms_is_the_root_mean_square_change_of_one_step():
    """One epoch of one full-batch step: step_rms is the RMS over every weight and bias of
    the change that step made."""
    X, y = two_moons(40, noise=0.2, rng=np.random.default_rng(1))
    params = xp.stacked_mlp([3])
    before = {k: v.copy() for k, v in params.items()}
    out = xp.train_stacked(params, X, y, [0], None, np.full((1, 1), 0.3), step_rms=True)
    changes = np.concatenate([(params[k] - before[k]).ravel() for k in params])
    np.testing.assert_allclose(out["step_rms"][0, 0], np.sqrt(np.mean(changes**2)), rtol=1e-12)


@pytest.mark.parametrize("surface", ["quadratic", "rosenbrock"])
def test_final_sgd_values_are_separate_descend_runs_and_best_sgd_is_their_minimum(surface):
    surf = get_surface(surface)
    lrs = np.geomspace(1e-3, 1.0, 13)
    fast = xp.final_sgd_values(surf, lrs, xp.RACE_STEPS[surface])
    slow = []
    for lr in lrs:
        t = descend(surf, lambda ps, lr=lr: bpkit.SGD(ps, lr=lr), xp.RACE_STEPS[surface])
        slow.append(np.inf if t.diverged else t.values[-1])
    np.testing.assert_array_equal(fast, slow)
    assert np.isinf(fast[-1])  # lr = 1 diverges on both surfaces
    lr, values = xp.best_sgd(surface)
    coarse = xp.final_sgd_values(surf, np.geomspace(1e-4, 1.0, 41), xp.RACE_STEPS[surface])
    assert values[-1] == xp.final_sgd_values(surf, [lr], xp.RACE_STEPS[surface])[0]
    assert values[-1] <= coarse.min()  # the fine search only improves on the coarse one


def test_lr_run_sharpness_and_the_caption_says_when_divergence_began():
    from bpcourse.diagnostics import flat_parameters, gradient_function, hessian_by_differences

    x, y = xp.sine_data()
    model = bpkit.mlp([1, 16, 1], "tanh", rng=np.random.default_rng(1))
    H = hessian_by_differences(gradient_function(model, x, y), flat_parameters(model))
    lam0 = np.linalg.eigvalsh(H)[-1]
    run = xp.compute_lr_run(0.173)
    np.testing.assert_allclose(run["sharpness"][0, 1], lam0, rtol=1e-6)
    assert 2 / lam0 < 0.173 and run["status"] == "converging"
    assert np.all(run["sharpness"][1:, 1] < 2 / 0.173)  # after the jump, below its line
    assert "first jumped" in xp.describe_lr_run(run, {})
    blown = xp.compute_lr_run(0.353)
    words = xp.describe_lr_run(blown, {})
    assert blown["status"] == "diverged" and blown["rose_at"] == 1 and blown["stayed_above"]
    assert "rose above its starting value 2.06 at epoch 2 and never came back" in words
    assert f"at epoch {len(blown['losses']) + 1}" in words and len(blown["losses"]) > 100


def test_hessian_tools_on_a_quadratic_with_a_known_hessian():
    from bpcourse.diagnostics import (
        hessian_by_differences,
        hessian_vector_product,
        top_hessian_eigenvalue,
    )

    A = np.array([[3.0, 1.0, 0.0], [1.0, 2.0, 0.5], [0.0, 0.5, 7.0]])  # symmetric

    def grad(theta):
        return A @ theta  # gradient of theta^T A theta / 2

    theta = np.array([0.3, -1.0, 2.0])
    v = np.array([1.0, 2.0, -1.0])
    np.testing.assert_allclose(hessian_vector_product(grad, theta, v), A @ v, rtol=1e-9)
    np.testing.assert_allclose(hessian_by_differences(grad, theta), A, atol=1e-8)
    lam, q = top_hessian_eigenvalue(grad, theta, iters=200)
    np.testing.assert_allclose(lam, np.linalg.eigvalsh(A)[-1], rtol=1e-9)
    np.testing.assert_allclose(abs(q @ np.linalg.eigh(A)[1][:, -1]), 1.0, rtol=1e-6)


def test_flat_parameters_round_trip_and_refuse_a_wrong_size():
    from bpcourse.diagnostics import flat_parameters, set_flat_parameters

    model = bpkit.mlp([2, 3, 1], rng=np.random.default_rng(0))
    theta = flat_parameters(model)
    assert theta.size == 2 * 3 + 3 + 3 + 1
    set_flat_parameters(model, np.arange(theta.size, dtype=float))
    np.testing.assert_array_equal(flat_parameters(model), np.arange(theta.size))
    with pytest.raises(ValueError, match="13 parameters"):
        set_flat_parameters(model, np.zeros(12))


def test_warmup_self_check_catches_the_warmup_slips():
    """sc-upd-warmup-start asks for epoch 2 of a 3-epoch warm-up: each warm-up slip gives
    its own value there, far outside the tolerance of the answer and of the others."""
    from bpcourse import selfcheck

    q = selfcheck.numeric_from_check("sc-upd-warmup-start", "?", ex.WARMUP_COSINE, case=1)
    assert ex.WARMUP_COSINE.case_list()[1][0] == 2
    assert len(q.mistakes) >= 3
    values = [q.answer] + [v for _, v in q.mistakes]
    gaps = [abs(a - b) for i, a in enumerate(values) for b in values[i + 1 :]]
    assert min(gaps) > 20 * q.rtol * q.answer


def test_momentum_checker_names_the_step_with_the_old_velocity():
    def old_velocity_step(theta, v, grad, lr, mu, nesterov):
        v_new = mu * v + grad
        return theta - lr * v, v_new  # the step taken before the velocity is updated

    fb = ex.check_momentum_step(old_velocity_step)
    assert fb.status == "failed" and fb.mistake == "step-with-old-velocity", fb
    assert "old velocity" in fb.message

"""Chapter 2, gradients and gradient descent: descent.py, the explorers, the checkers."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import bpkit
from bpcourse.descent import (
    contraction_factors,
    gradient_descent,
    stability_threshold,
)
from bpcourse.exercises import gradient_descent as ex
from bpcourse.explorers import gradient_descent as gdx
from bpkit.data import line_points

NOTEBOOK = "chapters/02_gradient_descent.ipynb"

# ---------------------------------------------------------------- descent.py


@pytest.mark.parametrize("lr", [0.05, 0.25, 0.4, 0.5, 0.6])
def test_descent_on_a_parabola_follows_the_closed_form(lr):
    # f(x) = (a/2)(x - m)^2: the error is multiplied by (1 - lr a) at every step
    a, m, x0 = 4.0, 1.0, -1.5
    traj = gradient_descent(lambda x: a * (x - m), [x0], lr, 12)
    k = np.arange(13)
    np.testing.assert_allclose(
        traj.points[:, 0] - m, (1 - lr * a) ** k * (x0 - m), rtol=1e-10, atol=1e-14
    )
    assert traj.steps_taken == 12 and not traj.diverged


def test_descent_records_f_and_the_iterates_shape():
    A = np.array(gdx.BOWL_HESSIAN)
    m = np.array(gdx.BOWL_MIN)
    traj = gradient_descent(
        lambda w: gdx.quadratic_grad(w, A, m),
        gdx.BOWL_START,
        0.1,
        7,
        f=lambda w: gdx.quadratic(w, A, m),
    )
    assert traj.points.shape == (8, 2) and traj.values.shape == (8,)
    np.testing.assert_allclose(traj.values[3], gdx.quadratic(traj.points[3], A, m))
    assert np.all(np.diff(traj.values) < 0)  # below 1/λmax: every step lowers f


def test_quadratic_gradient_matches_central_differences():
    A = np.array(gdx.BOWL_HESSIAN)
    m = np.array(gdx.BOWL_MIN)
    w = np.array([-1.3, 2.2])
    report = bpkit.gradcheck(
        lambda: gdx.quadratic(w, A, m), {"w": w}, {"w": gdx.quadratic_grad(w, A, m)}
    )
    assert report.passed and report.max_error < 1e-7, str(report)


def test_bowl_threshold_is_two_over_the_largest_eigenvalue():
    A = np.array(gdx.BOWL_HESSIAN)  # eigenvalues 2 and 7
    np.testing.assert_allclose(stability_threshold(A), 2 / 7)
    np.testing.assert_allclose(stability_threshold(4.0), 0.5)
    np.testing.assert_allclose(contraction_factors(A, 0.1), [1 - 0.2, 1 - 0.7])


def test_runs_just_below_the_threshold_converge_and_just_above_diverge():
    A = np.array(gdx.BOWL_HESSIAN)
    m = np.array(gdx.BOWL_MIN)
    thr = stability_threshold(A)
    grad = lambda w: A @ (w - m)  # noqa: E731
    below = gradient_descent(grad, gdx.BOWL_START, 0.97 * thr, 600)
    above = gradient_descent(grad, gdx.BOWL_START, 1.03 * thr, 2000)
    assert not below.diverged and np.linalg.norm(below.final - m) < 1e-6
    assert above.diverged and above.steps_taken < 2000


@settings(max_examples=40, deadline=None)
@given(
    lam=st.lists(st.floats(0.1, 20.0), min_size=2, max_size=3),
    angle=st.floats(0.0, np.pi),
    frac=st.floats(0.05, 0.95),
)
def test_property_below_the_threshold_the_error_never_grows(lam, angle, frac):
    # any SPD Hessian: rotate a diagonal of eigenvalues
    d = len(lam)
    Q = np.eye(d)
    c, s = np.cos(angle), np.sin(angle)
    Q[:2, :2] = [[c, -s], [s, c]]
    A = Q @ np.diag(lam) @ Q.T
    A = (A + A.T) / 2
    thr = stability_threshold(A)
    np.testing.assert_allclose(thr, 2 / max(lam), rtol=1e-9)
    traj = gradient_descent(lambda w: A @ w, np.ones(d), frac * thr, 30)
    dist = np.linalg.norm(traj.points, axis=1)
    assert np.all(np.diff(dist) <= 1e-12 * dist[:-1] + 1e-300)  # |1 - ηλ| < 1 every direction


def test_divergence_is_reported_in_words():
    traj = gradient_descent(lambda x: 4.0 * x, [1.0], 0.7, 500)
    assert traj.diverged
    assert "diverged" in traj.message and "0.7" in traj.message
    assert "grown without bound" in traj.message and "smaller learning rate" in traj.message
    assert np.all(np.isfinite(traj.points))  # stopped before overflow


@pytest.mark.parametrize("lr", [0.0, -0.1, float("nan"), float("inf")])
def test_non_positive_learning_rate_is_refused_in_words(lr):
    with pytest.raises(ValueError, match="learning rate must be a positive number"):
        gradient_descent(lambda x: x, [1.0], lr, 5)


def test_other_bad_input_gets_clear_errors():
    with pytest.raises(TypeError, match="learning rate must be a number"):
        gradient_descent(lambda x: x, [1.0], "0.1", 5)
    with pytest.raises(ValueError, match="steps must be a whole number"):
        gradient_descent(lambda x: x, [1.0], 0.1, -1)
    with pytest.raises(ValueError, match=r"shape \(3,\).*shape \(2,\)"):
        gradient_descent(lambda x: np.zeros(3), [1.0, 2.0], 0.1, 5)
    with pytest.raises(ValueError, match="square matrix"):
        stability_threshold(np.ones((2, 3)))
    with pytest.raises(ValueError, match="symmetric"):
        stability_threshold([[1.0, 2.0], [0.0, 1.0]])
    with pytest.raises(ValueError, match="positive definite"):
        stability_threshold([[1.0, 0.0], [0.0, -1.0]])


# ---------------------------------------------------------------- explorers


def test_explorer_sliders_span_the_stability_thresholds_within_frame_budget():
    e1, e2 = gdx.descent_1d_explorer(), gdx.descent_2d_explorer()
    thr1 = stability_threshold(gdx.PARABOLA_CURVATURE)
    thr2 = stability_threshold(gdx.BOWL_HESSIAN)
    for e, thr in ((e1, thr1), (e2, thr2)):
        lrs = e.sliders["lr"].values
        assert min(lrs) < thr / 2 and max(lrs) > thr  # slow ... divergent
        assert len(e.sliders["steps"].values) >= 2
        n_frames = len(lrs) * len(e.sliders["steps"].values)
        assert n_frames <= 60


def _path(fig):
    (line,) = [ln for ln in fig.axes[0].lines if ln.get_label() == "iterates"]
    return line.get_xydata()


@pytest.mark.parametrize(
    ("factory", "small", "large", "threshold_text"),
    [
        (gdx.descent_1d_explorer, 0.1, 0.6, "2/λmax = 0.5"),
        (gdx.descent_2d_explorer, 0.09, 0.33, "2/λmax = 0.2857"),
    ],
)
def test_moving_the_learning_rate_slider_changes_the_figure_and_reports_divergence(
    factory, small, large, threshold_text, capsys
):
    explorer = factory()
    w = explorer.widget()
    lr_slider, steps_slider = w.children[0], w.children[1]
    assert lr_slider.value == pytest.approx(small)
    before = w.result
    fig_before = explorer.figure(before, {"lr": small})
    path_before = _path(fig_before).copy()
    assert before["status"] in {"steady", "fast", "slow"} and not before["diverged"]

    capsys.readouterr()
    lr_slider.value = large  # move the slider from Python
    after = w.result
    shown = capsys.readouterr().out  # outside a kernel, the widget's display goes to stdout
    assert "Diverges: the iterates grow without bound" in shown
    assert after["lr"] == pytest.approx(large) and after["diverged"]
    assert explorer.last is not None and explorer.last[1] is after
    fig_after = explorer.figure(after, {"lr": large})
    path_after = _path(fig_after)
    assert path_after.shape == path_before.shape
    assert not np.allclose(path_after, path_before)  # the plotted path changed
    assert after["distance"][-1] > after["distance"][0]  # and it runs away
    text = explorer.describe_fn(after, {"lr": large})
    assert "grow without bound" in text
    assert f"learning rate {large:g} is above the stability threshold {threshold_text}" in text
    assert "DIVERGES" in fig_after.get_suptitle()

    steps_slider.value = steps_slider.options[-1][1]  # more steps: a longer path
    assert len(w.result["points"]) == steps_slider.value + 1


def test_explorer_names_every_regime_in_words():
    words = {
        0.05: "Converges steadily",
        0.25: "Lands on the minimum in one step",
        0.4: "Oscillates but converges",
        0.5: "bounce back and forth",
        0.6: "Diverges",
    }
    for lr, phrase in words.items():
        data = gdx.compute_descent_1d(lr, 5)
        assert phrase in gdx.describe_descent_1d(data, {"lr": lr}), lr
    slow = gdx.compute_descent_2d(0.03, 10)
    assert "Converges slowly" in gdx.describe_descent_2d(slow, {})


def test_explorer_statuses_agree_with_the_iterates():
    for lr in gdx.descent_2d_explorer().sliders["lr"].values:
        data = gdx.compute_descent_2d(lr, 40)
        grew = data["distance"][-1] > data["distance"][0]
        assert grew == data["diverged"], lr
        np.testing.assert_allclose(
            data["gap"],
            [
                0.5 * (p - data["minimum"]) @ data["hessian"] @ (p - data["minimum"])
                for p in data["points"]
            ],
        )


# ---------------------------------------------------------------- checkers


def _stub(*args):
    raise NotImplementedError


@pytest.mark.parametrize(
    "check",
    [
        ex.check_gradient_w,
        ex.check_central_difference,
        ex.check_distance_after,
        ex.check_line_gradient,
        ex.check_stability_threshold,
    ],
)
def test_untouched_stub_is_not_attempted(check):
    fb = check(_stub)
    assert fb.status == "not attempted" and "not attempted yet" in fb.message


def test_right_answers_pass():
    ex.check_gradient_w(lambda w1, w2: np.array([2 * w1 * w2, w1**2 + 6 * w2])).raise_if_failed()
    ex.check_central_difference(lambda f, x, h: (f(x + h) - f(x - h)) / (2 * h)).raise_if_failed()
    ex.check_line_gradient(
        lambda w, b, x, y: np.array([2 * np.mean((w * x + b - y) * x), 2 * np.mean(w * x + b - y)])
    ).raise_if_failed()
    ex.check_stability_threshold(lambda A: 2 / np.linalg.eigvalsh(A)[-1]).raise_if_failed()


@pytest.mark.parametrize(
    ("answer", "words"),
    [
        (lambda w1, w2: np.array([w1**2 + 6 * w2, 2 * w1 * w2]), "swapped"),
        (lambda w1, w2: -np.array([2 * w1 * w2, w1**2 + 6 * w2]), "sign flipped"),
        (lambda w1, w2: 2 * np.array([2 * w1 * w2, w1**2 + 6 * w2]), "constant factor"),
        (lambda w1, w2: np.array([[2 * w1 * w2, w1**2 + 6 * w2]]), "wrong shape"),
        (
            lambda w1, w2: np.array([2 * w1 * w2, w1**2 + 3 * w2]),
            "∂f/∂w₁ (the first entry) is right",
        ),
        (lambda w1, w2: np.array([2 * w1, w1**2 + 6 * w2]), "lost the factor w₂"),
        (lambda w1, w2: np.array([2 * w1 * w2, 1 / 0]), "ZeroDivisionError"),
    ],
)
def test_gradient_checker_names_the_mistake(answer, words):
    fb = ex.check_gradient_w(answer)
    assert fb.status == "failed" and words in fb.message, fb.message


@pytest.mark.parametrize(
    ("answer", "words"),
    [
        (lambda f, x, h: (f(x + h) - f(x)) / h, "forward difference"),
        (lambda f, x, h: (f(x) - f(x - h)) / h, "backward difference"),
        (lambda f, x, h: (f(x + h) - f(x - h)) / h, "divide by 2h, not h"),
        (lambda f, x, h: (f(x - h) - f(x + h)) / (2 * h), "wrong sign"),
        (lambda f, x, h: (f(x + h) - f(x - h)) / (2 * h) + h, "wrong for test function 1"),
        (lambda f, x, h: np.array([1.0, 2.0]), "wrong shape"),
    ],
)
def test_central_difference_checker_names_the_mistake(answer, words):
    fb = ex.check_central_difference(answer)
    assert fb.status == "failed" and words in fb.message, fb.message


def _r(w, b, x, y):
    return w * x + b - y


@pytest.mark.parametrize(
    ("answer", "words"),
    [
        (
            lambda w, b, x, y: np.array([np.mean(_r(w, b, x, y) * x), np.mean(_r(w, b, x, y))]),
            "keep the 2",
        ),
        (
            lambda w, b, x, y: np.array(
                [2 * np.sum(_r(w, b, x, y) * x), 2 * np.sum(_r(w, b, x, y))]
            ),
            "constant factor of n",
        ),
        (
            lambda w, b, x, y: (
                -np.array([2 * np.mean(_r(w, b, x, y) * x), 2 * np.mean(_r(w, b, x, y))])
            ),
            "sign flipped",
        ),
        (
            lambda w, b, x, y: np.array([2 * np.mean(_r(w, b, x, y)), 2 * np.mean(_r(w, b, x, y))]),
            "missing a derivative",
        ),
        (
            lambda w, b, x, y: np.array(
                [2 * np.mean(_r(w, b, x, y)), 2 * np.mean(_r(w, b, x, y) * x)]
            ),
            "swapped",
        ),
    ],
)
def test_line_gradient_checker_names_the_mistake(answer, words):
    fb = ex.check_line_gradient(answer)
    assert fb.status == "failed" and words in fb.message, fb.message


@pytest.mark.parametrize(
    ("answer", "words"),
    [
        (lambda A: 2 / np.linalg.eigvalsh(A)[0], "smallest eigenvalue"),
        (
            lambda A: 1 / np.linalg.eigvalsh(A)[-1],
            "1/λmax is where the iterates start to oscillate",
        ),
        (lambda A: np.linalg.eigvalsh(A)[-1] / 2, "upside down"),
        (lambda A: 2 / np.max(np.diag(A)), "largest diagonal entry"),
        (lambda A: 2 / np.trace(A), "trace of H"),
        # the best single rate is not the threshold (cold read 2.5)
        (
            lambda H: 2 / (np.linalg.eigvalsh(H)[0] + np.linalg.eigvalsh(H)[-1]),
            "best single learning rate",
        ),
        (lambda A: np.linalg.eigvalsh(A), "wrong shape"),
        # the exercise's matrix is H, and the messages call it H
        (lambda H: 0.123, "wrong for H = [[3.0, 2.0], [2.0, 6.0]]"),
    ],
)
def test_threshold_checker_names_the_mistake(answer, words):
    fb = ex.check_stability_threshold(answer)
    assert fb.status == "failed" and words in fb.message, fb.message


def test_line_gradient_reference_is_right_and_descent_reaches_least_squares():
    x, y = line_points()
    w, b = np.array(0.3), np.array(-0.2)
    g = ex.line_loss_grad(float(w), float(b), x, y)
    report = bpkit.gradcheck(
        lambda: ex.line_loss(float(w), float(b), x, y), {"w": w, "b": b}, {"w": g[0], "b": g[1]}
    )
    assert report.passed, str(report)
    fit = gradient_descent(lambda p: ex.line_loss_grad(p[0], p[1], x, y), [0.0, 0.0], 0.08, 1000)
    design = np.column_stack([x, np.ones_like(x)])
    solution = np.linalg.lstsq(design, y, rcond=None)[0]
    np.testing.assert_allclose(fit.final, solution, atol=1e-8)


# ---------------------------------------------------------------- the notebook


# ------------------------------------------------------------------ issue 12 additions
def test_distance_after_checker_names_the_mistake():
    def stub_(*a):
        raise NotImplementedError

    assert ex.check_distance_after(stub_).status == "not attempted"
    ex.check_distance_after(ex.distance_after).raise_if_failed()
    wrong = {
        "curvature is missing": lambda lr, lam, x0, xs, t: abs(1 - lr) ** t * abs(x0 - xs),
        "cancels": lambda lr, lam, x0, xs, t: abs(1 - lr * lam / 2) ** t * abs(x0 - xs),
        "part of the error a step removes": lambda lr, lam, x0, xs, t: (
            (lr * lam) ** t * abs(x0 - xs)
        ),
        "never negative": lambda lr, lam, x0, xs, t: (1 - lr * lam) ** t * abs(x0 - xs),
        "off by one step:": lambda lr, lam, x0, xs, t: abs(1 - lr * lam) ** (t - 1) * abs(x0 - xs),
        "the other way": lambda lr, lam, x0, xs, t: abs(1 - lr * lam) ** (t + 1) * abs(x0 - xs),
        # no named mistake: the factor, and a hint that does not give the formula away
        "2 times the right answer. Find the factor by which one step multiplies the error": (
            lambda lr, lam, x0, xs, t: 2 * abs(1 - lr * lam) ** t * abs(x0 - xs)
        ),
        # a negative distance (cold read 2.6): the signed error, or |factor| times x0 - x*
        "A distance cannot be negative": lambda lr, lam, x0, xs, t: (1 - lr * lam) ** t * (x0 - xs),
        "as well as of the factor": lambda lr, lam, x0, xs, t: abs(1 - lr * lam) ** t * (x0 - xs),
    }
    for words, answer in wrong.items():
        verdict = ex.check_distance_after(answer)
        assert verdict.status == "failed" and words in verdict.message, verdict.message
        assert "|1 - ηλ|^t" not in verdict.message  # the answer is not printed
    assert ex.check_distance_after(lambda *a: None).mistake == "returned-nothing"


def test_distance_after_forgot_the_minimiser_is_not_off_by_one():
    # cold read 2: |factor|^t |x0| was told "off by one step the other way", because the
    # first case had |x0| = |1 - ηλ| |x0 - x*|; it must get its own diagnosis
    verdict = ex.check_distance_after(lambda lr, lam, x0, xs, t: abs(1 - lr * lam) ** t * abs(x0))
    assert verdict.status == "failed" and verdict.mistake == "forgot-minimiser", verdict.message
    assert "off by one" not in verdict.message
    # and on no case does it coincide with the right answer or another named mistake
    mistakes = ex.DISTANCE.named_mistakes()
    forgot = next(m for m in mistakes if m.key == "forgot-minimiser")
    for args in ex.DISTANCE.case_list():
        others = [ex.distance_after(*args)] + [m.answer(*args) for m in mistakes if m is not forgot]
        mine = forgot.answer(*args)
        assert all(abs(mine - v) > 1e-3 * abs(mine) for v in others), (args, mine, others)


def test_distance_after_reference_is_what_descent_does():
    run = gradient_descent(lambda x: 3.0 * (x - 0.5), [2.0], lr=0.5, steps=7)
    for t in range(8):
        np.testing.assert_allclose(
            abs(run.points[t, 0] - 0.5), ex.distance_after(0.5, 3.0, 2.0, 0.5, t)
        )


def test_gradient_checker_in_w_notation():
    ex.check_gradient_w(lambda w1, w2: np.array([2 * w1 * w2, w1**2 + 6 * w2])).raise_if_failed()
    swapped = ex.check_gradient_w(lambda w1, w2: np.array([w1**2 + 6 * w2, 2 * w1 * w2]))
    assert "swapped" in swapped.message and "∂f/∂w₁" in swapped.message
    half = ex.check_gradient_w(lambda w1, w2: np.array([2 * w1 * w2, w1**2 + 3 * w2]))
    assert "∂f/∂w₁ (the first entry) is right" in half.message


def test_two_dimensional_caption_says_only_the_steep_component_jumps():
    text = gdx.describe_descent_2d(gdx.compute_descent_2d(0.2, 10), {})
    assert "component along the steep direction" in text
    assert "flat direction approaches from one side" in text
    one_d = gdx.describe_descent_1d(gdx.compute_descent_1d(0.4, 5), {})
    assert "iterates overshoot" in one_d and "Hessian" not in one_d
    assert "curvature λ" in one_d

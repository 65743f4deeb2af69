"""Chapter 3, the chain rule: bpcourse.graph (local derivatives, backward trace, sum over
paths, layout, drawing), the backward-step explorer driven from Python, the exercise
checkers fed deliberately wrong answers, and the shape of the chapter notebook."""

from __future__ import annotations

import itertools
import json
import math
import re
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bpcourse.exercises import chain_rule as ex
from bpcourse.explorers import chain_rule as explore
from bpcourse.graph import (
    backward_trace,
    build_graph,
    describe_step,
    draw_graph,
    layout,
    local_derivatives,
    path_products,
)
from bpcourse.plotting import PALETTE
from bpkit import Value, numerical_gradient, relative_error

NOTEBOOK = Path(__file__).resolve().parents[2] / "chapters" / "03_chain_rule.ipynb"

# One builder per engine operation: (build from Values, the same on floats, operand values).
OPS = {
    "+": (lambda a, b: a + b, lambda a, b: a + b, (0.7, -1.2)),
    "*": (lambda a, b: a * b, lambda a, b: a * b, (0.7, -1.2)),
    "**3": (lambda a: a**3, lambda a: a**3, (-0.8,)),
    "**-1": (lambda a: a**-1, lambda a: a**-1, (1.7,)),
    "exp": (lambda a: a.exp(), math.exp, (0.4,)),
    "log": (lambda a: a.log(), math.log, (2.3,)),
    "tanh": (lambda a: a.tanh(), math.tanh, (0.9,)),
    "sigmoid": (lambda a: a.sigmoid(), lambda a: 1 / (1 + math.exp(-a)), (-1.3,)),
    "relu+": (lambda a: a.relu(), lambda a: max(a, 0.0), (0.6,)),
    "relu-": (lambda a: a.relu(), lambda a: max(a, 0.0), (-0.6,)),
}


# ----------------------------------------------------------------- local derivatives
@pytest.mark.parametrize("op", sorted(OPS))
def test_local_derivatives_match_central_differences(op):
    build, on_floats, args = OPS[op]
    out = build(*(Value(a) for a in args))
    local = np.array(local_derivatives(out))
    point = np.array(args, dtype=np.float64)
    numeric = numerical_gradient(lambda p: on_floats(*p), point)
    np.testing.assert_allclose(local, numeric, rtol=1e-7, atol=1e-9)


@pytest.mark.parametrize("op", sorted(OPS))
def test_local_derivatives_agree_with_the_engines_backward(op):
    build, _, args = OPS[op]
    parents = [Value(a) for a in args]
    out = build(*parents)
    out.grad = 1.0
    out._backward()  # the engine's own chain-rule step with upstream gradient 1
    np.testing.assert_allclose([p.grad for p in parents], local_derivatives(out), rtol=1e-12)


def test_tanh_local_derivative_is_one_minus_tanh_squared_not_tanh():
    z = Value(0.8).tanh()
    (local,) = local_derivatives(z)
    np.testing.assert_allclose(local, 1 - math.tanh(0.8) ** 2)
    assert not math.isclose(local, math.tanh(0.8))


def test_unknown_operation_lists_the_known_ones():
    node = Value(1.0, (Value(2.0),), "sin")
    with pytest.raises(ValueError, match=r"'sin'.*known.*tanh"):
        local_derivatives(node)
    assert local_derivatives(Value(3.0)) == []


def test_build_graph_refuses_a_plain_number():
    with pytest.raises(TypeError, match="Value"):
        build_graph(3.0)


# ----------------------------------------------------------------- backward trace
def test_trace_ends_with_the_gradients_of_backward():
    reference = explore.neuron_loss()
    reference.backward()
    expected = [n.grad for n in reference.topological_order()]
    graph, steps = backward_trace(explore.neuron_loss())
    assert len(steps) == len(graph.nodes) + 1
    np.testing.assert_allclose(steps[-1].grads, expected, rtol=1e-12)
    np.testing.assert_allclose([n.grad for n in graph.nodes], expected, rtol=1e-12)


def test_trace_seeds_the_output_and_zeroes_old_gradients():
    loss = explore.neuron_loss()
    loss.backward()  # leaves gradients behind: the trace must not add to them
    graph, steps = backward_trace(loss)
    assert steps[0].ran is None
    assert steps[0].grads == (0.0,) * (len(graph.nodes) - 1) + (1.0,)
    loss2 = explore.neuron_loss()
    loss2.backward()
    np.testing.assert_allclose(steps[-1].grads, [n.grad for n in loss2.topological_order()])


def test_each_step_changes_only_the_parents_of_the_node_that_ran():
    graph, steps = backward_trace(explore.neuron_loss())
    for before, after in itertools.pairwise(steps):
        changed = {
            i for i, (g0, g1) in enumerate(zip(before.grads, after.grads, strict=True)) if g0 != g1
        }
        parents = {e.parent for e in graph.edges if e.child == after.ran}
        assert changed <= parents
    # reverse topological order: the output runs first, every node after all its consumers
    assert steps[1].ran == len(graph.nodes) - 1
    position = {s.ran: s.step for s in steps[1:]}
    for e in graph.edges:
        assert position[e.child] < position[e.parent]


def test_shared_node_accumulates_both_paths():
    graph, steps = backward_trace(explore.shared_expression(x=2.0, w=-3.0))
    i_x = [graph.name(i) for i in range(len(graph.nodes))].index("x")
    seen = [s.grads[i_x] for s in steps]
    distinct = [g for k, g in enumerate(seen) if k == 0 or g != seen[k - 1]]
    np.testing.assert_allclose(distinct, [0.0, 1.0, -2.0])  # 0 -> 1 (direct) -> 1 + w


# ----------------------------------------------------------------- sum over paths
def test_paths_of_the_shared_expression():
    f = explore.shared_expression(x=2.0, w=-3.0)
    f.backward()
    x = f._parents[1]
    paths = dict(path_products(f, x))
    assert paths == {("x", "w·x", "f"): -3.0, ("x", "f"): 1.0}
    np.testing.assert_allclose(sum(paths.values()), x.grad)


def test_repeated_squaring_has_two_to_the_n_paths():
    a = Value(1.01)
    y = a
    for _ in range(6):
        y = y * y
    y.backward()
    paths = path_products(y, a)
    assert len(paths) == 64
    np.testing.assert_allclose(sum(p for _, p in paths), a.grad, rtol=1e-12)
    with pytest.raises(ValueError, match="more than 10 paths"):
        path_products(y, a, max_paths=10)


def test_path_products_refuses_a_node_outside_the_graph():
    with pytest.raises(ValueError, match="not a node"):
        path_products(explore.neuron_loss(), Value(1.0))


unary = st.sampled_from(["tanh", "sigmoid", "exp", "square"])
binary = st.sampled_from(["+", "*"])


@settings(max_examples=40, deadline=None)
@given(
    values=st.lists(st.floats(-1.5, 1.5), min_size=3, max_size=3),
    plan=st.lists(
        st.tuples(
            st.one_of(unary, binary), st.integers(0, 100), st.integers(0, 100), st.booleans()
        ),
        min_size=2,
        max_size=7,
    ),
)
def test_random_expressions_sum_over_paths_equals_backward_equals_central_difference(values, plan):
    def build(xs):
        nodes = [Value(v, label=f"x{i}") for i, v in enumerate(xs)]
        for op, i, j, _ in plan:
            a, b = nodes[i % len(nodes)], nodes[j % len(nodes)]
            if op == "+":
                nodes.append(a + b)
            elif op == "*":
                nodes.append(a * b)
            elif op == "square":
                nodes.append(a**2)
            else:
                nodes.append(getattr(a, op)())
        out = nodes[-1]
        for n in nodes[len(xs) : -1]:  # use every intermediate, so values are shared
            out = out + n * 0.5
        return nodes[: len(xs)], out

    leaves, out = build(values)
    out.backward()
    graph = build_graph(out)
    for leaf in leaves:
        if not any(n is leaf for n in graph.nodes):
            continue
        paths = path_products(out, leaf)
        np.testing.assert_allclose(sum(p for _, p in paths), leaf.grad, rtol=1e-9, atol=1e-12)
    point = np.array(values, dtype=np.float64)
    numeric = numerical_gradient(lambda p: build(p)[1].data, point)
    analytic = np.array([leaf.grad for leaf in leaves])
    assert relative_error(analytic, numeric) < 1e-7 or np.allclose(analytic, numeric, atol=1e-9)


# ----------------------------------------------------------------- layout and drawing
def test_layout_points_every_edge_left_to_right_without_overlaps():
    for root in (explore.neuron_loss(), explore.shared_expression()):
        graph = build_graph(root)
        pos = layout(graph)
        assert len(set(pos.values())) == len(graph.nodes)
        for e in graph.edges:
            assert pos[e.parent][0] < pos[e.child][0]
        assert pos[len(graph.nodes) - 1][0] == max(x for x, _ in pos.values())


def test_draw_graph_shows_every_node_and_edge_and_highlights_the_step():
    graph, steps = backward_trace(explore.neuron_loss())
    step = steps[6]
    fig = draw_graph(graph, grads=step.grads, ran=step.ran, title="step 6")
    (ax,) = fig.axes
    assert ax.get_title() == "step 6"
    assert ax.get_xlabel()
    texts = [t.get_text() for t in ax.texts]
    for i in range(len(graph.nodes)):
        assert any(f"grad {step.grads[i]:.4g}" in t for t in texts)
        assert any(graph.name(i) in t for t in texts)
    boxes = [p for p in ax.patches if p.__class__.__name__ == "FancyBboxPatch"]
    arrows = [p for p in ax.patches if p.__class__.__name__ == "FancyArrowPatch"]
    assert len(boxes) == len(graph.nodes) and len(arrows) == len(graph.edges)
    orange = [b for b in boxes if _hex(b.get_facecolor()) == PALETTE["orange"].lower()]
    assert len(orange) == 1  # only the node whose _backward ran


def test_draw_graph_rejects_grads_of_the_wrong_length():
    with pytest.raises(ValueError, match=r"grads has 2 entries but the graph has 11 nodes"):
        draw_graph(explore.neuron_loss(), grads=[0.0, 1.0])


def test_describe_step_says_what_the_step_did():
    graph, steps = backward_trace(explore.shared_expression(x=2.0, w=-3.0))
    assert "seed" in describe_step(graph, steps[0])
    texts = [describe_step(graph, s) for s in steps[1:]]
    assert any("x is a leaf" in t for t in texts)
    assert any("w·x ran its _backward" in t and "x += -3 × 1" in t for t in texts)


def test_constants_and_the_target_are_marked_unused():
    data = explore.compute_backward_step(len(backward_trace(explore.neuron_loss())[1]) - 1)
    texts = [
        explore.describe_backward_step(explore.compute_backward_step(k), {}) for k in range(12)
    ]
    assert any("-1 is a constant leaf" in t and "never used" in t for t in texts)
    assert any("y is a leaf" in t and "It is the target" in t for t in texts)
    fig = draw_graph(data["graph"], grads=data["step"].grads, unused=explore.UNUSED)
    labels = [t.get_text() for t in fig.axes[0].texts]
    unused = [t for t in labels if "(unused)" in t]
    assert len(unused) == 2  # the constant -1 and the target y
    assert any(t.startswith("y\n") for t in unused) and any(t.startswith("-1\n") for t in unused)
    assert not any("(unused)" in t for t in labels if t.startswith(("w\n", "b\n", "x\n")))


def test_draw_graph_names_the_gate_patterns_and_forks():
    f = explore.shared_expression()  # f = w·x + x: x is a fork
    relu = Value(2.0, label="p").relu()
    for root, expected in (
        (f, {"add: distributes", "multiply: swaps", "fork: gradients add"}),
        (relu, {"max: routes"}),
    ):
        labels = {t.get_text() for t in draw_graph(root, patterns=True).axes[0].texts}
        assert expected <= labels
        plain = {t.get_text() for t in draw_graph(root).axes[0].texts}
        assert not expected & plain


def _hex(rgba) -> str:
    return "#" + "".join(f"{round(c * 255):02x}" for c in rgba[:3])


# ----------------------------------------------------------------- the explorer
def test_explorer_slider_steps_through_the_backward_pass():
    explorer = explore.backward_explorer()
    w = explorer.widget()
    slider = w.children[0]
    _, steps = backward_trace(explore.neuron_loss())
    assert list(slider.options) == [(str(k), k) for k in range(len(steps))]
    for k in (3, 0, len(steps) - 1):
        slider.value = k
        data = w.result
        assert data["step"].step == k
        np.testing.assert_allclose(data["step"].grads, steps[k].grads)
    # the last frame holds the gradients of a plain backward()
    loss = explore.neuron_loss()
    loss.backward()
    np.testing.assert_allclose(w.result["step"].grads, [n.grad for n in loss.topological_order()])


def test_explorer_static_page_has_one_frame_per_step_with_alt_text():
    explorer = explore.backward_explorer("shared")
    html = explorer.static_html()
    payload = re.search(
        r'<script type="application/json" class="bpkit-frames">(.*?)</script>', html
    )
    frames = json.loads(payload.group(1).replace("<\\/", "</"))
    n_steps = len(backward_trace(explore.shared_expression())[1])
    assert len(frames) == n_steps <= 60
    assert len({f["digest"] for f in frames.values()}) == n_steps  # every step differs
    assert all(f["alt"].startswith("Step") for f in frames.values())


def test_explorer_rejects_bad_input_in_words():
    with pytest.raises(ValueError, match=r"unknown example 'mlp'.*neuron"):
        explore.backward_explorer("mlp")
    with pytest.raises(ValueError, match="step must be between 0 and 11"):
        explore.compute_backward_step(12)


# ----------------------------------------------------------------- exercise checkers
def stub(*args):
    raise NotImplementedError


@pytest.mark.parametrize(
    "checker", [ex.check_chain_grad, ex.check_shared_grad_z, ex.check_value_sin]
)
def test_untouched_stub_is_not_attempted(checker):
    fb = checker(stub)
    assert fb.status == "not attempted" and "not attempted" in str(fb)


def test_reference_answers_pass():
    ex.check_chain_grad(ex.chain_grad_w1).raise_if_failed()
    ex.check_shared_grad_z(ex.shared_grad_w).raise_if_failed()
    ex.check_value_sin(_sin(lambda a, out: math.cos(a.data) * out.grad)).raise_if_failed()


def test_reference_chain_gradient_matches_central_differences():
    for w1, w2, w3, x, y in ex.CHAIN_CASES:
        numeric = numerical_gradient(
            lambda p, w2=w2, w3=w3, x=x, y=y: ex.chain_forward(p[0], w2, w3, x, y)["L"],
            np.array([w1]),
        )[0]
        assert relative_error(ex.chain_grad_w1(w1, w2, w3, x, y), numeric) < 1e-7
    for w, x in ex.SHARED_CASES:
        numeric = numerical_gradient(lambda p, x=x: ex.shared_loss(p[0], x), np.array([w]))[0]
        assert relative_error(ex.shared_grad_w(w, x), numeric) < 1e-7


def _chain(change):
    def fn(w1, w2, w3, x, y):
        a1 = math.tanh(w1 * x)
        a2 = math.tanh(w2 * a1)
        y_hat = w3 * a2
        k = {
            "dL": 2 * (y_hat - y),
            "d3": w3,
            "d2": (1 - a2**2) * w2,
            "d1": (1 - a1**2) * x,
        }
        k.update(change(a1, a2, y_hat, w1, w2, w3, x, y))
        return k["dL"] * k["d3"] * k["d2"] * k["d1"]

    return fn


@pytest.mark.parametrize(
    ("change", "words"),
    [
        (lambda a1, a2, yh, w1, w2, w3, x, y: {"d1": x}, "first tanh"),
        (lambda a1, a2, yh, w1, w2, w3, x, y: {"d2": w2}, "second tanh"),
        (lambda a1, a2, yh, w1, w2, w3, x, y: {"d1": a1 * x, "d2": a2 * w2}, "tanh' is written"),
        (lambda a1, a2, yh, w1, w2, w3, x, y: {"d1": 1 - a1**2}, "factor x is missing"),
        (lambda a1, a2, yh, w1, w2, w3, x, y: {"d3": 1.0}, "w⁽³⁾ is missing"),
        (lambda a1, a2, yh, w1, w2, w3, x, y: {"dL": 2 * (y - yh)}, "sign is flipped"),
        (lambda a1, a2, yh, w1, w2, w3, x, y: {"dL": yh - y}, "no ½ in front"),
        # cold read 3.7: slips that got only a generic message
        (lambda a1, a2, yh, w1, w2, w3, x, y: {"dL": 1.0}, "∂L/∂ŷ = 2(ŷ - y), is missing"),
        (
            lambda a1, a2, yh, w1, w2, w3, x, y: {"d1": (1 - a1) * x, "d2": (1 - a2) * w2},
            "the square is missing in both",
        ),
        (lambda a1, a2, yh, w1, w2, w3, x, y: {"d2": (1 - a2) * w2}, "the square is missing in"),
        (
            lambda a1, a2, yh, w1, w2, w3, x, y: {
                "d1": a1 * (1 - a1) * x,
                "d2": a2 * (1 - a2) * w2,
            },
            "sigmoid's pattern",
        ),
        (lambda a1, a2, yh, w1, w2, w3, x, y: {"d1": (1 - a1**2) * w1}, "w⁽¹⁾ where x belongs"),
        (lambda a1, a2, yh, w1, w2, w3, x, y: {"d2": (1 - a2**2) * a1}, "a⁽¹⁾ where w⁽²⁾"),
        (
            lambda a1, a2, yh, w1, w2, w3, x, y: {"d3": a2, "d2": 1.0, "d1": 1.0},
            "this is ∂L/∂w⁽³⁾",
        ),
    ],
)
def test_chain_checker_names_the_mistake(change, words):
    fb = ex.check_chain_grad(_chain(change))
    assert fb.status == "failed"
    assert words in fb.message


def test_chain_checker_reports_other_answers_crashes_and_non_numbers():
    fb = ex.check_chain_grad(lambda *a: 1.0)
    expected = ex.chain_grad_w1(*ex.CHAIN_CASES[0])
    assert fb.status == "failed" and f"expected [{expected:.6g}" in fb.message

    def crash(*a):
        return 1 / 0

    assert "ZeroDivisionError" in ex.check_chain_grad(crash).message
    assert "one number" in ex.check_chain_grad(lambda *a: "0.1").message


@pytest.mark.parametrize(
    ("answer", "words"),
    [
        (lambda w, x: math.tanh(w * x) * x, "only the direct path"),
        (lambda w, x: w * x * (1 - math.tanh(w * x) ** 2) * x, "only the path through tanh"),
        (lambda w, x: (math.tanh(w * x) + w * x * math.tanh(w * x)) * x, "tanh' is written"),
        (lambda w, x: ex.shared_grad_w(w, x) / x, "multiply by dz/dw = x"),
    ],
)
def test_shared_checker_names_the_mistake(answer, words):
    fb = ex.check_shared_grad_z(answer)
    assert fb.status == "failed"
    assert words in fb.message


def _sin(step, forward=math.sin, parents=True, assign=False):
    def value_sin(a):
        out = Value(forward(a.data), (a,) if parents else (), "sin")

        def _backward():
            if assign:
                a.grad = step(a, out)
            else:
                a.grad += step(a, out)

        out._backward = _backward
        return out

    return value_sin


def _sin_called():
    def value_sin(a):
        out = Value(math.sin(a.data), (a,), "sin")

        def _backward():
            a.grad += math.cos(a.data) * out.grad

        out._backward = _backward()  # the slip: called, so None is attached
        return out

    return value_sin


@pytest.mark.parametrize(
    ("answer", "words"),
    [
        (_sin(lambda a, out: math.cos(a.data) * out.grad, assign=True), "accumulate with"),
        (_sin(lambda a, out: math.cos(a.data)), "out.grad"),
        (_sin(lambda a, out: math.sin(a.data) * out.grad), "cos(u), not sin(u)"),
        (_sin(lambda a, out: -math.cos(a.data) * out.grad), "sign is flipped"),
        (_sin(lambda a, out: math.cos(out.data) * out.grad), "evaluated at the output"),
        (_sin(lambda a, out: math.cos(a.data) * out.grad, parents=False), "among its parents"),
        (_sin(lambda a, out: math.cos(a.data) * out.grad, forward=math.cos), "forward value"),
        (lambda a: a, "returned its input"),
        (lambda a: math.sin(a.data), "should return a Value"),
        # cold read 3.5: no _backward, or `out._backward = _backward()` (called, not
        # attached): said in words, not as bpkit's "no local derivative known" error
        (lambda a: Value(math.sin(a.data), (a,), "sin"), "without parentheses"),
        (_sin_called(), "without parentheses"),
    ],
)
def test_sin_checker_names_the_mistake(answer, words):
    fb = ex.check_value_sin(answer)
    assert fb.status == "failed"
    assert words in fb.message


# ----------------------------------------------------------------- the notebook
def _cells():
    import nbformat

    return nbformat.read(NOTEBOOK, as_version=4).cells


def test_notebook_has_five_exercises_each_with_a_solution_and_checked_solutions():
    text = "\n".join(c.source for c in _cells() if c.cell_type == "markdown")
    exercises = re.findall(r":::\{exercise\}\n:label: (\S+)", text)
    solutions = set(re.findall(r"\{solution-start\} (\S+)", text)) | set(
        re.findall(r":::\{solution\} (\S+)", text)
    )
    assert len(exercises) >= 5
    assert set(exercises) <= solutions
    code = [c.source for c in _cells() if c.cell_type == "code"]
    for check in ("ex.check_chain_grad", "ex.check_shared_grad_z", "ex.check_value_sin"):
        assert any(check in s and ".raise_if_failed()" in s for s in code)
        assert any(s.strip().startswith(f"{check}(") for s in code)  # the learner's check
    # the reader builds Value: one exercise per step, each checked
    for step in ("add", "mul", "tanh", "topological_order", "backward"):
        assert any(s.strip().startswith(f"vex.check_{step}(my_") for s in code), step
        assert any(f"vex.check_{step}(solution_" in s and "raise_if_failed" in s for s in code)
    assert any(s.strip().startswith("vex.check_engine(my_add") for s in code)


# ----------------------------------------------------------------- building Value
import sys  # noqa: E402

from bpcourse.exercises import value as vex  # noqa: E402

Node = vex.Node


def _op(forward, local, *, assign=False, use_out=True, backward=True, parents=True, call=False):
    """A learner's binary or unary operation with one deliberate variation (``call``:
    ``out._backward = _backward()``, the function called instead of attached)."""

    def fn(*args):
        out = Node(forward(*(a.data for a in args)), args if parents else (), "op")

        def _backward():
            for i, a in enumerate(args):
                g = local(i, *(b.data for b in args), out.data) * (out.grad if use_out else 1.0)
                if assign:
                    a.grad = g
                else:
                    a.grad += g

        if backward:
            out._backward = _backward() if call else _backward
        return out

    return fn


def _add(**kw):
    return _op(lambda a, b: a + b, lambda i, a, b, o: 1.0, **kw)


def _mul(local=lambda i, a, b, o: b if i == 0 else a, **kw):
    return _op(lambda a, b: a * b, local, **kw)


def _tanh(local=lambda i, a, o: 1 - o * o, **kw):
    return _op(math.tanh, local, **kw)


@pytest.mark.parametrize(
    "checker",
    [
        vex.check_add,
        vex.check_mul,
        vex.check_tanh,
        vex.check_topological_order,
        vex.check_backward,
    ],
)
def test_value_checkers_report_the_stub(checker):
    assert checker(stub).status == "not attempted"
    assert vex.check_engine(stub, stub, stub, stub).status == "not attempted"


@pytest.mark.parametrize(
    "checker", [vex.check_add, vex.check_mul, vex.check_tanh, vex.check_topological_order]
)
def test_value_checkers_say_a_missing_return(checker):
    fb = checker(lambda *args: None)
    assert fb.mistake == "returned-nothing" and "returned nothing" in fb.message


def test_value_reference_and_right_answers_pass():
    vex.check_add(vex.add).raise_if_failed()
    vex.check_mul(vex.mul).raise_if_failed()
    vex.check_tanh(vex.tanh).raise_if_failed()
    vex.check_topological_order(vex.topological_order).raise_if_failed()
    vex.check_backward(vex.backward).raise_if_failed()
    vex.check_engine(vex.add, vex.mul, vex.tanh, vex.backward).raise_if_failed()
    # the learner-style versions pass too
    vex.check_add(_add()).raise_if_failed()
    vex.check_mul(_mul()).raise_if_failed()
    vex.check_tanh(_tanh()).raise_if_failed()


@pytest.mark.parametrize(
    ("checker", "answer", "words"),
    [
        (vex.check_add, _add(assign=True), "accumulate with `u.grad += out.grad`"),
        (vex.check_add, _add(use_out=False), "arriving from above is not used"),
        (vex.check_add, _add(backward=False), "out._backward does nothing"),
        (vex.check_add, _add(parents=False), "_parents"),
        (vex.check_add, lambda a, b: a.data + b.data, "return a new MyValue"),
        (vex.check_add, lambda a, b: a, "you returned an operand"),
        (vex.check_mul, _mul(local=lambda i, a, b, o: a if i == 0 else b), "multiply swaps"),
        (vex.check_mul, _mul(assign=True), "accumulate with +="),
        (vex.check_mul, _mul(use_out=False), "arriving from above is not used"),
        (vex.check_tanh, _tanh(local=lambda i, a, o: o), "tanh' written as tanh"),
        (vex.check_tanh, _tanh(local=lambda i, a, o: 1 - a * a), "taken at the input"),
        (vex.check_tanh, _tanh(use_out=False), "multiply by out.grad"),
        (vex.check_tanh, _tanh(assign=True), "accumulate with +="),
        (vex.check_tanh, _op(math.sin, lambda i, a, o: 1.0), "forward value is wrong"),
        # cold read 3.5: `out._backward = _backward()` crashed the checker
        (vex.check_add, _add(call=True), "no parentheses"),
        (vex.check_mul, _mul(call=True), "no parentheses"),
        (vex.check_tanh, _tanh(call=True), "no parentheses"),
        # cold read 3.6: the product's rule on +, and a factor 2, are not "out.grad unused"
        (
            vex.check_add,
            _op(lambda a, b: a + b, lambda i, a, b, o: b if i == 0 else a),
            "product's rule",
        ),
        (
            vex.check_add,
            _op(lambda a, b: a + b, lambda i, a, b, o: 2.0),
            "each operand gets exactly out.grad",
        ),
        (vex.check_tanh, _tanh(local=lambda i, a, o: 1 - o), "the square is missing"),
        (vex.check_tanh, _tanh(local=lambda i, a, o: o * (1 - o)), "sigmoid's pattern"),
    ],
)
def test_value_operation_checkers_name_the_classic_mistakes(checker, answer, words):
    fb = checker(answer)
    assert fb.status == "failed" and words in fb.message, fb.message


def _topo_recursive(root):
    out, seen = [], set()

    def visit(n):
        for p in n._parents:
            visit(p)
        if id(n) not in seen:
            seen.add(id(n))
            out.append(n)

    visit(root)
    return out


def _topo_duplicates(root):
    out = []
    stack = [(root, False)]
    while stack:
        node, done = stack.pop()
        if done:
            out.append(node)
        else:
            stack.append((node, True))
            stack.extend((p, False) for p in reversed(node._parents))
    return out


def _topo_breadth_first_reversed(root):
    """A learner's breadth-first walk from the output, reversed (written independently of
    vex.breadth_first_reversed, with a deque)."""
    from collections import deque

    order, seen, queue = [], {id(root)}, deque([root])
    while queue:
        node = queue.popleft()
        order.append(node)
        for p in node._parents:
            if id(p) not in seen:
                seen.add(id(p))
                queue.append(p)
    return order[::-1]


def test_breadth_first_reversed_order_gives_wrong_gradients_on_the_fork():
    """Why the checker needs the f = t + t·w graph: there the order is wrong, and so are
    the gradients it gives (cold read 3.4: x.grad 0.635 instead of -0.317)."""
    for build, fooled in ((vex.shared_graph, True), (vex.diamond_graph, False)):
        root, named = build()
        order = _topo_breadth_first_reversed(root)
        position = {id(n): i for i, n in enumerate(order)}
        valid = all(position[id(p)] < position[id(n)] for n in order for p in n._parents)
        assert valid is fooled
    root, named = vex.diamond_graph()
    root.grad = 1.0
    for node in reversed(_topo_breadth_first_reversed(root)):
        node._backward()
    x, w = 0.7, -1.5
    right = (1 + w) * (1 - math.tanh(x) ** 2)
    assert not math.isclose(named["x"].grad, right)
    ref, ref_named = vex.diamond_graph()
    vex.backward(ref)
    assert math.isclose(ref_named["x"].grad, right)


def _topo_parents_after(root):
    order = vex.topological_order(root)
    first_op = next(i for i, n in enumerate(order) if n._parents)
    return [order[first_op], *order[:first_op], *order[first_op + 1 :]]  # before its parents


@pytest.mark.parametrize(
    ("answer", "words"),
    [
        (_topo_recursive, "RecursionError"),
        (_topo_duplicates, "more than once"),
        (lambda root: vex.topological_order(root)[::-1], "the output comes first"),
        (_topo_parents_after, "must come after all of its parents"),
        (lambda root: vex.topological_order(root)[1:], "missing"),
        (lambda root: 42, "return a list"),
        # cold read 3.4: breadth-first order reversed passed, and gave wrong gradients
        (_topo_breadth_first_reversed, "breadth-first"),
    ],
)
def test_topological_order_checker_names_the_mistake(answer, words):
    fb = vex.check_topological_order(answer)
    assert fb.status == "failed" and words in fb.message, fb.message


def _backward_recursive(root):
    root.grad = 1.0

    def go(n):
        n._backward()
        for p in n._parents:
            go(p)

    go(root)


def _backward_breadth_first(root):
    root.grad = 1.0
    for node in reversed(_topo_breadth_first_reversed(root)):
        node._backward()


@pytest.mark.parametrize(
    ("answer", "words"),
    [
        (vex._unseeded, "the seed is missing"),
        (vex._forward_order, "forward order"),
        (vex._recursive_from_root, "no topological order"),
        (_backward_recursive, "no topological order"),
        (lambda root: setattr(root, "grad", 1.0), "wrong gradients"),
        (_backward_breadth_first, "breadth-first order reversed"),
    ],
)
def test_backward_checker_names_the_mistake(answer, words):
    fb = vex.check_backward(answer)
    assert fb.status == "failed" and words in fb.message, fb.message


def test_backward_checker_catches_recursion_on_a_deep_graph():
    def recursive_but_right_on_small_graphs(root):
        order, seen = [], set()

        def visit(n):
            if id(n) in seen:
                return
            seen.add(id(n))
            for p in n._parents:
                visit(p)
            order.append(n)

        visit(root)
        root.grad = 1.0
        for n in reversed(order):
            n._backward()

    assert sys.getrecursionlimit() < vex.DEEP
    fb = vex.check_backward(recursive_but_right_on_small_graphs)
    assert fb.status == "failed" and "RecursionError" in fb.message


def test_engine_check_compares_with_bpkit_value():
    fb = vex.check_engine(vex.add, vex.mul, vex.tanh, vex.backward)
    ref = explore.neuron_loss()
    ref.backward()
    w = next(n for n in ref.topological_order() if n.label == "w")
    assert f"dL/dw = {w.grad:.6g}" in fb.message
    wrong = vex.check_engine(
        vex.add, _mul(local=lambda i, a, b, o: a if i == 0 else b), vex.tanh, vex.backward
    )
    assert wrong.status == "failed" and "differ from bpkit.Value's" in wrong.message
    # cold read 3.4: an engine whose backward walks breadth-first order reversed, or whose
    # + assigns, agreed with bpkit.Value on the neuron; the fork f = (t + t·w)·t catches both
    bfs = vex.check_engine(vex.add, vex.mul, vex.tanh, _backward_breadth_first)
    assert bfs.status == "failed" and "f = (t + t·w)·t" in bfs.message
    assigning = vex.check_engine(_add(assign=True), vex.mul, vex.tanh, vex.backward)
    assert assigning.status == "failed" and "f = (t + t·w)·t" in assigning.message


def test_engine_check_points_at_the_piece_that_fails_its_own_check():
    # cold read 2: a wrong my_tanh made the engine check say only "your gradients differ
    # ... for w", labelled with the backward exercise; it now names my_tanh and its check
    wrong_tanh = _tanh(local=lambda i, a, o: (1 - o) ** 2)
    assert vex.check_tanh(wrong_tanh).status == "failed"
    fb = vex.check_engine(vex.add, vex.mul, wrong_tanh, vex.backward)
    assert fb.status == "failed" and "differ from bpkit.Value's" in fb.message
    assert "Start with my_tanh" in fb.message and "ex-value-tanh" in fb.message, fb.message
    # and that slip has its own name in the tanh check (cold read 2 saw only the numbers)
    assert "the square is in the wrong place" in vex.check_tanh(wrong_tanh).message
    # a right engine gets no such pointer
    assert "Start with" not in vex.check_engine(vex.add, vex.mul, vex.tanh, vex.backward).message

r"""Step through the backward pass of a small expression, one ``_backward`` at a time.

The slider is the step number ``k``: step 0 is the seed :math:`\partial L/\partial L = 1`;
step ``k`` shows every gradient right after the ``k``-th node in reverse topological
order ran its ``_backward`` (orange), and the parents it just sent gradient to (blue).
"""

from __future__ import annotations

from typing import Any

from bpcourse.graph import BackwardStep, Graph, backward_trace, describe_step, draw_graph
from bpcourse.widgets import Explorer, Slider
from bpkit.engine import Value

EXAMPLES = ("neuron", "shared")


def neuron_loss(w: float = -0.5, x: float = 2.0, b: float = 0.3, t: float = 0.5) -> Value:
    r"""One tanh neuron and its squared error: :math:`L = (\tanh(w x + b) - t)^2`.

    Subtraction is written ``y + (-t)`` so that the graph shows the negation node.
    """
    w_, x_, b_, t_ = (
        Value(w, label="w"),
        Value(x, label="x"),
        Value(b, label="b"),
        Value(t, label="t"),
    )
    wx = w_ * x_
    wx.label = "w·x"
    z = wx + b_
    z.label = "z"
    y = z.tanh()
    y.label = "y"
    neg_t = -t_
    neg_t.label = "-t"
    r = y + neg_t
    r.label = "r"
    loss = r**2
    loss.label = "L"
    return loss


def shared_expression(a: float = 2.0, b: float = -3.0) -> Value:
    r""":math:`f = a b + a`: the leaf ``a`` is used twice, so ``a.grad`` sums two paths."""
    a_, b_ = Value(a, label="a"), Value(b, label="b")
    c = a_ * b_
    c.label = "c"
    f = c + a_
    f.label = "f"
    return f


def build_example(example: str) -> Value:
    if example == "neuron":
        return neuron_loss()
    if example == "shared":
        return shared_expression()
    raise ValueError(f"unknown example {example!r}; choose one of {EXAMPLES}")


def compute_backward_step(step: int, example: str = "neuron") -> dict[str, Any]:
    """The graph and the gradients after ``step`` calls of ``_backward`` (0 = the seed)."""
    graph, steps = backward_trace(build_example(example))
    if not 0 <= step < len(steps):
        raise ValueError(f"step must be between 0 and {len(steps) - 1}; got {step}")
    return {"graph": graph, "step": steps[step], "n_steps": len(steps)}


def render_backward_step(fig: Any, data: dict[str, Any], params: dict[str, Any]) -> None:
    from bpcourse.plotting import add_axes

    graph: Graph = data["graph"]
    step: BackwardStep = data["step"]
    last = data["n_steps"] - 1
    who = "seed dL/dL = 1" if step.ran is None else f"{graph.name(step.ran)} ran _backward"
    draw_graph(
        graph,
        add_axes(fig),
        grads=step.grads,
        ran=step.ran,
        title=f"Backward pass, step {step.step} of {last}: {who}",
    )


def describe_backward_step(data: dict[str, Any], params: dict[str, Any]) -> str:
    return describe_step(data["graph"], data["step"])


def backward_explorer(example: str = "neuron") -> Explorer:
    """A slider over the steps of the backward pass of ``example`` ("neuron" or "shared")."""
    n_steps = len(backward_trace(build_example(example))[1])
    return Explorer(
        compute=lambda step: compute_backward_step(step, example),
        render=render_backward_step,
        sliders={"step": Slider(list(range(n_steps)), "backward step", default=0)},
        describe=describe_backward_step,
        title="The backward pass, one node at a time",
        figsize=(9.0, 3.9) if example == "neuron" else (5.0, 2.8),
        dpi=90,
    )

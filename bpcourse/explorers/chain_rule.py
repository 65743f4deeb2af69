r"""Step through the backward pass of a small expression, one ``_backward`` at a time.

The slider is the step number ``k``: step 0 is the seed :math:`\partial L/\partial L = 1`;
step ``k`` shows every gradient right after the ``k``-th node in reverse topological
order ran its ``_backward`` (orange), and the parents it just sent gradient to (blue).
The figure marks the gate patterns (add distributes, multiply swaps, forks add) and draws
the constant -1 and the target ``y`` grey: the engine computes their gradients too, but
only parameters are ever updated.
"""

from __future__ import annotations

from typing import Any

from bpcourse.graph import (
    BackwardStep,
    Graph,
    backward_trace,
    describe_step,
    draw_graph,
    node_name,
)
from bpcourse.widgets import Explorer, Slider
from bpkit.engine import Value

EXAMPLES = ("neuron", "shared")
#: Leaves whose gradient the backward pass computes but nothing uses (the target).
UNUSED = ("y",)


def neuron_loss(w: float = -0.5, x: float = 2.0, b: float = 0.3, y: float = 0.5) -> Value:
    r"""One tanh neuron and its squared error: :math:`L = (\tanh(w x + b) - y)^2`, with
    the prediction :math:`\hat y = \tanh(z)` and the target :math:`y`.

    Subtraction is written ``y_hat + (-y)`` so that the graph shows the negation node.
    """
    w_, x_, b_, y_ = (
        Value(w, label="w"),
        Value(x, label="x"),
        Value(b, label="b"),
        Value(y, label="y"),
    )
    wx = w_ * x_
    wx.label = "w·x"
    z = wx + b_
    z.label = "z"
    y_hat = z.tanh()
    y_hat.label = "ŷ"
    neg_y = -y_  # y * (-1): the constant -1 becomes a leaf of the graph
    neg_y.label = "-y"
    r = y_hat + neg_y
    r.label = "r"
    loss = r**2
    loss.label = "L"
    return loss


def shared_expression(x: float = 2.0, w: float = -3.0) -> Value:
    r""":math:`f = w x + x`: the leaf ``x`` is used twice, so ``x.grad`` sums two paths."""
    x_, w_ = Value(x, label="x"), Value(w, label="w")
    wx = w_ * x_
    wx.label = "w·x"
    f = wx + x_
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
        patterns=True,
        unused=UNUSED,
    )


def describe_backward_step(data: dict[str, Any], params: dict[str, Any]) -> str:
    graph, step = data["graph"], data["step"]
    text = describe_step(graph, step)
    if step.ran is not None and node_name(graph.nodes[step.ran]) in UNUSED:
        text += " It is the target: the engine computes its gradient, but nothing uses it."
    return text


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

r"""The computational graph of a :class:`~bpkit.engine.Value`: inspect it, replay its
backward pass one node at a time, and draw it with matplotlib (no graphviz).

A graph has one node per ``Value`` and one edge per use of a value as an operand: the
edge ``parent -> child`` carries the *local derivative*
:math:`\partial\,\text{child}/\partial\,\text{parent}`. The chain rule says

.. math:: \frac{\partial L}{\partial v} = \sum_{\text{paths } v \to L}
          \;\prod_{\text{edges } (p \to c) \text{ on the path}} \frac{\partial c}{\partial p},

and reverse mode computes that sum without listing the paths: visiting the nodes in
reverse topological order, each node adds ``local derivative * its own grad`` to each
parent's ``grad``.

Layout: the output sits in the column given by its longest path from the inputs; every
other node sits one column left of its first consumer, so edges point left to right.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bpkit.engine import Value
from bpkit.engine import local_derivatives as engine_local_derivatives

# CS231n's gate patterns: what an operation does to the gradient arriving from above.
GATE_PATTERNS = {
    "+": "add: distributes",
    "*": "multiply: swaps",
    "relu": "max: routes",
}
FORK_PATTERN = "fork: gradients add"


@dataclass(frozen=True)
class Edge:
    """One use of ``parent`` as operand number ``slot`` of ``child`` (indices into nodes)."""

    parent: int
    child: int
    slot: int
    local: float  # d child / d parent, through this operand slot only


@dataclass(frozen=True)
class Graph:
    """The nodes of an expression in topological order (parents first) and its edges."""

    nodes: tuple[Value, ...]
    edges: tuple[Edge, ...]

    def index(self, node: Value) -> int:
        for i, n in enumerate(self.nodes):
            if n is node:
                return i
        raise ValueError(f"{node!r} is not a node of this graph")

    def name(self, i: int) -> str:
        """A short name for node ``i``: its label, else its op, else its value."""
        return node_name(self.nodes[i])


@dataclass(frozen=True)
class BackwardStep:
    """The state of the backward pass after ``step`` calls of ``_backward``.

    ``step`` 0 is the seed (only the output has ``grad = 1``); at step ``k`` the node
    ``ran`` (an index into :attr:`Graph.nodes`) has just pushed its gradient to its
    parents. ``grads[i]`` is ``nodes[i].grad`` at that moment.
    """

    step: int
    ran: int | None
    grads: tuple[float, ...]


def is_constant(node: Value) -> bool:
    """A leaf with no label: a number written into the expression (the -1 of ``-y``)."""
    return not node._parents and not node.label


def node_name(node: Value) -> str:
    if node.label:
        return node.label
    if node._op:
        return node._op
    return f"{node.data:g}"


def build_graph(root: Value) -> Graph:
    """The graph of ``root``: nodes in topological order, one :class:`Edge` per operand."""
    if not isinstance(root, Value):
        raise TypeError(f"build_graph takes a bpkit Value, not {type(root).__name__}")
    nodes = tuple(root.topological_order())
    where = {id(n): i for i, n in enumerate(nodes)}
    edges = []
    for i, node in enumerate(nodes):
        for slot, (parent, local) in enumerate(
            zip(node._parents, local_derivatives(node), strict=True)
        ):
            edges.append(Edge(where[id(parent)], i, slot, local))
    return Graph(nodes, tuple(edges))


def local_derivatives(node: Value) -> list[float]:
    r"""``[d node / d parent for each operand slot]``, from the op's derivative formula.

    ``+``: 1 and 1; ``*``: the *other* operand; ``a**k``: :math:`k a^{k-1}`; ``exp``: the
    output itself; ``log``: :math:`1/a`; ``tanh``: :math:`1 - \tanh(a)^2` (the output
    squared, subtracted from 1); ``sigmoid``: :math:`s(1-s)` with ``s`` the *output*;
    ``relu``: 1 if :math:`a > 0` else 0. A leaf has no operands: ``[]``.
    """
    return list(engine_local_derivatives(node))  # the engine's own table: one source


def backward_trace(root: Value) -> tuple[Graph, list[BackwardStep]]:
    """Run ``root.backward()`` one ``_backward`` at a time and record every gradient.

    Zeroes the graph's gradients first, seeds ``root.grad = 1``, then calls each node's
    ``_backward`` in reverse topological order, exactly as :meth:`Value.backward` does.
    Afterwards every ``.grad`` holds the same values a plain ``root.backward()`` gives.
    Returns the graph and ``len(nodes) + 1`` steps (the seed, then one per node).
    """
    graph = build_graph(root)
    root.zero_grad()
    root.grad = 1.0  # dL/dL
    steps = [BackwardStep(0, None, tuple(n.grad for n in graph.nodes))]
    for k, i in enumerate(reversed(range(len(graph.nodes))), start=1):
        graph.nodes[i]._backward()  # push dL/d(node) to the node's parents
        steps.append(BackwardStep(k, i, tuple(n.grad for n in graph.nodes)))
    return graph, steps


def path_products(
    root: Value, leaf: Value, max_paths: int = 10_000
) -> list[tuple[tuple[str, ...], float]]:
    r"""Every path from ``leaf`` to ``root`` with the product of the local derivatives on it.

    The multivariate chain rule: ``sum(product for _, product in path_products(L, v))``
    equals :math:`\partial L/\partial v`. A node used twice by the same operation (``a * a``)
    gives two paths, one per operand slot. The number of paths can grow exponentially;
    more than ``max_paths`` raises ``ValueError`` (reverse mode never lists them).
    """
    graph = build_graph(root)
    target = graph.index(leaf)
    out_edges: dict[int, list[Edge]] = {}
    for e in graph.edges:
        out_edges.setdefault(e.parent, []).append(e)
    root_i = len(graph.nodes) - 1
    found: list[tuple[tuple[str, ...], float]] = []
    # Depth-first over paths with an explicit stack: (node, names so far, product so far).
    stack: list[tuple[int, tuple[str, ...], float]] = [(target, (graph.name(target),), 1.0)]
    while stack:
        i, names, prod = stack.pop()
        if i == root_i:
            found.append((names, prod))
            if len(found) > max_paths:
                raise ValueError(f"more than {max_paths} paths from {names[0]!r} to the output")
            continue
        for e in reversed(out_edges.get(i, [])):
            stack.append((e.child, (*names, graph.name(e.child)), prod * e.local))
    return found


# ---------------------------------------------------------------------- layout
def layout(graph: Graph) -> dict[int, tuple[float, float]]:
    """``{node index: (column, row)}``: layered left to right, few crossings."""
    n = len(graph.nodes)
    parents: dict[int, list[int]] = {i: [] for i in range(n)}
    children: dict[int, list[int]] = {i: [] for i in range(n)}
    for e in graph.edges:
        parents[e.child].append(e.parent)
        children[e.parent].append(e.child)
    col = [0] * n
    for i in range(n):  # topological order: parents already placed
        if parents[i]:
            col[i] = 1 + max(col[p] for p in parents[i])
    for i in reversed(range(n)):  # then as late as possible: just left of the first consumer
        if children[i]:
            col[i] = min(col[c] for c in children[i]) - 1
    shift = min(col)
    col = [c - shift for c in col]
    columns: dict[int, list[int]] = {}
    for i in range(n):
        columns.setdefault(col[i], []).append(i)
    row = {}
    for members in columns.values():
        for r, i in enumerate(members):
            row[i] = r - (len(members) - 1) / 2

    def sweep(order: list[int], neighbours: dict[int, list[int]]) -> None:
        for c in order:
            members = columns[c]
            key = {
                i: (sum(row[j] for j in neighbours[i]) / len(neighbours[i]))
                if neighbours[i]
                else row[i]
                for i in members
            }
            members.sort(key=lambda i: key[i])
            for r, i in enumerate(members):
                row[i] = r - (len(members) - 1) / 2

    cols = sorted(columns)
    for _ in range(2):  # barycentre sweeps: right to left by consumers, then left to right
        sweep(cols[::-1], children)
        sweep(cols, parents)
    return {i: (float(col[i]), float(row[i])) for i in range(n)}


# ---------------------------------------------------------------------- drawing
def draw_graph(
    target: Value | Graph,
    ax: Any = None,
    *,
    grads: tuple[float, ...] | list[float] | None = None,
    ran: int | None = None,
    show_local: bool = True,
    title: str | None = None,
    fontsize: float = 8.5,
    patterns: bool = False,
    unused: tuple[str, ...] = (),
) -> Any:
    """Draw the graph on ``ax`` (a new figure if ``None``); return the figure.

    Each node is a box with its name and operation, its value and its gradient (``grads``
    overrides the nodes' current ``.grad``, e.g. a :class:`BackwardStep`'s). Each edge
    is labelled with its local derivative. ``ran`` highlights the node whose
    ``_backward`` has just run (orange) and the parents it sent gradient to (blue).

    ``patterns`` writes CS231n's gate pattern under each ``+``, ``*`` and ``relu`` node
    (add distributes, multiply swaps, max routes) and marks every fork, a node used more
    than once, where the gradients of its paths add. Constants (unlabelled leaves) and the
    nodes named in ``unused`` (a target, say) are drawn grey with "grad ... (unused)": the
    backward pass computes a gradient for every leaf, but nothing ever updates them.
    """
    from matplotlib.patches import FancyArrowPatch, FancyBboxPatch
    from matplotlib.path import Path

    from bpcourse.plotting import PALETTE, add_axes, new_figure

    graph = target if isinstance(target, Graph) else build_graph(target)
    n = len(graph.nodes)
    if grads is None:
        grads = [v.grad for v in graph.nodes]
    if len(grads) != n:
        raise ValueError(f"grads has {len(grads)} entries but the graph has {n} nodes")
    pos = layout(graph)
    n_cols = int(max(x for x, _ in pos.values())) + 1
    n_rows = max(sum(1 for x, _ in pos.values() if x == c) for c in range(n_cols))
    if ax is None:
        fig = new_figure(max(4.0, 1.5 * n_cols), max(2.2, 0.95 * n_rows + 0.9))
        ax = add_axes(fig)
    fig = ax.figure
    w, h = 0.7, 0.62  # box size in (column, row) units
    receivers = {e.parent for e in graph.edges if e.child == ran}
    uses: dict[int, int] = {}
    for e in graph.edges:
        uses[e.parent] = uses.get(e.parent, 0) + 1
    idle = {i for i, v in enumerate(graph.nodes) if is_constant(v) or node_name(v) in unused}
    for i, (x, y) in pos.items():
        node = graph.nodes[i]
        fill = "#e6e6e6" if i in idle else "white"
        if i in receivers:
            fill = PALETTE["sky"]
        if i == ran:
            fill = PALETTE["orange"]
        leaf = not node._parents
        ax.add_patch(
            FancyBboxPatch(
                (x - w / 2, y - h / 2),
                w,
                h,
                boxstyle="round,pad=0.02,rounding_size=0.08",
                facecolor=fill,
                edgecolor=PALETTE["black"],
                linewidth=2.0 if i == ran else 1.0,
                linestyle="--" if leaf else "-",
                zorder=2,
            )
        )
        name = node_name(node)
        head = f"{name}  [{node._op}]" if node._op and node.label else name
        grad_text = f"grad {grads[i]:.4g}" + (" (unused)" if i in idle else "")
        ax.text(
            x,
            y,
            f"{head}\nvalue {node.data:.4g}\n{grad_text}",
            ha="center",
            va="center",
            fontsize=fontsize,
            zorder=3,
            color="#555555" if i in idle else "black",
        )
        if patterns:
            below = GATE_PATTERNS.get(node._op)
            if below:
                ax.text(
                    x,
                    y - h / 2 - 0.05,
                    below,
                    ha="center",
                    va="top",
                    fontsize=fontsize - 1,
                    style="italic",
                    color=PALETTE["blue"],
                    zorder=3,
                )
            if uses.get(i, 0) > 1:
                ax.text(
                    x,
                    y + h / 2 + 0.05,
                    FORK_PATTERN,
                    ha="center",
                    va="bottom",
                    fontsize=fontsize - 1,
                    style="italic",
                    color=PALETTE["vermillion"],
                    zorder=3,
                )
    # Edges are quadratic Bezier curves in data coordinates. Parallel edges (the same
    # parent used twice by one node) bend apart; an edge that skips a column bends away
    # from the middle of the figure, around the nodes it passes.
    count: dict[tuple[int, int], int] = {}
    for e in graph.edges:
        count[(e.parent, e.child)] = count.get((e.parent, e.child), 0) + 1
    rows = [y for _, y in pos.values()]
    lo, hi = min(rows) - 0.55, max(rows) + 0.55
    for e in graph.edges:
        (x0, y0), (x1, y1) = pos[e.parent], pos[e.child]
        start, end = (x0 + w / 2, y0), (x1 - w / 2, y1)
        bend = 0.0
        if count[(e.parent, e.child)] > 1:
            bend = 0.35 if e.slot == 0 else -0.35
        elif x1 - x0 > 1:
            bend = min(1.0 * (x1 - x0 - 1), 1.4) * (-1 if (y0 + y1) / 2 <= 0 else 1)
        mx, my = (start[0] + end[0]) / 2, (start[1] + end[1]) / 2
        control = (mx, my + bend)
        hot = e.child == ran
        colour = PALETTE["vermillion"] if hot else PALETTE["black"]
        ax.add_patch(
            FancyArrowPatch(
                path=Path([start, control, end], [Path.MOVETO, Path.CURVE3, Path.CURVE3]),
                arrowstyle="-|>",
                mutation_scale=10,
                color=colour,
                linewidth=2.0 if hot else 0.9,
                zorder=1,
            )
        )
        lo, hi = min(lo, my + bend / 2 - 0.15), max(hi, my + bend / 2 + 0.15)
        if show_local:
            ax.text(
                mx,
                my + bend / 2,  # the curve's midpoint
                f"{e.local:.3g}",
                ha="center",
                va="center",
                fontsize=fontsize - 1,
                color=colour,
                zorder=4,
                bbox={"boxstyle": "round,pad=0.1", "facecolor": "white", "edgecolor": "none"},
            )
    if patterns:  # room for the pattern labels above and below the boxes
        lo, hi = lo - 0.25, hi + 0.25
    ax.set_xlim(-0.55, n_cols - 0.45)
    ax.set_ylim(lo, hi)
    ax.set_xticks(range(n_cols))
    ax.set_yticks([])
    ax.set_xlabel("depth in the graph (the forward pass flows left to right)")
    ax.set_ylabel("nodes at one depth")
    for side in ("top", "right", "left"):
        ax.spines[side].set_visible(False)
    ax.set_title(title if title is not None else "Computational graph", fontsize=10)
    return fig


def describe_step(graph: Graph, step: BackwardStep) -> str:
    """One sentence on what this step of the backward pass did (alt text and caption)."""
    if step.ran is None:
        out = graph.name(len(graph.nodes) - 1)
        return f"Step 0: the seed. d{out}/d{out} = 1; every other gradient is still 0."
    node = graph.nodes[step.ran]
    name = graph.name(step.ran)
    if not node._parents:
        if is_constant(node):
            return (
                f"Step {step.step}: {name} is a constant leaf: its _backward does nothing, and "
                f"its gradient {step.grads[step.ran]:.4g} is computed but never used."
            )
        return (
            f"Step {step.step}: {name} is a leaf, so its _backward does nothing; "
            f"its gradient stays {step.grads[step.ran]:.4g}."
        )
    parts = []
    for e in graph.edges:
        if e.child == step.ran:
            parts.append(
                f"{graph.name(e.parent)} += {e.local:.4g} × {step.grads[step.ran]:.4g} "
                f"(now {step.grads[e.parent]:.4g})"
            )
    return f"Step {step.step}: {name} ran its _backward: " + "; ".join(parts) + "."

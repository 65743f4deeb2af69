"""Benchmarks against the course's performance budgets (``make bench``).

Measures what a learner waits on: a bpkit training step (against a plain numpy step and
the matrix-multiply floor, and PyTorch when it is installed), the ``Value`` engine, each
notebook in a fresh kernel, each slider move, and the book build. Prints one table with
every figure beside its goal and writes it to ``bench/results/latest.md`` and ``.json``.

Timing method for the training step: the bpkit step, a numpy step written with every
array allocated once and reused (``out=``: an estimate of plain numpy's limit), a plain
numpy step that allocates freely, the matrix multiplies alone and, when installed,
PyTorch are interleaved (rotating which runs first), each sample timing a block of steps,
and the report gives the median per-step time of each and the median of the paired
ratios, so that machine noise (another process, frequency changes) hits both sides of a
pair alike. Every step computes the loss value and its gradient, the backward pass and
the SGD update, from the same weights and data. Page faults per step (minor faults, from
``getrusage``, over the same blocks, once warm) show where freed memory went back to the
operating system and had to be mapped in again.

On a shared machine wall-clock times grow with the load; where it makes sense the table
also gives the CPU time the same work took (this process and its finished children, such
as the notebook kernels and the book build), which is what it costs on an idle core.
BLAS threads follow numpy's default; set ``OPENBLAS_NUM_THREADS=1`` to pin them (a
multi-threaded BLAS on an oversubscribed machine can be many times slower).

Usage: ``python bench/run.py [--quick] [--only step,value,notebooks,sliders,book]
[--name NAME]``.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import pathlib
import pkgutil
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass

import numpy as np

import bpkit

ROOT = pathlib.Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results"


@dataclass
class Row:
    section: str
    what: str
    value: float
    unit: str
    goal: str
    ok: bool | None  # None: reported, no goal
    cpu: float | None = None  # the same measurement in CPU time, where it makes sense

    def cells(self) -> list[str]:
        verdict = {True: "yes", False: "NO", None: ""}[self.ok]
        cpu = "" if self.cpu is None else f"{self.cpu:.4g} {self.unit}"
        return [self.section, self.what, f"{self.value:.4g} {self.unit}", cpu, self.goal, verdict]


def cpu_seconds() -> float:
    """CPU time of this process and of its finished (waited-for) children, in seconds."""
    me = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


# ---------------------------------------------------------------- training step
ARCHS = [
    # (sizes, batch, hidden activation, output activation, loss)
    ([3, 2, 1], 3, "sigmoid", "sigmoid", "mse"),
    ([2, 16, 1], 4, "tanh", "identity", "mse"),
    ([2, 64, 64, 2], 256, "relu", "identity", "softmax_cross_entropy"),
    ([64, 128, 128, 10], 512, "relu", "identity", "softmax_cross_entropy"),
    ([784, 256, 10], 1024, "relu", "identity", "softmax_cross_entropy"),
]


def _plain_act(name: str) -> tuple[Callable, Callable]:
    """Textbook numpy activations and derivatives (in terms of the activation output)."""
    if name == "sigmoid":
        return (lambda z: 1.0 / (1.0 + np.exp(-z))), (lambda z, a: a * (1.0 - a))
    if name == "tanh":
        return np.tanh, (lambda z, a: 1.0 - a * a)
    if name == "relu":
        return (lambda z: np.maximum(z, 0.0)), (lambda z, a: (z > 0).astype(z.dtype))
    return (lambda z: z), (lambda z, a: np.ones_like(z))


def make_plain_step(Ws, bs, hidden: str, output: str, loss: str, lr: float):
    """A minimal hand-written numpy training step; temporaries allocated freely.

    It does the same work as ``bpkit.train_step``: forward pass, the loss value (a training
    loop records it) and its gradient, backward pass, SGD update; it returns the loss."""
    acts = [_plain_act(hidden)] * (len(Ws) - 1) + [_plain_act(output)]

    def step(X, Y):
        As, Zs = [X], []
        for W, b, (f, _) in zip(Ws, bs, acts, strict=True):
            Z = As[-1] @ W.T + b
            Zs.append(Z)
            As.append(f(Z))
        out = As[-1]
        n = X.shape[0]
        if loss == "mse":
            r = out - Y
            value = float(np.mean(r * r))
            dA = 2.0 * r / out.size
        else:  # softmax cross-entropy with integer labels
            shifted = out - out.max(axis=1, keepdims=True)
            e = np.exp(shifted)
            s = e.sum(axis=1, keepdims=True)
            rows = np.arange(n)
            value = float(np.mean(np.log(s[:, 0]) - shifted[rows, Y]))
            P = e / s
            P[rows, Y] -= 1.0
            dA = P / n
        for k in range(len(Ws) - 1, -1, -1):
            dZ = dA * acts[k][1](Zs[k], As[k + 1])
            dW = dZ.T @ As[k]
            db = dZ.sum(axis=0)
            if k:
                dA = dZ @ Ws[k]
            Ws[k] -= lr * dW
            bs[k] -= lr * db
        return value  # the loss before the step, as bpkit.train_step returns it

    return step


def _act_in_place(name: str) -> tuple[Callable, Callable]:
    """An activation written over its input, and f'(Z) from the output A written into D."""

    def sigmoid(Z):  # the overflow-free form, exp(-log(1 + e^-z)), in place
        np.negative(Z, out=Z)
        np.logaddexp(0.0, Z, out=Z)
        np.negative(Z, out=Z)
        np.exp(Z, out=Z)

    def sigmoid_d(A, D):  # a (1 - a)
        np.subtract(1.0, A, out=D)
        D *= A

    def tanh_d(A, D):  # 1 - a^2
        np.square(A, out=D)
        np.subtract(1.0, D, out=D)

    table = {
        "sigmoid": (sigmoid, sigmoid_d),
        "tanh": (lambda Z: np.tanh(Z, out=Z), tanh_d),
        "relu": (lambda Z: np.maximum(Z, 0.0, out=Z), lambda A, D: np.greater(A, 0.0, out=D)),
    }
    return table.get(name, (None, None))  # identity: nothing to do


def make_prealloc_step(Ws, bs, hidden: str, output: str, loss: str, lr: float, n: int):
    """The same step as :func:`make_plain_step`, with every array allocated once, before
    the first step, and written in place (``out=``) ever after: an estimate of how fast
    plain numpy can do this step at all. It assumes a batch of ``n`` rows."""
    dtype = Ws[0].dtype
    acts = [_act_in_place(hidden)] * (len(Ws) - 1) + [_act_in_place(output)]
    Z = [np.empty((n, W.shape[0]), dtype) for W in Ws]  # Z_k, then A_k = f(Z_k) over it
    D = [np.empty_like(z) for z in Z]  # f'(Z_k), then dL/dZ_k over it
    dA = [np.empty((n, W.shape[1]), dtype) for W in Ws]  # dL/dA_{k-1} = dZ_k W_k
    dW, db = [np.empty_like(W) for W in Ws], [np.empty_like(b) for b in bs]
    G = np.empty_like(Z[-1])  # dL/d(out)
    rows = np.arange(n)

    def step(X, Y):
        A = X
        for k, (W, b, (f, _)) in enumerate(zip(Ws, bs, acts, strict=True)):
            np.matmul(A, W.T, out=Z[k])
            Z[k] += b
            if f is not None:
                f(Z[k])
            A = Z[k]
        if loss == "mse":
            np.subtract(A, Y, out=G)
            value = float(np.vdot(G, G)) / G.size
            np.multiply(G, 2.0 / G.size, out=G)
        else:  # softmax cross-entropy with integer labels
            np.subtract(A, A.max(axis=1, keepdims=True), out=G)
            picked = G[rows, Y]
            np.exp(G, out=G)
            s = G.sum(axis=1, keepdims=True)
            value = float(np.mean(np.log(s[:, 0]) - picked))
            np.divide(G, s, out=G)
            G[rows, Y] -= 1.0
            np.divide(G, n, out=G)
        dY = G
        for k in range(len(Ws) - 1, -1, -1):
            f, f_d = acts[k]
            if f_d is not None:
                f_d(Z[k], D[k])  # f'(Z_k) from the output A_k
                np.multiply(dY, D[k], out=D[k])  # dZ_k
                dY = D[k]
            np.matmul(dY.T, Z[k - 1] if k else X, out=dW[k])
            np.add.reduce(dY, axis=0, out=db[k])
            if k:
                np.matmul(dY, Ws[k], out=dA[k])
            dW[k] *= lr
            Ws[k] -= dW[k]
            db[k] *= lr
            bs[k] -= db[k]
            dY = dA[k]
        return value

    return step


def make_matmul_floor(Ws, X):
    """Only the step's matrix multiplies: the floor no implementation can beat."""
    As = [X]
    for W in Ws:
        As.append(As[-1] @ W.T)
    dZs = [np.ones_like(A) for A in As[1:]]

    def step(_X, _Y):
        A = _X
        for W in Ws:
            A = A @ W.T
        for k in range(len(Ws) - 1, -1, -1):
            dZs[k].T @ As[k]
            if k:
                dZs[k] @ Ws[k]

    return step


def _time_block(fn, X, Y, steps: int) -> float:
    return _time_block_both(fn, X, Y, steps)[0]


def _minor_faults() -> int:
    """Page faults served without disk so far: each is a fresh page the kernel mapped in."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt


def _time_block_both(fn, X, Y, steps: int) -> tuple[float, float, float]:
    """Per-step (wall clock, CPU time of this process, minor page faults) over ``steps``
    calls."""
    t0, c0, f0 = time.perf_counter(), time.process_time(), _minor_faults()
    for _ in range(steps):
        fn(X, Y)
    t1, c1, f1 = time.perf_counter(), time.process_time(), _minor_faults()
    return (t1 - t0) / steps, (c1 - c0) / steps, (f1 - f0) / steps


def _steps_per_sample(fn, X, Y) -> int:
    per = min(_time_block(fn, X, Y, 3) for _ in range(3))
    return max(1, min(2000, int(0.003 / max(per, 1e-7))))  # ~3 ms per sample


def _blas_threads_env() -> str | None:
    return os.environ.get("OPENBLAS_NUM_THREADS") or os.environ.get("OMP_NUM_THREADS")


def blas_threads() -> int:
    """The BLAS thread count numpy runs with: the environment's pin, else one per core."""
    pinned = _blas_threads_env()
    return int(pinned) if pinned and pinned.isdigit() else os.cpu_count() or 1


def _blas_single_threaded() -> bool:
    """With one BLAS thread, CPU time is the work itself (no spinning helper threads), so
    goals are judged on CPU-time ratios, which a loaded machine does not distort."""
    return blas_threads() == 1


def _paired(blocks: dict[str, Callable[[], tuple[float, float]]], samples: int):
    """Interleave the blocks (rotating which runs first); per-step times and pair ratios."""
    names = list(blocks)
    wall: dict[str, list[float]] = {n: [] for n in names}
    cpu: dict[str, list[float]] = {n: [] for n in names}
    faults: dict[str, list[float]] = {n: [] for n in names}
    for i in range(samples):
        order = names[i % len(names) :] + names[: i % len(names)]
        for n in order:
            w, c, f = blocks[n]()
            wall[n].append(w)
            cpu[n].append(c)
            faults[n].append(f)
    return wall, cpu, faults


def _median_ratio(a: list[float], b: list[float]) -> float:
    return statistics.median(x / max(y, 1e-12) for x, y in zip(a, b, strict=True))


def _judged(wall_ratio: float, cpu_ratio: float) -> float:
    return cpu_ratio if _blas_single_threaded() else wall_ratio


def bench_step(quick: bool) -> list[Row]:
    rows = []
    samples = 21 if quick else 61
    torch = _maybe_torch()
    for sizes, batch, hidden, output, loss in ARCHS:
        for dtype in (np.float64, np.float32):
            rng = np.random.default_rng(0)
            model = bpkit.mlp(sizes, hidden, output, rng=rng, dtype=dtype)
            X = rng.standard_normal((batch, sizes[0])).astype(dtype)
            if loss == "mse":
                Y = rng.standard_normal((batch, sizes[-1])).astype(dtype)
            else:
                Y = rng.integers(0, sizes[-1], batch)
            lr = 1e-3
            opt = bpkit.SGD(model.parameters(), lr=lr)

            def bp_step(X, Y, model=model, opt=opt, loss=loss):
                bpkit.train_step(model, X, Y, loss, opt)

            dense = [layer for layer in model.layers if isinstance(layer, bpkit.Dense)]
            plain = make_plain_step(
                [d.W.copy() for d in dense], [d.b.copy() for d in dense], hidden, output, loss, lr
            )
            prealloc = make_prealloc_step(
                [d.W.copy() for d in dense],
                [d.b.copy() for d in dense],
                hidden,
                output,
                loss,
                lr,
                batch,
            )
            floor = make_matmul_floor([d.W for d in dense], X)
            k = min(_steps_per_sample(f, X, Y) for f in (bp_step, plain, prealloc))
            blocks = {
                name: lambda f=f, X=X, Y=Y, k=k: _time_block_both(f, X, Y, k)
                for name, f in (
                    ("bpkit", bp_step),
                    ("prealloc", prealloc),
                    ("numpy", plain),
                    ("floor", floor),
                )
            }
            if torch is not None:
                pt_step, pt_X, pt_Y = make_torch_step(torch, dense, hidden, output, loss, lr, X, Y)
                k_pt = _steps_per_sample(pt_step, pt_X, pt_Y)
                blocks["torch"] = lambda f=pt_step, X=pt_X, Y=pt_Y, k=k_pt: _time_block_both(
                    f, X, Y, k
                )
            wall, cpu, faults = _paired(blocks, samples)
            name = f"{'-'.join(map(str, sizes))} b{batch} {np.dtype(dtype).name}"
            us = {n: statistics.median(wall[n]) * 1e6 for n in wall}
            us_cpu = {n: statistics.median(cpu[n]) * 1e6 for n in cpu}
            labels = {
                "bpkit": "bpkit",
                "prealloc": "preallocated numpy",
                "numpy": "plain numpy",
                "floor": "matmuls alone",
            }
            for key, label in labels.items():
                rows.append(Row("step", f"{name}: {label}", us[key], "us", "", None, us_cpu[key]))
            largest = sizes == ARCHS[-1][0]
            for key, label, goal in (
                ("prealloc", "preallocated numpy", 1.1),
                ("numpy", "plain numpy", 1.0),
                ("floor", "matmul floor", 1.15 if largest else None),
            ):
                ratio = _median_ratio(wall["bpkit"], wall[key])
                ratio_cpu = _median_ratio(cpu["bpkit"], cpu[key])
                rows.append(
                    Row(
                        "step",
                        f"{name}: bpkit / {label}",
                        ratio,
                        "x",
                        "" if goal is None else f"<= {goal}",
                        None if goal is None else _judged(ratio, ratio_cpu) <= goal,
                        ratio_cpu,
                    )
                )
            for key, label in (
                ("bpkit", "bpkit"),
                ("prealloc", "preallocated"),
                ("numpy", "plain"),
            ):
                per_step = statistics.median(faults[key])
                goal = "0" if key == "bpkit" else ""
                ok = per_step == 0 if key == "bpkit" else None
                rows.append(
                    Row("step", f"{name}: page faults per step, {label}", per_step, "", goal, ok)
                )
            if torch is not None:
                goal = 0.15 if batch <= 4 else (1.0 if largest else 0.8)
                pt_ratio = _median_ratio(wall["bpkit"], wall["torch"])
                pt_cpu = _median_ratio(cpu["bpkit"], cpu["torch"])
                rows.append(
                    Row("step", f"{name}: PyTorch", us["torch"], "us", "", None, us_cpu["torch"])
                )
                rows.append(
                    Row(
                        "step",
                        f"{name}: bpkit / PyTorch",
                        pt_ratio,
                        "x",
                        f"<= {goal}",
                        _judged(pt_ratio, pt_cpu) <= goal,
                        pt_cpu,
                    )
                )
    return rows


def _maybe_torch():
    try:
        import torch
    except ImportError:
        return None
    torch.set_num_threads(blas_threads())  # the same thread count as numpy's BLAS
    return torch


def make_torch_step(torch, dense, hidden: str, output: str, loss: str, lr: float, X, Y):
    """The same step in PyTorch (CPU), starting from bpkit's weights and data, so both do
    the same arithmetic. Returns ``(step, X, Y)`` with the data as tensors."""
    acts = {"sigmoid": torch.nn.Sigmoid, "tanh": torch.nn.Tanh, "relu": torch.nn.ReLU}
    layers = []
    for i, d in enumerate(dense):
        linear = torch.nn.Linear(d.n_in, d.n_out, dtype=torch.from_numpy(d.W).dtype)
        with torch.no_grad():
            linear.weight.copy_(torch.from_numpy(d.W))  # same (n_out, n_in) layout
            linear.bias.copy_(torch.from_numpy(d.b))
        layers.append(linear)
        name = output if i == len(dense) - 1 else hidden
        if name in acts:
            layers.append(acts[name]())
    net = torch.nn.Sequential(*layers)
    opt = torch.optim.SGD(net.parameters(), lr=lr)
    loss_fn = torch.nn.MSELoss() if loss == "mse" else torch.nn.CrossEntropyLoss()
    tX, tY = torch.from_numpy(X), torch.from_numpy(np.asarray(Y))

    def step(X, Y):
        opt.zero_grad()
        value = loss_fn(net(X), Y)
        value.backward()
        opt.step()
        return value.item()  # the loss value, as the other two steps return it

    return step, tX, tY


# ---------------------------------------------------------------- Value engine
def bench_value(quick: bool) -> list[Row]:
    rows = []
    n = 20_000 if quick else 100_000

    def chain(n):
        x = bpkit.Value(0.5)
        y = x
        for _ in range(n):
            y = (y * 0.999).tanh()
        return x, y

    def wide(n):
        xs = [bpkit.Value(float(i % 7) / 7) for i in range(n)]
        total = bpkit.Value(0.0)
        for x in xs:
            total = total + x * x
        return xs[0], total

    for label, build, nodes_per in (("long chain", chain, 2), ("wide sum", wide, 3)):
        times, cpus = [], []
        for _ in range(3):
            t0, c0 = time.perf_counter(), time.process_time()
            _, out = build(n)
            out.backward()
            times.append(time.perf_counter() - t0)
            cpus.append(time.process_time() - c0)
        rate, cpu_rate = nodes_per * n / min(times), nodes_per * n / max(min(cpus), 1e-9)
        rows.append(
            Row("Value", f"{label}: forward + backward", rate, "nodes/s", "", None, cpu_rate)
        )
    deepest = 0
    for depth in (100_000, 300_000, 1_000_000) if not quick else (100_000,):
        try:
            x = bpkit.Value(1.0)
            y = x
            for _ in range(depth):
                y = y + 1.0
            y.backward()
            assert x.grad == 1.0
            deepest = depth
        except (RecursionError, MemoryError):
            break
    rows.append(
        Row(
            "Value",
            "deepest chain that works (tested)",
            deepest,
            "ops",
            ">= 100000",
            deepest >= 100_000,
        )
    )
    return rows


# ---------------------------------------------------------------- notebooks
def bench_notebooks(quick: bool) -> list[Row]:
    import nbclient
    import nbformat

    rows, total, total_cpu = [], 0.0, 0.0
    for path in sorted((ROOT / "chapters").glob("*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        t0, c0 = time.perf_counter(), cpu_seconds()
        nbclient.NotebookClient(
            nb, timeout=600, resources={"metadata": {"path": str(path.parent)}}
        ).execute()
        dt, cpu = time.perf_counter() - t0, cpu_seconds() - c0
        total += dt
        total_cpu += cpu
        rows.append(Row("notebooks", path.name, dt, "s", "< 20", dt < 20, cpu))
    rows.append(Row("notebooks", "all together", total, "s", "< 120", total < 120, total_cpu))
    return rows


# ---------------------------------------------------------------- sliders
def _explorer_factories():
    import bpcourse.explorers as pkg

    for info in pkgutil.iter_modules(pkg.__path__):
        module = importlib.import_module(f"bpcourse.explorers.{info.name}")
        for name in sorted(dir(module)):
            if name.endswith("_explorer") and callable(getattr(module, name)):
                yield f"{info.name}.{name}", getattr(module, name)


def bench_sliders(quick: bool) -> list[Row]:
    import io

    rows = []
    for label, factory in _explorer_factories():
        explorer = factory()
        settings = []
        for slider_name, slider in explorer.sliders.items():
            for value in list(slider.values)[:: max(1, len(slider.values) // 4)]:
                settings.append({slider_name: value})
        # One untimed move first: the first figure of a session loads fonts and caches.
        explorer.figure(explorer.compute(), explorer.defaults()).savefig(io.BytesIO())
        compute_t, draw_t, compute_c, draw_c = [], [], [], []
        for params in settings:
            # Each move three times, its median kept: a move's cost, not a passing
            # collector pause or another process's burst.
            samples = []
            for _ in range(3):
                t0, c0 = time.perf_counter(), time.process_time()
                data = explorer.compute(**params)
                t1, c1 = time.perf_counter(), time.process_time()
                fig = explorer.figure(data, {**explorer.defaults(), **params})
                fig.savefig(io.BytesIO(), format="png", dpi=explorer.dpi)
                t2, c2 = time.perf_counter(), time.process_time()
                samples.append((t1 - t0, t2 - t0, c1 - c0, c2 - c0))
            ct, dt, cc_, dc_ = (statistics.median(column) for column in zip(*samples, strict=True))
            compute_t.append(ct)
            draw_t.append(dt)
            compute_c.append(cc_)
            draw_c.append(dc_)
        c, d = max(compute_t) * 1e3, max(draw_t) * 1e3
        cc, dc = max(compute_c) * 1e3, max(draw_c) * 1e3
        rows.append(Row("sliders", f"{label}: recompute (worst move)", c, "ms", "< 50", c < 50, cc))
        rows.append(
            Row("sliders", f"{label}: recompute + redraw (worst)", d, "ms", "< 200", d < 200, dc)
        )
    return rows


# ---------------------------------------------------------------- book
def _sources_stamp() -> int:
    """The newest modification time among the book's sources (chapters, bpkit, config)."""
    files = [*ROOT.glob("chapters/*"), *ROOT.glob("bpkit/**/*.py"), *ROOT.glob("*.yml")]
    return max(f.stat().st_mtime_ns for f in [*files, ROOT / "references.bib"] if f.exists())


def _build_once(cmd: list[str]) -> tuple[float, float, bool]:
    """(wall clock, CPU time, succeeded) of one book build; warnings go to stderr."""
    t0, c0 = time.perf_counter(), cpu_seconds()
    done = subprocess.run(cmd, capture_output=True, text=True)
    wall, cpu = time.perf_counter() - t0, cpu_seconds() - c0
    if done.returncode:
        out = (done.stdout + done.stderr).splitlines()
        warnings = [line for line in out if "WARNING" in line or "ERROR" in line]
        print("book build failed:", *warnings[:20], sep="\n", file=sys.stderr)
    return wall, cpu, done.returncode == 0


def bench_book(quick: bool) -> list[Row]:
    rows = []
    jb = pathlib.Path(sys.executable).with_name("jupyter-book")
    with tempfile.TemporaryDirectory() as tmp:
        cmd = [str(jb), "build", str(ROOT), "-W", "-n", "--keep-going", "--path-output", tmp]
        stamp = _sources_stamp()
        clean = _build_once(cmd)
        again = _build_once(cmd)
        edited = ""
        if _sources_stamp() != stamp:  # someone edited the book while it was building
            again = _build_once(cmd)  # the one before caught up; this one has nothing to do
            edited = " (sources edited during the builds: timed after a catch-up build)"
        note = {True: "", False: " (FAILED: warnings with -W)"}
        rows.append(
            Row(
                "book",
                f"clean build (no cache){note[clean[2]]}",
                clean[0],
                "s",
                "< 180",
                clean[0] < 180 and clean[2],
                clean[1],
            )
        )
        rows.append(
            Row(
                "book",
                f"rebuild, nothing changed{note[again[2]]}{edited}",
                again[0],
                "s",
                "< 15",
                again[0] < 15 and again[2],
                again[1],
            )
        )
        html = pathlib.Path(tmp) / "_build" / "html"
        heaviest, weight = "", 0
        for page in html.rglob("*.html"):
            size = page.stat().st_size
            text = page.read_text(errors="ignore")
            for img in (html / "_images").glob("*") if (html / "_images").exists() else []:
                if img.name in text:
                    size += img.stat().st_size
            if size > weight:
                heaviest, weight = str(page.relative_to(html)), size
        mb = weight / 1e6
        rows.append(Row("book", f"heaviest page ({heaviest})", mb, "MB", "<= 3", mb <= 3))
    return rows


# ---------------------------------------------------------------- report
def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in pathlib.Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    threads = _blas_threads_env()
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    return (
        f"{os.cpu_count()} cores, {cpu}; Python {platform.python_version()}, "
        f"numpy {np.__version__}; BLAS threads: {threads or 'numpy default'}; "
        f"load average {load} (1, 5, 15 min); {time.strftime('%Y-%m-%d %H:%M %Z')}"
    )


def table(rows: list[Row]) -> str:
    head = ["section", "measurement", "wall clock", "CPU time", "goal", "met"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    lines += ["| " + " | ".join(r.cells()) + " |" for r in rows]
    return "\n".join(lines)


SECTIONS = {
    "step": bench_step,
    "value": bench_value,
    "notebooks": bench_notebooks,
    "sliders": bench_sliders,
    "book": bench_book,
}


def write_report(rows: list[Row], suffix: str) -> str:
    """Write the table to ``bench/results/latest{suffix}.md`` (and ``.json``); return it."""
    torch = sys.modules.get("torch")
    with_torch = f"; PyTorch {torch.__version__}" if torch is not None else ""
    report = f"Machine: {machine()}{with_torch}\n\n{table(rows)}\n"
    report += "\nNotes: ratios are medians of interleaved pairs (see the script's docstring); "
    report += "CPU time is the work alone, wall clock includes waiting on a shared machine. "
    report += "With one BLAS thread the step goals are judged on the CPU-time ratios.\n"
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / f"latest{suffix}.md").write_text(report)
    (RESULTS / f"latest{suffix}.json").write_text(
        json.dumps({"machine": machine(), "rows": [asdict(r) for r in rows]}, indent=1)
    )
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repeats (a smoke run)")
    parser.add_argument("--only", default=",".join(SECTIONS), help="comma-separated sections")
    parser.add_argument(
        "--name",
        help="write bench/results/latest-NAME.md and .json (kept in git, unlike -partial), "
        "e.g. --only step --name pytorch from an environment with PyTorch installed",
    )
    args = parser.parse_args(argv)
    rows: list[Row] = []
    suffix = "" if args.only == ",".join(SECTIONS) and not args.quick else "-partial"
    if args.name:
        suffix = f"-{args.name}"
    for name in args.only.split(","):
        print(f"running {name} ...", file=sys.stderr, flush=True)
        rows += SECTIONS[name](args.quick)
        report = write_report(rows, suffix)  # after every section: a crash loses nothing
    print(report)
    missed = [r for r in rows if r.ok is False]
    if missed:
        print(f"{len(missed)} goal(s) not met", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

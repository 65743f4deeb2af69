r"""Slider explorers that work both live (Jupyter, Binder) and in the static HTML book.

An :class:`Explorer` is three plain functions and a grid of slider values:

* ``compute(**params) -> data``: the result for one setting (pure, testable, fast);
* ``render(fig, data, params)``: draws ``data`` on an empty matplotlib ``Figure``;
* ``describe(data, params) -> str``: one or two sentences saying what this setting
  shows; used as the figure's alt text and shown under the figure.

Displaying an explorer gives two renderings of the same object in one output:

* live, in a kernel: an ``ipywidgets.interactive`` with one ``SelectionSlider`` per
  parameter, recomputing on every move;
* static, in the HTML book: a ``text/html`` block with a labelled
  ``<input type=range>`` per parameter, every frame precomputed at build time, and a few
  lines of inline JavaScript that swap the frame. No kernel, no network.

The book ranks ``text/html`` above the widget bundle (``nb_mime_priority_overrides`` in
``_config.yml``); JupyterLab prefers the live widget.
"""

from __future__ import annotations

import base64
import hashlib
import html
import io
import itertools
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

MAX_FRAMES = 200


@dataclass(frozen=True)
class Slider:
    """A slider over an explicit grid of ``values`` (numbers or names)."""

    values: Sequence[Any]
    label: str
    default: Any = None
    fmt: Callable[[Any], str] = field(default=lambda v: f"{v:g}" if _is_number(v) else str(v))

    def __post_init__(self) -> None:
        if len(self.values) == 0:
            raise ValueError(f"slider {self.label!r} needs at least one value")
        if self.default is not None and not any(_same(self.default, v) for v in self.values):
            raise ValueError(
                f"slider {self.label!r}: default {self.default!r} is not in its values"
            )

    @property
    def default_index(self) -> int:
        if self.default is None:
            return 0
        return next(i for i, v in enumerate(self.values) if _same(self.default, v))

    @classmethod
    def linspace(
        cls, lo: float, hi: float, n: int, label: str, default: float | None = None
    ) -> Slider:
        values = [float(v) for v in np.round(np.linspace(lo, hi, n), 10)]
        return cls(values, label, _nearest(values, default))

    @classmethod
    def logspace(
        cls, lo: float, hi: float, n: int, label: str, default: float | None = None
    ) -> Slider:
        values = [float(f"{v:.3g}") for v in np.geomspace(lo, hi, n)]
        return cls(values, label, _nearest(values, default))


def _is_number(v: Any) -> bool:
    return isinstance(v, int | float | np.integer | np.floating) and not isinstance(v, bool)


def _same(a: Any, b: Any) -> bool:
    if _is_number(a) and _is_number(b):
        return bool(np.isclose(float(a), float(b), rtol=1e-9, atol=0))
    return a == b


def _nearest(values: Sequence[float], target: float | None) -> float | None:
    if target is None:
        return None
    return min(values, key=lambda v: abs(v - target))


def digest(data: Any) -> str:
    """A short fingerprint of computed data, to tie a displayed frame to its numbers."""
    h = hashlib.sha256()
    _feed(h, data)
    return h.hexdigest()[:16]


def _feed(h: Any, data: Any) -> None:
    if isinstance(data, Mapping):
        for key in sorted(data, key=str):
            h.update(str(key).encode())
            _feed(h, data[key])
    elif isinstance(data, np.ndarray | list | tuple) and not isinstance(data, str):
        arr = np.asarray(data)
        if arr.dtype.kind in "fc":
            h.update(np.array2string(arr, precision=8, threshold=10**9).encode())
        else:
            h.update(repr(arr.tolist()).encode())
    elif isinstance(data, float | np.floating):
        h.update(f"{float(data):.8g}".encode())
    else:
        h.update(repr(data).encode())


class Explorer:
    """A slider explorer: one code path for the live widget and the static book page."""

    def __init__(
        self,
        compute: Callable[..., Any],
        render: Callable[[Any, Any, dict[str, Any]], None],
        sliders: Mapping[str, Slider],
        describe: Callable[[Any, dict[str, Any]], str],
        title: str,
        figsize: tuple[float, float] = (6.0, 3.6),
        dpi: int = 80,
    ) -> None:
        if not sliders:
            raise ValueError("an Explorer needs at least one slider")
        n_frames = int(np.prod([len(s.values) for s in sliders.values()]))
        if n_frames > MAX_FRAMES:
            raise ValueError(
                f"{n_frames} slider combinations is too many to precompute for the static "
                f"book (at most {MAX_FRAMES}); use coarser slider grids"
            )
        self.compute_fn = compute
        self.render_fn = render
        self.sliders = dict(sliders)
        self.describe_fn = describe
        self.title = title
        self.figsize = figsize
        self.dpi = dpi
        self.last: tuple[dict[str, Any], Any] | None = None

    # ---------------------------------------------------------------- pure parts
    def defaults(self) -> dict[str, Any]:
        return {k: s.values[s.default_index] for k, s in self.sliders.items()}

    def compute(self, **params: Any) -> Any:
        """The data for one setting; missing parameters take their slider defaults."""
        unknown = set(params) - set(self.sliders)
        if unknown:
            raise ValueError(f"unknown slider(s) {sorted(unknown)}; have {sorted(self.sliders)}")
        full = {**self.defaults(), **params}
        return self.compute_fn(**full)

    def figure(self, data: Any, params: dict[str, Any]):
        from bpkit.plotting import new_figure

        fig = new_figure(*self.figsize, dpi=self.dpi)
        self.render_fn(fig, data, params)
        return fig

    def frame(self, params: dict[str, Any]) -> dict[str, str]:
        """Everything the static page shows for one setting."""
        data = self.compute(**params)
        fig = self.figure(data, params)
        buf = io.BytesIO()
        fig.savefig(buf, format="png", dpi=self.dpi)
        return {
            "src": "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii"),
            "alt": self.describe_fn(data, params),
            "digest": digest(data),
        }

    # ---------------------------------------------------------------- live widget
    def widget(self):
        """An ``ipywidgets.interactive`` whose sliders recompute and redraw."""
        import ipywidgets as widgets
        from IPython.display import display

        controls = {
            name: widgets.SelectionSlider(
                options=[(s.fmt(v), v) for v in s.values],
                value=s.values[s.default_index],
                description=s.label,
                continuous_update=False,
                style={"description_width": "initial"},
                layout=widgets.Layout(width="min(100%, 32em)"),
            )
            for name, s in self.sliders.items()
        }

        def update(**params: Any) -> Any:
            data = self.compute(**params)
            self.last = (params, data)
            display(self.figure(data, params))
            display(widgets.HTML(f"<p>{html.escape(self.describe_fn(data, params))}</p>"))
            return data

        return widgets.interactive(update, **controls)

    # ---------------------------------------------------------------- static page
    def static_html(self) -> str:
        """The self-contained HTML block: sliders, precomputed frames, inline script."""
        uid = (
            "bpx-"
            + hashlib.sha256(
                (self.title + repr([s.values for s in self.sliders.values()])).encode()
            ).hexdigest()[:10]
        )
        names = list(self.sliders)
        frames: dict[str, dict[str, str]] = {}
        for idx in itertools.product(*(range(len(self.sliders[n].values)) for n in names)):
            params = {n: self.sliders[n].values[i] for n, i in zip(names, idx, strict=True)}
            frames[",".join(map(str, idx))] = self.frame(params)
        start = ",".join(str(self.sliders[n].default_index) for n in names)
        controls = []
        for k, n in enumerate(names):
            s = self.sliders[n]
            labels = [s.fmt(v) for v in s.values]
            i0 = s.default_index
            controls.append(
                f'<div class="bpkit-control"><label for="{uid}-{k}">{html.escape(s.label)}</label> '
                f'<input type="range" id="{uid}-{k}" name="{html.escape(n)}" min="0" '
                f'max="{len(s.values) - 1}" step="1" value="{i0}" '
                f'aria-valuetext="{html.escape(labels[i0])}" '
                f"data-labels='{html.escape(json.dumps(labels))}'> "
                f'<output for="{uid}-{k}" id="{uid}-{k}-out">{html.escape(labels[i0])}</output></div>'
            )
        first = frames[start]
        payload = json.dumps(frames, separators=(",", ":")).replace("</", "<\\/")
        return (
            f'<figure class="bpkit-explorer" id="{uid}" data-start="{start}">'
            f"<figcaption>{html.escape(self.title)}</figcaption>{''.join(controls)}"
            f'<img src="{first["src"]}" alt="{html.escape(first["alt"])}" '
            f'data-digest="{first["digest"]}" style="max-width:100%;height:auto">'
            f'<p class="bpkit-describe" aria-live="polite">{html.escape(first["alt"])}</p>'
            f'<script type="application/json" class="bpkit-frames">{payload}</script>'
            f"<script>{_SCRIPT.replace('__UID__', uid)}</script></figure>"
        )

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, Any]:
        bundle: dict[str, Any] = {}
        try:
            live = self.widget()
            bundle.update(live._repr_mimebundle_(include=include, exclude=exclude) or {})
        except ImportError:  # no ipywidgets: the static form alone still works
            pass
        bundle["text/html"] = self.static_html()
        bundle["text/plain"] = f"<Explorer: {self.title}>"
        return bundle


# The whole client side: find this explorer's sliders, and on input swap the frame.
_SCRIPT = """(function(){var root=document.getElementById('__UID__');if(!root)return;
var frames=JSON.parse(root.querySelector('script.bpkit-frames').textContent);
var inputs=root.querySelectorAll('input[type=range]');var img=root.querySelector('img');
var text=root.querySelector('.bpkit-describe');
function show(){var key=[];inputs.forEach(function(el){var labels=JSON.parse(el.dataset.labels);
key.push(el.value);el.setAttribute('aria-valuetext',labels[el.value]);
document.getElementById(el.id+'-out').textContent=labels[el.value];});
var f=frames[key.join(',')];if(!f)return;img.src=f.src;img.alt=f.alt;
img.dataset.digest=f.digest;text.textContent=f.alt;}
inputs.forEach(function(el){el.addEventListener('input',show);el.addEventListener('change',show);});
})();"""

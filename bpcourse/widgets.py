r"""Slider explorers that work both live (Jupyter, Binder) and in the static HTML book.

An :class:`Explorer` is three plain functions and a grid of slider values:

* ``compute(**params) -> data``: the result for one setting (pure, testable, fast);
* ``render(fig, data, params)``: draws ``data`` on an empty matplotlib ``Figure``;
* ``describe(data, params) -> str``: one or two sentences of plain text (no TeX) saying
  what this setting shows; used as the figure's alt text and shown under the figure.

Displaying an explorer gives two renderings of the same object in one output:

* live, in a kernel: an ``ipywidgets.interactive`` with one ``SelectionSlider`` per
  parameter, recomputing on every move;
* static, in the HTML book: a ``text/html`` block with a labelled
  ``<input type=range>`` per parameter, every frame precomputed at build time, and a few
  lines of inline JavaScript that swap the frame. No kernel, no network.

The book ranks ``text/html`` above the widget bundle (``nb_mime_priority_overrides`` in
``_config.yml``); JupyterLab prefers the live widget.

Precomputing every frame is work only the book needs. The book build sets the
environment variable ``BPKIT_STATIC_FRAMES=all`` (the Sphinx extension
:mod:`bpkit_book` in ``book/`` does it before any notebook runs), and only then does displaying an
explorer precompute the whole grid. Anywhere else (a live kernel, nbval) the
``text/html`` fallback shows the default frame with a note, marked
``data-frames="partial"``; the book build fails if such a block reaches a page.

The static block carries what a test needs to recompute any frame without running the
notebook: ``data-explorer="module:factory"`` (given as ``source=``, or detected when the
explorer is built by a module-level factory), ``data-explorer-kwargs`` (the factory's
arguments as JSON), each slider's values as JSON in ``data-values``, and for every frame
``digest(compute(**params))``.
"""

from __future__ import annotations

import base64
import hashlib
import html
import inspect
import io
import itertools
import json
import os
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

#: Most slider combinations one explorer may have (each is a precomputed image).
MAX_FRAMES = 64
#: Environment variable the book build sets to ``"all"`` to precompute every frame.
FRAMES_ENV = "BPKIT_STATIC_FRAMES"
#: Colours kept per frame by the PNG palette quantisation (figures use a few colours).
PNG_COLOURS = 64


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


def _jsonable(v: Any) -> Any:
    """A slider value as JSON: numbers stay numbers (ints as ints), anything else a string."""
    if isinstance(v, bool | str) or v is None:
        return v
    if isinstance(v, int | np.integer):
        return int(v)
    if isinstance(v, float | np.floating):
        return float(v)
    return str(v)


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


def precompute_all_frames() -> bool:
    """True when displaying an explorer should precompute every frame (the book build)."""
    return os.environ.get(FRAMES_ENV, "") == "all"


def _factory_source(frame: Any) -> tuple[str, dict[str, Any]] | None:
    """``("module:function", kwargs)`` when ``frame`` runs a module-level function that can
    be called again from its module with JSON-able keyword arguments, else ``None``."""
    module_name = frame.f_globals.get("__name__")
    name = frame.f_code.co_name
    module = sys.modules.get(module_name or "")
    if module is None or module_name == "__main__" or module_name.startswith("__"):
        return None
    fn = getattr(module, name, None)
    if getattr(fn, "__code__", None) is not frame.f_code:
        return None
    kwargs: dict[str, Any] = {}
    for pname, p in inspect.signature(fn).parameters.items():
        if p.kind not in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY):
            return None
        value = frame.f_locals.get(pname, p.default)
        if p.default is not p.empty and value is p.default:
            continue
        try:
            if json.loads(json.dumps(value)) != value:
                return None
        except (TypeError, ValueError):
            return None
        kwargs[pname] = value
    return f"{module_name}:{name}", kwargs


class Explorer:
    """A slider explorer: one code path for the live widget and the static book page.

    ``source`` names an importable factory, ``"package.module:function"``, that rebuilds
    this explorer with no arguments (tests recompute the book's frames from it). Left as
    ``None``, it is detected when a module-level function builds the explorer.
    """

    def __init__(
        self,
        compute: Callable[..., Any],
        render: Callable[[Any, Any, dict[str, Any]], None],
        sliders: Mapping[str, Slider],
        describe: Callable[[Any, dict[str, Any]], str],
        title: str,
        figsize: tuple[float, float] = (6.0, 3.6),
        dpi: int = 80,
        source: str | None = None,
    ) -> None:
        if not sliders:
            raise ValueError("an Explorer needs at least one slider")
        bad = [k for k, s in sliders.items() if not isinstance(s, Slider)]
        if bad:
            raise TypeError(f"sliders {bad} must be bpcourse.widgets.Slider objects")
        n_frames = int(np.prod([len(s.values) for s in sliders.values()]))
        if n_frames > MAX_FRAMES:
            sizes = " x ".join(f"{k}: {len(s.values)}" for k, s in sliders.items())
            raise ValueError(
                f"{n_frames} slider combinations ({sizes}) is too many to precompute for the "
                f"static book (at most {MAX_FRAMES}); use coarser slider grids"
            )
        if source is not None and (source.count(":") != 1 or not all(source.split(":"))):
            raise ValueError(f"source must look like 'package.module:function', got {source!r}")
        self.compute_fn = compute
        self.render_fn = render
        self.sliders = dict(sliders)
        self.describe_fn = describe
        self.title = title
        self.figsize = figsize
        self.dpi = dpi
        self.source = source
        self.source_kwargs: dict[str, Any] = {}
        if source is None:
            found = _factory_source(sys._getframe(1))
            if found is not None:
                self.source, self.source_kwargs = found
        self.last: tuple[dict[str, Any], Any] | None = None
        self._positions: list[Any] | None = None  # axes boxes of the default setting

    # ---------------------------------------------------------------- pure parts
    def defaults(self) -> dict[str, Any]:
        return {k: s.values[s.default_index] for k, s in self.sliders.items()}

    def n_frames(self) -> int:
        """The number of slider combinations, i.e. of precomputed frames."""
        return int(np.prod([len(s.values) for s in self.sliders.values()]))

    def grid(self) -> list[tuple[str, dict[str, Any]]]:
        """Every setting as ``(key, params)``; ``key`` is the slider indices, e.g. ``"3,0"``."""
        names = list(self.sliders)
        out = []
        for idx in itertools.product(*(range(len(self.sliders[n].values)) for n in names)):
            params = {n: self.sliders[n].values[i] for n, i in zip(names, idx, strict=True)}
            out.append((",".join(map(str, idx)), params))
        return out

    def compute(self, **params: Any) -> Any:
        """The data for one setting; missing parameters take their slider defaults."""
        unknown = set(params) - set(self.sliders)
        if unknown:
            raise ValueError(f"unknown slider(s) {sorted(unknown)}; have {sorted(self.sliders)}")
        full = {**self.defaults(), **params}
        return self.compute_fn(**full)

    def figure(self, data: Any, params: dict[str, Any]):
        """``render`` on a new figure, its axes placed where the default setting's are.

        The layout (constrained, so labels never overlap) is worked out once, for the
        default setting, and every frame reuses it: that halves a redraw, and moving a
        slider then moves the data, not the axes around it.
        """
        from bpcourse.plotting import BookFigure, new_figure

        if self._positions is None:
            # Lay out the default setting with constrained layout and remember its boxes.
            default = self.defaults()
            full = {**default, **params}
            same = all(_same(full[k], default[k]) for k in default)
            layout_data = data if same else self.compute(**default)
            fig = new_figure(*self.figsize, dpi=self.dpi)
            self.render_fn(fig, layout_data, default)
            fig.draw_without_rendering()  # runs the constrained layout
            self._positions = [ax.get_position() for ax in fig.axes]
            if same:
                fig.set_layout_engine("none")
                return fig
        fig = BookFigure(figsize=self.figsize, dpi=self.dpi)
        self.render_fn(fig, data, params)
        if len(fig.axes) == len(self._positions):
            for ax, box in zip(fig.axes, self._positions, strict=True):
                ax.set_position(box)
        else:  # this setting draws different axes: lay it out on its own
            fig.set_layout_engine("constrained")
        return fig

    def frame(self, params: dict[str, Any]) -> dict[str, str]:
        """Everything the static page shows for one setting: PNG data URL, alt, digest."""
        full = {**self.defaults(), **params}
        data = self.compute(**full)
        png = _png_bytes(self.figure(data, full), self.dpi)
        return {
            "src": "data:image/png;base64," + base64.b64encode(png).decode("ascii"),
            "alt": self.describe_fn(data, full),
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
    def uid(self) -> str:
        """The HTML id of this explorer's block (stable across builds)."""
        key = repr(
            (
                self.title,
                [s.values for s in self.sliders.values()],
                self.source,
                sorted(self.source_kwargs.items()),
            )
        )
        return "bpx-" + hashlib.sha256(key.encode()).hexdigest()[:10]

    def static_html(self, all_frames: bool = True) -> str:
        """The self-contained HTML block: sliders, precomputed frames, inline script.

        With ``all_frames=False`` only the default frame is rendered, with no sliders and a
        note that moving them needs a kernel (the cheap fallback for a live notebook).
        """
        uid = self.uid()
        names = list(self.sliders)
        start = ",".join(str(self.sliders[n].default_index) for n in names)
        grid = self.grid() if all_frames else [(start, self.defaults())]
        frames = {key: self.frame(params) for key, params in grid}
        first = frames[start]
        attrs = (
            f'id="{uid}" data-start="{start}" data-frames="{"all" if all_frames else "partial"}"'
        )
        if self.source:
            attrs += f' data-explorer="{html.escape(self.source)}"'
            attrs += f' data-explorer-kwargs="{html.escape(json.dumps(self.source_kwargs))}"'
        image = (
            f'<img src="{first["src"]}" alt="{html.escape(first["alt"])}" '
            f'data-digest="{first["digest"]}" data-key="{start}" '
            f'style="max-width:100%;height:auto">'
            f'<p class="bpkit-describe" aria-live="polite">{html.escape(first["alt"])}</p>'
        )
        if not all_frames:
            settings = ", ".join(
                f"{s.label} = {s.fmt(v)}"
                for s, v in zip(self.sliders.values(), self.defaults().values(), strict=True)
            )
            return (
                f'<figure class="bpkit-explorer tex2jax_ignore" {attrs}>'
                f"<figcaption>{html.escape(self.title)}</figcaption>{image}"
                f'<p class="bpkit-note"><em>Shown for {html.escape(settings)}. Run this '
                "notebook in Jupyter to move the sliders.</em></p></figure>"
            )
        controls = []
        for k, n in enumerate(names):
            s = self.sliders[n]
            labels = [s.fmt(v) for v in s.values]
            values = [_jsonable(v) for v in s.values]
            i0 = s.default_index
            controls.append(
                f'<div class="bpkit-control"><label for="{uid}-{k}">{html.escape(s.label)}</label> '
                f'<input type="range" id="{uid}-{k}" name="{html.escape(n)}" min="0" '
                f'max="{len(s.values) - 1}" step="1" value="{i0}" '
                f'aria-valuetext="{html.escape(labels[i0])}" '
                f'data-labels="{html.escape(json.dumps(labels))}" '
                f'data-values="{html.escape(json.dumps(values))}"> '
                f'<output for="{uid}-{k}" id="{uid}-{k}-out">{html.escape(labels[i0])}</output></div>'
            )
        payload = json.dumps(frames, separators=(",", ":")).replace("</", "<\\/")
        return (
            f'<figure class="bpkit-explorer tex2jax_ignore" {attrs}><style>{_STYLE}</style>'
            f"<figcaption>{html.escape(self.title)}</figcaption>{''.join(controls)}{image}"
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
        bundle["text/html"] = self.static_html(all_frames=precompute_all_frames())
        bundle["text/plain"] = f"<Explorer: {self.title}>"
        return bundle


def _png_bytes(fig: Any, dpi: int) -> bytes:
    """The figure as a small PNG: drawn once by Agg, quantised to ``PNG_COLOURS`` colours.

    A figure uses a few flat colours plus antialiasing, so a palette PNG is about a quarter
    of the size of the RGBA one and reads the same.
    """
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from PIL import Image
    except ImportError:  # no Pillow (matplotlib depends on it): keep the plain PNG
        buf = io.BytesIO()
        fig.savefig(buf, format="png", dpi=dpi)
        return buf.getvalue()
    fig.set_dpi(dpi)
    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    rgb = Image.fromarray(np.asarray(canvas.buffer_rgba())).convert("RGB")
    out = io.BytesIO()
    rgb.quantize(PNG_COLOURS, dither=Image.Dither.NONE).save(out, format="png")
    return out.getvalue()


# Keyboard focus must be visible on the range inputs (WCAG 2.4.7).
_STYLE = (
    # label | slider | value in fixed columns, so the sliders of one explorer line up and
    # the value never wraps onto a line of its own.
    ".bpkit-explorer .bpkit-control{display:grid;align-items:center;gap:.6em;"
    "grid-template-columns:minmax(6em,14em) minmax(6em,1fr) 4.5em;max-width:44em}"
    ".bpkit-explorer input[type=range]{width:100%}"
    ".bpkit-explorer input[type=range]:focus-visible{outline:3px solid #0072B2;outline-offset:2px}"
    ".bpkit-explorer output{font-variant-numeric:tabular-nums;min-width:4em}"
)

# The whole client side: find this explorer's sliders (in the figure holding the script),
# and on input swap the frame.
_SCRIPT = """(function(){var me=document.currentScript;
var root=(me&&me.closest('figure.bpkit-explorer'))||document.getElementById('__UID__');if(!root)return;
var frames=JSON.parse(root.querySelector('script.bpkit-frames').textContent);
var inputs=root.querySelectorAll('input[type=range]');var img=root.querySelector('img');
var text=root.querySelector('.bpkit-describe');
function show(){var key=[];inputs.forEach(function(el){var labels=JSON.parse(el.dataset.labels);
key.push(el.value);el.setAttribute('aria-valuetext',labels[el.value]);
root.querySelector('output[for="'+el.id+'"]').textContent=labels[el.value];});
key=key.join(',');var f=frames[key];if(!f)return;img.src=f.src;img.alt=f.alt;
img.dataset.digest=f.digest;img.dataset.key=key;text.textContent=f.alt;}
inputs.forEach(function(el){el.addEventListener('input',show);el.addEventListener('change',show);});
})();"""

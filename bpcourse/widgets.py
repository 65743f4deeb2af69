r"""Slider explorers that work both live (Jupyter, Binder) and in the static HTML book.

An :class:`Explorer` is three plain functions and a grid of slider values:

* ``compute(**params) -> data``: the result for one setting (pure, testable, fast);
* ``render(fig, data, params)``: draws ``data`` on an empty matplotlib ``Figure``;
* ``describe(data, params) -> str``: one or two sentences of plain text (no TeX) saying
  what this setting shows; used as the figure's alt text and shown under the figure.

Displaying an explorer gives two renderings of the same object in one output:

* live, in a kernel: an ``ipywidgets.interactive`` with one ``SelectionSlider`` per
  numeric parameter and one row of ``ToggleButtons`` per choice among names,
  recomputing on every move; the labels share one width, so the controls line up;
* static, in the HTML book: a ``text/html`` block with a labelled ``<input type=range>``
  per numeric parameter and a group of labelled radio buttons per choice, every frame
  precomputed at build time (an SVG, or a PNG at twice the pixel density when the SVG
  would be heavy), and a few lines of inline JavaScript that swap the frame. No kernel, no
  network. Below 600 px the label takes its own row and the control the full width, with
  a 44 px touch target; a printed page shows the frame with a line naming its setting.

A :class:`Slider` is a *choice* (buttons) when its values are names, or when there are
three values or fewer (a slider with two or three stops is a small target that also
spaces 1, 5 and 20 evenly); ``kind="range"`` or ``kind="choice"`` overrides that.

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
import itertools
import json
import os
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from bpcourse.i18n import _, localized, tr

#: Most slider combinations one explorer may have (each is a precomputed image).
MAX_FRAMES = 64
#: The longest label a control shows whole: labels share one width, at most 22em
#: (``Explorer.widget``), and JupyterLab cuts a longer label off with an ellipsis.
MAX_LABEL = 38
#: The tallest phone frame (CSS px, as drawn): with the controls above it, it should fit on
#: a phone's screen (844 px tall, less the browser's bars), so a reader sees what a move does.
PHONE_FRAME_MAX_PX = 470
#: Environment variable the book build sets to ``"all"`` to precompute every frame (and
#: draw each figure's phone variant: :data:`bpcourse.plotting.BOOK_BUILD_ENV`).
FRAMES_ENV = "BPKIT_STATIC_FRAMES"


@dataclass(frozen=True)
class Slider:
    """A slider over an explicit grid of ``values`` (numbers or names)."""

    values: Sequence[Any]
    label: str
    default: Any = None
    fmt: Callable[[Any], str] = field(default=lambda v: f"{v:g}" if _is_number(v) else str(v))
    #: ``"range"`` (a slider), ``"choice"`` (buttons) or ``None``: decided from the values.
    kind: str | None = None

    def __post_init__(self) -> None:
        if len(self.values) == 0:
            raise ValueError(f"slider {self.label!r} needs at least one value")
        if len(self.label) > MAX_LABEL:
            raise ValueError(
                f"slider label {self.label!r} has {len(self.label)} characters; JupyterLab "
                f"cuts a label longer than {MAX_LABEL} off (the labels share at most 22em)"
            )
        bad = [v for v in self.values if _is_number(v) and not np.isfinite(float(v))]
        if bad:
            raise ValueError(
                f"slider {self.label!r}: every value must be a finite number or a name; "
                f"got {bad[0]!r}"
            )
        if self.default is not None and not any(_same(self.default, v) for v in self.values):
            raise ValueError(
                f"slider {self.label!r}: default {self.default!r} is not in its values"
            )
        if self.kind not in (None, "range", "choice"):
            raise ValueError(
                f"slider {self.label!r}: kind must be 'range', 'choice' or None, got {self.kind!r}"
            )
        if self.kind == "range" and not all(_is_number(v) for v in self.values):
            raise ValueError(f"slider {self.label!r}: a range needs numbers; use kind='choice'")

    @property
    def default_index(self) -> int:
        if self.default is None:
            return 0
        return next(i for i, v in enumerate(self.values) if _same(self.default, v))

    @property
    def is_choice(self) -> bool:
        """Shown as buttons (names, or at most three values) rather than as a slider."""
        if self.kind is not None:
            return self.kind == "choice"
        return len(self.values) <= 3 or not all(_is_number(v) for v in self.values)

    @classmethod
    def linspace(
        cls, lo: float, hi: float, n: int, label: str, default: float | None = None
    ) -> Slider:
        _check_grid(label, lo, hi, n, default, positive=False)
        values = [float(v) for v in np.round(np.linspace(lo, hi, n), 10)]
        return cls(values, label, _nearest(values, default))

    @classmethod
    def logspace(
        cls, lo: float, hi: float, n: int, label: str, default: float | None = None
    ) -> Slider:
        _check_grid(label, lo, hi, n, default, positive=True)
        values = [float(f"{v:.3g}") for v in np.geomspace(lo, hi, n)]
        return cls(values, label, _nearest(values, default))


def _check_grid(
    label: str, lo: float, hi: float, n: int, default: float | None, positive: bool
) -> None:
    """Refuse, in words, a grid that cannot be built (NaN, infinity, a log of zero...)."""
    for name, v in (("lo", lo), ("hi", hi), ("default", default)):
        if v is None and name == "default":
            continue
        if not _is_number(v) or not np.isfinite(float(v)):
            raise ValueError(f"slider {label!r}: {name} must be a finite number, got {v!r}")
        if positive and float(v) <= 0:
            raise ValueError(
                f"slider {label!r}: a log-spaced grid needs positive numbers; {name} is {v!r}"
            )
    if not isinstance(n, int | np.integer) or isinstance(n, bool) or n < 1:
        raise ValueError(f"slider {label!r}: n must be a positive whole number, got {n!r}")


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
        dpi: int | None = None,
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
        # The figure's own resolution (for a raster draw); on the page every frame is
        # CSS_PX_PER_INCH px per inch, as an SVG or a PNG at twice that density.
        self.dpi = dpi if dpi is not None else _plotting().CSS_PX_PER_INCH
        self.source = source
        self.source_kwargs: dict[str, Any] = {}
        if source is None:
            found = _factory_source(sys._getframe(1))
            if found is not None:
                self.source, self.source_kwargs = found
        self.last: tuple[dict[str, Any], Any] | None = None
        self._positions: list[Any] | None = None  # axes boxes of the default setting
        self._phone_layout: dict | None = None  # the same for the phone frames
        self._phone_fits = True  # whether the phone layout keeps texts apart
        self._defaults_computed: Any = None

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
        slider then moves the data, not the axes around it. Every figure follows the book's
        legibility rules (:meth:`bpcourse.plotting.BookFigure.legible`).
        """
        from bpcourse.plotting import BookFigure, new_figure

        if self._positions is None:
            # Lay out the default setting with constrained layout and remember its boxes.
            default = self.defaults()
            full = {**default, **params}
            same = all(_same(full[k], default[k]) for k in default)
            if same and self._defaults_computed is None:
                self._defaults_computed = data
            layout_data = data if same else self._default_data()
            fig = new_figure(*self.figsize, dpi=self.dpi)
            self.render_fn(fig, layout_data, default)
            fig.legible().draw_without_rendering()  # runs the constrained layout
            self._positions = [ax.get_position() for ax in fig.axes]
            if same:
                fig.set_layout_engine("none")
                return fig
        fig = BookFigure(figsize=self.figsize, dpi=self.dpi)
        self.render_fn(fig, data, params)
        fig.legible()
        if len(fig.axes) == len(self._positions):
            for ax, box in zip(fig.axes, self._positions, strict=True):
                ax.set_position(box)
        else:  # this setting draws different axes: lay it out on its own
            fig.set_layout_engine("constrained")
        return fig

    def phone_figure(self, data: Any, params: dict[str, Any]):
        """``render`` laid out for a phone (:func:`bpcourse.plotting.to_phone`): panels in
        a column, text for a phone's column; every setting in the default setting's layout."""
        from bpcourse.plotting import BookFigure, text_collisions, to_phone

        if self._phone_layout is None:
            default = self.defaults()
            full = {**default, **params}
            same = all(_same(full[k], default[k]) for k in default)
            fig = BookFigure(figsize=self.figsize, dpi=self.dpi)
            if same and self._defaults_computed is None:
                self._defaults_computed = data
            self.render_fn(fig, data if same else self._default_data(), default)
            self._phone_layout = to_phone(fig, self.figsize, max_height_px=PHONE_FRAME_MAX_PX)
            fig.set_layout_engine("none")
            # texts that were apart on the desktop collide (a diagram): no phone frames
            desktop = self.figure(self._default_data(), default)
            self._phone_fits = text_collisions(fig) <= text_collisions(desktop)
            if same:
                return fig
        fig = BookFigure(figsize=self.figsize, dpi=self.dpi)
        self.render_fn(fig, data, params)
        to_phone(fig, self.figsize, self._phone_layout)
        return fig

    def frame(self, params: dict[str, Any], phone: bool = True) -> dict[str, str]:
        """Everything the static page shows for one setting: image data URL, its phone
        variant's (with ``phone``), alt text, digest.

        The image is an SVG, or a 2x PNG when the SVG would be heavy; the book's extension
        writes it to a file of its own (``_frames/``), loaded only when shown (the phone
        variant only on a phone, the other one only elsewhere).
        """
        full = {**self.defaults(), **params}
        data = self.compute(**full)
        out = {"src": _data_url(self.figure(data, full))}
        if phone and self.phone_fits():
            out["phone"] = _data_url(self.phone_figure(data, full))
        out.update(alt=localized(lambda: self.describe_fn(data, full)), digest=digest(data))
        return out

    def _default_data(self) -> Any:
        """The default setting's data, computed once (both layouts are worked out on it)."""
        if self._defaults_computed is None:
            self._defaults_computed = self.compute()
        return self._defaults_computed

    def phone_fits(self) -> bool:
        """Whether the frames can be laid out for a phone without texts colliding; if not,
        a phone shows the desktop frames in a box that scrolls sideways."""
        if self._phone_layout is None:
            self.phone_figure(self._default_data(), self.defaults())
        return self._phone_fits

    def phone_size(self) -> tuple[int, int]:
        """Width and height of a phone frame, in CSS px (the default setting's layout)."""
        from bpcourse.plotting import CSS_PX_PER_INCH, PHONE_WIDTH_PX

        if self._phone_layout is None:
            self.phone_figure(self._default_data(), self.defaults())
        return PHONE_WIDTH_PX, round(self._phone_layout["height"] * CSS_PX_PER_INCH)

    def css_size(self) -> tuple[int, int]:
        """Width and height of a frame on the page, in CSS px."""
        ppi = _plotting().CSS_PX_PER_INCH
        return round(self.figsize[0] * ppi), round(self.figsize[1] * ppi)

    # ---------------------------------------------------------------- live widget
    def widget(self):
        """An ``ipywidgets.interactive`` whose controls recompute and redraw.

        ``children[i]`` is the control of the i-th slider (a ``SelectionSlider``, or
        ``ToggleButtons`` for a choice); ``.result`` the data of the current setting. All
        labels get the width of the longest (up to 22em), so the controls line up and a
        long label does not squeeze its slider.
        """
        import ipywidgets as widgets
        from IPython.display import display

        longest = max(len(s.label) for s in self.sliders.values())
        label_width = f"{min(22.0, 0.55 * longest + 1.0):.1f}em"
        layout = {"width": "100%", "max_width": "56em"}
        controls = {}
        for name, s in self.sliders.items():
            options = [(_value_label(s, v, _), v) for v in s.values]
            common = {
                "options": options,
                "value": s.values[s.default_index],
                "description": _(s.label),
                "description_allow_html": False,
            }
            if s.is_choice:
                controls[name] = widgets.ToggleButtons(
                    **common,
                    tooltips=[f"{_(s.label)} = {label}" for label, _v in options],
                    style={"description_width": label_width, "button_width": "auto"},
                    # a row, as a slider's: label | buttons (ipywidgets stacks them)
                    layout=widgets.Layout(**layout, display="flex", align_items="center"),
                )
            else:
                controls[name] = widgets.SelectionSlider(
                    **common,
                    continuous_update=False,
                    style={"description_width": label_width},
                    layout=widgets.Layout(**layout),
                )

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

    def setting_text(self, params: dict[str, Any]) -> str:
        """``"Shown for learning rate = 0.1, steps = 5."``: the line a printed page keeps."""
        full = {**self.defaults(), **params}
        words = ", ".join(
            f"{_(s.label)} = {_value_label(s, full[n], _)}" for n, s in self.sliders.items()
        )
        return _("Shown for {settings}.").format(settings=words)

    def static_html(self, all_frames: bool = True) -> str:
        """The self-contained HTML block: controls, precomputed frames, inline script.

        With ``all_frames=False`` only the default frame is rendered, with no controls and a
        note that moving them needs a kernel (the cheap fallback for a live notebook).
        """
        uid = self.uid()
        names = list(self.sliders)
        start = ",".join(str(self.sliders[n].default_index) for n in names)
        grid = self.grid() if all_frames else [(start, self.defaults())]
        frames = {key: self.frame(params, phone=all_frames) for key, params in grid}
        first = frames[start]
        attrs = (
            f'id="{uid}" data-start="{start}" data-frames="{"all" if all_frames else "partial"}"'
        )
        if self.source:
            attrs += f' data-explorer="{html.escape(self.source)}"'
            attrs += f' data-explorer-kwargs="{html.escape(json.dumps(self.source_kwargs))}"'
        width, height = self.css_size()
        # The description under the image says what it shows (and is announced when it
        # changes); the image itself is marked decorative, so it is not read twice.
        image = (
            f'<img class="bpkit-frame" src="{first["src"]}" alt="" width="{width}" '
            f'height="{height}" data-digest="{first["digest"]}" data-key="{start}">'
        )
        if "phone" in first:  # a phone is shown the phone frames, and loads only those
            from bpcourse.plotting import PHONE_MEDIA

            pw, ph = self.phone_size()
            image = (
                f'<picture class="bpkit-phone"><source media="{PHONE_MEDIA}" '
                f'srcset="{first["phone"]}" width="{pw}" height="{ph}">{image}</picture>'
            )
        elif all_frames:  # no phone layout: the desktop frame, scrolling in its own box
            from bpcourse.plotting import PHONE_SCROLL_CLASS

            image = f'<div class="{PHONE_SCROLL_CLASS}">{image}</div>'
        image += (
            f'<p class="bpkit-describe" aria-live="polite">{html.escape(first["alt"])}</p>'
            f'<p class="bpkit-setting">'
            f"{html.escape(localized(lambda: self.setting_text(self.defaults())))}</p>"
        )
        caption = f"<figcaption>{html.escape(tr(self.title))}</figcaption>"
        if not all_frames:
            return (
                f'<figure class="bpkit-explorer tex2jax_ignore" {attrs}>'
                f"<style>{_style()}</style>{caption}{image}"
                f'<p class="bpkit-note"><em>'
                f"{html.escape(tr('Run this notebook in Jupyter to move the controls.'))}"
                "</em></p></figure>"
            )
        controls = [self._control_html(uid, k, n) for k, n in enumerate(names)]
        payload = json.dumps(frames, separators=(",", ":")).replace("</", "<\\/")
        attrs += f' data-setting-text="{html.escape(tr("Shown for {settings}."))}"'
        return (
            f'<figure class="bpkit-explorer tex2jax_ignore" {attrs}><style>{_style()}</style>'
            f'{caption}<div class="bpkit-controls">{"".join(controls)}</div>{image}'
            f'<script type="application/json" class="bpkit-frames">{payload}</script>'
            f"<script>{_script(uid)}</script></figure>"
        )

    def _control_html(self, uid: str, k: int, name: str) -> str:
        s = self.sliders[name]
        labels = [_value_label(s, v, lambda m: localized(lambda: _(m))) for v in s.values]
        i0 = s.default_index
        label = tr(s.label)
        data = (
            f'data-name="{html.escape(name)}" data-label="{html.escape(label)}" '
            f'data-labels="{html.escape(json.dumps(labels))}" '
            f'data-values="{html.escape(json.dumps([_jsonable(v) for v in s.values]))}"'
        )
        cid = f"{uid}-{k}"
        if s.is_choice:
            options = "".join(
                f'<label><input type="radio" name="{cid}" value="{i}"'
                f"{' checked' if i == i0 else ''}><span>{html.escape(label)}</span></label>"
                for i, label in enumerate(labels)
            )
            return (
                f'<fieldset class="bpkit-control bpkit-choice" id="{cid}" {data}>'
                f"<legend>{html.escape(label)}</legend>"
                f'<div class="bpkit-options">{options}</div></fieldset>'
            )
        return (
            f'<div class="bpkit-control bpkit-range" {data}>'
            f'<label for="{cid}">{html.escape(label)}</label>'
            f'<input type="range" id="{cid}" name="{html.escape(name)}" min="0" '
            f'max="{len(s.values) - 1}" step="1" value="{i0}" '
            f'aria-valuetext="{html.escape(labels[i0])}">'
            f'<output for="{cid}" id="{cid}-out">{html.escape(labels[i0])}</output></div>'
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


def _value_label(s: Slider, v: Any, translate: Callable[[str], str]) -> str:
    """A slider value as the reader sees it: numbers as formatted, names translated."""
    return s.fmt(v) if _is_number(v) else translate(s.fmt(v))


def _plotting():
    import bpcourse.plotting

    return bpcourse.plotting


def _data_url(fig: Any) -> str:
    """A frame as a ``data:`` URL: the SVG, or a palette PNG at 2x when the SVG is heavy."""
    plotting = _plotting()
    svg = fig.svg()
    if len(svg) <= plotting.SVG_MAX_BYTES:
        return "data:image/svg+xml;base64," + base64.b64encode(svg).decode("ascii")
    return "data:image/png;base64," + base64.b64encode(fig.png()).decode("ascii")


# The explorer's own look, inside its block so that it also holds outside the book.
# Colours come from the page (currentColor, the theme's variables with fallbacks), so the
# block reads in light and dark mode; focus stays visible on every control (WCAG 2.4.7).
_STYLE = (
    ".bpkit-explorer{margin:1em 0}"
    ".bpkit-explorer figcaption{font-weight:600;margin-bottom:.4em}"
    ".bpkit-explorer .bpkit-controls{display:grid;gap:.35em 0;max-width:46em;margin-bottom:.5em}"
    # label | control | value in fixed columns, so that the controls of one explorer line up
    ".bpkit-explorer .bpkit-control{display:grid;align-items:center;gap:.2em .8em;"
    "grid-template-columns:minmax(7em,15em) minmax(8em,1fr) 4.5em;margin:0;padding:0;border:0;"
    "min-width:0}"
    ".bpkit-explorer .bpkit-choice{grid-template-columns:minmax(7em,15em) minmax(8em,1fr)}"
    ".bpkit-explorer legend{float:left;padding:0;margin:0;font-size:inherit}"
    ".bpkit-explorer input[type=range]{width:100%;min-height:32px;margin:0;"
    "accent-color:var(--pst-color-primary,#0072B2)}"
    ".bpkit-explorer output{font-variant-numeric:tabular-nums}"
    ".bpkit-explorer .bpkit-options{display:flex;flex-wrap:wrap;gap:.3em}"
    ".bpkit-explorer .bpkit-options label{position:relative;display:inline-flex}"
    ".bpkit-explorer .bpkit-options input{position:absolute;opacity:0;inset:0;margin:0;"
    "width:100%;height:100%;cursor:pointer}"
    ".bpkit-explorer .bpkit-options span{display:inline-flex;align-items:center;min-height:36px;"
    "padding:0 .8em;border:1px solid currentColor;border-radius:.4em}"
    ".bpkit-explorer .bpkit-options input:checked+span{background:var(--pst-color-primary,#0072B2);"
    "border-color:var(--pst-color-primary,#0072B2);color:var(--pst-color-primary-text,#fff);"
    "font-weight:600}"
    ".bpkit-explorer input[type=range]:focus-visible,"
    ".bpkit-explorer .bpkit-options input:focus-visible+span"
    "{outline:3px solid var(--pst-color-accent,#0072B2);outline-offset:2px}"
    ".bpkit-explorer img.bpkit-frame{display:block;max-width:100%;height:auto;"
    "background:#fff;border-radius:.25em}"
    ".bpkit-explorer .bpkit-describe{margin:.4em 0 0}"
    ".bpkit-explorer .bpkit-setting{display:none}"
    # A phone: the label on its own row, the control the whole width, 44 px to touch.
    "@media (max-width:600px){.bpkit-explorer .bpkit-control,.bpkit-explorer .bpkit-choice"
    "{grid-template-columns:1fr 4.5em}"
    ".bpkit-explorer .bpkit-control label[for],.bpkit-explorer legend{grid-column:1/-1}"
    ".bpkit-explorer .bpkit-choice .bpkit-options{grid-column:1/-1}"
    ".bpkit-explorer input[type=range]{min-height:44px}"
    ".bpkit-explorer .bpkit-options span{min-height:44px;min-width:44px;justify-content:center}"
    # its phone frame fills the column (drawn for the narrowest phone, stretched a little)
    ".bpkit-explorer picture.bpkit-phone img.bpkit-frame{width:100%;max-width:__STRETCH__px}}"
    # On paper: no dead controls; the frame and a line naming its setting.
    "@media print{.bpkit-explorer .bpkit-controls,.bpkit-explorer .bpkit-note{display:none}"
    ".bpkit-explorer .bpkit-setting{display:block;font-style:italic;margin:.2em 0 0}"
    ".bpkit-explorer{break-inside:avoid}}"
)


def _style() -> str:
    plotting = _plotting()
    stretch = round(plotting.PHONE_WIDTH_PX * plotting.PHONE_MAX_STRETCH)
    return _STYLE.replace("__STRETCH__", str(stretch))


# The whole client side: read the controls of this explorer (the figure holding the
# script), show the frame of their setting, and fetch the frames one step away so the
# next move is instant. No network beyond the book's own files.
_SCRIPT = """(function(){var me=document.currentScript;
var root=(me&&me.closest('figure.bpkit-explorer'))||document.getElementById('__UID__');if(!root)return;
var frames=JSON.parse(root.querySelector('script.bpkit-frames').textContent);
var controls=[].slice.call(root.querySelectorAll('.bpkit-control'));
var img=root.querySelector('img.bpkit-frame');var text=root.querySelector('.bpkit-describe');
var source=root.querySelector('picture source');
var narrow=window.matchMedia?window.matchMedia('__MEDIA__'):{matches:false};
var setting=root.querySelector('.bpkit-setting');var warm={};
function at(c){var r=c.querySelector('input[type=range]');if(r)return +r.value;
var x=c.querySelector('input:checked');return x?+x.value:0;}
function key(idx){return idx.join(',');}
function url(f){return source&&f.phone&&narrow.matches?f.phone:f.src;}
function prefetch(idx){controls.forEach(function(c,k){var n=JSON.parse(c.dataset.labels).length;
[-1,1].forEach(function(d){var j=idx.slice();j[k]+=d;if(j[k]<0||j[k]>=n)return;var f=frames[key(j)];
if(f&&!warm[url(f)]){warm[url(f)]=1;new Image().src=url(f);}});});}
function show(){var idx=controls.map(at),words=[];
controls.forEach(function(c,k){var labels=JSON.parse(c.dataset.labels),l=labels[idx[k]];
words.push(c.dataset.label+' = '+l);var r=c.querySelector('input[type=range]');
if(r){r.setAttribute('aria-valuetext',l);c.querySelector('output').textContent=l;}});
var f=frames[key(idx)];if(!f)return;if(source&&f.phone)source.srcset=f.phone;img.src=f.src;
img.dataset.digest=f.digest;
img.dataset.key=key(idx);text.textContent=f.alt;setting.textContent=root.dataset.settingText.replace('{settings}',words.join(', '));
prefetch(idx);}
root.addEventListener('input',show);root.addEventListener('change',show);
root.addEventListener('focusin',function(){prefetch(controls.map(at));},{once:true});
root.addEventListener('pointerenter',function(){prefetch(controls.map(at));},{once:true});
})();"""


def _script(uid: str) -> str:
    from bpcourse.plotting import PHONE_MEDIA

    return _SCRIPT.replace("__UID__", uid).replace("__MEDIA__", PHONE_MEDIA)

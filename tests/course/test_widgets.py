"""The pure parts of bpcourse.widgets: sliders, digests, frames, the static HTML block, the
live widget, and the book-build extension that decides how many frames to precompute."""

from __future__ import annotations

import base64
import io
import json
from html.parser import HTMLParser

import numpy as np
import pytest

from bpcourse.widgets import (
    FRAMES_ENV,
    MAX_FRAMES,
    Explorer,
    Slider,
    digest,
)

CALLS: list[dict] = []


def compute(a: float, name: str) -> dict:
    CALLS.append({"a": a, "name": name})
    x = np.linspace(-1.0, 1.0, 21)
    return {"x": x, "y": a * x**2, "name": name}


def render(fig, data, params) -> None:
    ax = fig.add_subplot()
    ax.plot(data["x"], data["y"])
    ax.set(title=f"{params['name']}", xlabel="x", ylabel="y", ylim=(-0.1, 2.1))


def describe(data, params) -> str:
    return f"The curve {params['a']:g} x squared, named {params['name']}; its top is {data['y'].max():.2f}."


def small_explorer(kind: str = "up") -> Explorer:
    """A module-level factory: its explorer can be rebuilt as ``test_widgets:small_explorer``."""
    return Explorer(
        compute,
        render,
        {
            "a": Slider([0.5, 1.0, 2.0, 3.0], "curvature a", default=1.0),
            "name": Slider(["left", "right"], "which side"),
        },
        describe,
        f"A small explorer ({kind})",
        figsize=(3.0, 2.0),
    )


def array_explorer(points: np.ndarray) -> Explorer:
    return Explorer(compute, render, {"a": Slider([1.0], "a")}, describe, "t")


class Collect(HTMLParser):
    """Every start tag with its attributes, and the text of <script> and <label> elements."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict]] = []
        self.texts: dict[str, list[str]] = {
            k: [] for k in ("script", "label", "legend", "span", "p")
        }
        self._open: str | None = None

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        if tag in self.texts:
            self._open = tag
            self.texts[tag].append("")

    def handle_endtag(self, tag):
        self._open = None

    def handle_data(self, data):
        if self._open:
            self.texts[self._open][-1] += data

    def find(self, tag: str, **attrs) -> list[dict]:
        return [
            a for t, a in self.tags if t == tag and all(a.get(k) == v for k, v in attrs.items())
        ]


def parse(html: str) -> Collect:
    p = Collect()
    p.feed(html)
    return p


# ------------------------------------------------------------------ Slider
def test_slider_rejects_empty_values_and_a_default_outside_them() -> None:
    with pytest.raises(ValueError, match="'lr' needs at least one value"):
        Slider([], "lr")
    with pytest.raises(ValueError, match=r"default 0\.3 is not in its values"):
        Slider([0.1, 0.2], "lr", default=0.3)


def test_slider_refuses_a_label_jupyterlab_would_cut_off() -> None:
    """The labels share one width of at most 22em; a longer label ends in an ellipsis."""
    from bpcourse.widgets import MAX_LABEL, Slider

    Slider([0.1, 0.2], "x" * MAX_LABEL)
    with pytest.raises(ValueError, match=f"has {MAX_LABEL + 1} characters"):
        Slider([0.1, 0.2], "x" * (MAX_LABEL + 1))


def test_slider_grids_refuse_what_they_cannot_build_in_words() -> None:
    with pytest.raises(ValueError, match="'lr': lo must be a finite number, got nan"):
        Slider.logspace(float("nan"), 1.0, 5, "lr")
    with pytest.raises(ValueError, match="'lr': hi must be a finite number, got inf"):
        Slider.linspace(0.0, float("inf"), 5, "lr")
    with pytest.raises(ValueError, match="log-spaced grid needs positive numbers; lo is 0.0"):
        Slider.logspace(0.0, 1.0, 5, "lr")
    with pytest.raises(ValueError, match="'lr': default must be a finite number, got nan"):
        Slider.logspace(0.01, 1.0, 5, "lr", default=float("nan"))
    with pytest.raises(ValueError, match="n must be a positive whole number, got 0"):
        Slider.linspace(0.0, 1.0, 0, "lr")
    with pytest.raises(ValueError, match="finite number or a name; got nan"):
        Slider([0.1, float("nan")], "lr")
    with pytest.raises(ValueError, match="kind must be 'range', 'choice' or None"):
        Slider([1, 2], "n", kind="dial")
    with pytest.raises(ValueError, match="a range needs numbers"):
        Slider(["a", "b"], "n", kind="range")


def test_names_and_few_values_are_choices_more_numbers_a_range() -> None:
    assert Slider(["relu", "tanh", "sigmoid", "linear"], "activation").is_choice
    assert Slider([0.0, 1.0], "target y").is_choice
    assert Slider([1, 5, 20], "steps").is_choice
    assert not Slider([1, 2, 3, 4], "depth").is_choice
    assert not Slider([1, 5, 20], "steps", kind="range").is_choice
    assert Slider([1, 2, 3, 4], "depth", kind="choice").is_choice


def test_slider_default_index_and_grids() -> None:
    assert Slider([1, 3, 10], "steps", default=10).default_index == 2
    assert Slider(["a", "b"], "name").default_index == 0
    lin = Slider.linspace(0.05, 0.6, 12, "lr", default=0.1)
    np.testing.assert_allclose(lin.values, np.linspace(0.05, 0.6, 12))
    np.testing.assert_allclose(lin.default, 0.1)
    log = Slider.logspace(0.01, 3.0, 11, "lr", default=0.1)
    np.testing.assert_allclose(log.values[0], 0.01)
    np.testing.assert_allclose(log.values[-1], 3.0)
    assert log.default == min(log.values, key=lambda v: abs(v - 0.1))


# ------------------------------------------------------------------ digest
def test_digest_is_stable_and_tells_data_apart() -> None:
    data = {"x": np.linspace(0, 1, 5), "n": 3, "label": "a"}
    same = {"label": "a", "n": 3, "x": np.linspace(0, 1, 5).copy()}
    assert digest(data) == digest(same)  # key order and array identity do not matter
    assert len(digest(data)) == 16
    assert digest({**data, "x": data["x"] + 1e-6}) != digest(data)
    assert digest({**data, "n": 4}) != digest(data)
    # Rounding noise far below the 8 significant digits shown does not change it.
    assert digest({**data, "x": data["x"] * (1 + 1e-13)}) == digest(data)


# ------------------------------------------------------------------ Explorer checks
def test_too_many_frames_is_refused_with_the_count() -> None:
    n = int(np.ceil(np.sqrt(MAX_FRAMES + 1)))
    sliders = {"a": Slider(list(range(n)), "a"), "b": Slider(list(range(n)), "b")}
    with pytest.raises(ValueError, match=rf"{n * n} slider combinations .*at most {MAX_FRAMES}"):
        Explorer(compute, render, sliders, describe, "too big")


def test_bad_source_and_bad_sliders_are_named() -> None:
    with pytest.raises(ValueError, match="package.module:function"):
        Explorer(compute, render, {"a": Slider([1.0], "a")}, describe, "t", source="nocolon")
    with pytest.raises(TypeError, match=r"\['a'\] must be bpcourse.widgets.Slider"):
        Explorer(compute, render, {"a": [1.0, 2.0]}, describe, "t")
    with pytest.raises(ValueError, match=r"unknown slider\(s\) \['b'\]; have \['a', 'name'\]"):
        small_explorer().compute(b=1)


def test_source_is_detected_from_a_module_level_factory() -> None:
    assert small_explorer().source == f"{__name__}:small_explorer"
    assert small_explorer().source_kwargs == {}
    assert small_explorer(kind="down").source_kwargs == {"kind": "down"}
    # Arguments that JSON cannot carry: no source rather than a wrong one.
    assert array_explorer(np.zeros(3)).source is None
    # Built at a notebook's top level: nothing importable to name.
    ns = {"__name__": "__main__", "Explorer": Explorer, "Slider": Slider}
    ns.update(compute=compute, render=render, describe=describe)
    exec("e = Explorer(compute, render, {'a': Slider([1.0], 'a')}, describe, 't')", ns)
    assert ns["e"].source is None
    explicit = Explorer(compute, render, {"a": Slider([1.0], "a")}, describe, "t", source="m:f")
    assert explicit.source == "m:f"


# ------------------------------------------------------------------ frames and HTML
def test_frame_is_a_vector_figure_at_the_book_scale_with_alt_text_and_digest() -> None:
    ex = small_explorer()
    params = {"a": 2.0, "name": "right"}
    f = ex.frame(params)
    assert f["src"].startswith("data:image/svg+xml;base64,")
    svg = base64.b64decode(f["src"].split(",", 1)[1]).decode()
    # figsize (3, 2) at 105 CSS px per inch
    assert '<svg xmlns:xlink="http://www.w3.org/1999/xlink" width="315px" height="210px"' in svg
    assert svg.count("<path") > 5  # a drawing, not a blank image
    assert ex.css_size() == (315, 210)
    assert f["alt"] == describe(ex.compute(**params), params)
    assert f["digest"] == digest(ex.compute(**params))
    assert ex.frame(params) == f  # deterministic: the browser test compares files byte for byte
    assert ex.frame({"a": 0.5})["digest"] != f["digest"]


def test_a_heavy_frame_is_a_2x_palette_png(monkeypatch) -> None:
    from PIL import Image

    import bpcourse.plotting as plotting

    monkeypatch.setattr(plotting, "SVG_MAX_BYTES", 100)
    src = small_explorer().frame({"a": 2.0})["src"]
    assert src.startswith("data:image/png;base64,")
    with Image.open(io.BytesIO(base64.b64decode(src.split(",", 1)[1]))) as im:
        assert im.size == (630, 420)  # twice the CSS size
        assert im.mode == "P" and len(im.getcolors(256) or []) > 2


def test_a_book_figure_shows_its_own_bundle_after_matplotlibs_inline_backend(monkeypatch) -> None:
    """matplotlib's inline backend (imported by ipywidgets' interact) registers a PNG printer
    for every Figure, which IPython ranks above ``_repr_mimebundle_``: chapter 6's contour
    map reached the book as matplotlib's PNG, without the size note the browser test reads."""
    from IPython.core.interactiveshell import InteractiveShell
    from IPython.core.pylabtools import print_figure
    from matplotlib.figure import Figure

    import bpcourse.plotting as plotting

    shell = InteractiveShell.instance()
    png = shell.display_formatter.formatters["image/png"]
    png.for_type(Figure, lambda fig: print_figure(fig, "png"))  # what the inline backend does
    try:
        fig = plotting.new_figure(3, 2)
        fig.add_subplot().plot([0, 1], [1, 0])
        data, _ = shell.display_formatter.format(fig)
        assert "image/svg+xml" in data and "image/png" not in data
        monkeypatch.setattr(plotting, "SVG_MAX_BYTES", 100)  # a heavy figure: its PNG
        data, md = shell.display_formatter.format(fig)
        assert b"bpkit min-font-pt=" in base64.b64decode(data["image/png"])
        assert md["image/png"] == {"width": 315, "height": 210}
    finally:
        png.pop(Figure, None)
        png.pop(plotting.BookFigure, None)
        InteractiveShell.clear_instance()


def test_static_html_has_labelled_controls_and_every_frame() -> None:
    ex = small_explorer(kind="down")
    page = parse(ex.static_html())
    (fig,) = page.find("figure")
    assert fig["id"] == ex.uid() and fig["data-frames"] == "all"
    assert fig["data-explorer"] == f"{__name__}:small_explorer"
    assert json.loads(fig["data-explorer-kwargs"]) == {"kind": "down"}
    # numbers: a slider with its label, value and spoken value
    (rng,) = page.find("input", type="range")
    (control,) = [a for t, a in page.tags if "bpkit-range" in a.get("class", "")]
    s = ex.sliders["a"]
    assert rng["name"] == "a" and control["data-name"] == "a"
    assert page.find("label", **{"for": rng["id"]})
    assert json.loads(control["data-values"]) == list(s.values)
    assert json.loads(control["data-labels"]) == [s.fmt(v) for v in s.values]
    assert rng["value"] == str(s.default_index) and rng["max"] == str(len(s.values) - 1)
    assert rng["aria-valuetext"] == s.fmt(s.values[s.default_index])
    # names: one radio button each, in a fieldset whose legend is the label
    radios = page.find("input", type="radio")
    assert [r["value"] for r in radios] == ["0", "1"]
    assert len({r["name"] for r in radios}) == 1 and "checked" in radios[0]
    assert page.texts["legend"] == ["which side"]
    assert page.texts["span"] == ["left", "right"]
    assert page.texts["label"][0] == "curvature a"
    frames = json.loads(page.texts["script"][0])
    assert sorted(frames) == sorted(k for k, _ in ex.grid())
    assert len(frames) == ex.n_frames() == 8
    for key, params in ex.grid():
        assert frames[key]["digest"] == digest(ex.compute(**params))
    (img,) = page.find("img")
    start = fig["data-start"]
    assert start == "1,0"
    assert (img["src"], img["data-digest"]) == (frames[start]["src"], frames[start]["digest"])
    # the description says what the frame shows, once: the image itself is decorative
    assert img["alt"] == "" and (img["width"], img["height"]) == ("315", "210")
    assert page.texts["p"][0] == frames[start]["alt"]
    assert page.texts["p"][1] == "Shown for curvature a = 1, which side = left."
    html = ex.static_html()
    assert "http" not in html.replace("http://www.w3.org", "").replace(
        "http://purl.org", ""
    ).replace("http://creativecommons.org", "")  # nothing remote
    assert "</script" not in page.texts["script"][0]


def test_partial_html_shows_the_default_frame_without_dead_sliders() -> None:
    ex = small_explorer()
    page = parse(ex.static_html(all_frames=False))
    (fig,) = page.find("figure")
    assert fig["data-frames"] == "partial"
    assert page.find("input") == []
    (img,) = page.find("img")
    assert img["data-digest"] == digest(ex.compute(**ex.defaults()))
    assert "Run this notebook in Jupyter" in ex.static_html(all_frames=False)
    assert "Shown for curvature a = 1, which side = left." in ex.static_html(all_frames=False)


def test_mimebundle_is_live_widget_and_frames_only_for_the_book(monkeypatch) -> None:
    ex = small_explorer()
    monkeypatch.delenv(FRAMES_ENV, raising=False)
    CALLS.clear()
    bundle = ex._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in bundle
    assert 'data-frames="partial"' in bundle["text/html"]
    assert len(CALLS) == 2  # the live widget's first draw and the fallback's one frame
    monkeypatch.setenv(FRAMES_ENV, "all")
    CALLS.clear()
    bundle = ex._repr_mimebundle_()
    assert 'data-frames="all"' in bundle["text/html"]
    assert len(CALLS) == 1 + ex.n_frames()


def test_widget_controls_recompute_and_line_up() -> None:
    ex = small_explorer()
    w = ex.widget()
    sliders = {c.description: c for c in w.children[:2]}
    assert type(sliders["curvature a"]).__name__ == "SelectionSlider"
    assert type(sliders["which side"]).__name__ == "ToggleButtons"  # names: buttons
    widths = {c.style.description_width for c in w.children[:2]}
    assert len(widths) == 1 and float(widths.pop().rstrip("em")) >= 0.5 * len("curvature a")
    assert digest(w.result) == digest(ex.compute())
    sliders["curvature a"].value = 2.0
    assert digest(w.result) == digest(ex.compute(a=2.0))
    sliders["which side"].value = "right"
    assert digest(w.result) == digest(ex.compute(a=2.0, name="right"))
    assert ex.last is not None and ex.last[0] == {"a": 2.0, "name": "right"}
    np.testing.assert_allclose(w.result["y"].max(), 2.0)


def test_log_yticks_puts_plain_labels_at_decades_and_drops_minor_ticks() -> None:
    """Explorer log axes draw a few plain-text decade labels and no minor ticks (each
    minor tick and mathtext label is a cost paid on every slider move)."""
    from bpcourse.plotting import add_axes, log_yticks, new_figure

    fig = new_figure(4, 3)
    ax = add_axes(fig, 1, 1, 1)
    ax.semilogy([1, 2, 3], [1e-3, 1.0, 1e4])
    log_yticks(ax, range(-4, 5, 4))
    fig.canvas.draw()
    np.testing.assert_allclose(ax.get_yticks(), [1e-4, 1.0, 1e4])
    assert [t.get_text() for t in ax.get_yticklabels()] == ["1e-4", "1", "1e4"]
    assert len(ax.yaxis.get_minorticklocs()) == 0


# ------------------------------------------------------------------ the phone variant
def _svg_size_and_note(data_url: str) -> tuple[tuple[int, int], float]:
    """An SVG data URL's size in CSS px and the smallest font its size note states (pt)."""
    import re

    svg = base64.b64decode(data_url.split(",", 1)[1]).decode()
    size = re.search(r'<svg[^>]* width="(\d+)px" height="(\d+)px"', svg)
    note = re.search(r"bpkit min-font-pt=([\d.]+)", svg)
    return (int(size.group(1)), int(size.group(2))), float(note.group(1))


def _row_of_panels():
    from bpcourse.plotting import add_axes, new_figure

    fig = new_figure(7.0, 2.6)
    for k in range(3):
        ax = add_axes(fig, 1, 3, k + 1)
        ax.plot([0, 1, 2], [0, k, 2 * k], label=f"run {k}")
        ax.set(title=f"panel {k}: a title that needs two lines on a phone", xlabel="step")
    fig.axes[0].legend()
    return fig


def test_phone_variant_stacks_a_row_of_panels_and_reads_at_12_px() -> None:
    from bpcourse.plotting import (
        CSS_PX_PER_INCH,
        PHONE_SMALL_PRINT_PX,
        PHONE_WIDTH_PX,
        SMALL_PRINT_PX,
    )

    fig = _row_of_panels()
    desktop_pt = fig.smallest_font_pt()
    phone = fig.phone()
    assert phone.is_phone() and not fig.is_phone()
    assert fig.css_size() == (735, 273)  # the desktop figure is left as it was
    assert fig.smallest_font_pt() == desktop_pt
    assert desktop_pt / 72 * CSS_PX_PER_INCH >= SMALL_PRINT_PX - 0.01
    assert phone.css_size()[0] == PHONE_WIDTH_PX
    assert phone.smallest_font_pt() / 72 * CSS_PX_PER_INCH >= PHONE_SMALL_PRINT_PX - 0.01
    # a row of three becomes a column of three, in reading order, each the column's width
    phone.draw_without_rendering()
    boxes = [ax.get_position() for ax in phone.axes]
    assert all(abs(b.x0 - boxes[0].x0) < 0.05 and b.width > 0.6 for b in boxes), boxes
    assert boxes[0].y0 > boxes[1].y1 - 0.01 and boxes[1].y0 > boxes[2].y1 - 0.01, boxes
    # a title too wide for the phone's column is wrapped, not cut or shrunk
    assert "\n" in phone.axes[0].get_title() and "\n" not in fig.axes[0].get_title()
    assert [t.get_text() for t in phone.axes[0].get_legend().get_texts()] == ["run 0"]


def test_a_figure_whose_texts_leave_no_room_on_a_phone_has_no_phone_variant() -> None:
    """Long tick labels beside a bar chart collapse its axes at the phone's width: no
    variant (the page scrolls the desktop drawing), and no warning in the notebook."""
    import warnings

    from bpcourse.plotting import add_axes, new_figure

    fig = new_figure(6.4, 3.2)
    ax = add_axes(fig, 1, 1, 1)
    names = [f"a very long description of way number {k} to predict" for k in range(5)]
    ax.barh(range(5), [0.9, 0.8, 0.5, 0.85, 0.95])
    ax.set_yticks(range(5), names)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert fig.phone() is None


def test_figure_carries_its_phone_variant_only_in_the_book_build(monkeypatch) -> None:
    from bpcourse.plotting import (
        BOOK_BUILD_ENV,
        PHONE_MEDIA,
        PHONE_MIN_FONT_PT,
        PHONE_SOURCE_CLASS,
        PHONE_WIDTH_PX,
    )

    fig = _row_of_panels()
    monkeypatch.delenv(BOOK_BUILD_ENV, raising=False)
    bundle, _ = fig._repr_mimebundle_()
    assert list(bundle) == ["image/svg+xml"]  # JupyterLab and nbval: the figure alone
    monkeypatch.setenv(BOOK_BUILD_ENV, "all")
    bundle, _ = fig._repr_mimebundle_()
    assert bundle["image/svg+xml"] == fig.svg().decode()  # the desktop figure unchanged
    (source,) = parse(bundle["text/html"]).find("source")
    assert source["class"] == PHONE_SOURCE_CLASS and source["media"] == PHONE_MEDIA
    assert PHONE_MEDIA.startswith("screen and")  # paper and the PDF keep the desktop figure
    (w, h), min_pt = _svg_size_and_note(source["srcset"])
    assert (str(w), str(h)) == (source["width"], source["height"]) and w == PHONE_WIDTH_PX
    assert h > 2 * fig.css_size()[1]  # three panels one below the other
    assert min_pt >= PHONE_MIN_FONT_PT - 0.01


def test_explorer_phone_frames_share_one_layout_and_show_only_on_phones() -> None:
    from bpcourse.plotting import PHONE_MEDIA, PHONE_MIN_FONT_PT, PHONE_WIDTH_PX

    ex = small_explorer()
    page = parse(ex.static_html())
    (source,) = page.find("source")
    assert source["media"] == PHONE_MEDIA
    assert [t for t, _ in page.tags].index("source") < [t for t, _ in page.tags].index("img")
    frames = json.loads(page.texts["script"][0])
    sizes = set()
    for frame in frames.values():
        size, min_pt = _svg_size_and_note(frame["phone"])
        sizes.add(size)
        assert min_pt >= PHONE_MIN_FONT_PT - 0.01
        assert frame["phone"] != frame["src"]
    assert sizes == {(PHONE_WIDTH_PX, int(source["height"]))}  # one layout: frames do not jump
    start = page.find("figure")[0]["data-start"]
    assert source["srcset"] == frames[start]["phone"]
    # the live widget's fallback (no book build) draws no phone frames
    assert "<source" not in ex.static_html(all_frames=False)


def _labels_in_a_row(fig, data=None, params=None) -> None:
    """A diagram: six labels placed in data coordinates across the figure."""
    ax = fig.add_subplot()
    for k in range(6):
        ax.text(k, 0, f"value {k}.25", ha="center", va="center")
    ax.set(xlim=(-0.5, 5.5), ylim=(-1, 1), title="A row of nodes")
    ax.axis("off")


def test_a_diagram_whose_labels_would_collide_has_no_phone_variant(monkeypatch) -> None:
    from bpcourse.plotting import (
        BOOK_BUILD_ENV,
        PHONE_SCROLL_CLASS,
        PHONE_SCROLL_MARKER,
        new_figure,
        text_collisions,
    )

    fig = new_figure(7.0, 1.5)
    _labels_in_a_row(fig)
    assert text_collisions(fig) == 0
    assert fig.phone() is None  # its labels grow, its boxes shrink: they would collide
    monkeypatch.setenv(BOOK_BUILD_ENV, "all")
    bundle, _ = fig._repr_mimebundle_()
    assert bundle["text/html"] == PHONE_SCROLL_MARKER and PHONE_SCROLL_CLASS in bundle["text/html"]
    ex = Explorer(
        lambda a: {"a": a},
        _labels_in_a_row,
        {"a": Slider([1.0, 2.0], "a")},
        lambda data, params: "Six labels.",
        "t",
        figsize=(7.0, 1.5),
    )
    assert not ex.phone_fits()
    assert all(
        "phone" not in f for f in json.loads(parse(ex.static_html()).texts["script"][0]).values()
    )
    page = parse(ex.static_html())
    assert page.find("source") == [] and page.find("div", **{"class": PHONE_SCROLL_CLASS})

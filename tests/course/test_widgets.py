"""The pure parts of bpcourse.widgets: sliders, digests, frames, the static HTML block, the
live widget, and the book-build extension that decides how many frames to precompute."""

from __future__ import annotations

import base64
import io
import json
import sys
from html.parser import HTMLParser

import bpkit_book as _book
import numpy as np
import pytest
from docutils import nodes
from docutils.frontend import get_default_settings
from docutils.parsers.rst import Parser
from docutils.utils import new_document

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
            "a": Slider([0.5, 1.0, 2.0], "curvature a", default=1.0),
            "name": Slider(["left", "right"], "which side"),
        },
        describe,
        f"A small explorer ({kind})",
        figsize=(3.0, 2.0),
        dpi=50,
    )


def array_explorer(points: np.ndarray) -> Explorer:
    return Explorer(compute, render, {"a": Slider([1.0], "a")}, describe, "t")


class Collect(HTMLParser):
    """Every start tag with its attributes, and the text of <script> and <label> elements."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict]] = []
        self.texts: dict[str, list[str]] = {"script": [], "label": []}
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
def test_frame_is_a_png_of_the_figure_with_alt_text_and_digest() -> None:
    from PIL import Image

    ex = small_explorer()
    params = {"a": 2.0, "name": "right"}
    f = ex.frame(params)
    assert f["src"].startswith("data:image/png;base64,")
    with Image.open(io.BytesIO(base64.b64decode(f["src"].split(",", 1)[1]))) as im:
        assert im.size == (150, 100)  # figsize (3, 2) at dpi 50
        assert len(im.getcolors(256) or []) > 2  # a drawing, not a blank image
    assert f["alt"] == describe(ex.compute(**params), params)
    assert f["digest"] == digest(ex.compute(**params))
    assert ex.frame(params) == f  # deterministic: the browser test compares images byte for byte
    assert ex.frame({"a": 0.5})["digest"] != f["digest"]


def test_static_html_has_labelled_sliders_and_every_frame() -> None:
    ex = small_explorer(kind="down")
    page = parse(ex.static_html())
    (fig,) = page.find("figure")
    assert fig["id"] == ex.uid() and fig["data-frames"] == "all"
    assert fig["data-explorer"] == f"{__name__}:small_explorer"
    assert json.loads(fig["data-explorer-kwargs"]) == {"kind": "down"}
    inputs = page.find("input", type="range")
    assert [i["name"] for i in inputs] == ["a", "name"]
    for el, s in zip(inputs, ex.sliders.values(), strict=True):
        (label,) = page.find("label", **{"for": el["id"]})
        assert label is not None
        assert json.loads(el["data-values"]) == list(s.values)
        assert json.loads(el["data-labels"]) == [s.fmt(v) for v in s.values]
        assert el["value"] == str(s.default_index)
        assert el["aria-valuetext"] == s.fmt(s.values[s.default_index])
        assert el["max"] == str(len(s.values) - 1)
    assert page.texts["label"] == ["curvature a", "which side"]
    assert page.find("script", type="application/json", **{"class": "bpkit-frames"})
    frames = json.loads(page.texts["script"][0])
    assert sorted(frames) == sorted(k for k, _ in ex.grid())
    assert len(frames) == ex.n_frames() == 6
    for key, params in ex.grid():
        assert frames[key]["digest"] == digest(ex.compute(**params))
    (img,) = page.find("img")
    start = fig["data-start"]
    assert start == "1,0"
    assert (img["src"], img["alt"], img["data-digest"]) == (
        frames[start]["src"],
        frames[start]["alt"],
        frames[start]["digest"],
    )
    html = ex.static_html()
    assert "http" not in html.replace("http://www.w3.org", "")  # nothing remote
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


def test_widget_sliders_recompute() -> None:
    ex = small_explorer()
    w = ex.widget()
    sliders = {c.description: c for c in w.children[:2]}
    assert digest(w.result) == digest(ex.compute())
    sliders["curvature a"].value = 2.0
    assert digest(w.result) == digest(ex.compute(a=2.0))
    sliders["which side"].value = "right"
    assert digest(w.result) == digest(ex.compute(a=2.0, name="right"))
    assert ex.last is not None and ex.last[0] == {"a": 2.0, "name": "right"}
    np.testing.assert_allclose(w.result["y"].max(), 2.0)


# ------------------------------------------------------------------ the Sphinx extension
def _doctree(*raw_html: str) -> nodes.document:
    doc = new_document("<test>", get_default_settings(Parser))
    for text in raw_html:
        doc.append(nodes.raw(text=text, format="html"))
    return doc


def test_book_extension_drops_thebe_and_flags_partial_explorers(caplog) -> None:
    thebe = '<script type="text/x-thebe-config">{}</script>'
    full = small_explorer().static_html()
    doc = _doctree(thebe, full)
    _book._check_doctree(None, doc, "chapters/x")
    assert [n.astext() for n in doc.findall(nodes.raw)] == [full]
    assert not [r for r in caplog.records if "default frame" in r.getMessage()]
    _book._check_doctree(None, _doctree(small_explorer().static_html(all_frames=False)), "ch")
    messages = [r.getMessage() for r in caplog.records]
    assert any("only its default frame" in m and FRAMES_ENV in m for m in messages), messages


def test_book_extension_keeps_local_scripts_only() -> None:
    from sphinx.builders.html._assets import _JavaScript

    keep = _JavaScript("_static/doctools.js")
    thebe_conf = _JavaScript("", body='const THEBE_JS_URL = "https://unpkg.com/thebe"')
    state = _JavaScript("", type="application/vnd.jupyter.widget-state+json", body="{}")
    ctx = {"script_files": [keep, thebe_conf, _JavaScript("sphinx-thebe.js"), state]}
    _book._check_page(None, "p", "page.html", ctx, None)
    assert ctx["script_files"] == [keep]


def test_book_extension_makes_bibliography_entries_list_items() -> None:
    body = (
        '<div role="list" class="citation-list"><div class="citation" id="id1" '
        'role="doc-biblioentry"><p>Ba et al. 2016.</p></div></div>'
    )
    ctx = {"body": body}
    _book._check_page(None, "p", "page.html", ctx, None)
    assert ctx["body"] == body.replace('role="doc-biblioentry"', 'role="listitem"')


def test_book_extension_sets_the_frames_variable(monkeypatch) -> None:
    class App:
        def connect(self, *args, **kwargs):
            pass

    monkeypatch.setenv(FRAMES_ENV, "")  # restored after the test, whatever setup() does
    _book.setup(App())
    import os

    assert os.environ[FRAMES_ENV] == "all"
    assert sys.modules["bpcourse.widgets"].precompute_all_frames()


def test_book_extension_reexecutes_notebooks_when_bpkit_changed(tmp_path) -> None:
    from types import SimpleNamespace

    cache = tmp_path / ".jupyter_cache"
    cache.mkdir()
    (cache / "old-output").write_text("stale")
    env = SimpleNamespace(
        mystnb_config=SimpleNamespace(execution_cache_path=str(cache)),
        found_docs={"chapters/01_loss", "chapters/a2_faq"},
        doc2path=lambda d: tmp_path / (d + (".md" if "a2" in d else ".ipynb")),
    )
    app = SimpleNamespace(outdir=str(tmp_path / "html"))
    assert _book._outdated_when_bpkit_changed(app, env, set(), set(), set()) == ["chapters/01_loss"]
    assert not (cache / "old-output").exists()  # the stale outputs are gone
    _book._write_stamp(app, None)
    assert (tmp_path / ".bpkit-fingerprint").read_text() == _book.bpkit_fingerprint()
    assert _book._outdated_when_bpkit_changed(app, env, set(), set(), set()) == []


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

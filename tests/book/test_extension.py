"""The book's Sphinx extension (book/bpkit_book.py) and its helpers (book/pagetools.py,
book/icons.py), without building the book."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from types import SimpleNamespace

import bpkit_book as _book
import icons
import pagetools
import pytest
from docutils import nodes
from docutils.frontend import get_default_settings
from docutils.parsers.rst import Parser
from docutils.utils import new_document

from bpcourse.widgets import FRAMES_ENV, Explorer, Slider


def _explorer() -> Explorer:
    return Explorer(
        lambda a: {"a": a},
        lambda fig, data, params: fig.add_subplot().plot([0, 1], [0, data["a"]]),
        {"a": Slider([1.0, 2.0], "a")},
        lambda data, params: f"slope {params['a']:g}",
        "t",
        figsize=(2.0, 1.5),
    )


def _doctree(*raw_html: str) -> nodes.document:
    doc = new_document("<test>", get_default_settings(Parser))
    for text in raw_html:
        doc.append(nodes.raw(text=text, format="html"))
    return doc


def _app(tmp_path: Path) -> SimpleNamespace:
    return SimpleNamespace(outdir=str(tmp_path / "html"), srcdir=str(tmp_path / "src"))


def _context(body: str) -> dict:
    return {"body": body, "pathto": lambda name, resource=0: f"../{name}"}


# ------------------------------------------------------------------ doctree checks
def test_drops_thebe_and_flags_partial_explorers(caplog) -> None:
    thebe = '<script type="text/x-thebe-config">{}</script>'
    full = _explorer().static_html()
    doc = _doctree(thebe, full)
    _book._check_doctree(None, doc, "chapters/x")
    assert [n.astext() for n in doc.findall(nodes.raw)] == [full]
    assert not [r for r in caplog.records if "default frame" in r.getMessage()]
    _book._check_doctree(None, _doctree(_explorer().static_html(all_frames=False)), "ch")
    messages = [r.getMessage() for r in caplog.records]
    assert any("only its default frame" in m and FRAMES_ENV in m for m in messages), messages


def test_cleans_tracebacks_and_progress_bars_in_outputs(tmp_path) -> None:
    doc = new_document("<test>", get_default_settings(Parser))
    src = str(tmp_path / "src")
    tb = nodes.literal_block(
        "", f"File {src}/bpkit/losses.py:67, in mse\n", classes=["output", "traceback"]
    )
    bar = "training:  50%|#   | 1/2 [00:00]\ntraining: 100%|####| 2/2 [00:00]\ndone\n"
    stream = nodes.literal_block("", bar, classes=["output", "stream"])
    code = nodes.literal_block("", f"{src}/kept.py", classes=["cell_input"])
    doc += [tb, stream, code]
    _book._clean_outputs(_app(tmp_path), doc, "chapters/x")
    assert tb.astext() == "File bpkit/losses.py:67, in mse\n"
    assert stream.astext() == "training: 100%|####| 2/2 [00:00]\ndone\n"
    assert code.astext() == f"{src}/kept.py"  # the reader's own code is left as written


# ------------------------------------------------------------------ page context
def test_keeps_local_scripts_only(tmp_path) -> None:
    from sphinx.builders.html._assets import _JavaScript

    keep = _JavaScript("_static/doctools.js")
    thebe_conf = _JavaScript("", body='const THEBE_JS_URL = "https://unpkg.com/thebe"')
    state = _JavaScript("", type="application/vnd.jupyter.widget-state+json", body="{}")
    design = _JavaScript("_static/design-tabs.js")
    ctx = {"script_files": [keep, thebe_conf, _JavaScript("sphinx-thebe.js"), state, design]}
    _book._check_page(_app(tmp_path), "p", "page.html", ctx, None)
    assert ctx["script_files"] == [keep]  # no sphinx-design script on a page without it


def test_page_body_is_cleaned_and_its_inline_images_become_lazy_files(tmp_path) -> None:
    body = (
        '<div role="list" class="citation-list"><div class="citation" id="id1" '
        'role="doc-biblioentry"><p>Ba et al. 2016.</p></div></div>'
        '<p>中文：激活函数</p><img src="data:image/png;base64,iVBORw0KGgo=" alt="">'
        f"<pre>File {tmp_path / 'src'}/bpkit/x.py</pre>"
    )
    ctx = _context(body)
    _book._check_page(_app(tmp_path), "chapters/p", "page.html", ctx, None)
    out = ctx["body"]
    assert 'role="listitem"' in out and "doc-biblioentry" not in out
    assert '<span lang="zh-Hans">中文：激活函数</span>' in out
    (written,) = (tmp_path / "html" / "_frames").iterdir()
    assert written.read_bytes() == b"\x89PNG\r\n\x1a\n"
    assert f'<img loading="lazy" decoding="async" src="../_frames/{written.name}"' in out
    assert "data:image" not in out and str(tmp_path) not in out


def test_head_has_one_viewport_and_a_description(tmp_path) -> None:
    doc = new_document("<test>", get_default_settings(Parser))
    box = nodes.admonition()
    box += nodes.paragraph(text="Learning objectives inside a box, long enough to count.")
    doc += [box, nodes.paragraph(text="Short."), nodes.paragraph(text="Word " * 60)]
    ctx = {"metatags": '<meta name="viewport" content="width=device-width" />\n<meta name="x" />'}
    _book._page_head(_app(tmp_path), ctx, doc)
    assert "viewport" not in ctx["metatags"] and '<meta name="x" />' in ctx["metatags"]
    assert ctx["bpkit_description"].startswith("Word Word")
    assert len(ctx["bpkit_description"]) <= 160 and ctx["bpkit_description"].endswith("…")


def test_configures_mathjax_without_its_menu_and_out_of_the_tab_order() -> None:
    config = SimpleNamespace(
        templates_path=[],
        mathjax_path="mathjax/tex-chtml.js",
        mathjax3_config={"options": {"processHtmlClass": "math"}},
    )
    _book._configure(None, config)
    assert config.mathjax_path == "mathjax/startup.js"
    assert config.mathjax3_config["loader"]["load"] == _book.MATHJAX_COMPONENTS
    assert "ui/menu" not in _book.MATHJAX_COMPONENTS
    options = config.mathjax3_config["options"]
    assert options["processHtmlClass"] == "math"
    assert options["menuOptions"]["settings"]["inTabOrder"] is False
    assert config.templates_path == [str(_book.TEMPLATES)]
    assert (_book.TEMPLATES / "layout.html").is_file()


def test_sets_the_frames_variable(monkeypatch) -> None:
    class App:
        def connect(self, *args, **kwargs):
            pass

        def add_css_file(self, *args, **kwargs):
            pass

        def add_js_file(self, *args, **kwargs):
            pass

        class registry:
            @staticmethod
            def add_translation_handlers(node, **kwargs):
                pass

        def add_post_transform(self, transform):
            self.transforms = [*getattr(self, "transforms", []), transform]

    monkeypatch.setenv(FRAMES_ENV, "")  # restored after the test, whatever setup() does
    app = App()
    _book.setup(app)
    assert app.transforms == [_book.PhoneFigures]
    assert os.environ[FRAMES_ENV] == "all"
    assert sys.modules["bpcourse.widgets"].precompute_all_frames()


def test_reexecutes_notebooks_when_bpkit_changed(tmp_path) -> None:
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


# ------------------------------------------------------------------ pagetools
def test_chinese_runs_are_marked_outside_tags_and_scripts() -> None:
    html = '<p title="中文">激活函数 (activation)</p><script>var s="中文";</script><p>·：</p>'
    out = pagetools.mark_chinese(html)
    assert out == (
        '<p title="中文"><span lang="zh-Hans">激活函数</span> (activation)</p>'
        '<script>var s="中文";</script><p>·：</p>'
    )


def test_machine_paths_are_cut_to_what_a_reader_can_look_up() -> None:
    roots = ["/home/me/book", "/usr/lib/python3.11"]
    text = (
        "File /home/me/book/bpkit/losses.py:67\n"
        "File /home/me/book/.venv/lib/python3.11/site-packages/numpy/_core/x.py:3\n"
        "File /usr/lib/python3.11/json/decoder.py:1"
    )
    assert pagetools.scrub_paths(text, roots) == (
        "File bpkit/losses.py:67\nFile numpy/_core/x.py:3\nFile json/decoder.py:1"
    )


def test_progress_bars_collapse_to_their_last_line() -> None:
    text = "a:   0%|  | 0/3\ra:  33%|# | 1/3\ra: 100%|##| 3/3\nb:  50%|#| 1/2\nb: 100%|#| 2/2\nok"
    assert pagetools.collapse_progress(text) == "a: 100%|##| 3/3\nb: 100%|#| 2/2\nok"
    assert pagetools.collapse_progress("plain\nlines\n") == "plain\nlines\n"


def test_fontawesome_script_is_dropped() -> None:
    head = '<link href="x.css" />\n  <script defer src="_static/scripts/fontawesome.js?digest=1"></script>'
    assert pagetools.without_fontawesome_js(head) == '<link href="x.css" />'


def test_icon_fonts_keep_the_icons_pages_and_theme_rules_use() -> None:
    css = (
        '.fa-bars:before{content:"\\f0c9"}.fa-film:before{content:"\\f008"}'
        '.admonition-title:after{content:"\\f0eb"}html{--pst-icon-x:"\uf05a"}'
    )
    points = icons.used_codepoints([css], ['<span class="fa-solid fa-bars"></span>'])
    assert points == {0xF0C9, 0xF0EB, 0xF05A}  # not fa-film, which no page uses


@pytest.mark.parametrize("text", ["", "Short.", "x" * 500])
def test_description_is_at_most_160_characters(text) -> None:
    assert len(pagetools.description(text)) <= 160


# ------------------------------------------------------------------ phone figures
def _figure_output(image_mime: str = "image/svg+xml", with_phone: bool = True) -> nodes.container:
    from bpcourse.plotting import PHONE_MEDIA, PHONE_SOURCE_CLASS

    bundle = nodes.container(nb_element="mime_bundle")
    image = nodes.container(mime_type=image_mime)
    image += nodes.image(uri="/_build/jupyter_execute/abc.svg", alt="A loss curve falling")
    bundle += image
    if with_phone:
        phone = nodes.container(mime_type="text/html")
        source = (
            f'<source class="{PHONE_SOURCE_CLASS}" media="{PHONE_MEDIA}" '
            'srcset="data:image/svg+xml;base64,PHN2Zz4=" width="312" height="400">'
        )
        phone += nodes.raw("", source, format="html")
        bundle += phone
    plain = nodes.container(mime_type="text/plain")
    plain += nodes.literal_block("", "<BookFigure size 735x420 with 1 Axes>")
    bundle += plain
    return bundle


def test_a_figure_and_its_phone_variant_become_one_picture(caplog) -> None:
    doc = new_document("<test>", get_default_settings(Parser))
    figure = nodes.figure()
    figure += _figure_output()
    figure += nodes.caption("", "The loss falls.")
    doc += [figure, _figure_output("image/png"), _figure_output(with_phone=False)]
    assert _book.phone_pictures(doc) == 2
    bundles = list(doc.findall(_book._is_mime_bundle))
    # the phone source left the bundle (myst-nb would otherwise pick text/html) ...
    assert [[c["mime_type"] for c in b.children] for b in bundles] == [
        ["image/svg+xml", "text/plain"],
        ["image/png", "text/plain"],
        ["image/svg+xml", "text/plain"],
    ]
    # ... and sits with the image, kept as myst-nb made it (its alt text, its file)
    first = bundles[0].children[0]
    opening, image, closing = first.children
    assert opening.astext().startswith('<picture class="bpkit-figure"><source class=')
    assert 'media="screen and' in opening.astext() and closing.astext() == "</picture>"
    assert image["alt"] == "A loss curve falling"
    assert len(bundles[2].children[0].children) == 1  # no phone variant: the image alone
    assert not caplog.records


def test_a_phone_variant_without_its_image_is_reported_and_other_builders_drop_it(caplog):
    lone = _figure_output()
    lone.remove(lone.children[0])
    doc = new_document("<test>", get_default_settings(Parser))
    doc += lone
    assert _book.phone_pictures(doc) == 0
    assert any("without its image" in r.getMessage() for r in caplog.records)
    doc = new_document("<test>", get_default_settings(Parser))
    doc += _figure_output()
    assert _book.phone_pictures(doc, html=False) == 0
    assert [c["mime_type"] for c in doc.children[0].children] == ["image/svg+xml", "text/plain"]


def test_phone_stylesheet_uses_the_phone_media_query() -> None:
    from bpcourse.plotting import PHONE_MAX_SCREEN_PX, PHONE_MAX_STRETCH, PHONE_WIDTH_PX

    css = (Path(_book.__file__).parent / "assets" / "bpkit.css").read_text()
    assert f"@media screen and (max-width: {PHONE_MAX_SCREEN_PX}px)" in css
    assert f"max-width: {round(PHONE_WIDTH_PX * PHONE_MAX_STRETCH)}px" in css


def test_a_figure_without_a_phone_layout_scrolls_in_its_own_box() -> None:
    from bpcourse.plotting import PHONE_SCROLL_CLASS, PHONE_SCROLL_MARKER

    bundle = _figure_output(with_phone=False)
    marker = nodes.container(mime_type="text/html")
    marker += nodes.raw("", PHONE_SCROLL_MARKER, format="html")
    bundle += marker
    doc = new_document("<test>", get_default_settings(Parser))
    doc += bundle
    assert _book.phone_pictures(doc) == 1
    opening, _image, closing = bundle.children[0].children
    assert (
        opening.astext() == f'<div class="{PHONE_SCROLL_CLASS}">' and closing.astext() == "</div>"
    )
    assert [c["mime_type"] for c in bundle.children] == ["image/svg+xml", "text/plain"]


def test_a_self_check_in_the_book_carries_no_script_or_style(monkeypatch, tmp_path) -> None:
    """In the book build the page serves them once (bpkit_book writes page_assets into
    _static); in a notebook every question carries its own, to stand alone."""
    from types import SimpleNamespace

    from bpcourse import selfcheck
    from bpcourse.plotting import BOOK_BUILD_ENV

    options = (selfcheck.Option("a", True, "yes"), selfcheck.Option("b", False, "no"))
    question = selfcheck.Choice("sc-x", "Which?", options)
    monkeypatch.setenv(BOOK_BUILD_ENV, "")
    alone = question._repr_html_()
    monkeypatch.setenv(BOOK_BUILD_ENV, "all")
    in_book = question._repr_html_()
    assert "<style>" in alone and "bpkitSelfCheck" in alone
    assert "<style>" not in in_book and "bpkitSelfCheck" not in in_book
    assert 'type="application/json"' in in_book  # the question's data stays with it
    app = SimpleNamespace(outdir=str(tmp_path), builder=SimpleNamespace(format="html"))
    _book._write_selfcheck_assets(app, None)
    assets = {p.name: p.read_text() for p in (tmp_path / "_static").iterdir()}
    assert "window.bpkitSelfCheck" in assets[selfcheck.PAGE_SCRIPT]
    assert ".bpkit-selfcheck{" in assets[selfcheck.PAGE_STYLE]

"""Sphinx extension for the book's two editions, English and Chinese (loaded by both).

Book tooling, not installed: ``_config.yml`` loads it from ``book/`` beside ``bpkit_book``.
``book/i18n.py build`` builds the Chinese edition with ``language = "zh_CN"`` from the
same sources and the same execution cache; this extension

1. sets ``BPKIT_LANGUAGES=en,zh_CN`` before any notebook executes, so that what bpcourse
   prints for a reader (explorer captions, labels and descriptions, self-check questions,
   checker messages, the note of an untouched check) is made in both languages while the
   numbers and frames are computed once (:mod:`bpcourse.i18n`); writing a page, it keeps
   the variant of the page's language and records what fell back to English
   (``<outdir>/_i18n/untranslated.json``);
2. puts a language switch on every page: a link to the same page in the other edition
   (``hreflang``, a relative path that works from ``file://``), in the article header
   beside the theme's buttons, and a ``<link rel="alternate" hreflang>`` in the head;
3. in the Chinese edition: translates the part captions of ``_toc.yml`` and the book's
   title (``locale/zh_CN/LC_MESSAGES/_book.po``), which Sphinx's own translation never sees
   (the toctrees are inserted after it runs), and the theme's search placeholder;
   appends to the glossary a Chinese-to-English index of its terms in pinyin order
   (``locale/zh_CN/terminology.tsv``); and splits a Chinese search query into the words
   of the index (longest match first), since the browser has no word segmenter;
4. adds the stylesheet ``i18n.css``: a font stack of the reader's own CJK fonts (no font
   is downloaded) for Chinese pages and Chinese words on English pages.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

from docutils import nodes
from sphinx.transforms import SphinxTransform

from bpcourse import i18n as bp_i18n

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
#: The two editions: where each is served from, relative to the English site's root.
EDITIONS = {"en": "", "zh_CN": "zh/"}
HREFLANG = {"en": "en", "zh_CN": "zh-CN"}
SWITCH_LABEL = {"en": "English", "zh_CN": "中文"}
SWITCH_TITLE = {"en": "Read this page in English", "zh_CN": "阅读本页的中文版"}
GLOSSARY = "chapters/a3_glossary"
REPORT = "_i18n/untranslated.json"


def page_language(app: Any) -> str:
    lang = str(app.config.language or "en")
    return "zh_CN" if lang.startswith("zh") else "en"


def switch_href(pagename: str, source: str, target: str) -> str:
    """The relative URL of ``pagename`` in the ``target`` edition, from the same page in
    the ``source`` edition: the editions sit at the site's root and under ``zh/``."""
    up = "../" * pagename.count("/")
    if source != "en":
        up += "../" * EDITIONS[source].count("/")
    return f"{up}{EDITIONS[target]}{pagename}.html"


def other_language(lang: str) -> str:
    return "zh_CN" if lang == "en" else "en"


# ---------------------------------------------------------------- pages
def _switch_context(app: Any, pagename: str, templatename: str, context: dict, doctree: Any):
    """The switch's link, before the theme drops the templates that render empty."""
    lang = page_language(app)
    target = other_language(lang)
    href = switch_href(pagename, lang, target)
    context["bpkit_lang_switch"] = {
        "href": href,
        "hreflang": HREFLANG[target],
        "label": SWITCH_LABEL[target],
        "title": SWITCH_TITLE[target],
    }
    context["metatags"] = (
        context.get("metatags", "")
        + f'\n    <link rel="alternate" hreflang="{HREFLANG[target]}" href="{href}" />'
    )


def _resolve_outputs(app: Any, pagename: str, templatename: str, context: dict, doctree: Any):
    """bpcourse's outputs in the page's language (and a record of what fell back)."""
    lang = page_language(app)
    if "body" in context:
        body, fell_back = bp_i18n.resolve(context["body"], lang)
        if lang != "en":
            body = keep_punctuation_with_maths(body)
            if pagename in app.env.found_docs:
                body = note_untranslated(body, translation_state(pagename))
        context["body"] = body
        if fell_back:
            app.env.bpkit_i18n_untranslated = getattr(app.env, "bpkit_i18n_untranslated", {})
            app.env.bpkit_i18n_untranslated[pagename] = sorted(set(fell_back))


#: The note at the top of a Chinese page that is not (wholly) translated yet: the reader
#: is told, rather than meeting English without warning.
NOT_TRANSLATED = "本页尚未翻译成中文，以下是英文原文。"
PARTLY_TRANSLATED = "本页尚未全部翻译成中文，未译的部分以英文原文显示。"


def translation_state(pagename: str) -> str:
    """``complete`` (in complete.txt), ``partly`` (some prose translated) or ``none``."""
    from i18n import MESSAGES, complete_pages

    if pagename in complete_pages():
        return "complete"
    path = MESSAGES / f"{pagename}.po"
    if path.is_file():
        table = bp_i18n.read_po(path.read_text(encoding="utf-8"))
        if any(chinese != english for english, chinese in table.items()):
            return "partly"
    return "none"


def note_untranslated(body: str, state: str) -> str:
    """``body`` with the note after its title; an untranslated body is marked English."""
    if state == "complete":
        return body
    text = NOT_TRANSLATED if state == "none" else PARTLY_TRANSLATED
    note = f'<div class="bpkit-untranslated" role="note" lang="zh-CN"><p>{text}</p></div>'
    head, sep, rest = body.partition("</h1>")
    body = head + sep + note + rest if sep else note + body
    return f'<div lang="en">{body}</div>' if state == "none" else body


#: Binder builds chapters_zh/ (postBuild: book/i18n.py notebooks): on a Chinese page, Binder
#: opens the Chinese notebook. (Colab opens files of the repository only: it stays English.)
BINDER_EN = "urlpath=lab/tree/chapters/"
BINDER_ZH = "urlpath=lab/tree/chapters_zh/"


def chinese_binder(value: Any) -> Any:
    """``value`` (a header button, a list of them, a URL) with Binder opening chapters_zh/."""
    if isinstance(value, str):
        return value.replace(BINDER_EN, BINDER_ZH)
    if isinstance(value, list):
        return [chinese_binder(v) for v in value]
    if isinstance(value, dict):
        return {k: chinese_binder(v) for k, v in value.items()}
    return value


def _binder_in_chinese(app: Any, pagename: str, templatename: str, context: dict, doctree: Any):
    """After sphinx-book-theme's launch buttons (priority 501): Binder opens the Chinese
    notebook from a Chinese page, in the header and in the note of an untouched check."""
    if page_language(app) == "en":
        return
    if "header_buttons" in context:
        context["header_buttons"] = chinese_binder(context["header_buttons"])
    if "body" in context:
        context["body"] = chinese_binder(context["body"])


_MATH_THEN_PUNCTUATION = re.compile(
    r'(<span class="math notranslate nohighlight">[^<]*</span>)([，。、；：！？）”』」]+)'
)


def keep_punctuation_with_maths(body: str) -> str:
    """Chinese punctuation right after inline maths stays on the maths' line (a browser may
    break after the formula's box, leaving 。 alone at the start of the next line)."""
    return _MATH_THEN_PUNCTUATION.sub(r'<span class="bpkit-nowrap">\1\2</span>', body)


def _write_report(app: Any, exc: Exception | None) -> None:
    """What each page showed in English for want of a translation (computed outputs)."""
    if exc is not None or getattr(app.builder, "format", "") != "html":
        return
    if page_language(app) == "en":  # the source language never falls back
        return
    found = getattr(app.env, "bpkit_i18n_untranslated", {})
    path = Path(app.outdir) / REPORT
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(found, ensure_ascii=False, indent=1, sort_keys=True) + "\n")


# ---------------------------------------------------------------- the Chinese edition
def _book_catalog() -> dict[str, str]:
    path = ROOT / "locale" / "zh_CN" / "LC_MESSAGES" / "_book.po"
    return bp_i18n.read_po(path.read_text(encoding="utf-8")) if path.is_file() else {}


class TranslateTocCaptions(SphinxTransform):
    """Part captions from _toc.yml in the page's language (after sphinx-external-toc has
    inserted its toctrees, priority 100, and before the toctree collector reads them)."""

    default_priority = 150

    def apply(self, **kwargs: Any) -> None:
        if page_language(self.app) == "en":
            return
        table = _book_catalog()
        for toctree in self.document.findall(lambda n: n.tagname == "toctree"):
            caption = toctree.get("caption")
            if caption and table.get(caption):
                toctree["caption"] = table[caption]


def _configure(app: Any, config: Any) -> None:
    options = dict(config.html_theme_options or {})
    end = list(options.get("article_header_end") or ["article-header-buttons.html"])
    if "bpkit-lang-switch.html" not in end:
        end.insert(0, "bpkit-lang-switch.html")
    options["article_header_end"] = end
    if page_language(app) != "en":
        table = _book_catalog()
        options["search_bar_text"] = "搜索本书……"
        for key in ("html_title", "project"):
            value = getattr(config, key, None)
            if value and table.get(value):
                setattr(config, key, table[value])
    config.html_theme_options = options


def _sort_glossaries(app: Any, doctree: nodes.document) -> None:
    """A translated glossary in the order of its translated terms, by pinyin: Sphinx sorts
    a ``:sorted:`` glossary before translating it, i.e. by its English terms."""
    if page_language(app) == "en":
        return
    from i18n import pinyin_key
    from sphinx import addnodes

    for glossary in doctree.findall(addnodes.glossary):
        for dlist in glossary.findall(nodes.definition_list):
            items = [c for c in dlist.children if isinstance(c, nodes.definition_list_item)]
            items.sort(key=lambda item: pinyin_key(next(item.findall(nodes.term)).astext()))
            dlist.children = items


def _glossary_index(app: Any, doctree: nodes.document) -> None:
    """The Chinese-to-English index at the end of the Chinese glossary (pinyin order)."""
    if page_language(app) == "en" or app.env.docname != GLOSSARY:
        return
    from i18n import pinyin_key, terminology

    ids = {}
    for term in doctree.findall(nodes.term):
        for node_id in term["ids"]:
            ids[_norm(node_id.removeprefix("term-"))] = node_id
    rows = []
    for term in terminology():
        node_id = ids.get(_norm(term.english))
        if node_id is None or not term.glossary:
            continue
        for form in dict.fromkeys((term.chinese, *term.accepted)):
            if not re.search(r"[\u4e00-\u9fff]", form):
                continue  # Adam, SGD, tanh: not Chinese words to look up
            rows.append((pinyin_key(form), form, term.english, node_id))
    rows.sort()
    section = nodes.section(ids=["zh-en-index"], names=["中英术语索引"])
    section += nodes.title("", "中英术语索引")
    section += nodes.paragraph(
        "",
        "按汉语拼音排序，并收录常见的其他译名（如“批量规范化”）。点击英文术语，即可跳到上面词汇表中的相应条目。",
    )
    table = nodes.table(classes=["bpkit-zh-index"])
    group = nodes.tgroup(cols=2)
    table += group
    group += nodes.colspec(colwidth=1)
    group += nodes.colspec(colwidth=1)
    head = nodes.thead()
    group += head
    head += _row(nodes.Text("中文"), nodes.Text("英文"))
    body = nodes.tbody()
    group += body
    for _key, chinese, english, node_id in rows:
        link = nodes.reference("", "", internal=True, refid=node_id)
        link += nodes.Text(english)
        body += _row(nodes.Text(chinese), link)
    section += table
    doctree.children[-1].append(section) if isinstance(
        doctree.children[-1], nodes.section
    ) else doctree.append(section)


def _row(*cells: nodes.Node) -> nodes.row:
    row = nodes.row()
    for content in cells:
        entry = nodes.entry()
        para = nodes.paragraph()
        para += content
        entry += para
        row += entry
    return row


def _norm(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def _search_assets(app: Any, pagename: str, templatename: str, context: dict, doctree: Any):
    if page_language(app) != "en" and pagename == "search":
        app.add_js_file("i18n-search.js", priority=200)


def setup(app: Any) -> dict[str, Any]:
    os.environ[bp_i18n.LANGUAGES_ENV] = ",".join(bp_i18n.LANGUAGES)
    app.connect("config-inited", _configure)
    app.add_transform(TranslateTocCaptions)
    app.connect("doctree-read", _sort_glossaries)
    app.connect("doctree-read", _glossary_index)
    # Before bpkit_book (900) marks Chinese runs and moves frames out of the page.
    app.connect("html-page-context", _switch_context, priority=100)  # before the theme (500)
    app.connect("html-page-context", _resolve_outputs, priority=800)
    app.connect("html-page-context", _binder_in_chinese, priority=850)
    app.connect("html-page-context", _search_assets, priority=100)
    app.connect("build-finished", _write_report)
    app.add_css_file("i18n.css")
    return {"parallel_read_safe": True, "parallel_write_safe": True}

"""The Chinese edition (issue 16): catalogs, terms, bpcourse's outputs, both built editions.

The pages that must be wholly translated are listed in ``locale/zh_CN/complete.txt``; a
translator who finishes a page adds it there and these tests hold it to that:

* its catalog is current with the English source (re-extracted here) and has no
  untranslated or fuzzy message; its maths, roles and code are those of the English;
* its translations use the terms of ``locale/zh_CN/terminology.tsv``;
* its built Chinese page shows no English sentence, no broken Markdown and no output of
  bpcourse that fell back to English.

On every page of both editions: the ``lang`` it declares and a switch to the same page in
the other edition (a relative link that exists). The Chinese search finds every term of
the glossary, and words of body text, in a real browser from ``file://``.
"""

from __future__ import annotations

import html as html_lib
import json
import re
import shutil
import sys
from pathlib import Path

import pytest
from conftest import ROOT

sys.path.insert(0, str(ROOT / "book"))

import i18n as tools  # book/i18n.py

from bpcourse import i18n

COMPLETE = tools.complete_pages()
COMPLETE_CATALOGS = [tools.MESSAGES / f"{doc}.po" for doc in COMPLETE]
MATH = re.compile(r"\$\$.*?\$\$|\$[^$]+\$", re.DOTALL)
ROLE = re.compile(r"\{\w+\}`[^`]*`")
CODE = re.compile(r"`[^`]+`")
HAN = re.compile(r"[\u4e00-\u9fff]")


def _catalog(path: Path):
    from babel.messages.pofile import read_po

    with path.open("rb") as f:
        return read_po(f)


def _pairs(path: Path) -> list[tuple[str, str]]:
    return [(str(m.id), str(m.string)) for m in _catalog(path) if m.id and m.string]


# ------------------------------------------------------------------ catalogs
def test_the_complete_pages_exist_and_have_catalogs() -> None:
    assert COMPLETE, "complete.txt lists no page"
    for path in COMPLETE_CATALOGS:
        assert path.is_file(), f"{path.relative_to(ROOT)} is missing: run `make i18n`"


@pytest.mark.parametrize("path", COMPLETE_CATALOGS, ids=COMPLETE)
def test_complete_pages_have_no_untranslated_or_fuzzy_message(path: Path) -> None:
    status = tools.catalog_status(path)
    assert not status.missing, (
        f"{status.path}: {status.fuzzy} fuzzy and {status.untranslated} untranslated of "
        f"{status.total} (the page is in complete.txt):\n" + "\n".join(status.missing[:20])
    )


@pytest.fixture(scope="module")
def fresh_templates(tmp_path_factory) -> Path:
    """The message templates of the sources as they are now (Sphinx's gettext builder)."""
    out = tmp_path_factory.mktemp("gettext")
    code = tools._build_sphinx(
        out, out / ".doctrees", "gettext", tools.sphinx_overrides(None), strict=False
    )
    assert code == 0, "the gettext build failed"
    return out


@pytest.mark.parametrize("doc", [d for d in COMPLETE if d != tools.BOOK_DOMAIN])
def test_complete_catalogs_are_current_with_the_english(fresh_templates: Path, doc: str) -> None:
    pot = _catalog(fresh_templates / f"{doc}.pot")
    po = _catalog(tools.MESSAGES / f"{doc}.po")
    want = {str(m.id) for m in pot if m.id}
    have = {str(m.id) for m in po if m.id and not m.fuzzy}
    assert want <= have, (
        f"{doc}: the English changed; run `make i18n` and translate:\n"
        + "\n".join(sorted(want - have))[:3000]
    )


def test_book_catalog_has_the_toc_captions_and_title() -> None:
    po = {m.id for m in _catalog(tools.MESSAGES / f"{tools.BOOK_DOMAIN}.po") if m.id}
    assert set(tools.toc_messages()) <= po, "run `make i18n`: _toc.yml or the title changed"


def test_bpcourse_catalog_is_current_with_its_code() -> None:
    po = {m.id for m in _catalog(tools.BPCOURSE_PO) if m.id}
    missing = sorted(set(tools.bpcourse_messages()) - po)
    assert not missing, f"run `make i18n`: bpcourse has new messages: {missing[:10]}"


@pytest.mark.parametrize("path", tools.catalogs(), ids=lambda p: p.name)
def test_bpcourse_reads_every_catalog_as_babel_does(path: Path) -> None:
    """bpcourse's small PO reader (no dependency) against babel's."""
    want = {str(m.id): str(m.string) for m in _catalog(path) if m.id and m.string and not m.fuzzy}
    assert i18n.read_po(path.read_text(encoding="utf-8")) == want


#: A cross-reference role whose shown title a translation translates: only its target
#: must stay (``{ref}`the calculus box <calculus-toolkit>``` -> ``{ref}`<calculus-toolkit>```).
XREF = re.compile(r"\{(ref|doc|numref|term)\}`(?:[^`<]*<([^`>]+)>|([^`]+))`")


def _role(role: str) -> str:
    m = XREF.fullmatch(role)
    return role if m is None else f"{{{m.group(1)}}}`<{(m.group(2) or m.group(3)).strip()}>`"


def _markup(text: str) -> tuple[list[str], list[str], list[str]]:
    """The maths, roles and inline code of a message, each sorted (a cross-reference by
    its target alone: its title is words to translate)."""
    roles = [_role(r) for r in ROLE.findall(text)]
    text = ROLE.sub(" ", text)
    code = CODE.findall(text)
    return sorted(MATH.findall(CODE.sub(" ", text))), sorted(roles), sorted(code)


def test_a_cross_reference_keeps_its_target_and_may_translate_its_title() -> None:
    en = _markup('see {ref}`the calculus box <calculus-toolkit>` and {eval}`f"{x:.2f}"`')
    zh = _markup('见{ref}`微积分框 <calculus-toolkit>`与 {eval}`f"{x:.2f}"`')
    assert en == zh
    assert _markup("{ref}`the box <other-label>`")[1] != _markup("{ref}`calculus-toolkit`")[1]
    assert _markup("{ref}`calculus-toolkit`")[1] == _markup("{ref}`框 <calculus-toolkit>`")[1]


@pytest.mark.parametrize("path", COMPLETE_CATALOGS, ids=COMPLETE)
def test_translations_keep_the_maths_roles_and_code(path: Path) -> None:
    """The maths exactly; every role and piece of code of the English (a translation may
    add code, e.g. `make lab-zh` for a Chinese reader)."""
    bad = []
    for english, chinese in _pairs(path):
        (m_en, r_en, c_en), (m_zh, r_zh, c_zh) = _markup(english), _markup(chinese)
        if m_en != m_zh:
            bad.append(f"maths {sorted(set(m_en) ^ set(m_zh))}: {english[:60]!r}")
        for kind, en, zh in (("role", r_en, r_zh), ("code", c_en, c_zh)):
            if any(en.count(x) > zh.count(x) for x in en):
                bad.append(f"{kind} {sorted(set(en) - set(zh))}: {english[:60]!r}")
    assert not bad, "\n".join(bad)


# CommonMark ends **strong** only when the closing ** is not preceded by punctuation unless
# followed by space or punctuation: **答案。**本页 shows its asterisks. Keep the 。 outside.
BROKEN_STRONG = re.compile(
    r"[\u3000-\u303f\uff01-\uff0f\uff1a-\uff20](\*\*|\*)(?=[\u4e00-\u9fff\w])"
)


@pytest.mark.parametrize(
    "path", [*COMPLETE_CATALOGS, tools.BPCOURSE_PO], ids=[*COMPLETE, "bpcourse"]
)
def test_emphasis_closes_where_markdown_can_close_it(path: Path) -> None:
    bad = []
    for _english, chinese in _pairs(path):
        for m in BROKEN_STRONG.finditer(chinese):
            before = chinese[: m.start(1)]
            if before.count(m.group(1)) % 2 == 1:  # a closing delimiter
                bad.append(chinese[max(0, m.start() - 20) : m.end() + 10])
    assert not bad, f"emphasis that Markdown leaves open (move the punctuation out): {bad}"


# ------------------------------------------------------------------ terminology
def _glossary_source() -> list[tuple[str, str]]:
    """(English term, the Chinese the English glossary gives) of every entry."""
    text = (ROOT / "chapters" / "a3_glossary.md").read_text(encoding="utf-8")
    entries = re.findall(r"^(\S[^\n]*)\n((?:  [^\n]*\n)+)", text.split(":sorted:", 1)[1], re.M)
    return [
        (term.strip(), re.search(r"中文：(.+?) ·", body.replace("\n", " ")).group(1))
        for term, body in entries
    ]


def test_every_glossary_term_is_in_the_terminology() -> None:
    terms = {t.english: t for t in tools.terminology() if t.glossary}
    source = _glossary_source()
    assert len(source) > 60
    missing = [english for english, _ in source if english not in terms]
    assert not missing, f"glossary entries missing from terminology.tsv: {missing}"
    extra = sorted(set(terms) - {english for english, _ in source})
    assert not extra, f"terminology.tsv marks as glossary terms that are not: {extra}"
    for english, chinese in source:
        term = terms[english]
        forms = {term.chinese, *term.accepted}
        assert any(f in chinese for f in forms), (
            f"{english}: the glossary gives {chinese!r}; terminology.tsv has {sorted(forms)}"
        )


def test_the_chinese_glossary_uses_the_terms() -> None:
    table = dict(_pairs(tools.MESSAGES / "chapters" / "a3_glossary.po"))
    for term in (t for t in tools.terminology() if t.glossary):
        chinese = table.get(term.english, "")
        assert chinese.startswith(term.chinese) and term.english in chinese, (
            f"the glossary entry {term.english!r} reads {chinese!r}; want "
            f"'{term.chinese}（{term.english}）'"
        )


@pytest.mark.parametrize("path", COMPLETE_CATALOGS, ids=COMPLETE)
def test_translations_use_the_standard_terms(path: Path) -> None:
    terms = [t for t in tools.terminology() if t.patterns != ("-",)]
    bad = []
    for english, chinese in _pairs(path):
        if english == chinese:
            continue
        prose = MATH.sub(" ", CODE.sub(" ", ROLE.sub(" ", english))).split("中文：")[0]
        for term in terms:
            if any(re.search(p, prose, re.I) for p in term.patterns):
                forms = (term.chinese, *term.accepted)
                if not any(f.lower() in chinese.lower() for f in forms):
                    bad.append(f"{term.english} -> {term.chinese}: {chinese[:80]}")
    assert not bad, "translations without the standard term:\n" + "\n".join(bad)


def test_the_index_orders_by_pinyin() -> None:
    words = ["准确率", "梯度", "反向传播", "学习率", "偏置", "链式法则"]
    assert sorted(words, key=tools.pinyin_key) == [
        "反向传播",
        "链式法则",
        "偏置",
        "梯度",
        "学习率",
        "准确率",
    ]


# ------------------------------------------------------------------ bpcourse's outputs
@pytest.fixture
def both(monkeypatch):
    """A book build's kernel: every output made in English and Chinese."""
    monkeypatch.setenv(i18n.LANGUAGES_ENV, "en,zh_CN")


def test_a_kernel_speaks_one_language(monkeypatch) -> None:
    monkeypatch.delenv(i18n.LANGUAGES_ENV, raising=False)
    monkeypatch.setenv(i18n.LANG_ENV, "zh_CN")
    assert i18n._("Check") == "检查"
    assert i18n.tr("Check") == "检查"  # no markers outside a book build
    assert i18n._("a sentence no catalog has") == "a sentence no catalog has"
    monkeypatch.setenv(i18n.LANG_ENV, "en")
    assert i18n.tr("Check") == "Check"
    with pytest.raises(ValueError, match="bpcourse speaks en, zh_CN"):
        i18n.set_language("fr")


def test_a_book_build_makes_every_language_and_a_page_keeps_its_own(both) -> None:
    marked = i18n.tr("Check")
    assert marked.startswith("[[bpkit-lang:en]]Check") and "检查" in marked
    assert i18n.resolve(marked, "zh_CN") == ("检查", [])
    assert i18n.resolve(marked, "en") == ("Check", [])
    # through json.dumps (non-ASCII escaped) and html.escape, as outputs carry it
    payload = json.dumps({"text": marked, "n": 1})
    assert json.loads(i18n.resolve(payload, "zh_CN")[0]) == {"text": "检查", "n": 1}
    escaped = html_lib.escape(i18n.tr("Not quite. {explanation}"))
    assert html_lib.unescape(i18n.resolve(escaped, "zh_CN")[0]) == "还不对。{explanation}"
    # nothing to choose between: a plain string
    assert i18n.localized(lambda: "0.25") == "0.25"


def test_what_falls_back_to_english_is_reported(both) -> None:
    marked = i18n.localized(lambda: i18n._("Check") + ": " + i18n._("no catalog has this"))
    text, fell_back = i18n.resolve(marked, "zh_CN")
    assert text == "检查: no catalog has this"
    assert fell_back == ["Check: no catalog has this"]
    assert i18n.resolve(marked, "en") == ("Check: no catalog has this", [])


def test_selfcheck_and_checker_speak_the_page_language(both) -> None:
    from bpcourse import selfcheck
    from bpcourse.exercises.feedback import not_attempted

    q = selfcheck.Numeric("sc-x", "What is 1 + 1?", 2.0)
    zh, _ = i18n.resolve(q._repr_html_(), "zh_CN")
    en, _ = i18n.resolve(q._repr_html_(), "en")
    assert "自测" in zh and ">检查</button>" in zh and "与正确值相差不超过 0.1 %" in zh
    assert "Self-check" in en and ">Check</button>" in en and "[[bpkit-lang" not in en + zh
    note = not_attempted("ex-loss-grad")._repr_markdown_()
    assert "运行笔记本时，这个单元会检查你的答案" in i18n.resolve(note, "zh_CN")[0]
    assert i18n.resolve(note, "en")[0].startswith("**This cell checks your answer")


def test_an_explorer_speaks_the_page_language(both) -> None:
    from bpcourse.widgets import Explorer, Slider

    ex = Explorer(
        lambda a: {"a": a},
        lambda fig, data, params: fig.add_subplot().plot([0, 1], [0, data["a"]]),
        {"a": Slider([1.0, 2.0, 3.0, 4.0], "Check")},
        lambda data, params: i18n._("Correct."),
        "Check",
    )
    page = ex.static_html(all_frames=False)
    zh, _ = i18n.resolve(page, "zh_CN")
    assert "<figcaption>检查</figcaption>" in zh and "图中设置：检查 = 1。" in zh
    assert "正确。" in zh and "在 Jupyter 中运行本笔记本" in zh
    en, _ = i18n.resolve(page, "en")
    assert "Shown for Check = 1." in en and "[[bpkit-lang" not in en


# ------------------------------------------------------------------ the chapters' code
CHAPTER_CELL = """
selfcheck.Numeric(
    "sc-q",
    f"For H = {H_q.tolist()}, what is the threshold? (Four digits, {{exact}}.)",
    0.5,
    (("That is the mean loss's threshold.", 0.1), (m.hint, 0.2)),
    exercise="ex-q",
)
selfcheck.Choice("sc-c", "Which one?", (selfcheck.Option("0", True, "Because it sums to 0."),))
"""
CHECKER_MODULE = """
SLIPS = (("a name of a slip", "what the slip does", f),)
DOC = "not a table"
X = Check("ex-x", ref, cases, (Mistake("wrong sign: flip it", f, "sign"),), "your gradient",
          noun="gradients", passed_message="every gradient is right.", show=lambda: "the net")
"""


def test_the_chapters_code_messages_are_extracted() -> None:
    assert [m for _line, m in tools.selfcheck_messages(CHAPTER_CELL)] == [
        "For H = {H_q.tolist()}, what is the threshold? (Four digits, {{exact}}.)",
        "That is the mean loss's threshold.",
        "Which one?",
        "Because it sums to 0.",
    ]  # not the ids, the exercise, a computed hint, nor "0" (nothing to translate)
    assert {m for _line, m in tools.checker_messages(CHECKER_MODULE)} == {
        "a name of a slip",
        "what the slip does",
        "wrong sign: flip it",
        "your gradient",
        "every gradient is right.",
    }  # one-word nouns are left out: "gradients" is said by bpcourse.po's own words
    explorer = (
        'Explorer(f, g, {"z": Slider.linspace(*Z, 13, "logit z"), "a": Slider(["relu"], "kind")},'
        ' describe, f"Loss on the {name}", figsize=(8, 3))'
    )
    assert [m for _line, m in tools.explorer_messages(explorer)] == [
        "Loss on the {name}",
        "logit z",
        "relu",
        "kind",
    ]


def test_the_code_catalogs_are_current_with_the_chapters() -> None:
    for page, messages in tools.code_messages().items():
        path = tools.CODE_MESSAGES / f"{page}.po"
        assert path.is_file(), f"{path.relative_to(ROOT)} is missing: run `make i18n`"
        have = {str(m.id) for m in _catalog(path) if m.id}
        missing = sorted(set(messages) - have)
        assert not missing, f"run `make i18n`: {page}'s code has new messages: {missing[:5]}"


@pytest.mark.parametrize(
    "path",
    [p for d in COMPLETE for p in tools.page_catalogs(d)[1:]] or [None],
    ids=lambda p: p.name if p else "none",
)
def test_complete_pages_code_catalogs_are_translated(path: Path | None) -> None:
    if path is None:
        return  # no complete page has self-checks or checkers yet
    status = tools.catalog_status(path)
    assert not status.missing, f"{status.path}: translate {status.missing[:10]}"


@pytest.fixture
def chapter_catalog(tmp_path, monkeypatch):
    """bpcourse's catalogs plus a chapter's, as a translator would fill it."""
    locale = tmp_path / "locale"
    shutil.copytree(i18n.LOCALE_DIR, locale)
    (locale / "zh_CN" / "LC_MESSAGES" / "chapters").mkdir(exist_ok=True)
    (locale / "zh_CN" / "LC_MESSAGES" / "chapters" / "99_test.po").write_text(
        'msgid ""\nmsgstr ""\n"Content-Type: text/plain; charset=utf-8\\n"\n\n'
        'msgid "For H = {H_q.tolist()}, what is the threshold?"\n'
        'msgstr "对 H = {H_q.tolist()}，阈值是多少？"\n\n'
        'msgid "off by a constant factor of 2: the 2 is missing"\n'
        'msgstr "差一个常数因子 2：少了这个 2"\n\n'
        "msgid \"this is the slip '{name}': {hint}.\"\n"
        'msgstr "这是“{name}”这一错误：{hint}。"\n\n'
        'msgid "the 2 dropped"\nmsgstr "丢掉了 2"\n\n'
        'msgid "Which one?"\nmsgstr "哪一个？"\n',
        encoding="utf-8",
    )
    monkeypatch.setattr(i18n, "LOCALE_DIR", locale)
    i18n.catalog.cache_clear()
    i18n.templates.cache_clear()
    yield
    i18n.catalog.cache_clear()
    i18n.templates.cache_clear()


def test_a_chapters_questions_speak_the_page_language(both, chapter_catalog) -> None:
    from bpcourse import selfcheck

    H_q = [[2.0, 0.0], [0.0, 4.0]]  # the prompt is made at run time, numbers and all
    q = selfcheck.Numeric(
        "sc-x",
        f"For H = {H_q}, what is the threshold?",
        0.5,
        (("Off by a constant factor of 2: the 2 is missing", 1.0),),  # capitalised hint
    )
    zh, fell_back = i18n.resolve(q._repr_html_(), "zh_CN")
    assert "对 H = [[2.0, 0.0], [0.0, 4.0]]，阈值是多少？" in zh
    hint = json.dumps("差一个常数因子 2：少了这个 2")[1:-1]  # in the question's JSON data
    assert hint in html_lib.unescape(zh) and not fell_back
    en, _ = i18n.resolve(q._repr_html_(), "en")
    assert "For H = [[2.0, 0.0], [0.0, 4.0]], what is the threshold?" in en
    options = (selfcheck.Option("0", True, "Correct."), selfcheck.Option("1", False, "No."))
    c = selfcheck.Choice("sc-c", "Which one?", options)
    assert "哪一个？" in i18n.resolve(c._repr_html_(), "zh_CN")[0]


def test_a_checker_speaks_the_kernels_language(monkeypatch, chapter_catalog) -> None:
    from bpcourse.exercises.feedback import Check, Mistake

    monkeypatch.delenv(i18n.LANGUAGES_ENV, raising=False)
    monkeypatch.setenv(i18n.LANG_ENV, "zh_CN")
    double = Check(
        "ex-t",
        lambda x: 2 * x,
        [(1.0,), (3.0,)],
        (
            Mistake("off by a constant factor of 2: the 2 is missing", lambda x: x),
            Mistake("this is the slip 'the 2 dropped': the 2 is missing.", lambda x: -x),
        ),
    )
    assert str(double.run(lambda x: x)) == "[ex-t] ✘ 还不对: 差一个常数因子 2：少了这个 2"
    slip = str(double.run(lambda x: -x))  # a template whose values are messages too
    assert slip == "[ex-t] ✘ 还不对: 这是“丢掉了 2”这一错误：the 2 is missing。"
    unnamed = str(double.run(lambda x: 3 * x))  # the engine's own words
    assert "差一个常数倍：你的答案是正确答案的 1.5 倍" in unnamed
    assert str(double.run(lambda x: 2 * x)) == "[ex-t] ✔ 通过: 做得好。"
    monkeypatch.setenv(i18n.LANG_ENV, "en")
    assert "off by a constant factor: your answer is 1.5 times" in str(double.run(lambda x: 3 * x))


def test_messages_are_literal_ids() -> None:
    with pytest.raises(ValueError, match="cannot be translated"):
        i18n.extract('x = _(f"at {lr}")')
    assert i18n.extract('y = _("a {b}").format(b=1)\nz = N_("c")') == [(1, "a {b}"), (2, "c")]


# ------------------------------------------------------------------ Chinese notebooks
def test_chinese_notebooks_are_the_english_code_with_chinese_prose(tmp_path: Path) -> None:
    made = tools.notebooks(tmp_path)
    for doc in COMPLETE:
        if doc == tools.BOOK_DOMAIN:
            continue
        name = Path(doc).name
        out = next(tmp_path.glob(name + ".*"))
        text = out.read_text(encoding="utf-8")
        if out.suffix == ".ipynb":
            text = "\n".join("".join(c["source"]) for c in json.loads(text)["cells"])
        pairs = _pairs(tools.MESSAGES / f"{doc}.po")
        said = "\n".join(chinese for _, chinese in pairs)
        left = [
            english
            for english, chinese in pairs
            if english != chinese
            and english not in said  # e.g. Adam, in 「Adam 优化算法（Adam）」
            and re.search(tools._flexible(english), text)
        ]
        assert not left, f"{out.name} still has English paragraphs: {left[:3]}"
        assert made[out.name] > 0
    english = json.loads((ROOT / "chapters" / "01_loss.ipynb").read_text(encoding="utf-8"))
    chinese = json.loads((tmp_path / "01_loss.ipynb").read_text(encoding="utf-8"))
    code = [c["source"] for c in english["cells"] if c["cell_type"] == "code"]
    code_zh = [c["source"] for c in chinese["cells"] if c["cell_type"] == "code"]
    assert code_zh[0] == tools.SET_LANGUAGE and code_zh[1:] == code
    assert (tmp_path / "images").is_dir()
    # a page not (wholly) translated says so under its title; a complete one does not
    for path in tmp_path.glob("*.*"):
        doc = f"chapters/{path.stem}"
        if path.suffix not in (".md", ".ipynb") or path.name == "README.md":
            continue
        text = path.read_text(encoding="utf-8")
        noted = tools.NOT_TRANSLATED in text or tools.PARTLY_TRANSLATED in text
        assert noted == (doc not in COMPLETE), f"{path.name}: the untranslated note"


# ------------------------------------------------------------------ the built editions
def _pages(root: Path) -> list[Path]:
    return sorted(
        p
        for p in root.rglob("*.html")
        if "_static" not in p.parts and "zh" not in p.relative_to(root).parts[:1]
    )


SWITCH = re.compile(r'<a class="btn btn-sm bpkit-lang-switch" href="([^"]+)"\s+hreflang="([^"]+)"')


@pytest.mark.parametrize("edition", ["en", "zh_CN"])
def test_every_page_declares_its_language_and_switches_to_itself(
    built_book: Path, built_zh_book: Path, edition: str
) -> None:
    root = built_book if edition == "en" else built_zh_book
    lang, other = ("en", "zh-CN") if edition == "en" else ("zh-CN", "en")
    pages = [p for p in _pages(root) if "<html" in p.read_text(encoding="utf-8")[:2000]]
    pages = [p for p in pages if 'http-equiv="Refresh"' not in p.read_text(encoding="utf-8")]
    assert len(pages) > 10
    bad = []
    for page in pages:
        text = page.read_text(encoding="utf-8")
        if f'<html lang="{lang}"' not in text:
            bad.append(f"{page.relative_to(root)}: no <html lang={lang!r}>")
        found = SWITCH.findall(text)
        if len(found) != 1 or found[0][1] != other:
            bad.append(f"{page.relative_to(root)}: switch links {found}")
            continue
        target = (page.parent / found[0][0]).resolve()
        mirror = (built_zh_book if edition == "en" else built_book) / page.relative_to(root)
        if target != mirror.resolve() or not target.is_file():
            bad.append(f"{page.relative_to(root)}: the switch goes to {found[0][0]}")
        if f'<link rel="alternate" hreflang="{other}" href="{found[0][0]}"' not in text:
            bad.append(f"{page.relative_to(root)}: no <link rel=alternate hreflang={other}>")
    assert not bad, "\n".join(bad)


def _visible_text(page: Path) -> str:
    text = page.read_text(encoding="utf-8")
    main = text.split('<main id="main-content"', 1)[-1].split("</main>", 1)[0]
    for tag in ("script", "style", "pre", "code", "math", "mjx-container", "dt"):
        main = re.sub(rf"<{tag}\b.*?</{tag}>", " ", main, flags=re.S)
    main = re.sub(r'<span class="math[^"]*">.*?</span>', " ", main, flags=re.S)
    main = re.sub(r"\\\(.*?\\\)|\\\[.*?\\\]|\$\$.*?\$\$", " ", main, flags=re.S)
    return html_lib.unescape(re.sub(r"<[^>]+>", " ", main))


@pytest.mark.parametrize("doc", [d for d in COMPLETE if d != tools.BOOK_DOMAIN])
def test_complete_chinese_pages_read_in_chinese(built_zh_book: Path, doc: str) -> None:
    text = _visible_text(built_zh_book / f"{doc}.html")
    assert len(HAN.findall(text)) > 300
    english = re.findall(r"(?:\b[A-Za-z][a-z'-]+\b[ ,;:]+){5,}[A-Za-z][a-z'-]+", text)
    assert not english, f"{doc}: English sentences on the Chinese page: {english[:5]}"
    assert "**" not in text and not ROLE.search(text), f"{doc}: Markdown shows as text"


def test_pages_not_translated_say_so(built_zh_book: Path) -> None:
    from i18n_ext import NOT_TRANSLATED, PARTLY_TRANSLATED

    for page in _pages(built_zh_book):
        doc = page.relative_to(built_zh_book).with_suffix("").as_posix()
        if not doc.startswith("chapters/"):
            continue
        text = page.read_text(encoding="utf-8")
        noted = NOT_TRANSLATED in text or PARTLY_TRANSLATED in text
        assert noted == (doc not in COMPLETE), f"{doc}: the note on an untranslated page"
        if NOT_TRANSLATED in text:
            assert '<div lang="en">' in text, f"{doc}: its English is not marked lang=en"


def test_binder_opens_the_chinese_notebook_from_a_chinese_page(built_zh_book: Path) -> None:
    page = (built_zh_book / "chapters" / "01_loss.html").read_text(encoding="utf-8")
    binder = re.findall(r'href="(https://mybinder\.org/[^"]+)"', page)
    assert binder and all("lab/tree/chapters_zh/01_loss.ipynb" in url for url in binder), binder
    assert (ROOT / "postBuild").read_text().count("book/i18n.py notebooks") == 1


def test_figures_with_words_are_drawn_in_chinese(built_zh_book: Path) -> None:
    """A drawing in locale/zh_CN/images/ replaces the English one of that name."""
    drawings = sorted((tools.LOCALE / tools.LANG / "images").glob("*.*"))
    assert drawings, "no Chinese drawing (the intro's training loop has one)"
    for drawing in drawings:
        built = built_zh_book / "_images" / drawing.name
        assert built.is_file(), f"{drawing.name} is not among the Chinese edition's images"
        assert built.read_bytes() == drawing.read_bytes(), f"{drawing.name}: the English one"


def test_complete_pages_show_no_output_in_english(built_zh_book: Path) -> None:
    report = json.loads((built_zh_book / "_i18n" / "untranslated.json").read_text("utf-8"))
    left = {doc: report[doc] for doc in COMPLETE if doc in report}
    assert not left, f"bpcourse outputs in English on complete pages: {left}"


def test_the_chinese_edition_has_chinese_captions_title_and_labels(built_zh_book: Path) -> None:
    page = (built_zh_book / "chapters" / "intro.html").read_text(encoding="utf-8")
    table = dict(_pairs(tools.MESSAGES / f"{tools.BOOK_DOMAIN}.po"))
    for english in tools.toc_messages():
        assert table[english] in page, f"{english!r} is not {table[english]!r} on the page"
    for caption in ("Before you start", "The course", "Appendices"):
        assert f">{caption}<" not in page
    assert 'placeholder="搜索本书……"' in page
    chapter = (built_zh_book / "chapters" / "01_loss.html").read_text(encoding="utf-8")
    assert "练习" in chapter and "Exercise " not in _visible_text(
        built_zh_book / "chapters" / "01_loss.html"
    )
    # the untouched check's note and the checkers' verdicts in Chinese, numbers as in English
    assert "运行笔记本时，这个单元会检查你的答案" in chapter
    assert "This cell checks your answer" not in chapter
    english = (built_zh_book.parent / "chapters" / "01_loss.html").read_text(encoding="utf-8")
    assert "This cell checks your answer" in english and "运行笔记本时" not in english
    assert re.findall(r"_frames/[\w.]+", english) == re.findall(r"_frames/[\w.]+", chapter)


def test_the_chinese_glossary_ends_with_a_pinyin_index(built_zh_book: Path) -> None:
    page = (built_zh_book / "chapters" / "a3_glossary.html").read_text(encoding="utf-8")
    index = page.split('id="zh-en-index"', 1)[1]
    rows = re.findall(
        r'<td><p>(.*?)</p></td>\s*<td><p><a class="reference internal" href="#(term-[\w-]+)"', index
    )
    glossary = [t for t in tools.terminology() if t.glossary]
    assert len(rows) >= len(glossary)
    ids = set(re.findall(r'<dt id="(term-[\w-]+)"', page))
    assert {target for _, target in rows} <= ids
    chinese = [html_lib.unescape(re.sub(r"<[^>]+>", "", c)) for c, _ in rows]
    assert chinese == sorted(chinese, key=tools.pinyin_key)
    assert "反向传播" in chinese and "批量规范化" in chinese and "批量归一化" in chinese
    # the glossary itself in pinyin order of its Chinese terms (Sphinx sorted it in English)
    terms = [
        html_lib.unescape(re.sub(r"<[^>]+>", "", t))
        for t in re.findall(r'<dt id="term-[\w-]+">(.*?)<a class="headerlink"', page, re.S)
    ]
    assert len(terms) == len(glossary)
    assert terms == sorted(terms, key=tools.pinyin_key), terms[:8]


# ------------------------------------------------------------------ search
SEARCH_WORDS = ["反向传播算法", "前向传播", "参数更新", "学习率调度", "批量归一化", "链式法则"]


@pytest.fixture(scope="module")
def search_page(built_zh_book: Path):
    from playwright.sync_api import sync_playwright

    executable = shutil.which("chromium") or "/usr/bin/chromium"
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=executable, args=["--no-sandbox"])
        page = browser.new_page()
        page.goto((built_zh_book / "search.html").as_uri() + "?q=梯度")
        page.wait_for_function("() => typeof Search !== 'undefined' && Search._index !== null")
        yield page
        browser.close()


def _search(page, query: str) -> list[str]:
    return page.evaluate(
        """(q) => { const parsed = Search._parseQuery(q);
        return Search._performSearch(...parsed).map((r) => r[0]); }""",
        query,
    )


def test_the_chinese_search_finds_every_glossary_term(search_page) -> None:
    terms = [t.chinese for t in tools.terminology() if t.glossary]
    missed = [t for t in terms if "chapters/a3_glossary" not in _search(search_page, t)]
    assert not missed, f"the Chinese search does not find these glossary terms: {missed}"


def test_the_chinese_search_finds_body_text_not_only_titles(search_page) -> None:
    for word in SEARCH_WORDS:
        found = _search(search_page, word)
        assert found, f"nothing found for {word}"
    # words of the intro's body (not a title) find the intro
    assert "chapters/intro" in _search(search_page, "自动微分引擎")
    assert "chapters/intro" in _search(search_page, "反向传播算法")

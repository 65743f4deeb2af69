"""The Chinese edition's tooling: message catalogs, the build, what is left, Chinese notebooks.

One source of truth: the English chapters. Their translations live in message catalogs,
one PO file per page, ``locale/zh_CN/LC_MESSAGES/<docname>.po`` (Sphinx's gettext builder
and sphinx-intl make and refresh them), plus ``_book.po`` for the words of ``_toc.yml``
and ``_config.yml`` (part captions, the book's title), and bpcourse's own catalog,
``bpcourse/locale/zh_CN/LC_MESSAGES/bpcourse.po``, for what the chapters' code prints
(:mod:`bpcourse.i18n`). Commands (``make`` runs them)::

    python book/i18n.py gettext     # refresh every catalog from the sources (new messages
                                    # empty, changed ones fuzzy); then translate the PO files
    python book/i18n.py build       # the Chinese edition, _build/html/zh, from the same
                                    # execution cache as the English one (build that first)
    python book/i18n.py status      # per file: messages, translated, fuzzy, untranslated
    python book/i18n.py notebooks   # chapters_zh/: the chapters in Chinese, for JupyterLab

``locale/zh_CN/complete.txt`` lists the pages that must be wholly translated (the tests
enforce it); ``locale/zh_CN/terminology.tsv`` the standard terms every translation uses.
"""

from __future__ import annotations

import argparse
import ast
import csv
import json
import os
import re
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LANG = "zh_CN"
LOCALE = ROOT / "locale"
MESSAGES = LOCALE / LANG / "LC_MESSAGES"
COMPLETE = LOCALE / LANG / "complete.txt"
TERMINOLOGY = LOCALE / LANG / "terminology.tsv"
BOOK_DOMAIN = "_book"  # the captions of _toc.yml and the title of _config.yml
BPCOURSE = ROOT / "bpcourse"
BPCOURSE_PO = BPCOURSE / "locale" / LANG / "LC_MESSAGES" / "bpcourse.po"
#: Where the Chinese edition is built (its own doctrees, stamps and notebook copies), and
#: where its pages are served from: beside the English pages, so a link between the two
#: editions is a relative path that works from file:// and offline.
BUILD = ROOT / "_build"
ZH_BUILD = BUILD / LANG
SITE = BUILD / "html"
SITE_ZH = SITE / "zh"
NOTEBOOKS_ZH = ROOT / "chapters_zh"

sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))


# ---------------------------------------------------------------- catalogs
def sphinx_overrides(builder_lang: str | None) -> dict:
    """Sphinx settings on top of _config.yml for a gettext run or a Chinese build."""
    over = {
        "external_toc_path": str(ROOT / "_toc.yml"),
        "latex_individualpages": False,
        "nitpicky": True,
        # The English edition's execution cache: the notebooks run once for both editions.
        "nb_execution_cache_path": str(BUILD / ".jupyter_cache"),
    }
    if builder_lang:
        over["language"] = builder_lang
    else:  # one template per page, without line numbers that change with every edit
        over.update({"gettext_compact": False, "gettext_location": False, "gettext_uuid": False})
    return over


def _build_sphinx(outdir: Path, doctrees: Path, builder: str, overrides: dict, strict: bool):
    from jupyter_book.sphinx import build_sphinx

    return build_sphinx(
        ROOT,
        outdir,
        noconfig=True,
        path_config=str(ROOT / "_config.yml"),
        confoverrides=overrides,
        doctreedir=doctrees,
        builder=builder,
        warningiserror=strict,
        keep_going=strict,
    )


def toc_messages() -> list[str]:
    """The words of _toc.yml and _config.yml a reader sees: part captions, the title."""
    import yaml

    toc = yaml.safe_load((ROOT / "_toc.yml").read_text(encoding="utf-8"))
    config = yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))
    found = [config["title"]]
    for part in toc.get("parts", []):
        if part.get("caption"):
            found.append(part["caption"])
        for chapter in part.get("chapters", []):
            if chapter.get("title"):
                found.append(chapter["title"])
    return list(dict.fromkeys(found))


def bpcourse_messages() -> dict[str, list[str]]:
    """Every ``_("...")``/``N_("...")`` message of bpcourse's code, with where it is."""
    from bpcourse.i18n import extract

    found: dict[str, list[str]] = {}
    for path in sorted(BPCOURSE.rglob("*.py")):
        for line, message in extract(path.read_text(encoding="utf-8")):
            found.setdefault(message, []).append(f"{path.relative_to(ROOT)}:{line}")
    return found


# ------------------------------------------------ what the chapters' code shows a reader
#: bpcourse.selfcheck's calls in a chapter's cells: how many leading positional arguments
#: are not words (the question's id); every other string argument is a message, except
#: the keywords of SKIP_KEYWORDS.
SELFCHECK_CALLS = {"Choice": 1, "Numeric": 1, "numeric_from_check": 1, "Option": 0}
SKIP_KEYWORDS = {"id", "exercise", "pick", "case", "rtol", "atol", "name", "show", "call"}
#: The keywords of an exercise's ``Check(...)`` whose strings a learner reads.
CHECK_KEYWORDS = {"what", "noun", "passed_message", "hints", "on_error"}
CODE_MESSAGES = BPCOURSE / "locale" / LANG / "LC_MESSAGES" / "chapters"


def _placeholder(value: ast.FormattedValue) -> str:
    conversion = "" if value.conversion == -1 else "!" + chr(value.conversion)
    spec = ""
    if value.format_spec is not None:
        spec = ":" + "".join(
            str(v.value) if isinstance(v, ast.Constant) else "{" + ast.unparse(v) + "}"
            for v in value.format_spec.values
        )
    return "{" + ast.unparse(value.value) + conversion + spec + "}"


def message_of(node: ast.AST) -> str | None:
    """The message id of a string literal: its text; for an f-string, a template whose
    placeholders are the f-string's expressions (``{H_q.tolist()}``), literal braces
    doubled, which :mod:`bpcourse.i18n` matches against the text made at run time."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        return "".join(
            str(v.value).replace("{", "{{").replace("}", "}}")
            if isinstance(v, ast.Constant)
            else _placeholder(v)
            for v in node.values
        )
    return None


def _strings(node: ast.AST) -> list[tuple[int, str]]:
    """The string literals in ``node`` (not inside a lambda, nor an f-string's parts)."""
    found = message_of(node)
    if found is not None:
        return [(node.lineno, found)] if re.search(r"[^\W\d_]", found) else []
    if isinstance(node, ast.Lambda):
        return []
    out = []
    for child in ast.iter_child_nodes(node):
        if isinstance(node, ast.Call) and child is node.func:
            continue
        if isinstance(node, ast.Dict) and child in node.keys:
            continue
        out += _strings(child)
    return out


def _call_name(call: ast.Call) -> str:
    f = call.func
    return f.id if isinstance(f, ast.Name) else f.attr if isinstance(f, ast.Attribute) else ""


def selfcheck_messages(source: str) -> list[tuple[int, str]]:
    """The words of the self-check questions a chapter's code cell makes."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Call) and _call_name(node) in SELFCHECK_CALLS:
            for arg in node.args[SELFCHECK_CALLS[_call_name(node)] :]:
                found += _strings(arg)
            for kw in node.keywords:
                if kw.arg not in SKIP_KEYWORDS:
                    found += _strings(kw.value)
    first: dict[str, int] = {}
    for line, message in found:  # an Option inside a Choice is found twice
        first[message] = min(line, first.get(message, line))
    return sorted(((line, m) for m, line in first.items()), key=lambda x: x[0])


def checker_messages(source: str) -> list[tuple[int, str]]:
    """What an exercise module's checkers say: the hint of every ``Mistake(...)``, the
    words of a ``Check(...)`` (what, noun, passed_message, hints, on_error), and the
    strings of module-level tables (hint tables such as ``SLIPS``; not docstrings)."""
    tree = ast.parse(source)
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        name = _call_name(node)
        if name == "Mistake":
            found += _strings(node.args[0]) if node.args else []
            found += [m for kw in node.keywords if kw.arg == "hint" for m in _strings(kw.value)]
        elif name == "Check":
            found += [
                m for kw in node.keywords if kw.arg in CHECK_KEYWORDS for m in _strings(kw.value)
            ]
            if len(node.args) > 4:  # Check(exercise, reference, cases, mistakes, what, ...)
                found += _strings(node.args[4])
    for node in tree.body:
        if isinstance(node, ast.Assign | ast.AnnAssign) and isinstance(
            node.value, ast.Tuple | ast.List | ast.Dict
        ):
            found += _strings(node.value)
    return [(line, m) for line, m in found if len(m.split()) >= 2]


#: Where an explorer's words are in its calls: the positional index or the keyword.
EXPLORER_WORDS = {"Slider": (1, "label"), "linspace": (3, "label"), "Explorer": (4, "title")}


def explorer_messages(source: str) -> list[tuple[int, str]]:
    """An explorer module's caption and slider labels (shown through ``_``; the sentence
    under each frame, ``describe``, is composed in code and not a message yet)."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.Call) or _call_name(node) not in EXPLORER_WORDS:
            continue
        index, keyword = EXPLORER_WORDS[_call_name(node)]
        if _call_name(node) != "Explorer":  # a slider: its label and any named values
            found += [m for arg in node.args for m in _strings(arg)]
        elif len(node.args) > index:
            found += _strings(node.args[index])
        found += [m for kw in node.keywords if kw.arg == keyword for m in _strings(kw.value)]
    return found


def _cells(path: Path) -> list[tuple[int, str]]:
    nb = json.loads(path.read_text(encoding="utf-8"))
    out = []
    for i, cell in enumerate(nb["cells"]):
        if cell["cell_type"] == "code":
            src = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
            out.append((i, src))
    return out


def code_messages() -> dict[str, dict[str, list[str]]]:
    """``{page: {message: [where]}}``: what each chapter's code shows a reader in words
    (its self-check questions, and the checkers of the exercise modules it imports)."""
    chapters = ROOT / "chapters"
    pages: dict[str, dict[str, list[str]]] = {}
    for path in sorted(chapters.glob("*.ipynb")):
        found: dict[str, list[str]] = {}
        modules: list[str] = []
        for i, source in _cells(path):
            try:
                lines = selfcheck_messages(source)
            except SyntaxError:  # a cell of IPython magics
                continue
            rel = f"{path.relative_to(ROOT).as_posix()}:cell{i}"
            for _line, message in lines:
                found.setdefault(message, []).append(rel)
            for m in re.finditer(
                r"from bpcourse\.(exercises|explorers) import ([\w, ]+)"
                r"|from bpcourse\.(exercises|explorers)\.(\w+) import",
                source,
            ):
                package = m.group(1) or m.group(3)
                names = m.group(2) or m.group(4)
                for module in re.split(r"\s*,\s*", names.strip()):
                    modules.append(f"{package}/{module.split(' as ')[0].strip()}")
        for module in dict.fromkeys(modules):
            file = BPCOURSE / f"{module}.py"
            if not file.is_file():
                continue
            extract = checker_messages if module.startswith("exercises/") else explorer_messages
            for line, message in extract(file.read_text(encoding="utf-8")):
                found.setdefault(message, []).append(f"{file.relative_to(ROOT).as_posix()}:{line}")
        if found:
            pages[path.stem] = found
    return pages


def _write_pot(path: Path, messages: dict[str, list[str]], project: str) -> None:
    from babel.messages.catalog import Catalog
    from babel.messages.pofile import write_po

    catalog = Catalog(project=project, charset="utf-8")
    for message, where in messages.items():
        # Files, not lines: a line number would be stale after the next edit.
        files = dict.fromkeys(w.rsplit(":", 1)[0] for w in where)
        catalog.add(message, locations=[(f, None) for f in files])
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as f:
        write_po(f, catalog, width=76, omit_header=False)


def gettext() -> None:
    """Refresh every catalog from the sources: Sphinx's gettext builder for the pages
    (one template per page), _toc.yml/_config.yml, bpcourse's code; sphinx-intl merges."""
    from sphinx_intl.basic import update

    pot = BUILD / "gettext"
    if pot.is_dir():
        shutil.rmtree(pot)
    code = _build_sphinx(
        pot, BUILD / ".doctrees-gettext", "gettext", sphinx_overrides(None), strict=False
    )
    if code:
        raise SystemExit(f"the gettext build failed ({code})")
    _write_pot(
        pot / f"{BOOK_DOMAIN}.pot",
        {m: ["_toc.yml:0"] for m in toc_messages()},
        "bpkit book",
    )
    update(str(LOCALE), str(pot), (LANG,), line_width=76)
    code_gettext()
    for path in catalogs():
        prefill(path)
    print(format_status(status()))


def code_gettext() -> None:
    """Refresh bpcourse's catalog and those of the chapters' code (self-check questions,
    checkers: bpcourse/locale/zh_CN/LC_MESSAGES/chapters/<page>.po), not the pages'."""
    from sphinx_intl.basic import update

    bp_pot = BUILD / "gettext-bpcourse"
    if bp_pot.is_dir():
        shutil.rmtree(bp_pot)
    _write_pot(bp_pot / "bpcourse.pot", bpcourse_messages(), "bpcourse")
    update(str(BPCOURSE / "locale"), str(bp_pot), (LANG,), line_width=76)
    pot = BUILD / "gettext-code"
    if pot.is_dir():
        shutil.rmtree(pot)
    for page, messages in code_messages().items():
        _write_pot(pot / "chapters" / f"{page}.pot", messages, f"bpkit book: {page}'s code")
    update(str(BPCOURSE / "locale"), str(pot), (LANG,), line_width=76)
    for path in [BPCOURSE_PO, *sorted(CODE_MESSAGES.glob("*.po"))]:
        prefill(path)


def nothing_to_translate(message: str) -> bool:
    """True for a message of maths, code and punctuation only (``$x$, $X$``,
    ```x`, `X```): its translation is itself."""
    words = re.sub(r"\$[^$]*\$|`[^`]*`|\{\w+\}", "", message)
    return not re.search(r"[^\W\d_]{2,}", words)


def prefill(path: Path) -> int:
    """Copy into ``msgstr`` every empty message with nothing to translate; return how many."""
    from babel.messages.pofile import read_po, write_po

    with path.open("rb") as f:
        catalog = read_po(f)
    filled = 0
    for message in catalog:
        if message.id and not message.string and nothing_to_translate(str(message.id)):
            message.string = message.id
            filled += 1
    if filled:
        with path.open("wb") as f:
            write_po(f, catalog, width=76)
    return filled


# ---------------------------------------------------------------- what is left
@dataclass(frozen=True)
class FileStatus:
    path: str  # relative to the repository
    total: int
    translated: int
    fuzzy: int
    untranslated: int
    missing: tuple[str, ...]  # the English of the fuzzy and untranslated messages


def catalog_status(path: Path) -> FileStatus:
    from babel.messages.pofile import read_po

    with path.open("rb") as f:
        catalog = read_po(f)
    total = fuzzy = done = 0
    missing = []
    for message in catalog:
        if not message.id:
            continue
        total += 1
        if message.fuzzy:
            fuzzy += 1
            missing.append(str(message.id))
        elif message.string:
            done += 1
        else:
            missing.append(str(message.id))
    rel = path.relative_to(ROOT).as_posix()
    return FileStatus(rel, total, done, fuzzy, total - done - fuzzy, tuple(missing))


def catalogs() -> list[Path]:
    """Every catalog: the pages', bpcourse's own, and those of the chapters' code."""
    return (
        sorted(MESSAGES.rglob("*.po"))
        + ([BPCOURSE_PO] if BPCOURSE_PO.is_file() else [])
        + sorted(CODE_MESSAGES.glob("*.po"))
    )


def page_catalogs(doc: str) -> list[Path]:
    """The catalogs a page needs translated: its own, and its code's if it has one."""
    code = CODE_MESSAGES / f"{Path(doc).name}.po"
    return [MESSAGES / f"{doc}.po"] + (
        [code] if doc.startswith("chapters/") and code.is_file() else []
    )


def status() -> list[FileStatus]:
    return [catalog_status(p) for p in catalogs()]


def docname(path: Path | str) -> str:
    """``chapters/intro`` for ``locale/zh_CN/LC_MESSAGES/chapters/intro.po``."""
    return Path(path).resolve().relative_to(MESSAGES).with_suffix("").as_posix()


def complete_pages() -> list[str]:
    """The pages that must be wholly translated (``locale/zh_CN/complete.txt``)."""
    lines = COMPLETE.read_text(encoding="utf-8").splitlines()
    return [line.split("#")[0].strip() for line in lines if line.split("#")[0].strip()]


def format_status(rows: list[FileStatus]) -> str:
    width = max(len(r.path) for r in rows)
    out = [f"{'catalog':<{width}}  messages  translated  fuzzy  untranslated"]
    for r in rows:
        out.append(
            f"{r.path:<{width}}  {r.total:>8}  {r.translated:>10}  {r.fuzzy:>5}  {r.untranslated:>12}"
        )
    t = [sum(getattr(r, k) for r in rows) for k in ("total", "translated", "fuzzy", "untranslated")]
    out.append(f"{'total':<{width}}  {t[0]:>8}  {t[1]:>10}  {t[2]:>5}  {t[3]:>12}")
    return "\n".join(out)


# ---------------------------------------------------------------- terminology
@dataclass(frozen=True)
class Term:
    english: str  # as the glossary writes it (or a standard term the glossary lacks)
    chinese: str  # the term every translation uses
    accepted: tuple[str, ...]  # other forms a translation may use (for the check)
    patterns: tuple[str, ...]  # English regexes that call for the term in a message
    glossary: bool  # an entry of the glossary


def terminology() -> list[Term]:
    """``locale/zh_CN/terminology.tsv``: english, chinese, also accepted, English patterns
    (``|``-separated regexes, default the English words), glossary (yes/no)."""
    rows = []
    with TERMINOLOGY.open(encoding="utf-8", newline="") as f:
        for row in csv.DictReader((line for line in f if not line.startswith("#")), delimiter="\t"):
            english = row["english"].strip()
            pattern = row["patterns"].strip() or r"\b" + re.escape(english) + r"s?\b"
            rows.append(
                Term(
                    english,
                    row["chinese"].strip(),
                    tuple(a.strip() for a in row["accepted"].split("|") if a.strip()),
                    tuple(p.strip() for p in pattern.split("|") if p.strip()),
                    row["glossary"].strip() == "yes",
                )
            )
    return rows


def pinyin_key(text: str) -> tuple:
    """How a Chinese index orders ``text``: by pinyin, tone numbers last, then the text."""
    from pypinyin import Style, lazy_pinyin

    syllables = lazy_pinyin(text, style=Style.TONE3, neutral_tone_with_five=True)
    return ([s.lower() for s in syllables], text)


def jieba_dictionary(path: Path) -> Path:
    """A jieba user dictionary of the terminology's Chinese terms (each a word to search
    for), so that the search index keeps 反向传播 as one word, not 反向 + 传播 only."""
    words: set[str] = set()
    for term in terminology():
        for form in (term.chinese, *term.accepted):
            for word in re.split(r"[（）()，、；;：:/\s]+", form):
                if re.search(r"[\u4e00-\u9fff]", word) and len(word) >= 2:
                    words.add(word)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(f"{w} 20000 n\n" for w in sorted(words)), encoding="utf-8")
    return path


# ---------------------------------------------------------------- the Chinese build
def build(strict: bool = True) -> int:
    """The Chinese edition: built in _build/zh_CN (its own doctrees and stamps) from the
    English edition's execution cache, then copied to _build/html/zh beside it."""
    from bpkit_book import bpkit_fingerprint

    english_stamp = BUILD / ".bpkit-fingerprint"
    if not english_stamp.is_file() or english_stamp.read_text() != bpkit_fingerprint():
        raise SystemExit(
            "build the English edition first (jupyter-book build . or make book): the "
            "Chinese one reads the notebooks' outputs from its execution cache"
        )
    over = sphinx_overrides(LANG)
    over.update(
        {
            "locale_dirs": [str(LOCALE)],
            "gettext_compact": False,
            "html_search_language": "zh",
            # A figure with words has its Chinese drawing in locale/zh_CN/images/ (same
            # name); Sphinx uses it when it exists, else the English one.
            "figure_language_filename": "/locale/{language}/images/{basename}{ext}",
            "html_search_options": {"dict": str(jieba_dictionary(ZH_BUILD / "jieba.txt"))},
            "nb_code_prompt_show": "显示代码",
            "nb_code_prompt_hide": "隐藏代码",
            "togglebutton_hint": "点击展开",
            "togglebutton_hint_hide": "点击收起",
        }
    )
    html = ZH_BUILD / "html"
    code = _build_sphinx(html, ZH_BUILD / ".doctrees", "html", over, strict)
    if code == 0:
        sync_tree(html, SITE_ZH)
    return int(code or 0) if not isinstance(code, Exception) else 1


def sync_tree(source: Path, target: Path) -> None:
    """Make ``target`` a copy of ``source``, copying only files that changed."""
    target.mkdir(parents=True, exist_ok=True)
    wanted = set()
    for path in source.rglob("*"):
        rel = path.relative_to(source)
        wanted.add(rel)
        dest = target / rel
        if path.is_dir():
            dest.mkdir(exist_ok=True)
            continue
        st = path.stat()
        if dest.is_file():
            dt = dest.stat()
            if dt.st_size == st.st_size and dt.st_mtime_ns == st.st_mtime_ns:
                continue
        shutil.copy2(path, dest)
    for path in sorted(target.rglob("*"), reverse=True):
        if path.relative_to(target) not in wanted:
            path.unlink() if path.is_file() or path.is_symlink() else path.rmdir()


# ---------------------------------------------------------------- Chinese notebooks
def translations(doc: str) -> dict[str, str]:
    """``{English: Chinese}`` of one page's translated messages."""
    from bpcourse.i18n import read_po

    path = MESSAGES / f"{doc}.po"
    return read_po(path.read_text(encoding="utf-8")) if path.is_file() else {}


def _flexible(message: str) -> str:
    """``message`` as a regex matching it in a source: its spaces may be any run of white
    space (Sphinx joins a paragraph's lines with spaces; list items are indented)."""
    return r"\s+".join(map(re.escape, message.split()))


#: What may stand before a block's text on its line: indentation, a list marker, a heading's
#: #s, a quote's >, a directive's opening (its title), an option (:alt:), a table's pipe.
_BLOCK_START = (
    r"(?P<pre>^[ \t]*(?:[-*+][ \t]+|\d+[.)][ \t]+|\#{1,6}[ \t]+|>[ \t]*"
    r"|:::\{[\w-]+\}[ \t]*|```\{[\w-]+\}[ \t]*|:[\w-]+:[ \t]+)?|\|[ \t]*)"
)


def translate_markdown(text: str, table: dict[str, str]) -> tuple[str, int]:
    """``text`` with each block (paragraph, list item, heading, table cell, title, option)
    that is a message of ``table`` replaced by its translation, in one pass (a translation
    is never translated again); returns how many were replaced."""
    table = {" ".join(k.split()): v for k, v in table.items() if v and v != k}
    if not table:
        return text, 0
    body = "|".join(_flexible(m) for m in sorted(table, key=len, reverse=True))
    pattern = re.compile(_BLOCK_START + f"(?P<msg>{body})" + r"(?=[ \t]*(?:\||$))", re.M)
    count = 0

    def replace(m: re.Match[str]) -> str:
        nonlocal count
        count += 1
        return m.group("pre") + table[" ".join(m.group("msg").split())]

    return pattern.sub(replace, text), count


SET_LANGUAGE = (
    "# 本章的中文版：bpcourse 的说明、滑块标签、自测题与检查器反馈都用中文显示。\n"
    "from bpcourse import i18n\n\n"
    'i18n.set_language("zh_CN")'
)


#: What a Chinese notebook or page that is not wholly translated says under its title
#: (as the built Chinese page does: book/i18n_ext.py).
NOT_TRANSLATED = "> 本页尚未翻译成中文，以下是英文原文。"
PARTLY_TRANSLATED = "> 本页尚未全部翻译成中文，未译的部分以英文原文显示。"


def untranslated_note(doc: str, table: dict[str, str]) -> str | None:
    if doc in complete_pages():
        return None
    return PARTLY_TRANSLATED if any(k != v for k, v in table.items()) else NOT_TRANSLATED


def _after_title(text: str, note: str) -> str:
    """``note`` as a paragraph after the first ``# title`` line of Markdown ``text``."""
    m = re.search(r"^# .*$", text, re.M)
    if m is None:
        return note + "\n\n" + text
    return text[: m.end()] + "\n\n" + note + "\n" + text[m.end() :]


def chinese_notebook(nb: dict, table: dict[str, str], note: str | None = None) -> tuple[dict, int]:
    """A chapter notebook with its markdown, figure captions and alt text in Chinese and a
    first code cell that makes bpcourse speak Chinese; code and its outputs unchanged.
    ``note`` goes under the title (a page not wholly translated says so)."""
    nb = json.loads(json.dumps(nb))
    count = 0
    if note:
        for cell in nb["cells"]:
            source = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
            if cell["cell_type"] == "markdown" and re.search(r"^# ", source, re.M):
                cell["source"] = _after_title(source, note)
                break
    for cell in nb["cells"]:
        source = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
        if cell["cell_type"] == "markdown":
            source, n = translate_markdown(source, table)
            cell["source"] = source
            count += n
        mystnb = cell.get("metadata", {}).get("mystnb", {})
        for key, field in (("figure", "caption"), ("image", "alt")):
            value = mystnb.get(key, {}).get(field)
            if value:
                new, n = translate_markdown(value, table)
                mystnb[key][field] = new
                count += n
    first = {
        "cell_type": "code",
        "execution_count": None,
        "id": "bpkit-zh-language",
        "metadata": {"tags": ["remove-cell"]},
        "outputs": [],
        "source": SET_LANGUAGE,
    }
    code_at = next((i for i, c in enumerate(nb["cells"]) if c["cell_type"] == "code"), 0)
    nb["cells"].insert(code_at, first)
    return nb, count


def notebooks(out: Path = NOTEBOOKS_ZH) -> dict[str, int]:
    """chapters_zh/: every page of the book in Chinese (notebooks and Markdown pages),
    generated from the catalogs, with the images they show; returns replacements made."""
    chapters = ROOT / "chapters"
    out.mkdir(exist_ok=True)
    if (chapters / "images").is_dir():
        shutil.copytree(chapters / "images", out / "images", dirs_exist_ok=True)
    made = {}
    for path in sorted(chapters.iterdir()):
        doc = f"chapters/{path.stem}"
        table = translations(doc)
        note = untranslated_note(doc, table)
        if path.suffix == ".ipynb":
            nb, n = chinese_notebook(json.loads(path.read_text(encoding="utf-8")), table, note)
            (out / path.name).write_text(
                json.dumps(nb, ensure_ascii=False, indent=1) + "\n", encoding="utf-8"
            )
        elif path.suffix == ".md":
            text, n = translate_markdown(path.read_text(encoding="utf-8"), table)
            text = _after_title(text, note) if note else text
            (out / path.name).write_text(text, encoding="utf-8")
        else:
            continue
        made[path.name] = n
    (out / "README.md").write_text(
        "# 中文版笔记本（自动生成）\n\n"
        "这些笔记本由 `python book/i18n.py notebooks` 根据 `locale/zh_CN/` 中的译文，"
        "从 `chapters/` 中的英文原版生成：请勿直接编辑，修改译文后重新生成即可。"
        "代码与英文版完全相同；尚未翻译的段落仍显示英文。\n",
        encoding="utf-8",
    )
    return made


# ---------------------------------------------------------------- command line
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    g = sub.add_parser("gettext", help="refresh every catalog from the sources")
    g.add_argument(
        "--no-pages",
        action="store_true",
        help="leave the pages' catalogs alone: only bpcourse's and the chapters' code's",
    )
    b = sub.add_parser("build", help="build the Chinese edition into _build/html/zh")
    b.add_argument("--no-strict", action="store_true", help="warnings are not errors")
    sub.add_parser("status", help="messages per catalog: translated, fuzzy, untranslated")
    sub.add_parser("notebooks", help="write chapters_zh/, the chapters in Chinese")
    args = parser.parse_args(argv)
    os.chdir(ROOT)
    if args.command == "gettext":
        if args.no_pages:
            code_gettext()
            print(format_status(status()))
        else:
            gettext()
    elif args.command == "build":
        return build(strict=not args.no_strict)
    elif args.command == "status":
        rows = status()
        print(format_status(rows))
        pages = set(complete_pages())
        left = [r for r in rows if r.path.endswith(".po") and r.missing and _is_page(r, pages)]
        for r in left:
            print(f"\n{r.path}: {len(r.missing)} to translate (it is in complete.txt)")
        return 1 if left else 0
    elif args.command == "notebooks":
        made = notebooks()
        print(f"wrote {len(made)} pages to {NOTEBOOKS_ZH.relative_to(ROOT)}/")
    return 0


def _is_page(row: FileStatus, pages: set[str]) -> bool:
    """Whether ``row`` is a catalog of a page in ``pages`` (its own or its code's)."""
    wanted = {p.relative_to(ROOT).as_posix() for doc in pages for p in page_catalogs(doc)}
    return row.path in wanted


if __name__ == "__main__":
    sys.exit(main())

r"""bpcourse's own words in the reader's language: one executed notebook, every language.

Everything bpcourse computes for a reader to read (an explorer's caption, labels and the
sentence under each frame; a self-check question and its verdicts; a checker's message; the
note a static page shows for an untouched check) goes through :func:`_`, gettext-style:
the English source text is the message id, and ``bpcourse/locale/<lang>/LC_MESSAGES/
bpcourse.po`` holds its translation (a fuzzy or empty entry counts as missing, and the
English shows). Write ``_("At learning rate {lr} ...").format(lr=lr)``, never
``_(f"...")``: the id must be the literal text. Mark a string that is translated later,
where it is shown, with :func:`N_`.

Two ways to run:

* **a kernel** (JupyterLab, Binder, Colab, nbval): one language, ``BPKIT_LANG`` (``en``
  unless set) or :func:`set_language` (the first cell of a Chinese notebook made by
  ``book/i18n.py notebooks`` calls ``set_language("zh_CN")``);
* **the book build**: the book's extension sets ``BPKIT_LANGUAGES=en,zh_CN`` before any
  notebook runs. The notebooks are executed once, for both editions, so every number and
  every frame is the same in both; what is made of words is made once per language:
  :func:`localized` evaluates a function under each language and returns one string that
  carries every variant between markers (``[[bpkit-lang:en]]...[[bpkit-lang:zh_CN]]...
  [[bpkit-lang:/]]``). The markers are plain ASCII, so they pass through ``html.escape``,
  ``json.dumps`` and Markdown unchanged; the book's extension, writing a page in language
  L, keeps L's variant of each (:func:`resolve`) and counts the variants that fell back to
  English (a ``?`` after the language: ``[[bpkit-lang:zh_CN?]]``).
"""

from __future__ import annotations

import ast
import contextlib
import os
import re
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from functools import cache, partial
from pathlib import Path

__all__ = [
    "LANGUAGES",
    "N_",
    "_",
    "language",
    "languages",
    "localized",
    "read_po",
    "resolve",
    "set_language",
    "tr",
    "using",
]

#: The source language and every language with a catalog (in the order pages list them).
LANGUAGES = ("en", "zh_CN")
#: One language for a kernel (``en`` unless set).
LANG_ENV = "BPKIT_LANG"
#: Every language a book build renders, comma-separated (set by the book's extension).
LANGUAGES_ENV = "BPKIT_LANGUAGES"
LOCALE_DIR = Path(__file__).resolve().parent / "locale"
DOMAIN = "bpcourse"

_active: ContextVar[str | None] = ContextVar("bpcourse_language", default=None)
_chosen: list[str] = []  # set_language's choice (a list: no ``global`` statement)
_missed: ContextVar[list[str] | None] = ContextVar("bpcourse_missed", default=None)


# ---------------------------------------------------------------- catalogs
def _unquote(token: str) -> str:
    """The text of one quoted PO string, ``"..."``, with its escapes undone."""
    body = token.strip()[1:-1]
    escapes = {"n": "\n", "t": "\t", '"': '"', "\\": "\\", "r": "\r"}
    return re.sub(r"\\(.)", lambda m: escapes.get(m.group(1), m.group(1)), body)


def read_po(text: str) -> dict[str, str]:
    """``{msgid: msgstr}`` of a PO file's translated entries.

    Entries that are fuzzy (``#, fuzzy``), untranslated (empty ``msgstr``), obsolete
    (``#~``) or the header are left out, as gettext leaves them out. Message contexts
    and plurals are not used by bpcourse and are refused rather than misread.
    """
    out: dict[str, str] = {}
    entry: dict[str, str] = {}
    flags: set[str] = set()
    field: str | None = None

    def flush() -> None:
        nonlocal entry, flags, field
        msgid, msgstr = entry.get("msgid", ""), entry.get("msgstr", "")
        if msgid and msgstr and "fuzzy" not in flags:
            out[msgid] = msgstr
        entry, flags, field = {}, set(), None

    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line:
            flush()
        elif line.startswith("#,"):
            if entry:
                flush()
            flags |= {f.strip() for f in line[2:].split(",")}
        elif line.startswith("#"):
            if entry and not line.startswith("#~"):
                flush()
        elif line.startswith('"'):
            if field is None:
                raise ValueError(f"PO line {number}: a string continues no field: {raw!r}")
            entry[field] += _unquote(line)
        else:
            key, _, rest = line.partition(" ")
            if key in ("msgctxt", "msgid_plural") or key.startswith("msgstr["):
                raise ValueError(f"PO line {number}: bpcourse catalogs use no {key}")
            if key not in ("msgid", "msgstr"):
                raise ValueError(f"PO line {number}: unknown field {key!r}")
            if key == "msgid" and "msgid" in entry:
                flush()
            field = key
            entry[key] = _unquote(rest)
    flush()
    return out


@cache
def catalog(lang: str) -> dict[str, str]:
    """The translations of ``lang`` (empty for English and for a language with none):
    bpcourse's own catalog, ``bpcourse.po``, and the catalogs of what the chapters' code
    shows (``chapters/<page>.po``: self-check questions written in a chapter's cells and
    the messages of its exercise checkers), one table."""
    folder = LOCALE_DIR / lang / "LC_MESSAGES"
    if lang == "en" or not folder.is_dir():
        return {}
    table: dict[str, str] = {}
    for path in sorted(folder.rglob("*.po")):
        table.update(read_po(path.read_text(encoding="utf-8")))
    return table


#: A placeholder of a message template: ``{expression}`` as the chapter's f-string wrote it
#: (``{{`` and ``}}`` are literal braces).
_PLACEHOLDER = re.compile(r"\{\{|\}\}|\{([^{}]+)\}")


@cache
def templates(lang: str) -> tuple[tuple[re.Pattern[str], tuple[str, ...], str], ...]:
    """The translated messages with placeholders from the chapters' catalogs, as
    ``(regex, placeholders, translation)``: a chapter's f-string prompt (``f"for H =
    {H_q.tolist()}, what ..."``) is made at run time with its numbers in it, so it is
    found by matching, and the numbers are put into the translation's placeholders."""
    folder = LOCALE_DIR / lang / "LC_MESSAGES" / "chapters"
    if lang == "en" or not folder.is_dir():
        return ()
    found = []
    for path in sorted(folder.glob("*.po")):
        for msgid, msgstr in read_po(path.read_text(encoding="utf-8")).items():
            if msgstr == msgid or not re.search(r"[^\W\d_]", _PLACEHOLDER.sub("", msgid)):
                continue  # nothing to translate around the placeholders (``{v:g}``)
            parts, names, pos = [], [], 0
            for m in _PLACEHOLDER.finditer(msgid):
                parts.append(re.escape(msgid[pos : m.start()]))
                if m.group(1) is None:
                    parts.append(re.escape(m.group(0)[0]))
                else:
                    parts.append("(.+?)")
                    names.append(m.group(1))
                pos = m.end()
            if names:
                parts.append(re.escape(msgid[pos:]))
                found.append((re.compile("".join(parts), re.DOTALL), tuple(names), msgstr))
    return tuple(found)


def _from_template(message: str, lang: str) -> str | None:
    """``message`` translated by the first template it matches, or ``None``."""
    for pattern, names, translation in templates(lang):
        m = pattern.fullmatch(message)
        if m is None:
            continue
        values: dict[str, str] = {}
        if all(values.setdefault(n, v) == v for n, v in zip(names, m.groups(), strict=True)):
            return _PLACEHOLDER.sub(partial(_fill, values=values, lang=lang), translation)
    return None  # (one expression with two values in a template does not match it)


def _fill(placeholder: re.Match[str], *, values: dict[str, str], lang: str) -> str:
    if placeholder.group(1) is None:  # {{ or }}
        return placeholder.group(0)[0]
    value = values.get(placeholder.group(1))
    if value is None:
        return placeholder.group(0)
    table = catalog(lang)  # a value may be a message itself (a slip's hint)
    return table.get(value) or table.get(value[:1].lower() + value[1:]) or value


# ---------------------------------------------------------------- the language
def _check(lang: str) -> str:
    if lang not in LANGUAGES:
        raise ValueError(f"unknown language {lang!r}; bpcourse speaks {', '.join(LANGUAGES)}")
    return lang


def languages() -> tuple[str, ...]:
    """The languages outputs are made in: every language of a book build, else one."""
    wanted = os.environ.get(LANGUAGES_ENV, "").strip()
    if wanted:
        return tuple(_check(lang.strip()) for lang in wanted.split(",") if lang.strip())
    return (language(),)


def language() -> str:
    """The language :func:`_` translates into now."""
    active = _active.get()
    if active is not None:
        return active
    if _chosen:
        return _chosen[-1]
    return _check(os.environ.get(LANG_ENV, "").strip() or "en")


def set_language(lang: str) -> None:
    """Speak ``lang`` in this kernel from now on (``"en"`` or ``"zh_CN"``)."""
    _chosen[:] = [_check(lang)]


@contextlib.contextmanager
def using(lang: str) -> Iterator[None]:
    """Speak ``lang`` inside the ``with`` block."""
    token = _active.set(_check(lang))
    try:
        yield
    finally:
        _active.reset(token)


_WORD = re.compile(r"[^\W\d_]{2,}")


def _(message: str) -> str:
    """``message`` (English, the id) in the current language; English when untranslated."""
    lang = language()
    if lang == "en" or not _WORD.search(message):  # digits, maths, symbols: said as they are
        return message
    table = catalog(lang)
    found = table.get(message)
    if found is None and message[:1].isupper():  # a hint capitalised to start a sentence
        found = table.get(message[:1].lower() + message[1:])
    if found is None and len(message) < 4000:
        found = _from_template(message, lang)
    if found is None and "; " in message:  # hints joined by code: each is a message
        found = _joined(message, lang)
    if found is None:
        missed = _missed.get()
        if missed is not None:
            missed.append(message)
        return message
    return found


def _joined(message: str, lang: str) -> str | None:
    """``"a; b"`` as the translations of ``a`` and ``b`` joined, or ``None``."""
    table, parts = catalog(lang), []
    for part in message.split("; "):
        found = table.get(part) or table.get(part[:1].lower() + part[1:])
        if found is None and len(part) < 4000:
            found = _from_template(part, lang)
        if found is None:
            return None
        parts.append(found)
    return SEPARATOR.get(lang, "; ").join(parts)


#: How a language joins clauses that code put together with "; ".
SEPARATOR = {"zh_CN": "；"}


def N_(message: str) -> str:
    """Mark ``message`` for the catalog without translating it (done where it is shown)."""
    return message


# ---------------------------------------------------------------- many languages at once
MARK = "[[bpkit-lang:{}]]"
END = "[[bpkit-lang:/]]"
_GROUP = re.compile(r"\[\[bpkit-lang:en\]\](.*?)\[\[bpkit-lang:/\]\]", re.DOTALL)
_VARIANT = re.compile(r"\[\[bpkit-lang:(\w+)(\??)\]\]")


def localized(make: Callable[[], str]) -> str:
    """``make()`` in every language outputs are made in (:func:`languages`).

    In a kernel that is one language and this is just ``make()``. In the book build the
    variants that differ come back as one marked string that the book resolves per page
    (module docstring); a variant in which some :func:`_` found no translation is marked
    as falling back (``?``), so that the build can count it.
    """
    langs = languages()
    if len(langs) == 1:
        with using(langs[0]):
            return make()
    variants: list[tuple[str, str, bool]] = []
    for lang in langs:
        missed: list[str] = []
        token = _missed.set(missed)
        try:
            with using(lang):
                variants.append((lang, str(make()), bool(missed)))
        finally:
            _missed.reset(token)
    english = variants[0][1] if variants[0][0] == "en" else None
    if all(text == english and not fell for _lang, text, fell in variants[1:]):
        return english  # nothing to choose between (numbers, names)
    if variants[0][0] != "en":
        raise ValueError(f"{LANGUAGES_ENV} must list en first; got {langs}")
    out = [MARK.format(lang + ("?" if fell else "")) + text for lang, text, fell in variants]
    return "".join(out) + END


def resolve(text: str, lang: str) -> tuple[str, list[str]]:
    """``text`` with every marked group (:func:`localized`) reduced to ``lang``'s variant
    (English where that language has none), and the English of the variants that fell
    back to English for ``lang``: what the page shows untranslated."""
    fell_back: list[str] = []

    def pick(m: re.Match[str]) -> str:
        parts = _VARIANT.split("[[bpkit-lang:en]]" + m.group(1))
        # parts: "", "en", "", english, "zh_CN", "?", chinese, ...
        found = {parts[i]: (parts[i + 2], parts[i + 1] == "?") for i in range(1, len(parts), 3)}
        text, fell = found.get(lang, (found["en"][0], lang != "en"))
        if fell and lang != "en":
            fell_back.append(found["en"][0])
        return text

    return _GROUP.sub(pick, text), fell_back


# ---------------------------------------------------------------- extraction
def extract(source: str) -> list[tuple[int, str]]:
    """``(line, message)`` of every ``_("...")`` and ``N_("...")`` with a literal message in
    Python ``source``; an f-string or a computed message is refused (it cannot be an id)."""
    found: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(source)):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)):
            continue
        if node.func.id not in ("_", "N_", "tr") or not node.args:
            continue
        arg = node.args[0]
        if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
            found.append((node.lineno, arg.value))
        elif isinstance(arg, ast.JoinedStr):
            raise ValueError(
                f"line {node.lineno}: {node.func.id}(f'...') cannot be translated; write "
                f'{node.func.id}("... {{name}} ...").format(name=...)'
            )
    return sorted(found)


def tr(message: str) -> str:
    """``_(message)`` in every language outputs are made in: :func:`localized` of it."""
    return localized(lambda: _(message))

"""``make pdf`` (book/pdf.py): the whole book as one PDF, built offline.

The PDF's text is read with pypdf (pure Python, so the test needs no system package such
as poppler-utils): it holds every chapter's title, every exercise number the HTML book
shows, and no raw TeX (MathJax typeset every formula before printing; ``print_pdf``
refuses to print otherwise, as it does when an image has not loaded).
"""

from __future__ import annotations

import html
import re
from pathlib import Path

import pdf as book_pdf
import pytest
from conftest import BOOK_OUTPUT, BOOK_SOURCE
from test_browser import PAGES

RAW_TEX = re.compile(r"\\(?:frac|sum|partial|mathbf|begin|left|right|sigma|eta|nabla)\b|\$\$")


@pytest.fixture(scope="module")
def printed(built_book: Path) -> dict:
    page = book_pdf.build_single_page(BOOK_SOURCE, BOOK_OUTPUT)
    info = book_pdf.print_pdf(page, BOOK_OUTPUT / "_build" / "pdf" / "book.pdf")
    from pypdf import PdfReader

    reader = PdfReader(info["path"])
    info["pages"] = len(reader.pages)
    info["text"] = "\n".join(p.extract_text() or "" for p in reader.pages)
    return info


def _squash(text: str) -> str:
    """Text without whitespace or soft hyphens: PDF extraction breaks lines anywhere."""
    return re.sub(r"[\s\u00ad]+", "", text)


def _title(built_book: Path, page: str) -> str:
    h1 = re.search(r"<h1>(.*?)</h1>", (built_book / f"{page}.html").read_text(), re.S)
    text = html.unescape(re.sub(r"<[^>]+>", "", h1.group(1)))
    return text.replace("#", "").strip()


def test_pdf_holds_the_whole_book(printed: dict, built_book: Path) -> None:
    assert printed["pages"] > 50, f"only {printed['pages']} pages"
    assert printed["math"] > 100 and printed["typeset"] == printed["math"]
    assert printed["images"] > 30 and not printed["broken"]
    text = _squash(printed["text"])
    missing = [t for t in (_title(built_book, p) for p in PAGES) if _squash(t) not in text]
    assert not missing, f"chapter titles missing from the PDF: {missing}"


def test_pdf_has_no_raw_tex(printed: dict) -> None:
    """No TeX left untypeset in the prose. Code may show TeX (a plot label like
    ``r"$\\sigma'(z)$"``): a command is allowed as often as the book's code shows it."""
    page = Path(printed["path"]).parents[1] / "singlehtml" / "book.html"
    code = "".join(
        html.unescape(re.sub(r"<[^>]+>", "", block))
        for block in re.findall(r"<pre>(.*?)</pre>", page.read_text(), re.S)
    )
    found = RAW_TEX.findall(printed["text"])
    raw = sorted({t for t in found if found.count(t) > code.count(t)})
    assert not raw, f"raw TeX in the PDF: {raw}"


def test_pdf_numbers_exercises_as_the_html_book(printed: dict, built_book: Path) -> None:
    numbers = set()
    for page in PAGES:
        numbers |= set(
            re.findall(r"Exercise (\d+\.\d+)", (built_book / f"{page}.html").read_text())
        )
    assert len(numbers) > 30
    found = set(re.findall(r"Exercise\s*(\d+\.\d+)", printed["text"]))
    assert numbers <= found, f"exercise numbers missing from the PDF: {sorted(numbers - found)}"

"""The book builds with warnings as errors (the ``built_book`` fixture runs
``jupyter-book build -W -n --keep-going`` and fails on any warning), and every page of the
table of contents is in it, opening on the introduction."""

from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]


def _toc_pages() -> list[str]:
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    pages = [toc["root"]]
    for part in toc["parts"]:
        pages += [chapter["file"] for chapter in part["chapters"]]
    return pages


def test_every_toc_page_is_built(built_book: Path) -> None:
    for page in _toc_pages():
        assert (built_book / f"{page}.html").is_file(), f"{page} missing from the built book"


def test_book_opens_on_the_introduction(built_book: Path) -> None:
    index = (built_book / "index.html").read_text()
    assert "chapters/intro.html" in index
    intro = (built_book / "chapters" / "intro.html").read_text()
    assert "Backpropagation, executed" in intro


def test_chapter_pages_carry_their_computed_outputs(built_book: Path) -> None:
    loss = (built_book / "chapters" / "01_loss.html").read_text()
    assert loss.count("<img") >= 3, "the loss chapter's figures are missing"
    assert "math notranslate" in loss, "the loss chapter's maths is missing"
    for page in _toc_pages():
        html = (built_book / f"{page}.html").read_text()
        assert "np.float64(" not in html, f"{page}: a glued numpy scalar leaked into the text"

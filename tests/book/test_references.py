"""The shared bibliography: every citation resolves, every entry is complete and checkable."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from pybtex.database import parse_file

ROOT = Path(__file__).resolve().parents[2]
BIB = ROOT / "references.bib"
CHAPTERS = ROOT / "chapters"

# {cite}`a`, {cite:p}`a,b`, {cite:t}`a` ... as written in markdown cells and .md pages
CITE = re.compile(r"\{cite(?::[a-z]+)?\}`([^`]+)`")
# The sources the course relies on, under the keys the chapters cite them by.
REQUIRED = {
    "rumelhart1986",
    "werbos1974",
    "glorot2010",
    "he2015",
    "kingma2015adam",
    "hochreiter1991",
    "bengio1994",
    "goodfellow2016deep",
    "nielsen2015",
    "nesterov1983",
    "goh2017momentum",
    "karpathy_cs231n_nn3",
}


def cited_keys(text: str) -> set[str]:
    """Every citation key in a page's source text."""
    return {key.strip() for group in CITE.findall(text) for key in group.split(",") if key.strip()}


def _sources() -> list[Path]:
    return sorted(p for p in CHAPTERS.rglob("*") if p.suffix in (".md", ".ipynb"))


@pytest.fixture(scope="module")
def bib():
    return parse_file(str(BIB), bib_format="bibtex")


def test_cited_keys_parser_finds_every_role_and_list():
    text = "see {cite}`a` and {cite:p}`b, c` or {cite:t}`d`; not `e` nor {ref}`f`"
    assert cited_keys(text) == {"a", "b", "c", "d"}


def test_every_cited_key_exists(bib):
    known = set(bib.entries)
    missing = {
        f"{path.name}: {key}"
        for path in _sources()
        for key in cited_keys(path.read_text(encoding="utf-8"))
        if key not in known
    }
    assert not missing, (
        f"cited but not in references.bib: {sorted(missing)}; add the entry (real sources "
        f"only) or use an existing key: {sorted(known)}"
    )


def test_the_course_sources_are_present(bib):
    assert REQUIRED <= set(bib.entries), sorted(REQUIRED - set(bib.entries))


def test_every_entry_has_author_title_and_year(bib):
    for key, entry in bib.entries.items():
        assert entry.persons.get("author"), f"{key} has no author"
        assert entry.fields.get("title", "").strip(), f"{key} has no title"
        year = entry.fields.get("year", "")
        # "n.d." is the honest year of an undated web page
        assert re.fullmatch(r"1[89]\d\d|20\d\d|n\.d\.", year), f"{key}: year {year!r}"


def test_dois_and_urls_are_well_formed(bib):
    for key, entry in bib.entries.items():
        doi = entry.fields.get("doi")
        if doi:
            assert re.fullmatch(r"10\.\d{4,9}/\S+", doi), f"{key}: doi {doi!r}"
        url = entry.fields.get("url")
        if url:
            assert re.fullmatch(r"https?://\S+", url), f"{key}: url {url!r}"


def test_no_work_is_listed_twice(bib):
    seen: dict[str, str] = {}
    for key, entry in bib.entries.items():
        title = re.sub(r"[^a-z]", "", entry.fields["title"].lower())
        assert title not in seen, f"{key} and {seen[title]} are the same work"
        seen[title] = key


@pytest.mark.parametrize(
    ("key", "field", "value"),
    [
        ("rumelhart1986", "doi", "10.1038/323533a0"),
        ("rumelhart1986", "pages", "533--536"),
        ("rumelhart1986", "volume", "323"),
        ("werbos1974", "school", "Harvard University"),
        ("glorot2010", "pages", "249--256"),
        ("glorot2010", "volume", "9"),
        ("bengio1994", "pages", "157--166"),
        ("bengio1994", "volume", "5"),
        ("bengio1994", "number", "2"),
        ("he2015", "year", "2015"),
        ("kingma2015adam", "url", "https://arxiv.org/abs/1412.6980"),
        ("hochreiter1991", "year", "1991"),
        ("goodfellow2016deep", "publisher", "MIT Press"),
        ("nielsen2015", "publisher", "Determination Press"),
        ("nesterov1983", "year", "1983"),
        ("nesterov1983", "pages", "543--547"),
        ("nesterov1983", "journal", "Doklady Akademii Nauk SSSR"),
        ("goh2017momentum", "doi", "10.23915/distill.00006"),
        ("goh2017momentum", "journal", "Distill"),
        ("karpathy_cs231n_nn3", "url", "https://cs231n.github.io/neural-networks-3/"),
    ],
)
def test_course_sources_carry_their_checkable_facts(bib, key, field, value):
    assert bib.entries[key].fields.get(field) == value


def test_references_page_holds_the_bibliography():
    page = (CHAPTERS / "a4_references.md").read_text(encoding="utf-8")
    assert page.startswith("(appendix-references)=")
    assert "```{bibliography}" in page


def test_theses_are_described_as_what_they_are(bib):
    assert bib.entries["werbos1974"].type == "phdthesis"
    # a German Diplom thesis: not a PhD thesis, and not rendered as a "Master's thesis"
    hochreiter = bib.entries["hochreiter1991"]
    assert hochreiter.type == "misc"
    assert hochreiter.fields["howpublished"].startswith("Diploma thesis")


def test_web_pages_carry_an_access_date(bib):
    # an undated web page is only checkable with the date it was read
    for key, entry in bib.entries.items():
        if entry.fields.get("year") == "n.d.":
            date = entry.fields.get("urldate", "")
            assert re.fullmatch(r"20\d\d-\d\d-\d\d", date), f"{key}: urldate {date!r}"
            assert f"Accessed {date}" in entry.fields.get("note", ""), key

"""book/conventions.py (the round-B converter) and book/eval_reader.py (how the book reads
``{eval}``), on small notebooks written here."""

from __future__ import annotations

import conventions
import eval_reader
import nbformat
import pytest
from conftest import ROOT

v4 = nbformat.v4


def _nb(*cells) -> object:
    nb = v4.new_notebook()
    nb.cells = [
        v4.new_markdown_cell(c[3:]) if c.startswith("md:") else v4.new_code_cell(c) for c in cells
    ]
    return nb


def test_figure_and_bookkeeping_cells_are_told_apart() -> None:
    figure, book, teach = _nb(
        "fig = new_figure()\nax = add_axes(fig, 1, 1, 1)\nax.plot(x, y)\nfig",
        'from myst_nb import glue\nglue("a", 1.0, display=False)\nassert a > 0',
        "loss = mse(y_hat, y)\nglue('loss', loss, display=False)",
    ).cells
    assert conventions.is_figure_cell(figure) and not conventions.is_figure_cell(teach)
    assert conventions.is_bookkeeping_cell(book)
    assert not conventions.is_bookkeeping_cell(teach)  # it computes: it stays on the page
    assert not conventions.computes_too(figure)


def test_fold_and_figures_tag_and_name() -> None:
    nb = _nb(
        "fig = new_figure()\nfig",
        'glue("a", 1.0, display=False)',
        "fig = new_figure()\nfig",
    )
    nb.cells[0].metadata["mystnb"] = {"image": {"alt": "Two curves that cross at zero."}}
    report = conventions.Report("x")
    conventions.figures(conventions.fold(nb, report), report, "01_loss")
    assert conventions.tags(nb.cells[0]) == ["hide-input"]
    assert conventions.tags(nb.cells[1]) == ["remove-cell"]
    first, second = (nb.cells[i].metadata["mystnb"]["figure"] for i in (0, 2))
    assert first == {"name": "fig-loss-1", "caption": "Two curves that cross at zero."}
    assert second == {"name": "fig-loss-2"}
    assert any("neither alt text nor caption" in item for item in report.left)


def test_eval_conversion_moves_values_into_names(tmp_path) -> None:
    (tmp_path / "01_loss.ipynb").write_text(
        nbformat.writes(_nb("md:(chapter-loss)=\n# Loss functions"))
    )
    nb = _nb(
        "from myst_nb import glue\nx = 2.0\n"
        'glue("half", x / 2, display=False)\nglue("x", x, display=False)',
        'for name, value in [("lo", x - 1), ("hi", x + 1)]:\n    glue(name, float(value), display=False)',
        "md:Half is {glue:text}`half:.2f`, x is {glue:text}`x`; see {ref}`chapter-loss` "
        "and {ref}`the start <chapter-loss>`; {glue:text}`lo:.1f` to {glue:text}`hi:.1f`.",
        "md:{ref}`ex-other` stays.",
    )
    report = conventions.Report("x")
    conventions.to_eval(nb, report, tmp_path)
    assert nb.cells[0].source == "x = 2.0\nhalf = x / 2"  # the glue import goes too
    assert nb.cells[1].source == "lo = float(x - 1)\nhi = float(x + 1)"
    assert nb.cells[2].source == (
        'Half is {eval}`f"{half:.2f}"`, x is {eval}`f"{x}"`; see '
        "[Loss functions](01_loss.ipynb) and [the start](01_loss.ipynb); "
        '{eval}`f"{lo:.1f}"` to {eval}`f"{hi:.1f}"`.'
    )
    assert report.left == ["{ref} to ex-other: reads as its label in JupyterLab"]


def test_chapter_links_find_a_title_after_the_numbering_cell(tmp_path) -> None:
    """book/convert_exercises.py puts a numbering front-matter cell before the title."""
    nb = _nb('md:---\nnumbering:\n  enumerator: "2.%s"\n---', "md:(chapter-gd)=\n# Descent")
    (tmp_path / "02_gd.ipynb").write_text(nbformat.writes(nb))
    assert conventions._chapter_links(tmp_path) == {"chapter-gd": ("02_gd.ipynb", "Descent")}


def test_eval_conversion_leaves_what_it_cannot_move_and_says_why(tmp_path) -> None:
    nb = _nb(
        "md:Early: {glue:text}`late:.1f`.",
        'late = 3.0\nglue("late", late + 1, display=False)',
        'total = 1\nglue("total", total * 2, display=False)',
        'for k in range(2):\n    glue(f"k_{k}", k, display=False)',
        "md:{glue:text}`total` and {glue:text}`k_0`.",
    )
    report = conventions.Report("x")
    before = [c.source for c in nb.cells]
    conventions.to_eval(nb, report, tmp_path)
    assert [c.source for c in nb.cells] == before
    text = "\n".join(report.left)
    assert "late: quoted above the cell that computes it" in text
    assert "total: also a variable of the notebook" in text
    assert "k_0: glued in a function, with a computed key or shown" in text


def test_the_book_reads_eval_roles_as_glued_values() -> None:
    nb = _nb("x = 0.5", 'md:Here {eval}`f"{x:.2f}"` and {eval}`x * 2`.', "md:Nothing here.")
    out = eval_reader.to_glue(nb)
    assert [c.cell_type for c in out.cells] == ["code", "code", "markdown", "markdown"]
    glue_cell = out.cells[1]
    assert glue_cell.metadata["tags"] == ["remove-cell", eval_reader.TAG]
    assert glue_cell.id == f"{eval_reader.TAG}-1"  # the same on every read
    assert "glue('_eval_1_0', f\"{x:.2f}\", display=False)" in glue_cell.source
    assert "glue('_eval_1_1', x * 2, display=False)" in glue_cell.source
    assert out.cells[2].source == "Here {glue:text}`_eval_1_0` and {glue:text}`_eval_1_1`."
    nbformat.validate(out)


def test_converted_numbers_read_the_same_when_executed(tmp_path) -> None:
    nb = _nb(
        "from myst_nb import glue\nimport math\nr = math.pi / 7",
        'glue("ratio", r, display=False)\nglue("name", "sgd", display=False)',
        "md:The ratio is {glue:text}`ratio:.4f` for {glue:text}`name`.",
    )
    before = conventions.quoted_numbers(nb, tmp_path)
    conventions.to_eval(nb, conventions.Report("x"), tmp_path)
    after = conventions.quoted_numbers(nb, tmp_path)
    assert [shown for _, shown in before] == ["0.4488", "sgd"]
    assert [shown for _, shown in after] == ["0.4488", "sgd"]


@pytest.mark.parametrize("path", sorted((ROOT / "chapters").glob("*.ipynb")), ids=lambda p: p.stem)
def test_report_on_every_chapter_changes_nothing(path) -> None:
    text = path.read_text()
    report = conventions.run("report", path)
    assert path.read_text() == text
    assert isinstance(report.left, list)

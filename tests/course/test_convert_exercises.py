"""The round-B converter (book/convert_exercises.py) on copies of every chapter: solutions
collapsed in Lab and Colab, renamed so they overwrite nothing, deliberate errors caught by
their cell; idempotent; and a converted notebook passes the Run-All rule."""

from __future__ import annotations

import importlib.util
import re
import shutil
import sys
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = sorted((ROOT / "chapters").glob("*.ipynb"))

_spec = importlib.util.spec_from_file_location(
    "convert_exercises", ROOT / "book" / "convert_exercises.py"
)
conv = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(conv)
NUMBERS = conv.chapter_numbers()


@pytest.fixture(scope="module")
def converted(tmp_path_factory) -> dict[str, Path]:
    out = tmp_path_factory.mktemp("converted")
    paths = {}
    for nb in NOTEBOOKS:
        shutil.copy(nb, out / nb.name)
        conv.convert(out / nb.name, number=NUMBERS.get(nb.stem))
        paths[nb.stem] = out / nb.name
    return paths


@pytest.mark.parametrize("stem", [p.stem for p in NOTEBOOKS])
def test_converted_notebook_follows_the_exercise_conventions(converted, stem):
    path = converted[stem]
    nb = nbformat.read(path, as_version=4)
    assert conv.convert(path, write=False, number=NUMBERS.get(stem)) == ([], [])  # idempotent
    if stem in NUMBERS:  # numbered like the book, by a cell the book removes
        assert nb.cells[0].source == f'---\nnumbering:\n  enumerator: "{NUMBERS[stem]}.%s"\n---'
        assert nb.cells[0].metadata["tags"] == ["remove-cell"]
        assert nb.cells[1].source.startswith("(chapter-")
    blocks = conv._solution_blocks(nb)
    assert blocks  # every chapter has code solutions
    for start, end in blocks:
        for cell in nb.cells[start + 1 : end]:
            assert cell.metadata["jupyter"]["source_hidden"] is True
            if cell.cell_type == "markdown":
                assert cell.source.startswith("% ")  # the first line a collapsed cell shows
            if cell.cell_type == "code":
                assert cell.metadata["cellView"] == "form"
                assert cell.source.startswith("# @title")
                assert not re.search(r"^def my_|^def \w+_solution\(", cell.source, flags=re.M)
    assert all("raises-exception" not in c.metadata.get("tags", []) for c in nb.cells)
    # the learner's stubs and check cells are untouched
    original = nbformat.read(ROOT / "chapters" / path.name, as_version=4)
    stubs = lambda n: [c.source for c in n.cells if "NotImplementedError" in c.source]  # noqa: E731
    assert stubs(nb) == stubs(original)


def _unconverted(name: str, tmp_path: Path) -> Path:
    """A copy of a chapter with the converter's work undone (chapters are converted)."""
    nb = nbformat.read(ROOT / "chapters" / name, as_version=4)
    if nb.cells[0].source.startswith("---"):
        nb.cells = nb.cells[1:]  # the numbering cell
    for cell in nb.cells:
        cell.metadata.pop("jupyter", None)
        cell.metadata.pop("cellView", None)
    path = tmp_path / name
    nbformat.write(nb, path)
    return path


def test_converter_main_checks_and_converts(converted, tmp_path, capsys):
    copy = _unconverted("03_chain_rule.ipynb", tmp_path)
    before = nbformat.read(copy, as_version=4)
    assert conv.main(["--check", str(copy)]) == 1  # needs converting, nothing written
    assert nbformat.read(copy, as_version=4) == before
    assert conv.main([str(copy)]) == 0
    assert conv.main(["--check", str(copy)]) == 0
    out = capsys.readouterr().out
    assert "needs" in out and "converted" in out and "collapsed" in out


def test_converter_renames_solutions_that_would_overwrite_the_learners_answer():
    """(The chapters name their solutions solution_* since issue 12; the rule still holds
    for a notebook that does not.)"""
    md, code = nbformat.v4.new_markdown_cell, nbformat.v4.new_code_cell
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        code("def my_backward(params, X, Y):\n    raise NotImplementedError"),
        code("ex.check_hand_backward(my_backward)"),
        md("```{solution-start} ex-x\n:class: dropdown\n```"),
        code(
            "def my_backward(params, X, Y):\n    return {}\n\n\nex.check_hand_backward(my_backward)"
        ),
        code("def grad_w1_solution(w1):\n    return w1\n\n\nex.check_chain_grad(grad_w1_solution)"),
        md("```{solution-end}\n```"),
    ]
    changes, warnings = conv.rename_solutions(nb)
    assert changes == ["my_backward -> solution_backward", "grad_w1_solution -> solution_grad_w1"]
    assert warnings == []
    assert "ex.check_hand_backward(solution_backward)" in nb.cells[3].source
    assert "def solution_grad_w1(w1)" in nb.cells[4].source
    assert nb.cells[0].source.startswith("def my_backward")  # the learner's stub keeps its name
    assert conv.rename_solutions(nb) == ([], [])  # idempotent


def test_a_converted_appendix_runs_to_the_end_without_overwriting(converted):
    """Converted, appendix 1 runs to the end: its deliberate UnboundLocalError is shown by
    expect_error (at the end of the cell that defines the buggy function)."""
    sys.path.insert(0, str(Path(__file__).parent))
    from test_run_all import _rerun_cell, is_learner_check

    nb = nbformat.read(converted["a1_mistakes"], as_version=4)
    checks = [c.source for c in nb.cells if c.cell_type == "code" and is_learner_check(c.source)]
    nb.cells += [_rerun_cell(s) for s in checks]
    NotebookClient(
        nb,
        timeout=300,
        kernel_name="python3",
        resources={"metadata": {"path": str(ROOT / "chapters")}},
    ).execute()
    text = "".join(o.get("text", "") for c in nb.cells[-len(checks) :] for o in c.outputs)
    assert re.findall(r"BPKIT-RERUN (\S+) \| (.+)", text) == [("ex-mistakes-fix", "not attempted")]
    shown = [
        o["data"]["text/plain"]
        for c in nb.cells
        if "with expect_error(" in c.source
        for o in c.outputs
        if "data" in o
    ]
    assert any("UnboundLocalError" in s and "raised on purpose" in s for s in shown)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_chapters_are_converted(path):
    """Every chapter has been through the converter (running it again changes nothing)."""
    assert conv.convert(path, write=False, number=NUMBERS.get(path.stem)) == ([], [])

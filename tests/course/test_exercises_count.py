"""Count exercises and checkers, so the intro's promise is true or changed.

The intro promises checkers: "Every code exercise, and every exercise whose answer is a
number or a shape, has a checker" (an earlier wording: "every exercise has a checker").
An exercise counts as checked when a learner's check cell in its chapter runs a checker
whose verdict carries the exercise's label, or when one of the chapter's self-check
questions (``bpcourse.selfcheck``) names it with ``exercise="ex-..."``.

Every code exercise (one whose cells hold a stub that raises ``NotImplementedError``) must
have a checker. Every exercise having one is round B's goal: each chapter is
xfail(strict=True) until round B gives its numeric and pencil-and-paper exercises a
self-check question; the failure message lists the exercises that lack one.
"""

from __future__ import annotations

import importlib
import inspect
import re
from pathlib import Path

import nbformat
import pytest

from bpcourse.exercises import all_checks

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = sorted((ROOT / "chapters").glob("*.ipynb"))
PROMISES = ("Every\ncode exercise", "every\nexercise has a checker")  # as the intro words it


def _stub(*args):
    raise NotImplementedError


def exercises(nb) -> list[str]:
    md = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
    return re.findall(r"\{exercise\}[^\n]*\n(?::(?!label)[^\n]*\n)*:label: ([\w-]+)", md)


def _exercise_of(checker) -> str:
    """The label a checker's verdict carries (run on stubs, one per argument)."""
    n = sum(p.default is p.empty for p in inspect.signature(checker).parameters.values())
    return checker(*[_stub] * n).exercise


def checked(nb) -> set[str]:
    """Labels of the exercises a learner's check cell or a self-check question covers."""
    code = [c.source for c in nb.cells if c.cell_type == "code"]
    found: set[str] = set()
    modules = {}  # the chapter's names for its checker modules: ex, and vex in chapter 3
    for src in code:
        for name, alias in re.findall(r"from bpcourse\.exercises import (\w+) as (\w+)", src):
            modules[alias] = importlib.import_module(f"bpcourse.exercises.{name}")
    for src in code:
        call = re.match(r"\s*(\w+)\.(check_\w+)\(", src)
        if call and call.group(1) in modules and "raise_if_failed" not in src:
            found.add(_exercise_of(getattr(modules[call.group(1)], call.group(2))))
        found |= set(re.findall(r"exercise\s*=\s*[\"'](ex-[\w-]+)[\"']", src))
    return found


def code_exercises(nb) -> list[str]:
    """Labels of the exercises whose cells (up to the next exercise) hold a stub."""
    starts = [
        (i, label)
        for i, c in enumerate(nb.cells)
        if c.cell_type == "markdown"
        for label in exercises(nbformat.v4.new_notebook(cells=[c]))
    ]
    found = []
    for k, (i, label) in enumerate(starts):
        end = starts[k + 1][0] if k + 1 < len(starts) else len(nb.cells)
        cells = nb.cells[i:end]
        if any(c.cell_type == "code" and "raise NotImplementedError" in c.source for c in cells):
            found.append(label)
    return found


def _params():
    for path in NOTEBOOKS:
        yield pytest.param(path, id=path.stem)


def test_the_intro_makes_the_promise_these_tests_hold_it_to():
    intro = (ROOT / "chapters" / "intro.md").read_text()
    assert any(promise in intro for promise in PROMISES), "update PROMISES and these tests"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_every_code_exercise_has_a_checker(path: Path):
    nb = nbformat.read(path, as_version=4)
    code = code_exercises(nb)
    assert code, f"{path.stem}: no code exercise found (is the stub convention still used?)"
    missing = [label for label in code if label not in checked(nb)]
    assert not missing, f"{path.stem}: no checker for the code exercises {missing}"


@pytest.mark.parametrize("path", list(_params()))
def test_every_exercise_has_a_checker(path: Path):
    nb = nbformat.read(path, as_version=4)
    missing = [label for label in exercises(nb) if label not in checked(nb)]
    assert not missing, f"{path.stem}: no checker for {missing}"


def test_every_check_cell_and_checker_belongs_to_an_exercise():
    """No check cell runs a checker for an exercise its chapter does not have, and every
    checker of bpcourse.exercises is run by some chapter."""
    used: set[str] = set()
    for path in NOTEBOOKS:
        nb = nbformat.read(path, as_version=4)
        covered = checked(nb)
        assert covered <= set(exercises(nb)), (path.stem, covered - set(exercises(nb)))
        used |= covered
    assert set(all_checks()) <= used, set(all_checks()) - used


def test_the_count_is_reported():
    """The numbers the report and the intro rely on (printed with pytest -s)."""
    total = with_checker = 0
    for path in NOTEBOOKS:
        nb = nbformat.read(path, as_version=4)
        labels = exercises(nb)
        total += len(labels)
        with_checker += len(set(labels) & checked(nb))
        print(f"{path.stem}: {len(labels)} exercises, {len(set(labels) & checked(nb))} checked")
    print(f"total: {total} exercises, {with_checker} with a checker")
    assert total >= 40 and with_checker >= len(all_checks())

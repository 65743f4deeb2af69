"""``python book/convert_exercises.py [--check] PATH...``: bring chapter notebooks to the
exercise conventions of CONTRIBUTING.md ("Exercises"), the mechanical part of issue 14.

Four changes, each idempotent:

1. **Solutions out of sight.** Text that follows a ``{solution-start}`` directive in its
   cell moves to a markdown cell of its own; then every cell strictly between a
   ``{solution-start}`` cell and its ``{solution-end}`` cell gets
   ``metadata.jupyter.source_hidden = true``: JupyterLab,
   Binder and Notebook 7 show it collapsed (a "⋯" bar the learner clicks to open). Code
   cells also get Colab's form view (``metadata.cellView = "form"`` and a first line
   ``# @title Solution code``): Colab shows the title and hides the code until "Show
   code". The book ignores both and keeps its sphinx-exercise dropdowns.
2. **Solutions never overwrite the learner's names.** A function a solution cell defines as
   ``my_x``, ``my_x_solution`` or ``x_solution`` is renamed ``solution_x`` in that solution
   block. A use of the old name outside the block is reported, not changed.
3. **Deliberate errors caught by the cell.** A code cell tagged ``raises-exception`` is
   wrapped in ``with expect_error():`` and loses the tag, so "Run All" reaches the end in
   any front end; ``expect_error`` is added to the notebook's
   ``from bpcourse.exercises import ...`` line (or a new import cell). Name the exception
   type afterwards (``expect_error(ValueError)``): the converter cannot know it.
4. **Exercise numbers as in the book.** A chapter of a numbered part of ``_toc.yml`` gets a
   first cell with MyST front matter, ``numbering: {enumerator: "4.%s"}``, tagged
   ``remove-cell``: jupyterlab-myst then shows "Exercise 4.2" as the book does (it showed
   "Exercise 2"). The book's appendices are not numbered by chapter, in either place.

A collapsed prose cell starts with a MyST comment line (``% The solution, explained...``),
because JupyterLab shows a collapsed cell's first line. ``--check`` changes nothing and
exits 1 if a notebook needs converting.
"""

from __future__ import annotations

import pathlib
import re
import sys

import nbformat
import yaml

ROOT = pathlib.Path(__file__).resolve().parents[1]
TITLE = "# @title Solution code"
PROSE = "% The solution, explained: click the bar (or ⋯) to open it."
_DEF = re.compile(r"^def ((?:my_)?(\w+?)(?:_solution)?)\(", re.M)


def _solution_blocks(nb) -> list[tuple[int, int]]:
    """(start, end) cell indices of each {solution-start} ... {solution-end} pair."""
    blocks, start = [], None
    for i, cell in enumerate(nb.cells):
        if cell.cell_type != "markdown":
            continue
        if "{solution-start}" in cell.source:
            start = i
        if "{solution-end}" in cell.source and start is not None:
            blocks.append((start, i))
            start = None
    return blocks


_START = re.compile(r"(```\{solution-start\}[^\n]*\n(?::[^\n]*\n)*```)[ \t]*\n?(.*)", re.S)


def split_solution_starts(nb) -> list[str]:
    """Text after a ``{solution-start}`` directive in the same cell moves to a cell of its
    own, so that it can be collapsed (the directive's cell stays visible as the label)."""
    changes = []
    for i in range(len(nb.cells) - 1, -1, -1):
        cell = nb.cells[i]
        m = _START.search(cell.source) if cell.cell_type == "markdown" else None
        if m and m.group(2).strip():
            cell.source = cell.source[: m.start()] + m.group(1)
            nb.cells.insert(i + 1, nbformat.v4.new_markdown_cell(m.group(2).strip("\n")))
            changes.append(f"cell {i}: solution text split into its own cell")
    return changes


def hide_solutions(nb) -> list[str]:
    changes = split_solution_starts(nb)
    for start, end in _solution_blocks(nb):
        for cell in nb.cells[start + 1 : end]:
            jupyter = cell.metadata.setdefault("jupyter", {})
            if not jupyter.get("source_hidden"):
                jupyter["source_hidden"] = True
                changes.append(f"cell {nb.cells.index(cell)}: collapsed")
            if cell.cell_type == "markdown" and not cell.source.startswith("%"):
                # a collapsed cell shows its first line: make it a MyST comment
                cell.source = f"{PROSE}\n{cell.source}"
            if cell.cell_type == "code":
                if cell.metadata.get("cellView") != "form":
                    cell.metadata["cellView"] = "form"
                if not cell.source.startswith("# @title"):
                    cell.source = f"{TITLE}\n{cell.source}"
                    changes.append(f"cell {nb.cells.index(cell)}: Colab form view")
    return changes


def rename_solutions(nb) -> tuple[list[str], list[str]]:
    changes, warnings = [], []
    for start, end in _solution_blocks(nb):
        block = nb.cells[start + 1 : end]
        renames = {}
        for cell in block:
            if cell.cell_type == "code":
                for old, stem in _DEF.findall(cell.source):
                    if old.startswith("my_") or old.endswith("_solution"):
                        renames[old] = f"solution_{stem.removeprefix('my_')}"
        for old, new in renames.items():
            pattern = re.compile(rf"\b{re.escape(old)}\b")
            for cell in block:
                if cell.cell_type == "code" and pattern.search(cell.source):
                    cell.source = pattern.sub(new, cell.source)
            changes.append(f"{old} -> {new}")
            outside = [
                i
                for i, c in enumerate(nb.cells)
                if not start < i < end and c.cell_type == "code" and pattern.search(c.source)
                if not old.startswith("my_")  # the learner's own my_* cells keep their name
            ]
            if outside:
                warnings.append(f"{old} is still used outside its solution, in cells {outside}")
    return changes, warnings


def wrap_deliberate_errors(nb) -> list[str]:
    changes = []
    for i, cell in enumerate(nb.cells):
        tags = cell.metadata.get("tags", [])
        if cell.cell_type != "code" or "raises-exception" not in tags:
            continue
        body = "\n".join(
            ("    " + line) if line.strip() else "" for line in cell.source.splitlines()
        )
        cell.source = f"with expect_error():  # name the exception type here\n{body}"
        cell.metadata["tags"] = [t for t in tags if t != "raises-exception"]
        if not cell.metadata["tags"]:
            del cell.metadata["tags"]
        changes.append(f"cell {i}: wrapped in expect_error()")
    if changes and not any("expect_error" in c.source for c in nb.cells if "import" in c.source):
        for cell in nb.cells:
            m = re.search(r"^from bpcourse\.exercises import (.+)$", cell.source, flags=re.M)
            if cell.cell_type == "code" and m:
                line = m.group(0)
                cell.source = cell.source.replace(
                    line, f"{line}\nfrom bpcourse.exercises import expect_error"
                )
                break
        else:
            first = next(i for i, c in enumerate(nb.cells) if c.cell_type == "code")
            nb.cells.insert(
                first, nbformat.v4.new_code_cell("from bpcourse.exercises import expect_error")
            )
        changes.append("import expect_error")
    return changes


def chapter_numbers(toc: pathlib.Path = ROOT / "_toc.yml") -> dict[str, int]:
    """``{"04_backprop": 4, ...}``: the numbers the book gives the chapters of its numbered
    parts (sphinx-multitoc-numbering counts on across parts)."""
    numbers, n = {}, 0
    for part in yaml.safe_load(toc.read_text()).get("parts", []):
        for chapter in part.get("chapters", []):
            if part.get("numbered"):
                n += 1
                numbers[pathlib.PurePosixPath(chapter["file"]).name] = n
    return numbers


def number_like_the_book(nb, number: int | None) -> list[str]:
    """A first cell with MyST front matter ``numbering: {enumerator: "N.%s"}``, so that
    jupyterlab-myst numbers exercises (and figures, equations) "N.1, N.2, ..." as the book
    does. Tagged ``remove-cell``: the book never parses it (myst-nb would read the front
    matter as a transition and a heading)."""
    if number is None:
        return []
    source = f'---\nnumbering:\n  enumerator: "{number}.%s"\n---'
    first = nb.cells[0] if nb.cells else None
    if first is not None and first.cell_type == "markdown" and first.source.startswith("---"):
        if first.source == source and "remove-cell" in first.metadata.get("tags", []):
            return []
        first.source = source
        first.metadata["tags"] = sorted({*first.metadata.get("tags", []), "remove-cell"})
        return ["numbering front matter updated"]
    cell = nbformat.v4.new_markdown_cell(source)
    cell.metadata["tags"] = ["remove-cell"]
    nb.cells.insert(0, cell)
    return [f'numbering front matter "{number}.%s" added']


def convert(
    path: pathlib.Path, write: bool = True, number: int | None = None
) -> tuple[list[str], list[str]]:
    nb = nbformat.read(path, as_version=4)
    renamed, warnings = rename_solutions(nb)
    changes = (
        renamed + hide_solutions(nb) + wrap_deliberate_errors(nb) + number_like_the_book(nb, number)
    )
    if changes and write:
        nbformat.write(nb, path)
    return changes, warnings


def main(argv: list[str]) -> int:
    check = "--check" in argv
    roots = [pathlib.Path(a) for a in argv if a != "--check"] or [pathlib.Path("chapters")]
    numbers = chapter_numbers()
    needed = False
    for root in roots:
        paths = [root] if root.suffix == ".ipynb" else sorted(root.glob("*.ipynb"))
        for path in paths:
            changes, warnings = convert(path, write=not check, number=numbers.get(path.stem))
            for w in warnings:
                print(f"{path}: WARNING {w}")
            if changes:
                needed = True
                verb = "needs" if check else "converted"
                print(f"{path}: {verb} {len(changes)} change(s): " + "; ".join(changes[:6]))
    return 1 if (check and needed) else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))

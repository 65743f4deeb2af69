"""``python book/convert_exercises.py [--check] PATH...``: bring chapter notebooks to the
exercise conventions of CONTRIBUTING.md ("Exercises"), the mechanical part of issue 14.

Three changes, each idempotent:

1. **Solutions out of sight.** Every cell strictly between a ``{solution-start}`` cell and
   its ``{solution-end}`` cell gets ``metadata.jupyter.source_hidden = true``: JupyterLab,
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

``--check`` changes nothing and exits 1 if a notebook needs converting.
"""

from __future__ import annotations

import pathlib
import re
import sys

import nbformat

TITLE = "# @title Solution code"
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


def hide_solutions(nb) -> list[str]:
    changes = []
    for start, end in _solution_blocks(nb):
        for cell in nb.cells[start + 1 : end]:
            jupyter = cell.metadata.setdefault("jupyter", {})
            if not jupyter.get("source_hidden"):
                jupyter["source_hidden"] = True
                changes.append(f"cell {nb.cells.index(cell)}: collapsed")
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


def convert(path: pathlib.Path, write: bool = True) -> tuple[list[str], list[str]]:
    nb = nbformat.read(path, as_version=4)
    renamed, warnings = rename_solutions(nb)
    changes = renamed + hide_solutions(nb) + wrap_deliberate_errors(nb)
    if changes and write:
        nbformat.write(nb, path)
    return changes, warnings


def main(argv: list[str]) -> int:
    check = "--check" in argv
    roots = [pathlib.Path(a) for a in argv if a != "--check"] or [pathlib.Path("chapters")]
    needed = False
    for root in roots:
        paths = [root] if root.suffix == ".ipynb" else sorted(root.glob("*.ipynb"))
        for path in paths:
            changes, warnings = convert(path, write=not check)
            for w in warnings:
                print(f"{path}: WARNING {w}")
            if changes:
                needed = True
                verb = "needs" if check else "converted"
                print(f"{path}: {verb} {len(changes)} change(s): " + "; ".join(changes[:6]))
    return 1 if (check and needed) else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))

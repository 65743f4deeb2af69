"""``python book/strip.py PATH...``: remove outputs from notebooks (files or folders).

Notebooks are committed without outputs so that diffs stay readable and the book and
the tests execute them fresh.
"""

from __future__ import annotations

import pathlib
import sys

import nbformat


def strip(path: pathlib.Path) -> bool:
    nb = nbformat.read(path, as_version=4)
    changed = False
    for cell in nb.cells:
        if cell.cell_type == "code" and (cell.outputs or cell.execution_count is not None):
            cell.outputs, cell.execution_count = [], None
            changed = True
    nb.metadata.pop("widgets", None)
    if changed:
        nbformat.write(nb, path)
    return changed


def main(argv: list[str]) -> int:
    for root in map(pathlib.Path, argv or ["chapters"]):
        paths = [root] if root.suffix == ".ipynb" else sorted(root.rglob("*.ipynb"))
        for path in paths:
            if ".ipynb_checkpoints" not in path.parts and strip(path):
                print(f"stripped {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))

"""Numbers in the prose that read in JupyterLab and in the book: the ``{eval}`` role.

A chapter quotes a computed number as ``{eval}`f"{final_loss:.3f}"``` in a markdown
cell. In JupyterLab (and Binder), jupyterlab-myst evaluates the expression in the kernel
when the cell above has run and shows the number in the prose. In the book, myst-nb
evaluates ``{eval}`` only when it executes notebooks inline, which would give up the
execution cache; so the book reads notebooks through :func:`read` instead
(``nb_custom_formats`` in ``_config.yml``), which turns each expression into a glued value:

* before a markdown cell with expressions it inserts a code cell, tagged ``remove-cell``
  (it runs, cached like every other cell, but is not on the page), that glues each value:
  ``__import__("myst_nb").glue("_eval_3_0", f"{final_loss:.3f}", display=False)``;
* the role becomes ``{glue:text}`_eval_3_0```, which myst-nb fills from the executed
  notebook (a string shows without its quotes).

The expression is evaluated where the learner reads it, after the cells above it: the same
value in the book and in JupyterLab. A mistyped name fails the book build (the inserted cell
raises), as a mistyped glue key does.
"""

from __future__ import annotations

import re
from typing import Any

import nbformat

#: ``{eval}`expression``` in MyST markdown (one backtick pair; the expression has none).
EVAL_ROLE = re.compile(r"\{eval\}`([^`]+)`")
#: The tag of the inserted cells (and the prefix of their glue keys).
TAG = "bpkit-eval"


def expressions(markdown: str) -> list[str]:
    """The ``{eval}`` expressions of a markdown cell, in order."""
    return EVAL_ROLE.findall(markdown)


def to_glue(nb: Any) -> Any:
    """``nb`` with every ``{eval}`` role turned into a glued value (module docstring)."""
    cells = []
    for index, cell in enumerate(nb.cells):
        found = expressions(cell.source) if cell.cell_type == "markdown" else []
        if not found:
            cells.append(cell)
            continue
        keys = [f"_eval_{index}_{k}" for k in range(len(found))]
        lines = ["# The values quoted in the next markdown cell ({eval}), for the book."]
        lines += [
            f'__import__("myst_nb").glue({key!r}, {expr}, display=False)'
            for key, expr in zip(keys, found, strict=True)
        ]
        glue_cell = nbformat.v4.new_code_cell("\n".join(lines))
        glue_cell.metadata["tags"] = ["remove-cell", TAG]
        glue_cell["id"] = f"{TAG}-{index}"  # deterministic (new_code_cell draws a random one)
        cells.append(glue_cell)
        parts = EVAL_ROLE.split(cell.source)  # text, expression, text, expression, ...
        parts[1::2] = [f"{{glue:text}}`{key}`" for key in keys]
        cell.source = "".join(parts)
        cells.append(cell)
    nb.cells = cells
    return nb


def read(text: str, **kwargs: Any) -> Any:
    """myst-nb's notebook reader for ``.ipynb`` files, with :func:`to_glue` applied."""
    return to_glue(nbformat.reads(text, as_version=4))

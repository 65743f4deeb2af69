"""``python book/conventions.py COMMAND NOTEBOOK...``: bring chapter notebooks to the
conventions of issue 11 (CONTRIBUTING.md, "The shape of a chapter notebook").

Commands (each rewrites the notebooks it is given and prints what it could not do, which
is left for a person):

``fold``
    tag every figure cell ``hide-input`` (the book shows the figure and a "show code"
    toggle) and every bookkeeping cell, one holding only ``glue(...)`` calls and
    ``assert`` statements, ``remove-cell`` (it still runs, and is still tested, but is not
    on the page); a figure cell that also computes what the text teaches is reported: split
    it, so the computation stays visible.
``figures``
    give every figure cell a name (``fig-<chapter>-<n>``, for ``{numref}``) and a caption
    in ``mystnb.figure``; the caption starts as the figure's alt text, to be edited into
    what the frame shows and why it matters.
``eval``
    quote computed numbers with ``{eval}`` (JupyterLab shows them once the cells have run;
    the book reads them through ``book/eval_reader.py``): ``{glue:text}`key:.3f``` becomes
    ``{eval}`f"{key:.3f}"```, and ``glue("key", expr, display=False)`` becomes
    ``key = expr``. Links to other chapters become Markdown links with the chapter's title
    (``[Loss functions](01_loss.ipynb)``), which JupyterLab opens and the book resolves.
    ``--check`` executes the notebook before and after and fails unless every quoted
    number reads the same.
``report``
    change nothing; list what each notebook still lacks.
``all``
    ``fold``, ``figures`` and ``eval``.
"""

from __future__ import annotations

import argparse
import ast
import copy
import keyword
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import nbformat

CHAPTERS = Path(__file__).resolve().parents[1] / "chapters"
GLUE_TEXT = re.compile(r"\{glue:text\}`(\w+)(?::([^`]*))?`")
CHAPTER_LABEL = re.compile(r"^\(((?:chapter|appendix)-[\w-]+)\)=\s*\n#\s+(.+?)\s*$", re.M)
REF = re.compile(r"\{ref\}`(?:([^`<]*?)\s*<)?([\w-]+)>?`")
FIGURE_LAST_LINE = re.compile(r"^(fig|draw_graph\(.*)$")


@dataclass
class Report:
    """What a command did to one notebook, and what it left for a person."""

    path: str
    done: list[str] = field(default_factory=list)
    left: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        lines = [f"{self.path}: {len(self.done)} changes"]
        lines += [f"  left: {item}" for item in self.left]
        return "\n".join(lines)


# ------------------------------------------------------------------ what a cell is
def _last_line(source: str) -> str:
    lines = [line for line in source.rstrip().splitlines() if line.strip()]
    return lines[-1].strip() if lines else ""


def is_figure_cell(cell: Any) -> bool:
    """A code cell that shows a figure: its last line is ``fig`` or ``draw_graph(...)``."""
    return cell.cell_type == "code" and bool(FIGURE_LAST_LINE.match(_last_line(cell.source)))


def _statements(cell: Any) -> list[ast.stmt] | None:
    try:
        return ast.parse(cell.source).body
    except SyntaxError:  # IPython magics and the like: not ours to judge
        return None


#: Calls that store a value for the prose: myst-nb's ``glue`` and the chapters' helper
#: ``glue_number(name, value)`` (``glue(name, float(value), display=False)``).
GLUE_FUNCTIONS = ("glue", "glue_number")


def _glue_name(node: ast.AST) -> str | None:
    if not (isinstance(node, ast.Expr) and isinstance(node.value, ast.Call)):
        return None
    func = node.value.func
    name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", None)
    return name if name in GLUE_FUNCTIONS else None


def _is_glue_call(node: ast.AST) -> bool:
    return _glue_name(node) is not None


def is_bookkeeping_cell(cell: Any) -> bool:
    """A code cell of only ``glue(...)`` calls and ``assert`` statements (and the import
    of ``glue``): it records and checks, it teaches nothing."""
    if cell.cell_type != "code" or not cell.source.strip():
        return False
    body = _statements(cell)
    if not body:
        return False
    for node in body:
        if _is_glue_call(node) or isinstance(node, ast.Assert):
            continue
        if isinstance(node, ast.ImportFrom) and [a.name for a in node.names] == ["glue"]:
            continue
        return False
    return True


_PLOTTING = re.compile(
    r"\b(ax\w*|fig|axes|new_figure|add_axes|PALETTE|COLORS|plt|legend|set_\w+|log_yticks)\b"
)


def computes_too(cell: Any) -> bool:
    """A figure cell with statements that do not draw (a guess: it names no plotting
    object), which would be hidden with the plotting if the cell were folded."""
    code = [
        line
        for line in cell.source.splitlines()
        if line.strip() and not line.strip().startswith(("#", ")", "]", "}"))
    ]
    other = [line for line in code if not _PLOTTING.search(line)]
    return len(other) > max(3, len(code) // 3)


def tags(cell: Any) -> list[str]:
    return list(cell.metadata.get("tags", []))


def _add_tag(cell: Any, tag: str) -> bool:
    if tag in tags(cell):
        return False
    cell.metadata["tags"] = [*tags(cell), tag]
    return True


# ------------------------------------------------------------------ fold
def fold(nb: Any, report: Report) -> Any:
    for i, cell in enumerate(nb.cells):
        if is_figure_cell(cell):
            if _add_tag(cell, "hide-input"):
                report.done.append(f"cell {i}: plotting folded (hide-input)")
            if computes_too(cell):
                report.left.append(
                    f"cell {i}: computes as well as plots; split it so the computation shows"
                )
        elif is_bookkeeping_cell(cell) and "remove-cell" not in tags(cell):
            _add_tag(cell, "remove-cell")
            report.done.append(f"cell {i}: bookkeeping removed from the page (remove-cell)")
    return nb


# ------------------------------------------------------------------ figures
def figures(nb: Any, report: Report, stem: str) -> Any:
    short = re.sub(r"^\d+_|^a\d+_", "", stem).replace("_", "-")
    n = 0
    for i, cell in enumerate(nb.cells):
        if not is_figure_cell(cell):
            continue
        n += 1
        mystnb = cell.metadata.setdefault("mystnb", {})
        figure = mystnb.setdefault("figure", {})
        if "name" not in figure:
            figure["name"] = f"fig-{short}-{n}"
            report.done.append(f"cell {i}: figure named {figure['name']}")
        if not figure.get("caption"):
            alt = mystnb.get("image", {}).get("alt", "").strip()
            if alt:
                figure["caption"] = alt
                report.left.append(f"cell {i}: caption drafted from the alt text; edit it")
            else:
                report.left.append(f"cell {i}: a figure with neither alt text nor caption")
    return nb


# ------------------------------------------------------------------ eval
@dataclass
class Glued:
    cell: int
    node: ast.Expr
    key: str
    expr: str


def _loop_pairs(node: ast.AST, source: str) -> list[tuple[str, str]] | None:
    """``[(key, expr), ...]`` for the chapters' loop
    ``for name, value in [("key", expr), ...]: glue(name, float(value), display=False)``."""
    if not (
        isinstance(node, ast.For)
        and isinstance(node.target, ast.Tuple)
        and len(node.target.elts) == 2
        and all(isinstance(e, ast.Name) for e in node.target.elts)
        and isinstance(node.iter, ast.List | ast.Tuple)
        and len(node.body) == 1
        and _is_glue_call(node.body[0])
        and not node.orelse
    ):
        return None
    name, value = (e.id for e in node.target.elts)
    call = node.body[0].value
    if not (len(call.args) == 2 and isinstance(call.args[0], ast.Name) and call.args[0].id == name):
        return None
    template = ast.get_source_segment(source, call.args[1])
    if _glue_name(node.body[0]) == "glue_number":
        template = f"float({template})"
    pairs = []
    for item in node.iter.elts:
        if not (
            isinstance(item, ast.Tuple)
            and len(item.elts) == 2
            and isinstance(item.elts[0], ast.Constant)
            and isinstance(item.elts[0].value, str)
        ):
            return None
        expr = ast.get_source_segment(source, item.elts[1])
        pairs.append((item.elts[0].value, re.sub(rf"\b{value}\b", expr, template)))
    return pairs


def _glued(nb: Any) -> tuple[dict[str, Glued], set[str], set[str]]:
    """Top-level ``glue("key", expr, display=False)`` / ``glue_number("key", expr)`` calls
    and loops over ``("key", expr)`` pairs; every name the code assigns; keys glued
    anywhere else (in a function, with a computed key, or shown)."""
    found: dict[str, Glued] = {}
    assigned: set[str] = set()
    awkward: set[str] = set()
    for i, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        body = _statements(cell)
        if body is None:
            continue
        tree = ast.Module(body=body, type_ignores=[])
        for node in ast.walk(tree):
            if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
                assigned.add(node.id)
        handled = set()
        for node in body:
            pairs = _loop_pairs(node, cell.source)
            if pairs is not None:
                handled.add(id(node.body[0]))
                for key, expr in pairs:
                    found[key] = Glued(i, node, key, expr)
        top = {id(n) for n in body}
        for node in ast.walk(tree):
            if not _is_glue_call(node) or id(node) in handled:
                continue
            call = node.value
            key = (
                call.args[0].value if call.args and isinstance(call.args[0], ast.Constant) else None
            )
            hidden = _glue_name(node) == "glue_number" or any(
                k.arg == "display" and isinstance(k.value, ast.Constant) and k.value.value is False
                for k in call.keywords
            )
            if key is None or id(node) not in top or not hidden or len(call.args) != 2:
                if key:
                    awkward.add(key)
                continue
            expr = ast.get_source_segment(cell.source, call.args[1])
            if _glue_name(node) == "glue_number":
                expr = f"float({expr})"
            found[key] = Glued(i, node, key, expr)
    return found, assigned, awkward


def _is_itself(g: Glued) -> bool:
    """The glued expression is the variable named like the key (``float()`` aside)."""
    return g.expr in (g.key, f"float({g.key})")


def _chapter_links(root: Path) -> dict[str, tuple[str, str]]:
    """``label -> (file name, title)`` of every chapter and appendix in ``root``."""
    links = {}
    for path in sorted(root.glob("*.ipynb")) + sorted(root.glob("*.md")):
        if path.suffix == ".ipynb":
            nb = nbformat.read(path, as_version=4)
            text = "\n".join(c.source for c in nb.cells[:2])  # after a numbering cell
        else:
            text = path.read_text()
        m = CHAPTER_LABEL.search(text)
        if m:
            links[m.group(1)] = (path.name, m.group(2).strip())
    return links


def to_eval(nb: Any, report: Report, chapters: Path = CHAPTERS) -> Any:
    glued, assigned, awkward = _glued(nb)
    quoted = {
        k for c in nb.cells if c.cell_type == "markdown" for k, _ in GLUE_TEXT.findall(c.source)
    }
    first_quote: dict[str, int] = {}
    for i, c in enumerate(nb.cells):
        if c.cell_type == "markdown":
            for k, _ in GLUE_TEXT.findall(c.source):
                first_quote.setdefault(k, i)
    convert: dict[str, Glued] = {}
    for key in sorted(quoted):
        g = glued.get(key)
        if g is not None and first_quote[key] < g.cell:
            report.left.append(
                f"{key}: quoted above the cell that computes it (cell {g.cell}); "
                "{eval} needs the value first: move the sentence or the computation"
            )
        elif g is None or key in awkward:
            report.left.append(
                f"{key}: glued in a function, with a computed key or shown; quote it by hand"
            )
        elif not key.isidentifier() or keyword.iskeyword(key):
            report.left.append(f"{key}: not a Python name; quote it by hand")
        elif key in assigned and not _is_itself(g):
            report.left.append(f"{key}: also a variable of the notebook; quote it by hand")
        else:
            convert[key] = g
    # A statement (a call, or a loop over pairs) is rewritten only if all it glues is.
    statements: dict[int, list[Glued]] = {}
    for g in glued.values():
        statements.setdefault(id(g.node), []).append(g)
    for group in statements.values():
        if not all(g.key in convert or g.key not in quoted for g in group):
            for g in group:
                if g.key in convert:
                    del convert[g.key]
                    report.left.append(
                        f"{g.key}: glued with others that cannot move; quote it by hand"
                    )
    # the code: glue("key", expr, display=False) -> key = expr (or nothing, if expr is key)
    by_cell: dict[int, dict[int, list[Glued]]] = {}
    for group in statements.values():
        if all(g.key in convert for g in group):
            by_cell.setdefault(group[0].cell, {})[id(group[0].node)] = group
    for i, groups in by_cell.items():
        lines = nb.cells[i].source.splitlines(keepends=True)
        for group in sorted(groups.values(), key=lambda gr: gr[0].node.lineno, reverse=True):
            node = group[0].node
            start, end = node.lineno - 1, node.end_lineno
            indent = re.match(r"\s*", lines[start]).group(0)
            lines[start:end] = [f"{indent}{g.key} = {g.expr}\n" for g in group if not _is_itself(g)]
        nb.cells[i].source = "".join(lines).rstrip("\n")
    # the prose
    links = _chapter_links(chapters)

    def quote(m: re.Match[str]) -> str:
        key, spec = m.group(1), m.group(2)
        if key not in convert:
            return m.group(0)
        return f'{{eval}}`f"{{{key}:{spec}}}"`' if spec else f'{{eval}}`f"{{{key}}}"`'

    def link(m: re.Match[str]) -> str:
        text, label = m.group(1), m.group(2)
        if label not in links:
            return m.group(0)
        name, title = links[label]
        return f"[{text or title}]({name})"

    for cell in nb.cells:
        if cell.cell_type != "markdown":
            continue
        new = REF.sub(link, GLUE_TEXT.sub(quote, cell.source))
        if new != cell.source:
            report.done.append("prose: numbers quoted with {eval}, chapter links as links")
            cell.source = new
    if not any(
        re.search(r"\bglue(_number)?\(", c.source) for c in nb.cells if c.cell_type == "code"
    ):
        for cell in nb.cells:
            if cell.cell_type == "code":
                cell.source = re.sub(r"^from myst_nb import glue\n?", "", cell.source, flags=re.M)
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            for label in {lab for _, lab in REF.findall(cell.source)}:
                report.left.append(f"{{ref}} to {label}: reads as its label in JupyterLab")
    report.left = sorted(set(report.left), key=report.left.index)
    return nb


# ------------------------------------------------------------------ check
def quoted_numbers(nb: Any, cwd: Path) -> list[tuple[str, str]]:
    """Execute ``nb`` as the book does and return every quoted number in the order the
    prose quotes it: ``(what the markdown says, what the page shows)``."""
    import nbclient
    from eval_reader import to_glue
    from myst_nb.core.variables import format_plain_text

    nb = to_glue(copy.deepcopy(nb))
    nbclient.NotebookClient(nb, timeout=600, resources={"metadata": {"path": str(cwd)}}).execute()
    values: dict[str, str] = {}
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            book = out.get("metadata", {}).get("scrapbook", {})
            plain = out.get("data", {}).get(book.get("mime_prefix", "") + "text/plain")
            if book.get("name") and plain is not None:
                values[book["name"]] = plain
    original = [
        m.group(0)
        for cell in copy.deepcopy(nb).cells
        if cell.cell_type == "markdown"
        for m in GLUE_TEXT.finditer(cell.source)
    ]
    shown = []
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            for key, spec in GLUE_TEXT.findall(cell.source):
                if key not in values:
                    raise KeyError(f"{key!r} is quoted but was never glued")
                shown.append(format_plain_text(values[key], spec or "s"))
    return list(zip(original or shown, shown, strict=False))


# ------------------------------------------------------------------ command line
def run(command: str, path: Path, check: bool = False) -> Report:
    nb = nbformat.read(path, as_version=4)
    before = copy.deepcopy(nb)
    report = Report(str(path))
    if command in ("fold", "all"):
        fold(nb, report)
    if command in ("figures", "all"):
        figures(nb, report, path.stem)
    if command in ("eval", "all"):
        to_eval(nb, report, path.parent)
    if command == "report":
        for cmd in (
            fold,
            lambda n, r: figures(n, r, path.stem),
            lambda n, r: to_eval(n, r, path.parent),
        ):
            cmd(copy.deepcopy(nb), report)
        return report
    if check and command in ("eval", "all"):
        old, new = quoted_numbers(before, path.parent), quoted_numbers(nb, path.parent)
        changed = {i for i, (a, b) in enumerate(zip(old, new, strict=True)) if a[1] != b[1]}
        for _ in range(2 if changed else 0):
            # a number that differs between runs of the original (a timing) is not checked
            again = quoted_numbers(before, path.parent)
            varies = {i for i in changed if again[i][1] != old[i][1]}
            report.left += [f"{old[i][0]} varies from run to run; not checked" for i in varies]
            changed -= varies
        if changed:
            diff = [f"{old[i][0]}: {old[i][1]!r} -> {new[i][1]!r}" for i in sorted(changed)]
            raise SystemExit(f"{path}: quoted numbers would change: {diff[:10]}")
        report.done.append(f"checked: all {len(new)} quoted numbers read the same")
    if nb != before:
        nbformat.write(nb, path)
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("command", choices=["fold", "figures", "eval", "report", "all"])
    parser.add_argument("notebooks", nargs="+", type=Path)
    parser.add_argument("--check", action="store_true", help="eval: compare quoted numbers")
    args = parser.parse_args(argv)
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    for path in args.notebooks:
        print(run(args.command, path, args.check))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

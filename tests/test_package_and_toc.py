"""The package's public surface, import hygiene, and the table of contents."""

import pathlib
import subprocess
import sys

import yaml

import bpkit

ROOT = pathlib.Path(__file__).resolve().parents[1]


def test_all_lists_exactly_the_public_names():
    assert sorted(bpkit.__all__) == sorted(set(bpkit.__all__))
    for name in bpkit.__all__:
        assert hasattr(bpkit, name), name
    for name in ["Value", "gradcheck", "Dense", "Sequential", "SGD", "Momentum", "Adam"]:
        assert name in bpkit.__all__


def test_importing_bpkit_has_no_side_effects():
    """bpkit is numpy only: importing it imports no plotting, widget, build or course code."""
    code = (
        "import sys, numpy as np; state = np.random.get_state()[1].copy(); import bpkit; "
        "heavy = [m for m in sys.modules if m.split('.')[0] in ('matplotlib', 'ipywidgets', "
        "'tqdm', 'docutils', 'nbformat', 'sphinx', 'IPython', 'bpcourse')]; "
        "assert not heavy, heavy; "
        "assert (np.random.get_state()[1] == state).all()"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def _imported_modules(path: pathlib.Path) -> set[str]:
    import ast

    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def test_bpkit_never_imports_the_course_package_or_anything_but_numpy():
    allowed_third_party = {"numpy", "tqdm"}  # tqdm: only inside train(progress=True)
    for path in sorted((ROOT / "bpkit").rglob("*.py")):
        for name in _imported_modules(path):
            top = name.split(".")[0]
            assert top != "bpcourse", f"{path.name} imports {name}: bpkit never imports bpcourse"
            if top in sys.stdlib_module_names or top in ("bpkit", "__future__"):
                continue
            assert top in allowed_third_party, f"{path.name} imports {name}: bpkit is numpy only"


def test_book_tooling_is_not_installed_with_the_packages():
    for package in ("bpkit", "bpcourse"):
        names = {p.stem for p in (ROOT / package).rglob("*.py")}
        assert not names & {"_book", "_strip", "bpkit_book", "strip"}, package
    assert (ROOT / "book" / "bpkit_book.py").is_file()
    assert (ROOT / "book" / "strip.py").is_file()


def test_the_old_paths_of_moved_modules_still_import_and_say_where_they_went():
    """Every `from bpkit import X` / `import bpkit.X` that readers used keeps working."""
    import importlib
    import warnings

    from bpkit import _moved

    for old, new in sorted(_moved.MOVED.items()):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            module = importlib.import_module(old)
        assert module is importlib.import_module(new), old
        assert any(new in str(w.message) for w in caught), f"no warning naming {new}"
    # A submodule of a moved package is the same object under both names (not a copy).
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        from bpkit.exercises import loss as old_loss
        from bpkit.explorers.loss import logit_loss_explorer
    from bpcourse.exercises import loss as new_loss
    from bpcourse.explorers import loss as new_explorers

    assert old_loss is new_loss
    assert logit_loss_explorer is new_explorers.logit_loss_explorer
    assert _moved.new_name("bpkit.engine") is None  # what stayed is not redirected


def test_chapters_import_the_course_package_by_its_own_name():
    import json

    for path in sorted((ROOT / "chapters").glob("*.ipynb")):
        source = "".join(
            "".join(c["source"])
            for c in json.loads(path.read_text())["cells"]
            if c["cell_type"] == "code"
        )
        for old in _moved_names():
            assert old + " " not in source and old + "." not in source, f"{path.name} uses {old}"


def _moved_names() -> list[str]:
    from bpkit import _moved

    return sorted(_moved.MOVED)


def _toc_files() -> set[str]:
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    files = {toc["root"]}
    for part in toc.get("parts", []):
        files.update(ch["file"] for ch in part["chapters"])
    return files


def test_every_toc_entry_exists():
    for entry in _toc_files():
        assert any((ROOT / (entry + ext)).exists() for ext in (".ipynb", ".md")), entry


def test_every_chapter_is_in_the_toc():
    listed = _toc_files()
    for path in (ROOT / "chapters").rglob("*"):
        if path.suffix in (".ipynb", ".md") and ".ipynb_checkpoints" not in path.parts:
            stem = str(path.relative_to(ROOT).with_suffix(""))
            assert stem in listed, f"{stem} is not in _toc.yml: the book will not show it"


def test_readme_reading_list_names_every_bpkit_module_with_its_line_count():
    """The README's reading order is what a newcomer reads: it must name every module of
    bpkit (but the private ones) with a line count within 10% of the file's."""
    import re

    readme = (ROOT / "README.md").read_text()
    block = readme.split("<!-- reading-list")[1].split("<!-- /reading-list -->")[0]
    listed = {m: int(n) for m, n in re.findall(r"\| `(\w+)\.py` \| (\d+) \|", block)}
    modules = {p.stem for p in (ROOT / "bpkit").glob("*.py") if not p.stem.startswith("_")}
    assert set(listed) == modules, (sorted(set(listed) ^ modules), "README reading list")
    for module, stated in listed.items():
        actual = len((ROOT / "bpkit" / f"{module}.py").read_text().splitlines())
        assert abs(actual - stated) <= 0.1 * actual, (
            f"{module}.py: README says {stated}, has {actual}"
        )
    # The core (the rows before "then, beside chapters 5-7") is one sitting's reading.
    core_block = block.split("beside chapters 5-7")[0]
    core = sum(int(n) for n in re.findall(r"\| `\w+\.py` \| (\d+) \|", core_block))
    assert core <= 2800, f"the core is {core} lines: no longer one sitting's reading"
    assert sum(listed.values()) <= 3800, "bpkit has outgrown a small library"

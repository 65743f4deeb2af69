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
    code = (
        "import sys, numpy as np; state = np.random.get_state()[1].copy(); import bpkit; "
        "heavy = [m for m in sys.modules if m.split('.')[0] in ('matplotlib', 'ipywidgets', 'tqdm')]; "
        "assert not heavy, heavy; "
        "assert (np.random.get_state()[1] == state).all()"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


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


def test_notebooks_are_committed_without_outputs():
    import nbformat

    for path in (ROOT / "chapters").glob("*.ipynb"):
        nb = nbformat.read(path, as_version=4)
        for cell in nb.cells:
            if cell.cell_type == "code":
                assert not cell.outputs, f"{path.name}: strip outputs (make strip)"


def test_every_chapter_notebook_installs_bpkit_on_colab():
    """Colab installs nothing of ours: each notebook carries a (book-hidden) install cell
    that points at the repository the launch buttons use."""
    import nbformat

    url = yaml.safe_load((ROOT / "_config.yml").read_text())["repository"]["url"]
    for path in (ROOT / "chapters").glob("*.ipynb"):
        nb = nbformat.read(path, as_version=4)
        cells = [c for c in nb.cells if "google.colab" in c.source]
        assert len(cells) == 1, f"{path.name}: no Colab install cell"
        assert f"git+{url}" in cells[0].source and "bpkit[book]" in cells[0].source
        assert "remove-cell" in cells[0].metadata.get("tags", [])

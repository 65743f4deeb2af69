"""``python book/pdf.py [--out PATH]`` (``make pdf``): the whole book as one PDF, offline.

For teachers' handouts. Jupyter Book's own ``pdfhtml`` builder downloads a browser and
fails offline, and the LaTeX route needs about 630 MB of TeX packages; this prints the
book with the Chromium the browser tests already use:

1. build the book as one HTML page (``jupyter-book build --builder singlehtml``, from the
   same execution cache as ``make book``, so no notebook runs again);
2. open it from ``file://`` in headless Chromium with every other address blocked, wait
   until MathJax has typeset every formula and every image (lazy ones included) has
   loaded, and refuse to print otherwise;
3. print it with the book's print styles (code wraps, solutions stay collapsed, each
   explorer shows its default frame with a line naming the setting), A4, page numbers in
   the footer.

Exercise and figure numbers are the HTML book's: the same Sphinx numbering builds both.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
FOOTER = (
    '<div style="font-size:8px;width:100%;text-align:center;color:#555">'
    '<span class="pageNumber"></span> / <span class="totalPages"></span></div>'
)

# Wait for MathJax (it loads its components after the page), then make every image load
# now rather than when scrolled to, and report what did not work.
JS_READY = """async () => {
  const math = [...document.querySelectorAll('span.math, div.math')];
  for (let i = 0; i < 200 && math.length && !(window.MathJax && MathJax.startup
       && MathJax.startup.promise); i++) await new Promise(r => setTimeout(r, 50));
  if (math.length && window.MathJax && MathJax.startup) await MathJax.startup.promise;
  const imgs = [...document.images];
  imgs.forEach(img => { img.loading = 'eager'; });
  await Promise.all(imgs.map(img => img.decode().catch(() => null)));
  return {math: math.length,
          typeset: math.filter(el => el.querySelector('mjx-container')).length,
          images: imgs.length,
          broken: imgs.filter(img => !(img.complete && img.naturalWidth > 0))
                      .map(img => (img.getAttribute('src') || '').slice(0, 80))};
}"""


class PdfError(RuntimeError):
    """The book could not be printed as it should be (say what is missing)."""


def build_single_page(root: Path = ROOT, output: Path | None = None) -> Path:
    """Build the book as one HTML page (warnings are errors, as for ``make book``)."""
    output = output or root
    cmd = [
        str(Path(sys.executable).with_name("jupyter-book")),
        "build",
        str(root),
        "--builder",
        "singlehtml",
        "-W",
        "-n",
        "--keep-going",
        "--path-output",
        str(output),
    ]
    run = subprocess.run(cmd, capture_output=True, text=True, check=False)
    outdir = output / "_build" / "singlehtml"
    # index.html only redirects to the root document's page, which holds the whole book
    # but links its assets as if it sat at the top of the output: put a copy there.
    index = outdir / "index.html"
    target = re.search(r"url=([^\"]+)\"", index.read_text()) if index.is_file() else None
    if run.returncode != 0 or target is None or not (outdir / target.group(1)).is_file():
        log = (run.stdout + run.stderr)[-6000:]
        raise PdfError(f"the single-page build failed (exit {run.returncode}):\n{log}")
    page = outdir / "book.html"
    shutil.copyfile(outdir / target.group(1), page)
    return page


def print_pdf(page: Path, out: Path) -> dict[str, Any]:
    """Print ``page`` (an HTML file) to ``out`` with headless Chromium; return what it held."""
    from playwright.sync_api import sync_playwright

    executable = shutil.which("chromium") or "/usr/bin/chromium"
    if not Path(executable).exists():
        raise PdfError("make pdf needs Chromium: run 'make browser-deps' and retry")
    remote: list[str] = []

    def route(r: Any) -> None:
        if r.request.url.startswith(("file:", "data:", "blob:")):
            r.continue_()
        else:
            remote.append(r.request.url)
            r.abort()

    out.parent.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(viewport={"width": 1200, "height": 900})
            context.route("**/*", route)
            tab = context.new_page()
            tab.goto(page.resolve().as_uri(), wait_until="load")
            state = tab.evaluate(JS_READY)
            if state["typeset"] < state["math"]:
                raise PdfError(f"MathJax typeset {state['typeset']} of {state['math']} formulas")
            if state["broken"]:
                raise PdfError(f"images that did not load: {state['broken'][:5]}")
            tab.pdf(
                path=str(out),
                format="A4",
                print_background=True,
                margin={"top": "16mm", "bottom": "18mm", "left": "15mm", "right": "15mm"},
                display_header_footer=True,
                header_template="<div></div>",
                footer_template=FOOTER,
            )
        finally:
            browser.close()
    if remote:
        raise PdfError(f"the page asked for other hosts: {remote[:5]}")
    return {**state, "bytes": out.stat().st_size, "path": str(out)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=ROOT / "_build" / "pdf" / "book.pdf")
    args = parser.parse_args(argv)
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    try:
        page = build_single_page()
        info = print_pdf(page, args.out)
    except PdfError as exc:
        print(f"make pdf: {exc}", file=sys.stderr)
        return 1
    print(
        f"The book is at {info['path']} ({info['bytes'] / 1e6:.1f} MB; "
        f"{info['math']} formulas, {info['images']} images)"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

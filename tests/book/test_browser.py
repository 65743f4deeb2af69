"""The built book in a real browser, with the network off (issue 7).

The suite builds the book (``built_book`` in conftest.py), serves ``_build/html`` on
127.0.0.1 and drives Debian's headless Chromium with every other address blocked. On every
page listed in ``_toc.yml``: nothing tries to load from elsewhere, no console errors, the
maths is typeset, every image loads, axe-core finds no serious or critical violation, and
every slider explorer, moved by keyboard and by setting its value, shows the frame computed
for that setting (recomputed here from the explorer's factory when the page names one).
"""

from __future__ import annotations

import base64
import functools
import http.server
import importlib
import io
import json
import re
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import numpy as np
import pytest
import yaml
from conftest import BOOK_SOURCE

from bpcourse.widgets import digest

MAX_PAGE_BYTES = 3_000_000
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
# TeX that MathJax should have replaced: $$, \( \) \[ \], or a control word like \frac.
RAW_TEX = re.compile(r"\$\$|\\[()\[\]]|\\[A-Za-z]{2,}")
REMOTE_ASSET = re.compile(
    r"<(?:script|img|iframe|source|audio|video)\b[^>]*\bsrc=[\"'](?:https?:)?//"
    r"|<link\b[^>]*\bhref=[\"'](?:https?:)?//[^\"']*[\"'][^>]*>"
    r"|@import\s+(?:url\()?[\"']?(?:https?:)?//"
    r"|url\([\"']?(?:https?:)?//",
    re.IGNORECASE,
)


def _toc_pages(toc_path: Path) -> list[str]:
    """Every document of ``_toc.yml`` (root first), as paths relative to the book."""
    toc = yaml.safe_load(toc_path.read_text())
    pages = [toc["root"]]

    def walk(entries: list[dict]) -> None:
        for entry in entries:
            if "file" in entry:
                pages.append(entry["file"])
            for key in ("parts", "chapters", "sections"):
                walk(entry.get(key, []))

    walk([toc])
    return [str(Path(p).with_suffix("")) for p in pages]


PAGES = _toc_pages(BOOK_SOURCE / "_toc.yml")


# ------------------------------------------------------------------ fixtures
@pytest.fixture(scope="module")
def server(built_book: Path) -> Iterator[str]:
    """``_build/html`` served on 127.0.0.1 by a thread; yields the base URL."""

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:
            pass

    handler = functools.partial(Quiet, directory=str(built_book))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    executable = shutil.which("chromium") or "/usr/bin/chromium"
    if not Path(executable).exists():
        pytest.fail(
            "The browser test needs Chromium: run 'make browser-deps' "
            "(or 'sudo apt-get install chromium') and retry."
        )
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield b
        b.close()


class PageVisit:
    """One page opened with every request off 127.0.0.1 aborted and recorded."""

    def __init__(self, browser: object, url: str) -> None:
        self.remote: list[str] = []
        self.errors: list[str] = []
        self.context = browser.new_context(viewport={"width": 1200, "height": 900})
        self.context.route("**/*", self._route)
        self.page = self.context.new_page()
        self.page.on("console", self._console)
        self.page.on("pageerror", lambda exc: self.errors.append(f"page error: {exc}"))
        self.page.goto(url, wait_until="load")

    def _route(self, route: object) -> None:
        url = route.request.url
        if urlsplit(url).hostname == "127.0.0.1" or url.startswith(("data:", "blob:")):
            route.continue_()
        else:
            self.remote.append(url)
            route.abort()

    def _console(self, msg: object) -> None:
        if msg.type == "error":
            self.errors.append(f"console error: {msg.text} ({msg.location.get('url', '')})")

    def close(self) -> None:
        self.context.close()


@pytest.fixture
def visit(browser: object, server: str, request: pytest.FixtureRequest) -> Iterator[PageVisit]:
    v = PageVisit(browser, f"{server}/{request.param}.html")
    yield v
    v.close()


# ------------------------------------------------------------------ static checks
@pytest.mark.parametrize("page", PAGES)
def test_page_weight_and_no_remote_assets(built_book: Path, page: str) -> None:
    """At most 3 MB with its images, and nothing in it points a browser at another host."""
    path = built_book / f"{page}.html"
    text = path.read_text(encoding="utf-8")
    total = path.stat().st_size
    for src in re.findall(r"<img\b[^>]*\bsrc=\"([^\"]+)\"", text):
        if not src.startswith("data:") and "://" not in src:
            total += (path.parent / src.split("?")[0]).stat().st_size
    assert total <= MAX_PAGE_BYTES, f"{page}: {total / 1e6:.2f} MB with its images (max 3 MB)"
    remote = [m.group(0) for m in REMOTE_ASSET.finditer(text)]
    assert not remote, f"{page} refers to remote assets: {remote}"


def test_stylesheets_load_nothing_remote(built_book: Path) -> None:
    css = sorted((built_book / "_static").rglob("*.css"))
    assert css, "no stylesheets in _static: is this a built book?"
    remote = {
        str(p.relative_to(built_book)): REMOTE_ASSET.findall(p.read_text(errors="replace"))
        for p in css
    }
    assert not {k: v for k, v in remote.items() if v}


# ------------------------------------------------------------------ in the browser
JS_MATH = """async () => {
  const math = [...document.querySelectorAll('span.math, div.math')];
  if (math.length === 0) return {math: 0, typeset: 0, mathjax: !!window.MathJax};
  for (let i = 0; i < 100 && !(window.MathJax && MathJax.startup && MathJax.startup.promise); i++)
    await new Promise(r => setTimeout(r, 50));
  if (!(window.MathJax && MathJax.startup)) return {math: math.length, typeset: 0, mathjax: false};
  await MathJax.startup.promise;
  return {math: math.length, mathjax: true,
          typeset: math.filter(el => el.querySelector('mjx-container')).length};
}"""

JS_VISIBLE_TEXT = """() => {
  const body = document.querySelector('main') || document.body;
  const copy = body.cloneNode(true);
  copy.querySelectorAll('pre, code, script, style, textarea, mjx-container, .highlight')
      .forEach(el => el.remove());
  return copy.textContent;
}"""

JS_IMAGES = """async () => {
  const imgs = [...document.images];
  imgs.forEach(img => { img.loading = 'eager'; });
  await Promise.all(imgs.map(img => img.decode().catch(() => null)));
  return imgs.filter(img => !(img.complete && img.naturalWidth > 0))
             .map(img => img.getAttribute('src').slice(0, 80));
}"""

JS_EXPLORERS = """() => [...document.querySelectorAll('figure.bpkit-explorer')].map(fig => ({
  id: fig.id,
  mode: fig.dataset.frames,
  source: fig.dataset.explorer || null,
  kwargs: JSON.parse(fig.dataset.explorerKwargs || '{}'),
  frames: JSON.parse(fig.querySelector('script.bpkit-frames')?.textContent || '{}'),
  sliders: [...fig.querySelectorAll('input[type=range]')].map(el => ({
    id: el.id, name: el.name, value: el.value,
    labels: JSON.parse(el.dataset.labels), values: JSON.parse(el.dataset.values),
    label: (el.labels && el.labels.length) ? el.labels[0].textContent : ''})),
}))"""

JS_SHOWN = """(id) => {
  const fig = document.getElementById(id);
  const img = fig.querySelector('img');
  return {src: img.src, alt: img.alt, digest: img.dataset.digest, key: img.dataset.key,
          text: fig.querySelector('.bpkit-describe').textContent,
          sliders: [...fig.querySelectorAll('input[type=range]')].map(el => ({
            value: el.value, valuetext: el.getAttribute('aria-valuetext'),
            output: document.getElementById(el.id + '-out').textContent}))};
}"""

JS_SET_VALUE = """([id, value]) => {
  const el = document.getElementById(id);
  el.value = String(value);
  el.dispatchEvent(new Event('input', {bubbles: true}));
}"""

JS_FOCUS_STYLE = """(id) => { const s = getComputedStyle(document.getElementById(id));
  return s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) >= 2; }"""


def _pixels(src: str) -> np.ndarray:
    """The RGB pixels of a ``data:image/png;base64,...`` image."""
    from PIL import Image

    with Image.open(io.BytesIO(base64.b64decode(src.split(",", 1)[1]))) as im:
        return np.asarray(im.convert("RGB"))


@functools.cache
def _factory_explorer(source: str, kwargs_json: str) -> object:
    module, name = source.split(":")
    return getattr(importlib.import_module(module), name)(**json.loads(kwargs_json))


def _check_shown(page: object, ex: dict, problems: list[str], how: str) -> dict:
    """The frame on screen is the one precomputed for the sliders' current setting."""
    shown = page.evaluate(JS_SHOWN, ex["id"])
    key = ",".join(s["value"] for s in shown["sliders"])
    frame = ex["frames"].get(key)
    where = f"explorer {ex['id']} after {how} (setting {key})"
    if frame is None:
        problems.append(f"{where}: no precomputed frame")
        return shown
    if (shown["key"], shown["src"], shown["digest"]) != (key, frame["src"], frame["digest"]):
        problems.append(f"{where}: the image shown is not this setting's frame")
    if shown["alt"] != frame["alt"] or shown["text"] != frame["alt"]:
        problems.append(f"{where}: alt text or description not updated")
    for s, info in zip(ex["sliders"], shown["sliders"], strict=True):
        label = s["labels"][int(info["value"])]
        if info["valuetext"] != label or info["output"] != label:
            problems.append(f"{where}: slider {s['name']!r} does not announce {label!r}")
    return shown


def _check_explorer(page: object, ex: dict, problems: list[str], hint: str = "") -> None:
    sizes = [len(s["values"]) for s in ex["sliders"]]
    n_expected = 1
    for n in sizes:
        n_expected *= n
    if ex["mode"] != "all" or len(ex["frames"]) != n_expected:
        problems.append(
            f"explorer {ex['id']}: {len(ex['frames'])} frames for {n_expected} settings "
            f"(data-frames={ex['mode']!r})"
        )
        return
    for key, frame in ex["frames"].items():
        if not (re.fullmatch(r"[0-9a-f]{16}", frame["digest"]) and frame["alt"].strip()):
            problems.append(f"explorer {ex['id']} frame {key}: missing digest or alt text")
    for s in ex["sliders"]:
        if not s["label"].strip():
            problems.append(f"explorer {ex['id']}: slider {s['name']!r} has no label")

    explorer = None
    if ex["source"]:
        explorer = _factory_explorer(ex["source"], json.dumps(ex["kwargs"], sort_keys=True))
        if explorer.uid() != ex["id"]:
            problems.append(f"{ex['source']}({ex['kwargs']}) builds a different explorer")
            explorer = None
    if explorer is not None:
        # Every precomputed frame holds the numbers the Python explorer computes.
        for key, frame in ex["frames"].items():
            idx = [int(i) for i in key.split(",")]
            params = {s["name"]: s["values"][i] for s, i in zip(ex["sliders"], idx, strict=True)}
            if digest(explorer.compute(**params)) != frame["digest"]:
                problems.append(
                    f"{ex['source']}: frame {key} ({params}) differs from compute{hint}"
                )

    for k, s in enumerate(ex["sliders"]):
        if len(s["values"]) < 2:
            continue
        before = page.evaluate(JS_SHOWN, ex["id"])
        # By keyboard: focus the slider and press an arrow key.
        page.focus(f"#{s['id']}")
        if not page.evaluate(JS_FOCUS_STYLE, s["id"]):
            problems.append(f"explorer {ex['id']}: no visible focus outline on {s['name']!r}")
        at_end = int(before["sliders"][k]["value"]) == len(s["values"]) - 1
        page.keyboard.press("ArrowLeft" if at_end else "ArrowRight")
        shown = _check_shown(page, ex, problems, f"an arrow key on {s['name']!r}")
        if shown["sliders"][k]["value"] == before["sliders"][k]["value"]:
            problems.append(f"explorer {ex['id']}: the arrow key did not move {s['name']!r}")
        elif shown["src"] == before["src"]:
            problems.append(f"explorer {ex['id']}: moving {s['name']!r} left the figure as it was")
        # By setting its value, as a script or assistive technology would.
        target = 0 if int(shown["sliders"][k]["value"]) != 0 else len(s["values"]) - 1
        page.evaluate(JS_SET_VALUE, [s["id"], target])
        after = _check_shown(page, ex, problems, f"setting {s['name']!r} to index {target}")
        if after["src"] == shown["src"]:
            problems.append(f"explorer {ex['id']}: setting {s['name']!r} left the figure as it was")
        if explorer is not None:
            values = [int(v["value"]) for v in after["sliders"]]
            params = {x["name"]: x["values"][i] for x, i in zip(ex["sliders"], values, strict=True)}
            if not np.array_equal(_pixels(explorer.frame(params)["src"]), _pixels(after["src"])):
                problems.append(
                    f"{ex['source']}: the image shown for {params} is not its render{hint}"
                )


def _stale_hint(built_book: Path) -> str:
    """A note for frame mismatches when bpkit changed after the book was built."""
    from bpkit_book import bpkit_fingerprint

    stamp = built_book.parent / ".bpkit-fingerprint"
    if stamp.is_file() and stamp.read_text() != bpkit_fingerprint():
        return " (bpkit changed after this book was built: build again and rerun)"
    return ""


@pytest.mark.parametrize("visit", PAGES, indirect=True, ids=PAGES)
def test_page_in_browser_offline(visit: PageVisit, built_book: Path) -> None:
    from axe_playwright_python.sync_playwright import Axe

    page, problems = visit.page, []
    hint = _stale_hint(built_book)
    math = page.evaluate(JS_MATH)
    if math["math"] and (not math["mathjax"] or math["typeset"] < math["math"]):
        problems.append(f"maths not typeset: {math['typeset']} of {math['math']} (MathJax {math})")
    raw = sorted(set(RAW_TEX.findall(page.evaluate(JS_VISIBLE_TEXT))))
    if raw:
        problems.append(f"raw TeX visible in the text: {raw[:10]}")
    broken = page.evaluate(JS_IMAGES)
    if broken:
        problems.append(f"images that did not load: {broken}")

    explorers = page.evaluate(JS_EXPLORERS)
    ids = [ex["id"] for ex in explorers]
    if len(set(ids)) != len(ids):
        problems.append(f"two explorers share an id: {ids}")
    for ex in explorers:
        _check_explorer(page, ex, problems, hint)

    page.wait_for_timeout(100)  # let late console messages arrive
    problems += visit.errors
    problems += [f"tried to load a remote asset: {u}" for u in visit.remote]
    # Last, because axe-core itself re-fetches @imported stylesheets (resolving them
    # against the page, hence a 404 in the console that no reader would see).
    results = Axe().run(page)
    for v in results.response["violations"]:
        if v.get("impact") in ("serious", "critical"):
            targets = [n["target"] for n in v["nodes"]][:5]
            problems.append(f"axe {v['impact']}: {v['id']} ({v['help']}) at {targets}")
    assert not problems, "\n".join(problems)

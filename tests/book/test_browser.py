"""The built book in a real browser, with the network off (issues 7 and 11).

The suite builds the book (``built_book`` in conftest.py), serves ``_build/html`` on
127.0.0.1 and drives Debian's headless Chromium with every other address blocked.

On every page listed in ``_toc.yml``:

* at 1366x900: nothing tries to load from elsewhere, no console errors, the maths is
  typeset, every image loads, and every explorer, moved by keyboard and by setting its
  controls, shows the frame computed for that setting (recomputed here from the explorer's
  factory when the page names one, and compared byte for byte with the file shown);
* on a phone (390x844, touch) and at 1366x900, in light and in dark mode: the chapter
  drawer and the contents open from the visible buttons (on the desktop the hamburger
  folds the sidebar away), the page never scrolls sideways, an error message shows whole
  (wrapped, not cut at the margin), axe-core finds no serious or critical violation, no
  formula is a Tab stop, no build-machine path is visible, and a figure opens at full size
  and closes again;
* the first load (cache empty, before scrolling) is at most 2 MB, counted in the bytes the
  server sent, at both sizes;
* every figure's smallest text is at least the book's small print at desktop, and at least
  12 CSS px on the phone, which loads only the figures' and frames' phone variants.
"""

from __future__ import annotations

import base64
import functools
import http.server
import importlib
import json
import re
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest
import yaml
from conftest import BOOK_SOURCE

from bpcourse.plotting import PHONE_SMALL_PRINT_PX, SMALL_PRINT_PX
from bpcourse.widgets import digest

#: Most bytes a page's first load may fetch (HTML, styles, scripts, fonts, images in view).
MAX_FIRST_LOAD_BYTES = 2_000_000
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
DESKTOP = {"viewport": {"width": 1366, "height": 900}}
PHONE = {
    "viewport": {"width": 390, "height": 844},
    "device_scale_factor": 3,
    "is_mobile": True,
    "has_touch": True,
}
SCREENS = {"desktop": DESKTOP, "phone": PHONE}
# TeX that MathJax should have replaced: $$, \( \) \[ \], or a control word like \frac.
RAW_TEX = re.compile(r"\$\$|\\[()\[\]]|\\[A-Za-z]{2,}")
REMOTE_ASSET = re.compile(
    r"<(?:script|img|iframe|source|audio|video)\b[^>]*\bsrc=[\"'](?:https?:)?//"
    r"|<link\b[^>]*\bhref=[\"'](?:https?:)?//[^\"']*[\"'][^>]*>"
    r"|@import\s+(?:url\()?[\"']?(?:https?:)?//"
    r"|url\([\"']?(?:https?:)?//",
    re.IGNORECASE,
)
# A path on the machine that built the book: an absolute Unix or Windows path into a
# home, work, system or temporary directory, or into an installed package.
MACHINE_PATH = re.compile(
    r"(?<![\w.])/(?:home|work|usr|tmp|root|opt|var|private|Users)/[\w.-]+"
    r"|[A-Za-z]:\\(?:Users|Program Files)\\|site-packages|dist-packages|\.venv/"
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
# The Chinese edition (served from zh/ beside the English pages): the wholly translated
# pages (locale/zh_CN/complete.txt) and one chapter with explorers, self-checks and checks.
_COMPLETE = BOOK_SOURCE / "locale" / "zh_CN" / "complete.txt"
ZH_PAGES = [
    f"zh/{line.split('#')[0].strip()}"
    for line in _COMPLETE.read_text(encoding="utf-8").splitlines()
    if line.split("#")[0].strip().startswith("chapters/")
] + ["zh/chapters/01_loss"]
LANG = {"en": "en", "zh": "zh-CN"}


def _edition(page: str, request: pytest.FixtureRequest) -> str:
    """``zh`` for a page of the Chinese edition (built on demand), else ``en``."""
    if page.startswith("zh/"):
        request.getfixturevalue("built_zh_book")
        return "zh"
    return "en"


# ------------------------------------------------------------------ fixtures
class Server:
    """``_build/html`` on 127.0.0.1, counting the bytes of every file it sends."""

    def __init__(self, root: Path) -> None:
        sent: list[tuple[str, int]] = []
        self.sent = sent

        class Counting(http.server.SimpleHTTPRequestHandler):
            def log_message(self, format: str, *args: object) -> None:
                pass

            def copyfile(self, source, outputfile) -> None:
                data = source.read()
                sent.append((self.path, len(data)))
                outputfile.write(data)

        handler = functools.partial(Counting, directory=str(root))
        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture(scope="module")
def server(built_book: Path) -> Iterator[Server]:
    s = Server(built_book)
    yield s
    s.close()


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

    def __init__(self, browser: object, url: str, screen: dict = DESKTOP, mode: str = "") -> None:
        self.remote: list[str] = []
        self.errors: list[str] = []
        self.context = browser.new_context(**screen)
        if mode:  # the theme's own switch stores the reader's choice here
            self.context.add_init_script(
                f"localStorage.setItem('mode', '{mode}'); localStorage.setItem('theme', '{mode}');"
            )
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
def visit(browser: object, server: Server, request: pytest.FixtureRequest) -> Iterator[PageVisit]:
    _edition(request.param, request)
    v = PageVisit(browser, f"{server.url}/{request.param}.html")
    yield v
    v.close()


def _file(built_book: Path, url: str) -> Path:
    """The file of the built book that ``url`` (served from it) names."""
    return built_book / unquote(urlsplit(url).path).lstrip("/")


# ------------------------------------------------------------------ static checks
@pytest.mark.parametrize("page", PAGES)
def test_page_refers_to_nothing_remote_and_to_no_machine_path(built_book: Path, page: str) -> None:
    text = (built_book / f"{page}.html").read_text(encoding="utf-8")
    remote = [m.group(0) for m in REMOTE_ASSET.finditer(text)]
    assert not remote, f"{page} refers to remote assets: {remote}"
    root = str(BOOK_SOURCE.resolve())
    assert root not in text, f"{page} shows where the book was built ({root})"
    paths = sorted({m.group(0) for m in MACHINE_PATH.finditer(text)})
    assert not paths, f"{page} shows build-machine paths: {paths[:5]}"


def test_stylesheets_load_nothing_remote(built_book: Path) -> None:
    css = sorted((built_book / "_static").rglob("*.css"))
    assert css, "no stylesheets in _static: is this a built book?"
    remote = {
        str(p.relative_to(built_book)): REMOTE_ASSET.findall(p.read_text(errors="replace"))
        for p in css
    }
    assert not {k: v for k, v in remote.items() if v}


@pytest.mark.parametrize("page", PAGES)
def test_every_static_figure_has_a_numbered_caption(built_book: Path, page: str) -> None:
    """A figure in a chapter is a numbered ``<figure>`` with a caption the prose can cite
    (the cell metadata ``mystnb: figure: {caption:, name:}``, CONTRIBUTING.md)."""
    text = (built_book / f"{page}.html").read_text(encoding="utf-8")
    bare = []
    for m in re.finditer(r'<div class="cell_output[^"]*">(.*?)</div>\s*</div>', text, re.S):
        block = m.group(1)
        if "<img" in block and "bpkit-explorer" not in block:
            if not re.search(r"<figcaption>.*?caption-number", block, re.S):
                bare.append(re.search(r'<img[^>]*src="([^"]+)"', block).group(1))
    assert not bare, f"{page}: figures without a numbered caption: {bare}"


# ------------------------------------------------------------------ first load
@pytest.mark.parametrize("screen", SCREENS)
@pytest.mark.parametrize("page", PAGES)
def test_first_load_is_within_budget(browser, server: Server, page: str, screen: str) -> None:
    """Every file a first visit fetches (cache empty, no scrolling), counted as the bytes the
    server sent: at most 2 MB. Images below the fold, explorer frames other than the one
    shown, and the icon fonts' unused glyphs are not part of it."""
    start = len(server.sent)
    v = PageVisit(browser, f"{server.url}/{page}.html", SCREENS[screen])
    try:
        v.page.wait_for_load_state("networkidle")
        v.page.wait_for_timeout(300)
    finally:
        v.close()
    files = server.sent[start:]
    total = sum(n for _, n in files)
    biggest = ", ".join(
        f"{p.split('?')[0]} {n // 1000} KB" for p, n in sorted(files, key=lambda f: -f[1])[:5]
    )
    assert total <= MAX_FIRST_LOAD_BYTES, f"{page} at {screen}: {total / 1e6:.2f} MB ({biggest})"


# ------------------------------------------------------------------ every screen, both modes
JS_LAYOUT = """() => {
  const doc = document.documentElement;
  const tabbable = [...document.querySelectorAll('mjx-container, mjx-container *')]
    .filter(el => el.tabIndex >= 0 || el.hasAttribute('tabindex'));
  const main = document.querySelector('main') || document.body;
  return {overflow: doc.scrollWidth - window.innerWidth,
          wide: [...main.querySelectorAll('*')].filter(el => {
            const r = el.getBoundingClientRect();
            return r.width > 0 && r.right > window.innerWidth + 1 && getComputedStyle(el).position !== 'fixed';
          }).slice(0, 5).map(el => el.tagName + '.' + el.className),
          mathTabStops: tabbable.length,
          cutErrors: [...document.querySelectorAll('div.output.traceback pre, div.output.stderr pre')]
            .filter(pre => pre.scrollWidth > pre.clientWidth + 1).length,
          text: main.innerText};
}"""

JS_NAV = """() => ({
  drawer: !!document.querySelector('#pst-primary-sidebar-modal')?.open,
  contents: !!document.querySelector('#pst-secondary-sidebar-modal')?.open,
  drawerLinks: [...document.querySelectorAll('#pst-primary-sidebar-modal a')]
    .filter(a => a.getBoundingClientRect().width > 0).length,
  contentsLinks: [...document.querySelectorAll('#pst-secondary-sidebar-modal a')]
    .filter(a => a.getBoundingClientRect().width > 0).length,
  sidebarShown: (() => { const s = document.querySelector('#pst-primary-sidebar');
    return !!s && getComputedStyle(s).visibility !== 'hidden' && s.getBoundingClientRect().width > 50
      && s.getBoundingClientRect().right > 0; })(),
  hasContents: !!document.querySelector('.secondary-toggle'),
})"""


def _wait_typeset(page: object) -> None:
    page.evaluate(JS_MATH)


def _check_navigation(page: object, screen: str, problems: list[str]) -> None:
    toggle = page.locator(".primary-toggle:visible")
    if toggle.count() != 1:
        problems.append(f"{toggle.count()} visible sidebar toggles (want 1)")
        return
    if screen == "phone":
        toggle.first.tap()
        page.wait_for_timeout(400)
        state = page.evaluate(JS_NAV)
        if not (state["drawer"] and state["drawerLinks"] > 5):
            problems.append(f"the hamburger did not open the chapter drawer: {state}")
        page.keyboard.press("Escape")
        page.wait_for_timeout(300)
        contents = page.locator(".secondary-toggle:visible")
        if state["hasContents"]:
            if contents.count() != 1:
                problems.append("no visible contents button")
            else:
                contents.first.tap()
                page.wait_for_timeout(400)
                state = page.evaluate(JS_NAV)
                if not (state["contents"] and state["contentsLinks"] > 0):
                    problems.append(f"the contents button did not open the page contents: {state}")
                page.keyboard.press("Escape")
                page.wait_for_timeout(300)
    else:
        if not page.evaluate(JS_NAV)["sidebarShown"]:
            problems.append("the chapter sidebar is not shown on the desktop")
        toggle.first.click()
        page.wait_for_timeout(500)
        if page.evaluate(JS_NAV)["sidebarShown"]:
            problems.append("the hamburger did not fold the sidebar away on the desktop")
        toggle.first.click()
        page.wait_for_timeout(500)
        if not page.evaluate(JS_NAV)["sidebarShown"]:
            problems.append("the hamburger did not bring the sidebar back")


def _check_zoom(page: object, problems: list[str]) -> None:
    zoom = page.locator("button.bpkit-zoom")
    if zoom.count() == 0:
        return
    first = zoom.first
    first.scroll_into_view_if_needed()
    first.focus()
    page.keyboard.press("Enter")
    page.wait_for_timeout(500)
    opened = page.evaluate(
        "() => { const d = document.querySelector('dialog.bpkit-lightbox');"
        " return d && d.open ? d.querySelector('img').getBoundingClientRect().width : 0; }"
    )
    if opened < 300:
        problems.append(f"a figure did not open at full size (width {opened})")
    page.keyboard.press("Escape")
    page.wait_for_timeout(200)
    if page.evaluate("() => !!document.querySelector('dialog.bpkit-lightbox')?.open"):
        problems.append("Escape did not close the full-size figure")


def _axe(page: object, problems: list[str], where: str) -> None:
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page)
    for v in results.response["violations"]:
        if v.get("impact") in ("serious", "critical"):
            targets = [n["target"] for n in v["nodes"]][:5]
            problems.append(f"axe {v['impact']} {where}: {v['id']} ({v['help']}) at {targets}")


JS_SWITCH = """() => { const a = document.querySelector('a.bpkit-lang-switch');
  if (!a) return null; const r = a.getBoundingClientRect();
  return {lang: document.documentElement.lang, hreflang: a.hreflang, href: a.href,
          shown: r.width > 0 && r.height > 0 && r.top >= 0 && r.bottom <= innerHeight,
          size: [r.width, r.height]}; }"""


@pytest.mark.parametrize("mode", ["light", "dark"])
@pytest.mark.parametrize("screen", SCREENS)
@pytest.mark.parametrize("page", PAGES + ZH_PAGES)
def test_page_reads_on_every_screen(
    browser, server: Server, page: str, screen: str, mode: str, request: pytest.FixtureRequest
):
    edition = _edition(page, request)
    v = PageVisit(browser, f"{server.url}/{page}.html", SCREENS[screen], mode)
    problems: list[str] = []
    try:
        p = v.page
        _wait_typeset(p)
        p.wait_for_timeout(200)
        if p.evaluate("() => document.documentElement.dataset.theme") != mode:
            problems.append(f"the page is not in {mode} mode")
        switch = p.evaluate(JS_SWITCH)
        other = "en" if edition == "zh" else "zh"
        mirror = page.removeprefix("zh/") if edition == "zh" else f"zh/{page}"
        if switch is None or switch["lang"] != LANG[edition]:
            problems.append(f"lang {switch and switch['lang']!r}, want {LANG[edition]!r}")
        elif switch["hreflang"] != LANG[other] or not switch["href"].endswith(f"/{mirror}.html"):
            problems.append(f"the language switch goes to {switch['href']} ({switch['hreflang']})")
        elif not switch["shown"] or (screen == "phone" and min(switch["size"]) < 44):
            problems.append(f"the language switch is not on screen, 44 px on a phone: {switch}")
        layout = p.evaluate(JS_LAYOUT)
        if layout["overflow"] > 0:
            problems.append(
                f"the page scrolls sideways by {layout['overflow']} px: {layout['wide']}"
            )
        if layout["cutErrors"]:
            problems.append(f"{layout['cutErrors']} error outputs cut off at the margin")
        if layout["mathTabStops"]:
            problems.append(f"{layout['mathTabStops']} formulas are Tab stops")
        paths = sorted({m.group(0) for m in MACHINE_PATH.finditer(layout["text"])})
        if paths:
            problems.append(f"build-machine paths in the text: {paths[:5]}")
        _check_navigation(p, screen, problems)
        _check_zoom(p, problems)
        p.wait_for_timeout(100)  # let late console messages arrive
        problems += v.errors
        problems += [f"tried to load a remote asset: {u}" for u in v.remote]
        # Last, because axe-core itself re-fetches @imported stylesheets (resolving them
        # against the page, hence a 404 in the console that no reader would see).
        _axe(p, problems, f"({screen}, {mode})")
    finally:
        v.close()
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("page", PAGES)
def test_display_equations_fit_a_phone(browser, server: Server, page: str) -> None:
    """On a phone no display equation needs scrolling: long ones are split over lines
    (CONTRIBUTING.md). Until then each scrolls in its own box, never the page."""
    v = PageVisit(browser, f"{server.url}/{page}.html", PHONE)
    try:
        _wait_typeset(v.page)
        wide = v.page.evaluate(
            "() => [...document.querySelectorAll('div.math')]"
            ".filter(el => el.scrollWidth > el.clientWidth + 1)"
            ".map(el => el.querySelector('mjx-assistive-mml')?.textContent.slice(0, 60) || el.id)"
        )
    finally:
        v.close()
    assert not wide, f"{page}: {len(wide)} display equations wider than a phone: {wide[:5]}"


# ------------------------------------------------------------------ figure text
JS_FIGURES = """async () => {
  const imgs = [...document.querySelectorAll('.bd-article img')]
    .filter(img => !img.closest('.bpkit-lightbox'));
  // every image loaded and decoded: a <picture> moved into its zoom button picks its
  // source again, and until then its currentSrc is empty
  imgs.forEach(img => { img.loading = 'eager'; });
  await Promise.all(imgs.map(img => img.decode().catch(() => null)));
  return imgs.map(img => {
    const s = getComputedStyle(img);
    const pad = ['paddingLeft', 'paddingRight', 'borderLeftWidth', 'borderRightWidth']
      .reduce((sum, k) => sum + parseFloat(s[k] || 0), 0);
    const picture = img.parentNode.tagName === 'PICTURE';
    return {src: img.currentSrc || img.src, shown: img.getBoundingClientRect().width - pad,
            other: picture ? [img.src, ...[...img.parentNode.querySelectorAll('source')]
                      .map(x => new URL(x.srcset, document.baseURI).href)]
                      .filter(u => u !== (img.currentSrc || img.src)) : []};
  });
}"""
#: The smallest text a figure may show on each screen, in CSS px: the book's small print at
#: desktop; 12 px on a phone, where each figure shows its phone variant (bpcourse/plotting.py).
FIGURE_TEXT_PX = {"desktop": SMALL_PRINT_PX, "phone": PHONE_SMALL_PRINT_PX}


@pytest.mark.parametrize("screen", SCREENS)
@pytest.mark.parametrize("page", PAGES)
def test_figure_text_is_no_smaller_than_the_small_print(
    browser, server: Server, built_book, page, screen
):
    """Each figure file states its smallest font and its width (``book_note``); shown at its
    width on the page, that font is at least the small print of the screen (14 px at
    1366x900; 12 px at 390x844, where every figure and explorer frame shows its phone
    variant). A screen loads only the variant it shows: a phone fetches no desktop figure
    that has a phone variant, the desktop no phone variant."""
    start = len(server.sent)
    v = PageVisit(browser, f"{server.url}/{page}.html", SCREENS[screen])
    try:
        # every image eager, loaded and decoded: "networkidle" may already have been reached
        # before the lazy images were asked for, and an unloaded <img> without a width is 0 px
        v.page.evaluate(JS_IMAGES)
        figures = v.page.evaluate(JS_FIGURES)
    finally:
        v.close()
    fetched = {unquote(urlsplit(p).path) for p, _ in server.sent[start:]}
    smallest = FIGURE_TEXT_PX[screen]
    small = []
    for fig in figures:
        path = _file(built_book, fig["src"])
        for other in fig["other"]:
            if unquote(urlsplit(other).path) in fetched:
                small.append(f"{path.name}: the {screen} also fetched {Path(other).name}")
        note = re.search(rb"bpkit min-font-pt=([\d.]+) width-in=([\d.]+)", path.read_bytes())
        if path.suffix not in (".svg", ".png") or "logo" in path.name:
            continue
        if note is None:
            small.append(f"{path.name}: not drawn by BookFigure (no size note)")
            continue
        min_pt, width_in = map(float, note.groups())
        px = min_pt / 72 * fig["shown"] / width_in
        if px < smallest - 0.25:
            small.append(f"{path.name}: smallest text {px:.1f} CSS px (at least {smallest:g})")
    assert not small, f"{page} ({screen}): " + "; ".join(small)


# ------------------------------------------------------------------ explorers and maths
JS_MATH = """async () => {
  const math = [...document.querySelectorAll('span.math, div.math')];
  if (math.length === 0) return {math: 0, typeset: 0, mathjax: !!window.MathJax};
  for (let i = 0; i < 100 && !(window.MathJax && MathJax.startup && MathJax.startup.promise); i++)
    await new Promise(r => setTimeout(r, 50));
  if (!(window.MathJax && MathJax.startup)) return {math: math.length, typeset: 0, mathjax: false};
  await MathJax.startup.promise;
  // the book's script measures the typeset equations (a wide one becomes a keyboard-
  // scrollable region): wait for it, or axe may look in between
  for (let i = 0; i < 100 && !document.documentElement.hasAttribute('data-bpkit-equations'); i++)
    await new Promise(r => setTimeout(r, 50));
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
             .map(img => (img.getAttribute('src') || '').slice(0, 80));
}"""

JS_EXPLORERS = """() => [...document.querySelectorAll('figure.bpkit-explorer')].map(fig => ({
  id: fig.id,
  mode: fig.dataset.frames,
  source: fig.dataset.explorer || null,
  kwargs: JSON.parse(fig.dataset.explorerKwargs || '{}'),
  frames: JSON.parse(fig.querySelector('script.bpkit-frames')?.textContent || '{}'),
  settingText: fig.dataset.settingText || 'Shown for {settings}.',
  controls: [...fig.querySelectorAll('.bpkit-control')].map(c => ({
    name: c.dataset.name, label: c.dataset.label,
    kind: c.classList.contains('bpkit-choice') ? 'choice' : 'range',
    labels: JSON.parse(c.dataset.labels), values: JSON.parse(c.dataset.values),
    labelled: c.classList.contains('bpkit-choice')
      ? (c.querySelector('legend')?.textContent || '')
      : (c.querySelector('input').labels[0]?.textContent || '')})),
}))"""

JS_SHOWN = """(id) => {
  const fig = document.getElementById(id);
  const img = fig.querySelector('img.bpkit-frame');
  return {src: img.currentSrc || img.src, alt: img.alt, digest: img.dataset.digest,
          key: img.dataset.key, text: fig.querySelector('.bpkit-describe').textContent,
          setting: fig.querySelector('.bpkit-setting').textContent,
          controls: [...fig.querySelectorAll('.bpkit-control')].map(c => {
            const range = c.querySelector('input[type=range]');
            if (range) return {index: +range.value, valuetext: range.getAttribute('aria-valuetext'),
                               output: c.querySelector('output').textContent};
            const on = c.querySelector('input:checked');
            return {index: on ? +on.value : -1};
          })};
}"""

JS_SET = """([id, k, index]) => {
  const c = document.getElementById(id).querySelectorAll('.bpkit-control')[k];
  const range = c.querySelector('input[type=range]');
  if (range) { range.value = String(index);
               range.dispatchEvent(new Event('input', {bubbles: true})); return; }
  const radio = c.querySelectorAll('input[type=radio]')[index];
  radio.checked = true; radio.dispatchEvent(new Event('change', {bubbles: true}));
}"""

JS_FOCUS = """([id, k]) => {
  const c = document.getElementById(id).querySelectorAll('.bpkit-control')[k];
  const el = c.querySelector('input[type=range]') || c.querySelector('input:checked');
  el.focus();
  const styled = el.type === 'radio' ? el.nextElementSibling : el;
  const s = getComputedStyle(styled);
  return s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) >= 2;
}"""


@functools.cache
def _factory_explorer(source: str, kwargs_json: str) -> object:
    module, name = source.split(":")
    return getattr(importlib.import_module(module), name)(**json.loads(kwargs_json))


def _same_file(shown_src: str, frame_src: str) -> bool:
    return Path(urlsplit(shown_src).path).name == Path(frame_src).name


def _check_shown(page: object, ex: dict, problems: list[str], how: str) -> dict:
    """The frame on screen is the one precomputed for the controls' current setting."""
    shown = page.evaluate(JS_SHOWN, ex["id"])
    key = ",".join(str(c["index"]) for c in shown["controls"])
    frame = ex["frames"].get(key)
    where = f"explorer {ex['id']} after {how} (setting {key})"
    if frame is None:
        problems.append(f"{where}: no precomputed frame")
        return shown
    if shown["key"] != key or shown["digest"] != frame["digest"]:
        problems.append(f"{where}: the image shown is not this setting's frame")
    if not _same_file(shown["src"], frame["src"]):
        problems.append(f"{where}: the image file is not this setting's")
    if shown["text"] != frame["alt"]:
        problems.append(f"{where}: the description was not updated")
    if shown["alt"] != "":
        problems.append(f"{where}: the image repeats the description as alt text")
    words = []
    for c, info in zip(ex["controls"], shown["controls"], strict=True):
        label = c["labels"][info["index"]]
        words.append(f"{c['label']} = {label}")
        if c["kind"] == "range" and (info["valuetext"] != label or info["output"] != label):
            problems.append(f"{where}: slider {c['name']!r} does not announce {label!r}")
    if shown["setting"] != ex["settingText"].replace("{settings}", ", ".join(words)):
        problems.append(f"{where}: the printed setting line says {shown['setting']!r}")
    return shown


def _check_explorer(page: object, ex: dict, built_book: Path, problems: list[str], hint: str):
    sizes = [len(c["values"]) for c in ex["controls"]]
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
            problems.append(f"explorer {ex['id']} frame {key}: missing digest or description")
        if frame["src"].startswith("data:"):
            problems.append(f"explorer {ex['id']} frame {key}: inlined, not a file")
    for c in ex["controls"]:
        if not c["labelled"].strip():
            problems.append(f"explorer {ex['id']}: control {c['name']!r} has no label")
        if c["kind"] == "range" and (
            len(c["values"]) <= 3 or not all(isinstance(x, int | float) for x in c["values"])
        ):
            problems.append(f"explorer {ex['id']}: {c['name']!r} should be buttons, not a slider")

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
            params = {c["name"]: c["values"][i] for c, i in zip(ex["controls"], idx, strict=True)}
            if digest(explorer.compute(**params)) != frame["digest"]:
                problems.append(
                    f"{ex['source']}: frame {key} ({params}) differs from compute{hint}"
                )

    for k, c in enumerate(ex["controls"]):
        if len(c["values"]) < 2:
            continue
        before = page.evaluate(JS_SHOWN, ex["id"])
        # By keyboard: focus the control and press an arrow key.
        page.locator(f"#{ex['id']}").scroll_into_view_if_needed()
        if not page.evaluate(JS_FOCUS, [ex["id"], k]):
            problems.append(f"explorer {ex['id']}: no visible focus outline on {c['name']!r}")
        at_end = before["controls"][k]["index"] == len(c["values"]) - 1
        page.keyboard.press("ArrowLeft" if at_end else "ArrowRight")
        shown = _check_shown(page, ex, problems, f"an arrow key on {c['name']!r}")
        if shown["controls"][k]["index"] == before["controls"][k]["index"]:
            problems.append(f"explorer {ex['id']}: the arrow key did not move {c['name']!r}")
        elif shown["src"] == before["src"]:
            problems.append(f"explorer {ex['id']}: moving {c['name']!r} left the figure as it was")
        # By setting it, as a script or assistive technology would.
        target = 0 if shown["controls"][k]["index"] != 0 else len(c["values"]) - 1
        page.evaluate(JS_SET, [ex["id"], k, target])
        after = _check_shown(page, ex, problems, f"setting {c['name']!r} to index {target}")
        if after["src"] == shown["src"]:
            problems.append(f"explorer {ex['id']}: setting {c['name']!r} left the figure as it was")
        if explorer is not None:
            idx = [x["index"] for x in after["controls"]]
            params = {x["name"]: x["values"][i] for x, i in zip(ex["controls"], idx, strict=True)}
            expected = base64.b64decode(explorer.frame(params)["src"].split(",", 1)[1])
            if _file(built_book, after["src"]).read_bytes() != expected:
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


@pytest.mark.parametrize(
    "visit", [*PAGES, "zh/chapters/01_loss"], indirect=True, ids=[*PAGES, "zh/chapters/01_loss"]
)
def test_page_in_browser_offline(visit: PageVisit, built_book: Path) -> None:
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
        _check_explorer(page, ex, built_book, problems, hint)

    page.wait_for_timeout(100)  # let late console messages arrive
    problems += visit.errors
    problems += [f"tried to load a remote asset: {u}" for u in visit.remote]
    _axe(page, problems, "(desktop, after moving the explorers)")  # last: see above
    assert not problems, "\n".join(problems)

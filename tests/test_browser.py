"""The built book in a real browser, offline.

Headless Chromium (Debian's ``chromium``, driven by Playwright) opens the book from
a local HTTP server while every request to another host is blocked and recorded.
It checks that pages load without console errors, that MathJax typesets the
equations, that the framework tabs switch, that code blocks have a copy button and
that search finds a chapter. Screenshots go to ``test-artifacts/``.
"""

from __future__ import annotations

import functools
import http.server
import re
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import pytest

from conftest import ROOT, require_programs

# Skipped before the book is built when chromium is missing (see conftest.PROGRAMS).
pytestmark = [pytest.mark.book, pytest.mark.browser, pytest.mark.needs("chromium")]

ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run",
                 "--disable-default-apps", "--disable-extensions"]
LOCAL_HOSTS = {"127.0.0.1"}
SEARCH_WORD = "cotangent"  # a word every foundations chapter uses


def chromium_executable() -> str:
    require_programs("chromium")
    return shutil.which("chromium")  # type: ignore[return-value]


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        pass


@pytest.fixture(scope="module")
def site(built_book: Path) -> Iterator[str]:
    """The built book served on 127.0.0.1 (a free port), as a base URL."""
    handler = functools.partial(QuietHandler, directory=str(built_book))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()


class Browser:
    """A Chromium page that may only talk to the local server; it records what went wrong."""

    def __init__(self, playwright: object) -> None:
        self.blocked: list[str] = []
        self.failed: list[str] = []
        self.errors: list[str] = []
        self.browser = playwright.chromium.launch(  # type: ignore[attr-defined]
            executable_path=chromium_executable(), args=CHROMIUM_ARGS)
        self.context = self.browser.new_context(viewport={"width": 1280, "height": 900})
        self.context.grant_permissions(["clipboard-read", "clipboard-write"])
        self.context.route("**/*", self._route)
        self.page = self.context.new_page()
        self.page.on("console", lambda m: m.type == "error" and self.errors.append(
            f"{self.page.url}: console: {m.text}"))
        self.page.on("pageerror", lambda e: self.errors.append(f"{self.page.url}: {e}"))
        self.page.on("response", lambda r: r.status >= 400 and self.failed.append(
            f"{r.status} {r.url}"))

    def _route(self, route: object) -> None:
        url = route.request.url  # type: ignore[attr-defined]
        parts = urlsplit(url)
        if parts.scheme in ("data", "blob") or parts.hostname in LOCAL_HOSTS:
            route.continue_()  # type: ignore[attr-defined]
        else:
            self.blocked.append(url)
            route.abort()  # type: ignore[attr-defined]

    def open(self, url: str) -> None:
        self.page.goto(url, wait_until="load")
        self.page.wait_for_load_state("networkidle")

    def typeset(self) -> dict[str, int]:
        """Wait for MathJax on the current page; count math elements and their typeset forms."""
        if not self.page.evaluate("() => !!document.querySelector('.math')"):
            return {"math": 0, "typeset": 0, "raw": 0, "errors": 0}
        self.page.wait_for_function("() => window.MathJax && MathJax.startup && MathJax.startup.promise")
        self.page.evaluate("() => MathJax.startup.promise")
        return self.page.evaluate("""() => {
            const math = [...document.querySelectorAll('span.math, div.math')];
            const raw = math.filter(el => !el.querySelector('mjx-container'));
            return {math: math.length,
                    typeset: document.querySelectorAll('mjx-container').length,
                    raw: raw.length,
                    rawExamples: raw.slice(0, 3).map(el => el.textContent.slice(0, 80)),
                    errors: document.querySelectorAll('mjx-merror').length};
        }""")

    def close(self) -> None:
        self.context.close()
        self.browser.close()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    chromium_executable()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        b = Browser(playwright)
        yield b
        b.close()


@pytest.fixture(autouse=True)
def nothing_went_wrong(browser: Browser) -> Iterator[None]:
    """Every test: no request left the machine, no console error, no missing file."""
    browser.blocked.clear(), browser.failed.clear(), browser.errors.clear()
    yield
    assert not browser.blocked, f"requests to other hosts were attempted: {browser.blocked}"
    assert not browser.failed, f"files missing from the site: {browser.failed}"
    assert not browser.errors, f"errors in the console: {browser.errors}"


def chapters(built_book: Path) -> list[Path]:
    return [p for p in sorted(built_book.glob("*/*.html"))
            if p.parent.name not in ("_static", "_sources", "appendices") and p.name != "index.html"]


def math_heaviest_chapter(built_book: Path) -> Path:
    return max(chapters(built_book), key=lambda p: p.read_text().count('class="math'))


def page_with_framework_tabs(built_book: Path) -> Path:
    candidates = [p for p in chapters(built_book) + sorted(built_book.glob("appendices/*.html"))
                  if 'data-sync-group="framework"' in p.read_text()]
    assert candidates, "no page has framework tabs (tab-set with :sync-group: framework)"
    return candidates[0]


def site_pages(built_book: Path) -> list[Path]:
    """Every HTML page of the book (not the copies under _static or _sources)."""
    return sorted(p for p in built_book.rglob("*.html")
                  if not {"_static", "_sources"} & set(p.relative_to(built_book).parts))


def url_of(site: str, built_book: Path, page: Path) -> str:
    return site + page.relative_to(built_book).as_posix()


def save_screenshot(browser: Browser, name: str) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / name
    browser.page.screenshot(path=str(path), full_page=False)
    return path


def test_the_landing_page_loads(browser: Browser, site: str) -> None:
    browser.open(site + "index.html")
    assert "Custom Derivative Rules" in browser.page.title()
    counts = browser.typeset()
    assert counts["raw"] == 0, counts
    # The table of contents lists the parts.
    nav = browser.page.inner_text(".bd-sidebar-primary")
    assert "Foundations" in nav and "Appendices" in nav
    save_screenshot(browser, "landing-page.png")


def test_a_math_heavy_chapter_is_typeset_by_mathjax(browser: Browser, site: str, built_book: Path) -> None:
    chapter = math_heaviest_chapter(built_book)
    browser.open(url_of(site, built_book, chapter))
    counts = browser.typeset()
    assert counts["math"] >= 10, f"{chapter.name} has little math: {counts}"
    assert counts["raw"] == 0, f"math left as raw TeX in {chapter.name}: {counts}"
    assert counts["typeset"] >= counts["math"]
    assert counts["errors"] == 0, f"MathJax errors (undefined macros?) in {chapter.name}"
    # MathJax's web fonts came from the site (a blocked or missing font is caught by the fixture).
    assert browser.page.evaluate(
        "() => [...document.fonts].some(f => f.family.includes('MJXTEX') && f.status === 'loaded')")
    # No TeX delimiters outside code.
    text = browser.page.evaluate("""() => {
        const clone = document.querySelector('main').cloneNode(true);
        clone.querySelectorAll('pre, code, mjx-container, script').forEach(el => el.remove());
        return clone.innerText;
    }""")
    assert not re.search(r"\\\(|\\\[|\$\$", text), "raw TeX delimiters visible"
    shot = save_screenshot(browser, f"chapter-{chapter.stem}.png")
    browser.page.screenshot(path=str(shot.with_name(f"chapter-{chapter.stem}-full.png")), full_page=True)


def test_every_page_loads_cleanly_with_its_math_typeset(browser: Browser, site: str,
                                                        built_book: Path) -> None:
    pages = site_pages(built_book)
    problems = []
    for page in pages:
        browser.open(url_of(site, built_book, page))
        counts = browser.typeset()
        if counts["raw"] or counts["errors"]:
            problems.append(f"{page.relative_to(built_book)}: {counts}")
    assert not problems, "math not typeset:\n" + "\n".join(problems)


#: The narrowest text column of the theme on a desktop: at 1200 px both sidebars show.
NARROW_DESKTOP = {"width": 1200, "height": 900}


def test_no_equation_is_wider_than_the_text_column(browser: Browser, site: str,
                                                    built_book: Path) -> None:
    """At the narrowest desktop layout, no typeset formula is cut off or needs scrolling."""
    pages = site_pages(built_book)
    browser.page.set_viewport_size(NARROW_DESKTOP)
    too_wide = []
    try:
        for page in pages:
            browser.open(url_of(site, built_book, page))
            if not browser.typeset()["math"]:
                continue
            for item in browser.page.evaluate("""() => {
                const out = [];
                for (const m of document.querySelectorAll('article.bd-article mjx-container')) {
                    const display = m.getAttribute('display') === 'true';
                    const box = m.closest('p, li, td, dd, figcaption');
                    const over = display ? m.scrollWidth - m.clientWidth
                        : (box ? m.getBoundingClientRect().right - box.getBoundingClientRect().right : 0);
                    if (over > 2) out.push(`${Math.round(over)} px: ${m.parentElement.textContent.trim().slice(0, 60)}`);
                }
                return out;
            }"""):
                too_wide.append(f"{page.relative_to(built_book)}: {item}")
    finally:
        browser.page.set_viewport_size({"width": 1280, "height": 900})
    assert not too_wide, "formulas wider than the text column at 1200 px:\n" + "\n".join(too_wide)


def test_the_api_reference_formulas_are_typeset(browser: Browser, site: str) -> None:
    browser.open(site + "appendices/api.html")
    counts = browser.typeset()
    assert counts["raw"] == 0 and counts["errors"] == 0, counts


def test_the_framework_tabs_switch_and_stay_switched(browser: Browser, site: str, built_book: Path) -> None:
    page_file = page_with_framework_tabs(built_book)
    url = url_of(site, built_book, page_file)
    page = browser.page
    browser.open(url)
    page.evaluate("() => localStorage.clear()")
    browser.open(url)
    first = page.locator(".sd-tab-set").filter(has=page.locator('label[data-sync-group="framework"]')).first
    torch_label = first.locator('label[data-sync-id="torch"]')
    jax_label = first.locator('label[data-sync-id="jax"]')
    assert torch_label.inner_text().strip() == "PyTorch" and jax_label.inner_text().strip() == "JAX"

    def visible(label: object) -> bool:
        return label.evaluate(  # type: ignore[attr-defined]
            "el => getComputedStyle(el.nextElementSibling).display !== 'none'")

    assert visible(torch_label) and not visible(jax_label)
    jax_label.click()
    assert visible(jax_label) and not visible(torch_label)
    # Every framework tab set on the page follows (sync group), also after a reload.
    for label in page.locator('label[data-sync-group="framework"][data-sync-id="jax"]').all():
        assert visible(label)
    browser.open(url)
    assert visible(page.locator('label[data-sync-group="framework"][data-sync-id="jax"]').first)
    ARTIFACTS.mkdir(exist_ok=True)
    first.scroll_into_view_if_needed()
    first.screenshot(path=str(ARTIFACTS / "framework-tabs-jax.png"))
    torch_label.click()
    assert visible(torch_label)


def test_code_blocks_have_a_working_copy_button(browser: Browser, site: str, built_book: Path) -> None:
    browser.open(url_of(site, built_book, page_with_framework_tabs(built_book)))
    page = browser.page
    block = page.locator("div.highlight:visible").filter(has=page.locator("button.copybtn")).first
    assert page.locator("button.copybtn").count() > 0, "no copy button"
    block.hover()
    block.locator("button.copybtn").click()
    copied = page.evaluate("() => navigator.clipboard.readText()")
    code = block.locator("pre").inner_text()
    assert copied.strip() and copied.strip().splitlines()[0] in code


def test_search_finds_a_word_from_a_chapter(browser: Browser, site: str) -> None:
    browser.open(site + f"search.html?q={SEARCH_WORD}")
    page = browser.page
    page.wait_for_selector("#search-results ul.search li", timeout=20000)
    hrefs = page.eval_on_selector_all("#search-results ul.search li a", "els => els.map(e => e.href)")
    assert any("/foundations/" in h or "/frameworks/" in h for h in hrefs), hrefs
    save_screenshot(browser, "search.png")


@pytest.mark.parametrize("width", [1280, 700])
def test_a_page_has_one_search_box(browser: Browser, site: str, width: int) -> None:
    page = browser.page
    page.set_viewport_size({"width": width, "height": 900})
    try:
        browser.open(site + "foundations/jvp-vjp.html")
        visible = [b for b in page.locator(".search-button__button").all() if b.is_visible()]
        assert len(visible) == 1, f"{len(visible)} search boxes visible at width {width}"
        visible[0].click()
        page.wait_for_selector("#pst-search-dialog input", state="visible", timeout=5000)
    finally:
        page.set_viewport_size({"width": 1280, "height": 900})


def test_88_columns_of_code_fit_the_text_column(browser: Browser, site: str) -> None:
    page = browser.page
    page.set_viewport_size({"width": 1440, "height": 900})
    try:
        browser.open(site + "foundations/first-rule.html")
        fit = page.evaluate("""() => {
            const pre = document.querySelector('div.cell_input div.highlight pre');
            const probe = document.createElement('span');
            probe.textContent = 'x'.repeat(88);
            pre.appendChild(probe);
            const style = getComputedStyle(pre);
            const room = pre.clientWidth - parseFloat(style.paddingLeft)
                - parseFloat(style.paddingRight);
            return {text: probe.getBoundingClientRect().width, room: room};
        }""")
        assert fit["text"] <= fit["room"], f"88 columns need {fit['text']}px, the column has {fit['room']}px"
    finally:
        page.set_viewport_size({"width": 1280, "height": 900})


def test_the_download_menu_offers_the_notebook(browser: Browser, site: str) -> None:
    browser.open(site + "appendices/api.html")
    page = browser.page
    page.locator(".dropdown-download-buttons button").first.click()
    link = page.locator("a.btn-download-notebook-button")
    assert link.is_visible()
    response = page.request.get(urljoin(page.url, link.get_attribute("href")))
    assert response.ok and '"nbformat": 4' in response.text()

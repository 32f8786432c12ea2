"""Check the built HTML documentation as a browser renders it, with no network.

Usage (after ``python -m sphinx -b html docs docs/_build/html``)::

    python docs/check_rendered.py [docs/_build/html] [--chromium PATH] [--all]

Every page that contains maths is opened in headless Chromium (Debian's ``chromium`` package)
with ``--dump-dom`` after MathJax has had time to run, and must

* show no raw TeX: no ``\\(``, ``\\)``, ``\\[``, ``\\]`` or ``$$`` left in its visible text, and at
  least one ``mjx-container`` (the maths was typeset);
* load MathJax from the build itself (``_static/``), not from a CDN.

Every page (rendered DOM where rendered, the HTML file otherwise) must

* reference only images that exist in the build and are not empty, and none from the network;
* have a top bar of at most 4 section links (one row at 1400 px), and, under ``user_guide/``, a
  non-empty section navigation in the left sidebar.

Exit status 0 when everything holds, 1 otherwise (one line per problem), 2 when Chromium is
missing.  Standard library only.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlparse

RAW_TEX = re.compile(r"\\\(|\\\)|\\\[|\\\]|\$\$")
HIDDEN = {"script", "style", "pre", "code", "textarea", "mjx-container", "mjx-assistive-mml",
          "math", "noscript", "template", "svg"}
MAX_HEADER_LINKS = 4


class Page(HTMLParser):
    """Visible text, images, scripts, header links and sidebar links of one HTML page."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.text: list[str] = []
        self.images: list[str] = []
        self.scripts: list[str] = []
        self.mjx = 0
        self.header_links = 0
        self.sidebar_links = 0
        self._hidden = 0
        self._seen_header = False
        self._stack: list[tuple[str, bool, bool]] = []  # tag, in header nav, in sidebar nav
        self._void = {"img", "br", "hr", "meta", "link", "input", "source", "wbr", "area",
                      "base", "col", "embed", "param", "track"}

    def _flags(self) -> tuple[bool, bool]:
        return (any(h for _, h, _ in self._stack), any(s for _, _, s in self._stack))

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        cls = a.get("class") or ""
        if tag == "img" and a.get("src"):
            self.images.append(a["src"])
        if tag == "script" and a.get("src"):
            self.scripts.append(a["src"])
        if tag == "mjx-container":
            self.mjx += 1
        in_header, in_sidebar = self._flags()
        if tag == "a" and in_header and "nav-link" in cls:
            self.header_links += 1
        if tag == "a" and in_sidebar and a.get("href"):
            self.sidebar_links += 1
        if tag in self._void:
            return
        # the first navbar list is the top bar (the theme repeats it in the mobile sidebar)
        header = "navbar-nav" in cls and not self._seen_header
        if header:
            self._seen_header = True
        sidebar = tag == "nav" and "bd-docs-nav" in cls
        self._stack.append((tag, header and not in_header, sidebar))
        if tag in HIDDEN:
            self._hidden += 1

    def handle_endtag(self, tag):
        if tag in self._void:
            return
        while self._stack:
            t, _, _ = self._stack.pop()
            if t in HIDDEN:
                self._hidden -= 1
            if t == tag:
                break

    def handle_data(self, data):
        if not self._hidden:
            self.text.append(data)


def parse(html: str) -> Page:
    p = Page()
    p.feed(html)
    p.close()
    return p


def find_chromium(given: str | None) -> str | None:
    if given:
        return given
    for name in ("chromium", "chromium-browser", "google-chrome", "chrome"):
        path = shutil.which(name)
        if path:
            return path
    return None


def render(chromium: str, page: Path, budget_ms: int = 5000, timeout: float = 60.0) -> str:
    """The DOM of ``page`` after ``budget_ms`` of virtual time, from headless Chromium."""
    with tempfile.TemporaryDirectory() as profile:
        cmd = [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
               "--disable-extensions", "--disable-background-networking", "--mute-audio",
               f"--user-data-dir={profile}", "--window-size=1400,900",
               f"--virtual-time-budget={budget_ms}", "--dump-dom", page.resolve().as_uri()]
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout,
                             env={**os.environ, "HOME": profile})
    if out.returncode != 0 or "<html" not in out.stdout.lower():
        raise RuntimeError(f"chromium failed on {page} (exit {out.returncode}): "
                           f"{out.stderr.strip()[-300:]}")
    return out.stdout


def check_page(root: Path, path: Path, dom: str | None, expect_math: bool = True) -> list[str]:
    """Problems of one page (``dom``: the rendered DOM, or None for the HTML file)."""
    rel = path.relative_to(root).as_posix()
    html = dom if dom is not None else path.read_text(encoding="utf-8", errors="replace")
    p = parse(html)
    problems = []
    if dom is not None:
        text = " ".join(p.text)
        m = RAW_TEX.search(text)
        if m:
            around = " ".join(text[max(0, m.start() - 40): m.end() + 40].split())
            problems.append(f"{rel}: raw TeX {m.group(0)!r} in the rendered page: ...{around}...")
        if expect_math and p.mjx == 0:
            problems.append(f"{rel}: has maths but MathJax typeset nothing")
    for src in p.scripts:
        if "mathjax" in src.lower() and urlparse(src).scheme in ("http", "https"):
            problems.append(f"{rel}: MathJax loaded from the network ({src})")
    for src in p.images:
        url = urlparse(src)
        if url.scheme in ("http", "https"):
            problems.append(f"{rel}: image from the network: {src}")
            continue
        if url.scheme == "data":
            continue
        target = (path.parent / unquote(url.path)).resolve()
        if url.scheme == "file":
            target = Path(unquote(url.path))
        if not target.is_file() or target.stat().st_size == 0:
            problems.append(f"{rel}: broken image {src}")
    if p.header_links > MAX_HEADER_LINKS:
        problems.append(f"{rel}: {p.header_links} links in the top bar (at most "
                        f"{MAX_HEADER_LINKS} fit one row at 1400 px)")
    if rel.startswith("user_guide/") and p.sidebar_links == 0:
        problems.append(f"{rel}: empty section navigation")
    return problems


def has_math(html: str) -> bool:
    """Sphinx marks maths with class "math" (MathJax typesets those elements)."""
    return 'class="math' in html


def has_raw_tex(html: str) -> bool:
    """Visible TeX delimiters in the static page (maths Sphinx did not mark)."""
    return bool(RAW_TEX.search(" ".join(parse(html).text)))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("build", nargs="?", default=str(Path(__file__).parent / "_build" / "html"),
                    help="the built HTML folder (default: docs/_build/html)")
    ap.add_argument("--chromium", default=None, help="path of the browser (default: search PATH)")
    ap.add_argument("--all", action="store_true",
                    help="render every page, not only the pages with maths")
    args = ap.parse_args(argv)
    root = Path(args.build)
    if not (root / "index.html").is_file():
        print(f"check_rendered: no built documentation in {root} (index.html missing)",
              file=sys.stderr)
        return 1
    chromium = find_chromium(args.chromium)
    if chromium is None:
        print("check_rendered: chromium not found (apt-get install chromium)", file=sys.stderr)
        return 2
    pages = sorted(p for p in root.rglob("*.html") if "_static" not in p.parts
                   and "_sources" not in p.parts)
    problems: list[str] = []
    rendered = 0
    for path in pages:
        html = path.read_text(encoding="utf-8", errors="replace")
        dom = None
        math = has_math(html)
        if args.all or math or has_raw_tex(html):
            dom = render(chromium, path)
            rendered += 1
        problems += check_page(root, path, dom, expect_math=math)
    for line in problems:
        print(line)
    print(f"check_rendered: {len(pages)} pages, {rendered} rendered in {Path(chromium).name}, "
          f"{len(problems)} problem(s)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())

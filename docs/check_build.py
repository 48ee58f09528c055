"""Check a built HTML documentation: offline math, complete class pages, doc links.

Usage: ``python docs/check_build.py HTML_FOLDER`` after ``sphinx-build -b html
docs HTML_FOLDER``. It checks that

- every page with math loads MathJax from the build itself, and no script or
  stylesheet from the network, and that MathJax's fonts are there: formulas
  render offline;
- the page of each public class documents every public method of the class,
  inherited ones included, except the ``set_*_request`` methods of metadata
  routing;
- the link of each estimator's HTML representation (``_get_doc_link()``)
  points to a page the build produced.

It prints each problem and exits with status 1 if there is any.
"""

import argparse
import inspect
import re
import sys
from html.parser import HTMLParser
from pathlib import Path

import fuzzyprune
from fuzzyprune import ga_callbacks, reproduce
from fuzzyprune._doc_link import API_PAGES, DOCUMENTATION_URL, documentation_version

# Pages that must have math, so that the check of math is never vacuous.
MATH_PAGES = (f"{API_PAGES}/fuzzyprune.FuzzyCMeans.html",)
MATHJAX = re.compile(r"mathjax", re.IGNORECASE)
NETWORK = re.compile(r"(?:https?:)?//", re.IGNORECASE)
METADATA_REQUEST = re.compile(r"set_\w+_request")
LINKED_ESTIMATORS = ("FuzzyCMeans", "GAFeatureSelector", "PrunedMLPClassifier")
PUBLIC_CLASSES = (
    *(getattr(fuzzyprune, name) for name in LINKED_ESTIMATORS),
    fuzzyprune.PruningCallback,
    ga_callbacks.TimeBudget,
    ga_callbacks.EarlyStopping,
    reproduce.Settings,
)


class _Page(HTMLParser):
    """The scripts, stylesheets, math and object ids of an HTML page."""

    def __init__(self, text):
        super().__init__()
        self.scripts, self.stylesheets, self.inline_scripts = [], [], []
        self.ids = set()
        self.has_math = False
        self._in_script = False
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self.ids.add(attrs.get("id"))
        if "math" in (attrs.get("class") or "").split():
            self.has_math = True
        if tag == "script":
            self._in_script = True
            if attrs.get("src"):
                self.scripts.append(attrs["src"])
        elif tag == "link" and "stylesheet" in (attrs.get("rel") or "").split():
            self.stylesheets.append(attrs.get("href") or "")

    def handle_endtag(self, tag):
        if tag == "script":
            self._in_script = False

    def handle_data(self, data):
        if self._in_script and data.strip():
            self.inline_scripts.append(data)


def _local_file(page_path, url):
    """Return the file a relative URL of a page names, less query and fragment."""
    return page_path.parent / re.split(r"[?#]", url)[0]


def math_problems(html):
    """Return what keeps the formulas of the build from rendering offline."""
    problems = []
    pages = {
        path: _Page(path.read_text(encoding="utf-8")) for path in html.rglob("*.html")
    }
    for name in MATH_PAGES:
        if not pages.get(html / name, _Page("")).has_math:
            problems.append(f"{name}: no math on the page, or no such page")
    for path, page in pages.items():
        if not page.has_math:
            continue
        where = path.relative_to(html)
        for url in page.scripts + page.stylesheets:
            if NETWORK.match(url):
                problems.append(f"{where}: loads {url} from the network")
        for script in page.inline_scripts:
            problems += [
                f"{where}: an inline script names {url}"
                for url in re.findall(r"https?://[^\s\"'<>]+", script)
            ]
        mathjax = [url for url in page.scripts if MATHJAX.search(url)]
        if not mathjax:
            problems.append(f"{where}: has math but loads no MathJax")
        for url in (url for url in mathjax if not NETWORK.match(url)):
            script = _local_file(path, url)
            if not script.is_file():
                problems.append(f"{where}: {url} is not in the build")
            fonts = script.parent / "output" / "chtml" / "fonts" / "woff-v2"
            if not any(fonts.glob("*.woff")):
                problems.append(f"{where}: no MathJax fonts in {fonts}")
    return problems


def public_methods(cls):
    """Return the names of a class's public methods, inherited ones included."""
    return sorted(
        name
        for name, value in inspect.getmembers(cls, callable)
        if not name.startswith("_")
        and not inspect.isclass(value)
        and not METADATA_REQUEST.fullmatch(name)
    ) + (["__call__"] if "__call__" in vars(cls) else [])


def class_page_problems(html):
    """Return the public methods missing from the pages of the public classes."""
    problems = []
    for cls in PUBLIC_CLASSES:
        # A class documented where the library exposes it, not where it lives.
        module = re.sub(r"\._\w+$", "", cls.__module__)
        full_name = f"{module}.{cls.__name__}"
        path = html / API_PAGES / f"{full_name}.html"
        if not path.is_file():
            problems.append(f"{full_name}: no page {path}")
            continue
        ids = _Page(path.read_text(encoding="utf-8")).ids
        problems += [
            f"{full_name}: {name} is not on its page"
            for name in public_methods(cls)
            if f"{full_name}.{name}" not in ids
        ]
    return problems


def doc_link_problems(html):
    """Return the estimators whose HTML representation links to no built page."""
    prefix = f"{DOCUMENTATION_URL}/en/{documentation_version(fuzzyprune.__version__)}/"
    problems = []
    for name in LINKED_ESTIMATORS:
        link = getattr(fuzzyprune, name)()._get_doc_link()
        if not link.startswith(prefix):
            problems.append(f"{name}: its link {link!r} does not start with {prefix}")
        elif not (html / link.removeprefix(prefix)).is_file():
            problems.append(f"{name}: its link {link} names no page of the build")
    return problems


def main(argv=None):
    """Check the build in the folder given as argument; return the exit status."""
    parser = argparse.ArgumentParser(description=__doc__.partition("\n")[0])
    parser.add_argument("html", type=Path, help="the folder sphinx-build wrote")
    html = parser.parse_args(argv).html
    if not (html / "index.html").is_file():
        parser.error(f"{html} holds no built documentation (no index.html)")
    problems = math_problems(html) + class_page_problems(html) + doc_link_problems(html)
    for problem in problems:
        print(problem, file=sys.stderr)
    print(f"{html}: {len(problems)} problem(s)" if problems else f"{html}: all good")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())

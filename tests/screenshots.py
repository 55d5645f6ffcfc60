"""Takes the README's screenshots of the main pages with headless Chromium:
``python -m tests.screenshots docs/screenshots`` (builds the bundled samples in a temporary
folder, serves them on 127.0.0.1 and saves one PNG per page)."""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path
from urllib.parse import quote

from tests.browser import build_samples, chrome, serving

RELEASE = "2024-02-27-round-table-in-bishkek-launches-dialogue-platform-on-prevent-2545fe"
QUERY = """PREFIX osce: <https://w3id.org/osce-kg/ontology#>
PREFIX schema: <https://schema.org/>
SELECT ?release ?date ?state WHERE {
  ?release a osce:PressRelease ; schema:datePublished ?date ; osce:mentionsState ?state .
} ORDER BY DESC(?date) LIMIT 8"""

#: (file name, path, window height): the pages the README shows.
PAGES = (
    ("home.png", "/", 1100),
    ("entity.png", "/page/field-operation/programme-office-in-bishkek", 1100),
    ("release.png", f"/page/release/{RELEASE}", 1100),
    ("query.png", f"/sparql?query={quote(QUERY)}", 1300),
    ("report.png", "/report/validation", 1100),
)


def take(out: Path) -> list[Path]:
    """One PNG per page of ``PAGES`` in ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    saved = []
    with tempfile.TemporaryDirectory() as folder:
        build = build_samples(Path(folder) / "build")
        with serving(build, YASGUI_JS="", YASGUI_CSS="") as url:
            for name, path, height in PAGES:
                driver = chrome(width=1280, height=height)
                try:
                    driver.get(url + path)
                    target = out / name
                    if not driver.save_screenshot(str(target)):
                        raise RuntimeError(f"Chromium saved no screenshot of {path}")
                    saved.append(target)
                finally:
                    driver.quit()
    return saved


if __name__ == "__main__":
    for path in take(Path(sys.argv[1] if len(sys.argv) > 1 else "docs/screenshots")):
        print(path)

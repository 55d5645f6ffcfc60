"""The site in a real browser: headless Chromium (Debian's chromium and chromium-driver) driven by
Selenium. The query form with and without JavaScript, no console errors, no serious or critical
axe-core violations on any page. Chromium reaches nothing but 127.0.0.1."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
import requests
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.ui import WebDriverWait

from tests.browser import axe_violations, build_samples, chrome, find_chromium, serving

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        find_chromium() is None,
        reason="Chromium is not installed: apt-get install chromium chromium-driver",
    ),
]

BLOCKING_IMPACTS = ("serious", "critical")

#: One thing of each kind that has a page of its own, found in the build by SPARQL.
_SAMPLES_QUERY = """
PREFIX osce: <https://w3id.org/osce-kg/ontology#>
SELECT ?class (MIN(STR(?thing)) AS ?first) WHERE {
  VALUES ?class {
    osce:PressRelease osce:Person osce:FieldOperation osce:ParticipatingState osce:City osce:Event
  }
  ?thing a ?class
  # a person with a post, whose page has the most sections
  FILTER(?class != osce:Person || EXISTS { ?appointment osce:appointee ?thing })
} GROUP BY ?class"""


@pytest.fixture(scope="module")
def sample_build(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The bundled sample releases, built as a user's first ``osce-kg build`` builds them."""
    return build_samples(tmp_path_factory.mktemp("browser") / "build")


@pytest.fixture(scope="module")
def site(sample_build: Path) -> Iterator[str]:
    """The server with YASGUI off: every page as served to a browser, no third-party script."""
    with serving(sample_build, YASGUI_JS="", YASGUI_CSS="") as url:
        yield url


@pytest.fixture(scope="module")
def site_with_yasgui(sample_build: Path) -> Iterator[str]:
    """The server as shipped: the query page loads the pinned YASGUI from its CDN, which this
    browser cannot reach (it resolves no host name but 127.0.0.1), as when the CDN is down."""
    with serving(sample_build) as url:
        yield url


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    driver = chrome()
    yield driver
    driver.quit()


@pytest.fixture(scope="module")
def browser_without_javascript() -> Iterator[Any]:
    driver = chrome(javascript=False)
    yield driver
    driver.quit()


def entity_paths(url: str) -> list[str]:
    """The /page/... path of one release, person, field operation, State, city and event."""
    response = requests.get(
        url + "/sparql",
        params={"query": _SAMPLES_QUERY},
        headers={"Accept": "application/sparql-results+json"},
        timeout=30,
    )
    response.raise_for_status()
    iris = [row["first"]["value"] for row in response.json()["results"]["bindings"]]
    assert len(iris) == 6, iris
    return ["/page/" + iri.split("/id/", 1)[1] for iri in sorted(iris)]


def site_pages(url: str) -> list[str]:
    """Every kind of page of the site, results and errors included."""
    query = quote(
        "SELECT ?s ?label WHERE { ?s a <https://w3id.org/osce-kg/ontology#Person> ; "
        "<http://www.w3.org/2000/01/rdf-schema#label> ?label } LIMIT 5"
    )
    return [
        "/",
        "/sparql",
        f"/sparql?query={query}",
        "/ontology",
        "/shapes",
        "/dumps/",
        "/void",
        "/report/validation",
        "/report/quarantine",
        "/page/state/no-such-state",
        *entity_paths(url),
    ]


def submit_query(driver: Any, url: str, query: str) -> None:
    """Types a query into the plain form of /sparql and submits it."""
    driver.get(url + "/sparql")
    form = driver.find_element(By.ID, "sparql-form")
    assert form.is_displayed()
    area = driver.find_element(By.ID, "query")
    area.clear()
    area.send_keys(query)
    driver.find_element(By.CSS_SELECTOR, "#sparql-form button[type=submit]").click()
    WebDriverWait(driver, 20).until(
        expected_conditions.presence_of_element_located((By.ID, "results"))
    )


AUSTRIA_QUERY = 'SELECT ?state WHERE { ?state <https://w3id.org/osce-kg/ontology#isoAlpha2> "AT" }'


def check_austria_result(driver: Any) -> None:
    """The results show Austria by its label, linked to its page."""
    results = driver.find_element(By.ID, "results")
    link = results.find_element(By.CSS_SELECTOR, "td a")
    assert link.text == "Austria"
    assert link.get_attribute("href").endswith("/id/state/at")


def test_query_form_works_without_javascript(
    browser_without_javascript: Any, site_with_yasgui: str
) -> None:
    submit_query(browser_without_javascript, site_with_yasgui, AUSTRIA_QUERY)
    check_austria_result(browser_without_javascript)


def test_query_form_works_when_yasgui_cannot_load(browser: Any, site_with_yasgui: str) -> None:
    submit_query(browser, site_with_yasgui, AUSTRIA_QUERY)
    check_austria_result(browser)


def test_query_form_works_with_javascript(browser: Any, site: str) -> None:
    submit_query(browser, site, AUSTRIA_QUERY)
    check_austria_result(browser)


def test_no_console_errors_on_any_page(browser: Any, site: str) -> None:
    errors = {}
    browser.get_log("browser")  # forget what earlier tests left
    for path in site_pages(site):
        browser.get(site + path)
        logged = [entry for entry in browser.get_log("browser") if entry["level"] == "SEVERE"]
        # the 404 page's own status is the one error a browser reports there
        logged = [
            e for e in logged if not (path.endswith("no-such-state") and "404" in e["message"])
        ]
        if logged:
            errors[path] = [entry["message"] for entry in logged]
    assert errors == {}


def test_no_serious_or_critical_accessibility_violations(browser: Any, site: str) -> None:
    counts: dict[str, dict[str, int]] = {}
    blocking = {}
    for path in site_pages(site):
        browser.get(site + path)
        violations = axe_violations(browser)
        per_impact: dict[str, int] = {}
        for violation in violations:
            impact = violation.get("impact") or "unknown"
            per_impact[impact] = per_impact.get(impact, 0) + len(violation["nodes"])
        counts[path] = per_impact
        found = [
            f"{v['id']} ({v['impact']}): {v['help']} at {v['nodes'][0]['target']}"
            for v in violations
            if v.get("impact") in BLOCKING_IMPACTS
        ]
        if found:
            blocking[path] = found
    for path, per_impact in counts.items():
        print(f"axe-core {path}: {per_impact or 'no violations'}")
    assert blocking == {}

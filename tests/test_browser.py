"""The site in a real browser: headless Chromium (Debian's chromium and chromium-driver) driven by
Selenium. The query form with and without JavaScript, no console errors, no serious or critical
axe-core violations on any page. Chromium reaches nothing but 127.0.0.1."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
import requests
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.ui import WebDriverWait

from tests.browser import axe_violations, build_samples, chrome, find_chromium, serving
from tests.serving import free_port, running

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


YASGUI_STAND_INS = Path(__file__).parent / "data" / "yasgui"


@pytest.fixture(scope="module")
def stand_in_server() -> Iterator[str]:
    """A static file server on 127.0.0.1 for the YASGUI stand-ins (tests/data/yasgui)."""
    port = free_port()
    command = [sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1"]
    command += ["--directory", str(YASGUI_STAND_INS)]
    with running(command, port=port, env=dict(os.environ), start_timeout=30) as url:
        yield url


@pytest.fixture(scope="module")
def site_with_starting_yasgui(sample_build: Path, stand_in_server: str) -> Iterator[str]:
    with serving(sample_build, YASGUI_JS=stand_in_server + "/starts.js", YASGUI_CSS="") as url:
        yield url


@pytest.fixture(scope="module")
def site_with_failing_yasgui(sample_build: Path, stand_in_server: str) -> Iterator[str]:
    with serving(sample_build, YASGUI_JS=stand_in_server + "/throws.js", YASGUI_CSS="") as url:
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
        "/browse/",
        "/browse/PressRelease",
        "/browse/ParticipatingState?page=2",
        "/search?q=austria",
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


def test_yasgui_replaces_the_form_when_it_starts(
    browser: Any, site_with_starting_yasgui: str
) -> None:
    browser.get(site_with_starting_yasgui + "/sparql")
    yasgui = wait_for(
        browser,
        lambda driver: (
            driver.find_element(By.ID, "yasgui").get_attribute("data-query")
            and (driver.find_element(By.ID, "yasgui"))
        ),
    )
    query = browser.find_element(By.ID, "query").get_attribute("value")
    assert yasgui.get_attribute("data-query") == query  # YASGUI starts with the page's query
    assert yasgui.get_attribute("data-endpoint").endswith("/sparql")
    assert not browser.find_element(By.ID, "sparql-form").is_displayed()


def test_query_form_stays_and_works_when_yasgui_fails_to_start(
    browser: Any, site_with_failing_yasgui: str
) -> None:
    submit_query(browser, site_with_failing_yasgui, AUSTRIA_QUERY)
    check_austria_result(browser)
    assert browser.find_element(By.ID, "yasgui").text == ""


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


def wait_for(driver: Any, condition: Any, timeout: float = 20) -> Any:
    return WebDriverWait(driver, timeout).until(condition)


def test_search_box_suggests_and_opens_the_chosen_page(browser: Any, site: str) -> None:
    browser.get(site + "/")
    box = browser.find_element(By.ID, "site-search-q")
    box.send_keys("Austr")
    options = wait_for(
        browser,
        expected_conditions.visibility_of_all_elements_located(
            (By.CSS_SELECTOR, "ul.suggestions [role=option]")
        ),
    )
    labels = [option.find_element(By.CLASS_NAME, "suggestion-label").text for option in options]
    assert labels[0] == "Austria", labels
    assert box.get_attribute("aria-expanded") == "true"
    box.send_keys(Keys.ARROW_DOWN)
    assert box.get_attribute("aria-activedescendant") == options[0].get_attribute("id")
    box.send_keys(Keys.ENTER)
    wait_for(browser, expected_conditions.url_contains("/page/state/at"))
    assert browser.find_element(By.TAG_NAME, "h1").text == "Austria"


def test_search_box_finds_accented_names_in_other_languages(browser: Any, site: str) -> None:
    browser.get(site + "/")
    browser.find_element(By.ID, "site-search-q").send_keys("osterreich")
    option = wait_for(
        browser,
        expected_conditions.visibility_of_element_located(
            (By.CSS_SELECTOR, "ul.suggestions [role=option]")
        ),
    )
    assert option.find_element(By.CLASS_NAME, "suggestion-label").text == "Austria"
    option.click()  # a click opens the page too
    wait_for(browser, expected_conditions.url_contains("/page/state/at"))


def test_search_box_without_javascript_opens_the_search_page(
    browser_without_javascript: Any, site: str
) -> None:
    driver = browser_without_javascript
    driver.get(site + "/")
    box = driver.find_element(By.ID, "site-search-q")
    box.send_keys("Austria")
    box.submit()
    wait_for(driver, expected_conditions.url_contains("/search?q=Austria"))
    links = [a.text for a in driver.find_elements(By.CSS_SELECTOR, "main a")]
    assert "Austria" in links


def listed_names(driver: Any) -> list[str]:
    return [
        a.text
        for a in driver.find_elements(By.CSS_SELECTOR, "section.listing tbody td:first-child a")
    ]


def test_browse_pages_through_a_list(browser: Any, site: str) -> None:
    browser.get(site + "/browse/ParticipatingState")
    first = listed_names(browser)
    assert first and first == sorted(first, key=str.casefold)
    browser.find_element(By.CSS_SELECTOR, "nav.pages a[rel=next]").click()
    wait_for(browser, expected_conditions.url_contains("page=2"))
    second = listed_names(browser)
    assert second and not set(first) & set(second)
    assert second[0].casefold() >= first[-1].casefold()
    browser.find_element(By.CSS_SELECTOR, "nav.pages a[rel=prev]").click()
    wait_for(browser, lambda driver: "page=2" not in driver.current_url)
    assert listed_names(browser) == first


def test_browse_facets_narrow_the_list_and_can_be_removed(browser: Any, site: str) -> None:
    browser.get(site + "/browse/PressRelease")
    everything = len(listed_names(browser))
    year = browser.find_element(By.CSS_SELECTOR, "#facet-year + ul li")
    expected = int(year.find_element(By.CLASS_NAME, "count").text)
    chosen = year.find_element(By.TAG_NAME, "a").text
    year.find_element(By.TAG_NAME, "a").click()
    wait_for(browser, expected_conditions.url_contains(f"year={chosen}"))
    narrowed = browser.find_elements(By.CSS_SELECTOR, "section.listing tbody td.date")
    assert len(narrowed) == expected < everything
    assert all(cell.text.startswith(chosen) for cell in narrowed)
    browser.find_element(By.CSS_SELECTOR, ".selected-filters a").click()
    wait_for(browser, lambda driver: "year=" not in driver.current_url)
    assert len(listed_names(browser)) == everything

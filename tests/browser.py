"""Headless Chromium for the browser tests and the screenshots: Debian's chromium and
chromium-driver driven by Selenium, kept off every address but 127.0.0.1; axe-core injected."""

from __future__ import annotations

import contextlib
import importlib.resources
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from selenium import webdriver
from selenium.webdriver.chrome.service import Service

from tests.serving import free_port, running

#: Where Debian installs the browser and its WebDriver (apt-get install chromium chromium-driver).
CHROMIUM_NAMES = ("chromium", "chromium-browser")
DRIVER_NAMES = ("chromedriver", "chromium-driver")

#: Chromium may resolve no host name but 127.0.0.1 (a page that links a CDN fails to load it,
#: as it would offline) and starts none of its own background traffic.
CHROMIUM_ARGUMENTS = (
    "--headless=new",
    "--no-sandbox",  # CI runs as root, where Chromium's sandbox cannot start
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--no-first-run",
    "--no-default-browser-check",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-default-apps",
    "--disable-extensions",
    "--disable-domain-reliability",
    "--metrics-recording-only",
    "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1",
)


def find_chromium() -> tuple[str, str] | None:
    """The paths of Chromium and its driver, or None when either is not installed."""
    browser = next((p for name in CHROMIUM_NAMES if (p := shutil.which(name))), None)
    driver = next((p for name in DRIVER_NAMES if (p := shutil.which(name))), None)
    if browser is None or driver is None:
        return None
    return browser, driver


def axe_script() -> str:
    """axe-core's ``axe.min.js`` as the axe-core-python package ships it (no download)."""
    return importlib.resources.files("axe_core_python").joinpath("axe.min.js").read_text("utf-8")


def chrome(*, javascript: bool = True, width: int = 1280, height: int = 900) -> Any:
    """A headless Chromium WebDriver (the caller quits it); browser console logs kept."""
    found = find_chromium()
    if found is None:
        raise RuntimeError(
            "Chromium or its driver is not installed (apt-get install chromium chromium-driver)"
        )
    browser, driver = found
    options = webdriver.ChromeOptions()
    options.binary_location = browser
    for argument in CHROMIUM_ARGUMENTS:
        options.add_argument(argument)
    options.add_argument(f"--window-size={width},{height}")
    if not javascript:
        options.add_experimental_option(
            "prefs", {"profile.managed_default_content_settings.javascript": 2}
        )
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    browser_driver = webdriver.Chrome(options=options, service=Service(driver))
    browser_driver.set_window_size(width, height)
    return browser_driver


def axe_violations(driver: Any) -> list[dict[str, Any]]:
    """axe-core's violations on the page the driver shows (every rule axe runs by default)."""
    driver.execute_script(axe_script())
    found = driver.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "axe.run(document, {resultTypes: ['violations']})"
        ".then(r => done(r.violations), e => done('axe failed: ' + e));"
    )
    if isinstance(found, str):
        raise RuntimeError(found)
    violations: list[dict[str, Any]] = found
    return violations


def build_samples(out: Path) -> Path:
    """``osce-kg build --out out`` of the bundled samples; returns out."""
    command = [sys.executable, "-c", "from server.cli import main; main()", "build", "--out"]
    subprocess.run([*command, str(out)], check=False, capture_output=True, timeout=600)
    if not (out / "current").is_symlink():
        raise RuntimeError(f"osce-kg build --out {out} published no build")
    return out


@contextlib.contextmanager
def serving(build: Path, **settings: str) -> Iterator[str]:
    """``osce-kg serve`` over ``build`` on 127.0.0.1 with ``OSCE_KG_<NAME>`` settings."""
    port = free_port()
    command = [sys.executable, "-c", "from server.cli import main; main()"]
    command += ["serve", "--build", str(build), "--host", "127.0.0.1", "--port", str(port)]
    env = {k: v for k, v in os.environ.items() if not k.startswith("OSCE_KG_")}
    env.update({f"OSCE_KG_{name}": value for name, value in settings.items()})
    with running(command, port=port, env=env, start_timeout=120) as url:
        yield url

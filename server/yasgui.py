"""Where the query page loads YASGUI from: a pinned release, checked by Subresource Integrity."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from flask import current_app

#: A pinned release from the npm registry as jsDelivr serves it. The hashes are the sha384 of
#: ``build/yasgui.min.js`` and ``build/yasgui.min.css`` in ``npm pack @triply/yasgui@4.2.28``
#: (the tarball's sha512 matched the registry's ``dist.integrity``); a new version needs new hashes.
YASGUI_VERSION = "4.2.28"
_CDN = f"https://cdn.jsdelivr.net/npm/@triply/yasgui@{YASGUI_VERSION}/build/"

#: Settings (``OSCE_KG_YASGUI_JS`` ...) and their defaults; an empty URL never loads YASGUI.
DEFAULTS: dict[str, str] = {
    "YASGUI_JS": _CDN + "yasgui.min.js",
    "YASGUI_JS_INTEGRITY": "sha384-"
    "QmjBmzRqk7JDGhGYmjP89IdwnsVo/+1by9ZDF50Nc1rgDCte3t6US8lSCPoS1/bx",
    "YASGUI_CSS": _CDN + "yasgui.min.css",
    "YASGUI_CSS_INTEGRITY": "sha384-"
    "EC5HLUY/3wgJiDkRgDRkUNjG7+YD6CIw8Ba7ew5GtmQlMYf1yfT5+Sg7sii3SRFO",
}

#: Services YASGUI's editor asks for prefix and term completions.
COMPLETION_SERVICES = ("https://prefix.cc", "https://lov.linkeddata.es")


@dataclass(frozen=True)
class Asset:
    """A file the browser fetches from elsewhere, with the hash it must have (empty: unchecked)."""

    url: str
    integrity: str


@dataclass(frozen=True)
class Yasgui:
    """YASGUI's script and style sheet as configured (an empty URL: not loaded)."""

    js: Asset
    css: Asset

    @property
    def origins(self) -> tuple[str, ...]:
        """The origins the page loads YASGUI from (none when it is off or served from here)."""
        found = []
        for asset in (self.js, self.css):
            parts = urlsplit(asset.url)
            if parts.scheme and parts.netloc:
                found.append(f"{parts.scheme}://{parts.netloc}")
        return tuple(dict.fromkeys(found))


def _asset(name: str) -> Asset:
    url = str(current_app.config.get(name, DEFAULTS[name]) or "")
    key = f"{name}_INTEGRITY"
    # The default hash belongs to the default URL: another URL is unchecked unless given its own.
    default = DEFAULTS[key] if url == DEFAULTS[name] else ""
    return Asset(url, str(current_app.config.get(key, default) or ""))


def current_yasgui() -> Yasgui:
    """YASGUI as the running app's settings say."""
    return Yasgui(_asset("YASGUI_JS"), _asset("YASGUI_CSS"))

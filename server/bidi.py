"""Shows bidirectional-text controls in untrusted text as visible marks on HTML pages."""

from __future__ import annotations

import re
from typing import Any

from flask import Flask
from markupsafe import Markup, escape

# Embeddings, overrides and isolates reorder the text around them: a label holding U+202E can
# make "exe.txt" read as "txt.exe" or hide what a link says. Marks (U+200E, U+200F, U+061C)
# only order neighbouring characters and stay, as right-to-left text needs them.
BIDI_CONTROLS = re.compile("[\u202a-\u202e\u2066-\u2069]")


def show_bidi_controls(text: str) -> str:
    """The text with each bidi control replaced by its code point in view, e.g. ``⟨U+202E⟩``."""
    return BIDI_CONTROLS.sub(lambda match: f"⟨U+{ord(match.group()):04X}⟩", text)


def finalize(value: Any) -> Any:
    """Jinja's hook for every ``{{ ... }}`` on a page: text gets its controls shown; markup
    (already escaped, or passed through ``verbatim``) is left as it is."""
    if isinstance(value, str) and not isinstance(value, Markup):
        return show_bidi_controls(value)
    return value


def verbatim(value: Any) -> Markup:
    """Escapes a text without showing its controls: for what the user edits (a query in its
    text area), which must go back exactly as it came."""
    return escape(value)


def init_app(app: Flask) -> None:
    """Installs the hook; must run before anything renders a template."""
    app.jinja_options = {**app.jinja_options, "finalize": finalize}
    app.add_template_filter(verbatim)

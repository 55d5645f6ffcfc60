"""The security headers every response carries: CSP, no sniffing, no framing, referrer policy."""

from __future__ import annotations

from flask import Flask, Response

from server.yasgui import COMPLETION_SERVICES, current_yasgui


def content_security_policy() -> str:
    """Own scripts, styles and data only, plus YASGUI's origin when it is loaded from elsewhere.

    Styles allow 'unsafe-inline' because YASGUI's editor sets style attributes; scripts never
    run inline (the query page's script is a static file).
    """
    yasgui = current_yasgui()
    cdn = " ".join(yasgui.origins)
    completions = " ".join(COMPLETION_SERVICES) if yasgui.js.url else ""
    directives = {
        "default-src": "'self'",
        "script-src": f"'self' {cdn}",
        "style-src": f"'self' 'unsafe-inline' {cdn}",
        "img-src": "'self' data:",
        "font-src": f"'self' data: {cdn}",
        "connect-src": f"'self' {completions}",
        "object-src": "'none'",
        "base-uri": "'none'",
        "form-action": "'self'",
        "frame-ancestors": "'none'",
    }
    return "; ".join(f"{name} {value.strip()}" for name, value in directives.items())


def add_security_headers(response: Response) -> Response:
    """Adds the headers unless a view set its own."""
    headers = response.headers
    headers.setdefault("Content-Security-Policy", content_security_policy())
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
    return response


def init_app(app: Flask) -> None:
    """Every response, errors and static files included, gets the headers."""
    app.after_request(add_security_headers)

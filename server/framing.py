"""Refuses requests whose body length is ambiguous, before werkzeug's server reads the body."""

from __future__ import annotations

from http import HTTPStatus

from werkzeug.serving import WSGIRequestHandler


def framing_problem(content_lengths: list[str], transfer_encodings: list[str]) -> str | None:
    """Why the headers do not say where the body ends (None: they do, or there is no body).

    Werkzeug keeps the last of several Content-Length headers and does not look at the pair
    Content-Length + Transfer-Encoding, so the server and a proxy in front of it could read two
    different requests (smuggling), or the server waits for bytes that never come.
    """
    if len(content_lengths) > 1:
        return "more than one Content-Length header"
    if content_lengths and transfer_encodings:
        return "both Content-Length and Transfer-Encoding"
    if content_lengths and not content_lengths[0].strip().isdigit():
        return "a Content-Length that is not a number"
    return None


class StrictFramingRequestHandler(WSGIRequestHandler):
    """werkzeug's handler, answering 400 at once (and closing) when the framing is ambiguous;
    gunicorn does the same on its own."""

    def parse_request(self) -> bool:
        if not super().parse_request():
            return False
        problem = framing_problem(
            self.headers.get_all("Content-Length") or [],
            self.headers.get_all("Transfer-Encoding") or [],
        )
        if problem is None:
            return True
        self.close_connection = True
        self.send_error(HTTPStatus.BAD_REQUEST, f"Bad request framing: {problem}")
        return False

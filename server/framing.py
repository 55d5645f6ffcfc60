"""Refuses requests whose body length is ambiguous, before ``osce-kg serve`` reads the body."""

from __future__ import annotations

from typing import Any

from waitress.channel import HTTPChannel
from waitress.parser import HTTPRequestParser, ParsingError


def framing_problem(content_lengths: list[str], transfer_encodings: list[str]) -> str | None:
    """Why the headers do not say where the body ends (None: they do, or there is no body).

    A server that keeps one of several Content-Length headers, or lets Transfer-Encoding win
    over Content-Length, may read another request than a proxy in front of it (smuggling), or
    wait for bytes that never come.
    """
    if len(content_lengths) > 1:
        return "more than one Content-Length header"
    if content_lengths and transfer_encodings:
        return "both Content-Length and Transfer-Encoding"
    if content_lengths and not content_lengths[0].strip().isdigit():
        return "a Content-Length that is not a number"
    return None


class StrictFramingParser(HTTPRequestParser):  # type: ignore[misc]
    """waitress's request parser, refusing (400, then closing) any ambiguous framing.

    waitress itself refuses several Content-Length headers (it joins them into a list, which is
    not a number) but reads a request with both Content-Length and ``Transfer-Encoding:
    chunked`` as chunked; gunicorn, and this parser, answer 400 at once.
    """

    def parse_header(self, header_plus: bytes) -> None:
        super().parse_header(header_plus)
        headers: dict[str, str] = self.headers
        lengths = [headers["CONTENT_LENGTH"]] if "CONTENT_LENGTH" in headers else []
        # waitress takes Transfer-Encoding out of an HTTP/1.1 request it reads as chunked
        chunked = self.chunked or "TRANSFER_ENCODING" in headers
        problem = framing_problem(lengths, ["chunked"] if chunked else [])
        if problem is not None:
            raise ParsingError(f"Bad request framing: {problem}")


class StrictFramingChannel(HTTPChannel):  # type: ignore[misc]
    """A waitress connection that parses requests with ``StrictFramingParser``."""

    parser_class = StrictFramingParser


def use_strict_framing(server: Any) -> None:
    """Makes every listening socket of a server from ``waitress.create_server`` open its
    connections as ``StrictFramingChannel`` (one socket, or several for a host name with
    more than one address)."""
    listeners = getattr(server, "map", None)
    for listener in listeners.values() if isinstance(listeners, dict) else [server]:
        if hasattr(listener, "channel_class"):
            listener.channel_class = StrictFramingChannel

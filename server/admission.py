"""Admits SPARQL queries: at most so many at once per client (else 429) and in all (else 503)."""

from __future__ import annotations

import contextlib
import ipaddress
import logging
import threading
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field

from flask import Flask
from werkzeug.datastructures import Headers

from server.limits import Limits, Network, limits_of
from server.query import ClientBusyError, QueryBusyError

log = logging.getLogger(__name__)

EXTENSION_KEY = "osce_kg_admission"

#: Seconds a client over its own limit is told to wait (Retry-After of the 429).
CLIENT_RETRY_AFTER = 5
#: Seconds every client is told to wait when the server runs as many queries as it may.
FULL_RETRY_AFTER = 2
#: Characters of the User-Agent that name a client (bounds what one key may cost).
AGENT_CHARS = 200


@dataclass
class Admission:
    """Counts the queries each client runs, and all of them; refuses one over either limit.

    A query counts from its admission (before it waits for a worker) to its answer, so a
    client cannot queue more than its share either. The counts are this web process's: the
    shipped gunicorn configuration runs one web process with threads.
    """

    per_client: int
    overall: int
    _running: Counter[str] = field(default_factory=Counter, init=False, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False)

    @contextlib.contextmanager
    def admit(self, client: str) -> Iterator[None]:
        """Counts one query of ``client`` while the block runs; ClientBusyError (429) when the
        client already runs ``per_client`` queries, QueryBusyError (503) when all run
        ``overall``."""
        with self._lock:
            if self._running[client] >= self.per_client:
                log.info("query refused: %r already runs %d queries", client, self.per_client)
                raise ClientBusyError(
                    f"you already have {self.per_client} queries running, as many as one client "
                    "may at once; wait for one to finish, then try again",
                    retry_after=CLIENT_RETRY_AFTER,
                )
            if self._running.total() >= self.overall:
                log.warning("query refused: %d queries are running", self.overall)
                raise QueryBusyError(
                    f"the server runs {self.overall} queries, as many as it takes at once; "
                    "try again in a few seconds",
                    retry_after=FULL_RETRY_AFTER,
                )
            self._running[client] += 1
        try:
            yield
        finally:
            with self._lock:
                self._running[client] -= 1
                if self._running[client] <= 0:
                    del self._running[client]

    def running(self) -> int:
        """Queries admitted and not answered yet (for monitoring and tests)."""
        with self._lock:
            return self._running.total()

    @classmethod
    def from_limits(cls, limits: Limits) -> Admission:
        return cls(per_client=limits.max_per_client, overall=limits.max_queries)


def client_of(remote_addr: str | None, headers: Headers, trusted: tuple[Network, ...]) -> str:
    """Who sent a request: its address and User-Agent.

    The address is the connection's, unless the connection comes from a trusted proxy: then
    it is the one the proxy names, in X-Real-IP or else the last X-Forwarded-For entry (the
    one the proxy appended; earlier entries are whatever the client wrote).
    """
    address = remote_addr or "unknown"
    if _is_trusted(address, trusted):
        forwarded = headers.get("X-Real-IP") or headers.get("X-Forwarded-For", "").split(",")[-1]
        named = _address(forwarded.strip())
        if named is not None:
            address = named
    agent = headers.get("User-Agent", "")[:AGENT_CHARS]
    return f"{address} {agent}"


def _address(text: str) -> str | None:
    try:
        return str(ipaddress.ip_address(text))
    except ValueError:
        return None


def _is_trusted(address: str, trusted: tuple[Network, ...]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in trusted)


def init_app(app: Flask) -> None:
    """Gives the app its query admission, from its limits."""
    app.extensions[EXTENSION_KEY] = Admission.from_limits(limits_of(app))


def admission_of(app: Flask) -> Admission:
    """The app's query admission."""
    admission: Admission = app.extensions[EXTENSION_KEY]
    return admission

"""gunicorn's settings for osce-kg: ``gunicorn -c python:server.deploy.gunicorn_conf ...``.

One web process with threads: pages, dumps and /healthz are answered by threads that never wait
for a query, and the query limits (per client, in all, the worker pool) are counted in that one
process, while the queries themselves run in their own worker processes (so they use the other
cores). Command-line options (``-b``, ``--threads``...) override these.
"""

from __future__ import annotations

import os

from server import DEFAULTS

#: The query time limit the app will use, so gunicorn never stops a request a query still runs.
_QUERY_TIMEOUT = float(os.environ.get("OSCE_KG_SPARQL_TIMEOUT", DEFAULTS["SPARQL_TIMEOUT"]))

bind = "127.0.0.1:8080"
worker_class = "gthread"
workers = 1
# More threads than queries may run at once (SPARQL_MAX_QUERIES, 16): the rest serve pages.
threads = 32
# gthread's timeout watches the process (its heartbeat), not one request; kept above the query
# limit anyway, and graceful shutdown lets a running query end.
timeout = int(_QUERY_TIMEOUT) + 30
graceful_timeout = int(_QUERY_TIMEOUT) + 5
keepalive = 5
# GET queries longer than this get 414: send long queries by POST (MAX_QUERY_BYTES applies).
limit_request_line = 8190
# The proxy in front (server/deploy/nginx.conf) runs on this host.
forwarded_allow_ips = "127.0.0.1,::1"

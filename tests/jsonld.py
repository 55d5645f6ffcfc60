"""A JSON-LD document loader for Flask's test client: the data documents refer to their context
by URL (``/context.jsonld``), which a parser would fetch over the network."""

from __future__ import annotations

import json
from urllib.parse import urlsplit

from flask.testing import FlaskClient


def with_context_inline(client: FlaskClient, text: str) -> str:
    """The document with its ``@context`` URL replaced by the context the server publishes there,
    fetched through the test client (as a JSON-LD processor's document loader would)."""
    document = json.loads(text)
    url = document.get("@context")
    if not isinstance(url, str):
        return text
    response = client.get(urlsplit(url).path)
    assert response.status_code == 200, f"the context {url} is not published"
    assert response.mimetype == "application/ld+json"
    document["@context"] = response.get_json()["@context"]
    return json.dumps(document)

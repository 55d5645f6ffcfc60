"""The settings a run takes from its environment, read once where the run starts (CLI, app)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

from kg.errors import ConfigError
from kg.rdf.uris import DEFAULT_BASE, normalise_base

#: the base IRI everything is minted under
BASE_ENV = "OSCE_KG_BASE"


@dataclass(frozen=True)
class Settings:
    """Configuration that library code receives as values, never reads from the environment."""

    base: str = DEFAULT_BASE

    @classmethod
    def from_environ(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """The settings of ``environ`` (default: the process environment), checked."""
        environ = os.environ if environ is None else environ
        base = environ.get(BASE_ENV) or DEFAULT_BASE
        try:
            return cls(base=normalise_base(base))
        except ConfigError as error:
            raise ConfigError(f"{BASE_ENV}: {error}") from error

"""Reading configuration from environment variables, with one-line errors.

Settings are read once at start-up. A wrong or missing variable stops the
process with a single line that names the variable and says what it expects,
instead of a traceback from deep inside Django.
"""

from __future__ import annotations

import os
import secrets
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Literal, overload
from urllib.parse import urlparse

if TYPE_CHECKING:
    from dj_database_url import DBConfig


class ConfigurationError(SystemExit):
    """A bad environment variable: exits with one line on stderr."""

    def __init__(self, name: str, expected: str, got: str | None = None) -> None:
        shown = "it is not set" if got is None else f"got {got!r}"
        self.variable = name
        super().__init__(f"Configuration error: {name} must be {expected}; {shown}.")


# With a default, or required, the value is always text; otherwise it may be None.
@overload
def env_str(name: str, default: str, *, required: bool = False) -> str: ...
@overload
def env_str(name: str, default: None = None, *, required: Literal[True]) -> str: ...
@overload
def env_str(name: str, default: None = None, *, required: bool = False) -> str | None: ...
def env_str(name: str, default: str | None = None, *, required: bool = False) -> str | None:
    value = os.environ.get(name)
    if value is None or value == "":
        if required:
            raise ConfigurationError(name, "set")
        return default
    return value


_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    if value.lower() in _TRUE:
        return True
    if value.lower() in _FALSE:
        return False
    raise ConfigurationError(name, "one of true/false, yes/no, on/off, 1/0", value)


def env_int(name: str, default: int, *, minimum: int = 0) -> int:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    try:
        number = int(value)
    except ValueError:
        raise ConfigurationError(name, "a whole number", value) from None
    if number < minimum:
        raise ConfigurationError(name, f"a whole number of at least {minimum}", value)
    return number


def env_list(name: str, default: list[str] | None = None) -> list[str]:
    value = os.environ.get(name)
    if value is None or value.strip() == "":
        return list(default or [])
    return [item.strip() for item in value.split(",") if item.strip()]


def env_networks(name: str) -> list[str]:
    """Comma-separated IP addresses or CIDR ranges, as canonical ranges."""
    import ipaddress

    networks = []
    for item in env_list(name):
        try:
            networks.append(str(ipaddress.ip_network(item, strict=False)))
        except ValueError:
            raise ConfigurationError(
                name,
                f"comma-separated IP addresses or ranges, like 10.0.0.5,172.18.0.0/16 "
                f"({item!r} is neither)",
                os.environ.get(name),
            ) from None
    return networks


def env_choice(name: str, choices: tuple[str, ...], default: str) -> str:
    value = os.environ.get(name, "") or default
    if value not in choices:
        raise ConfigurationError(name, "one of " + ", ".join(choices), value)
    return value


def database_url(name: str = "DATABASE_URL") -> DBConfig | None:
    """Parse a PostgreSQL (or SQLite) URL into a Django DATABASES entry."""
    import dj_database_url

    prepared = prepared_statements()  # checked whichever database, as every variable is
    value = os.environ.get(name)
    if not value:
        return None
    scheme = urlparse(value).scheme
    if scheme not in {"postgres", "postgresql", "pgsql", "sqlite"}:
        raise ConfigurationError(
            name, "a URL such as postgres://user:password@host:5432/dbname", value
        )
    config = dj_database_url.parse(value, conn_max_age=60, conn_health_checks=True)
    if scheme != "sqlite" and not config.get("NAME"):
        raise ConfigurationError(name, "a URL that names the database after the host", value)
    if scheme != "sqlite":
        config.setdefault("OPTIONS", {}).update(prepared)
    return config


def prepared_statements(name: str = "DATABASE_PREPARE_THRESHOLD") -> dict[str, object]:
    """psycopg's options for PostgreSQL (ADR 21): parameters bound by the
    server, and a statement a connection has run ``prepare_threshold`` times
    prepared (parsed and planned once for the connection, not at every
    request: a busy page's statements were a third of its time in the
    database). ``none`` turns preparing off, for a pooler in transaction mode
    that cannot keep prepared statements."""
    value = os.environ.get(name, "") or "5"
    if value == "none":
        return {"server_side_binding": True, "prepare_threshold": None}
    # At least one run unprepared: psycopg learns then that a statement of
    # several commands (a migration's, say) cannot be prepared.
    if not value.isdigit() or int(value) < 1:
        raise ConfigurationError(name, "a whole number of runs, 1 or more, or none", value)
    return {"server_side_binding": True, "prepare_threshold": int(value)}


def redis_url(name: str = "REDIS_URL") -> str | None:
    value = os.environ.get(name)
    if not value:
        return None
    parsed = urlparse(value)
    if parsed.scheme not in {"redis", "rediss"} or not parsed.hostname:
        raise ConfigurationError(name, "a URL such as redis://host:6379/0", value)
    return value


def development_secret(data_dir: Path) -> str:
    """A secret generated once per checkout and kept in the data folder."""
    path = data_dir / "dev-secret-key"
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        key = secrets.token_urlsafe(50)
        path.write_text(key + "\n")
        path.chmod(0o600)
        return key


def warn(message: str) -> None:
    print(message, file=sys.stderr)

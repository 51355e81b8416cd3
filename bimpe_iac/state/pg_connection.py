"""Connections to the PostgreSQL state database, and how to speak of one without its password.

A DSN is either a URL (`postgresql://user:password@host:5432/db?sslmode=require`) or libpq
key/value pairs (`host=db user=ci password=... dbname=infra`). It may hold a password, so it
is only ever shown as `describe_dsn` gives it, and every error text passes through `mask`.
"""

from __future__ import annotations

import urllib.parse
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
from psycopg.conninfo import conninfo_to_dict, make_conninfo
from psycopg.rows import TupleRow

from bimpe_iac.errors import StateError

CONNECT_TIMEOUT_S = 10
MASK = "***"


def describe_dsn(dsn: str) -> str:
    """`postgresql://user@host:port/dbname`, without the password or other parameters."""
    try:
        params = conninfo_to_dict(dsn)
    except psycopg.Error:
        return "postgresql://(a DSN that cannot be parsed)"
    user = f"{params['user']}@" if params.get("user") else ""
    host = str(params.get("host") or "localhost")
    port = f":{params['port']}" if params.get("port") else ""
    dbname = str(params.get("dbname") or "")
    return f"postgresql://{user}{host}{port}/{dbname}"


def mask(text: str, dsn: str) -> str:
    """`text` with the DSN and its password, as written or URL-encoded, replaced."""
    text = text.replace(dsn, describe_dsn(dsn)) if dsn else text
    try:
        password = str(conninfo_to_dict(dsn).get("password") or "")
    except psycopg.Error:
        return text
    for form in sorted({password, urllib.parse.quote(password, safe="")}, key=len, reverse=True):
        if form:
            text = text.replace(form, MASK)
    return text


def connect(dsn: str) -> psycopg.Connection[TupleRow]:
    """An autocommit connection; the DSN's own settings win over these defaults."""
    with database_errors(dsn, "cannot connect to"):
        params = conninfo_to_dict(dsn)
        defaults: dict[str, str | int] = {
            "connect_timeout": CONNECT_TIMEOUT_S,
            "application_name": "bimpe-iac",
        }
        extra = {key: value for key, value in defaults.items() if key not in params}
        # Server-side prepared statements do not survive a transaction-mode connection pooler.
        return psycopg.connect(make_conninfo(dsn, **extra), autocommit=True, prepare_threshold=None)


@contextmanager
def database_errors(dsn: str, doing: str) -> Iterator[None]:
    """Turn a database error into a StateError: "<doing> the state database <where>: <why>"."""
    try:
        yield
    except psycopg.Error as exc:
        reason = " ".join(str(exc).split()) or type(exc).__name__
        raise StateError(
            mask(f"{doing} the state database {describe_dsn(dsn)}: {reason}", dsn)
        ) from None

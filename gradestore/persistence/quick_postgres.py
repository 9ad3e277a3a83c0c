"""A PostgreSQL store's answer for bytes stored already, read with psycopg alone.

The same question as quick_sqlite (SourcesStore.unchanged_source, one row of
``source_files``), asked without SQLAlchemy and its PostgreSQL dialect, whose import is most
of that command's start-up; psycopg itself (imported only here, on this path) is needed by
either path. ``open_at_head`` returns None, and the caller takes the usual path (the engine,
ensure_schema and their messages), unless every one of these holds:

- the URL is ``postgresql://`` or ``postgresql+psycopg://`` then
  ``[user[:password]@]host[:port]/dbname``: one host name or IPv4 address (no IPv6 literal,
  no list of hosts, no socket folder), a port of digits, a database name; user, password and
  database name may hold ``%`` escapes, which SQLAlchemy reads with the same
  ``urllib.parse.unquote``, but no character that its parse splits on differently. A query
  may follow, each key once, each one of the libpq keywords in ``QUERY_KEYWORDS``, read as
  SQLAlchemy reads it (``parse_qsl``); anything else (``options=``, which may set a
  search_path, a host or port in the query, a psycopg argument such as ``autocommit``)
  returns None. ``connection_parameters`` gives what SQLAlchemy's psycopg dialect hands to
  ``psycopg.connect`` for such a URL (a test compares the two);
- psycopg can be imported and connects with those parameters, as the engine would (libpq
  then reads the same PG* variables, ~/.pgpass and service files). The engine sets no
  connect_timeout; this path waits QUICK_CONNECT_TIMEOUT seconds at most (less if the URL
  says so), and then the usual path connects, and waits, as it always has;
- no other process holds the store's write lock: ``pg_try_advisory_xact_lock`` of the key the
  usual path's write transactions wait for (db.POSTGRES_WRITE_LOCK_KEY is this module's),
  held until the store is closed, as the usual path holds it while it answers;
- ``alembic_version`` is a table the session's search_path finds (ensure_schema's own
  question) and holds one row, the revision this gradestore expects
  (quick_sqlite.HEAD_REVISION).

Any psycopg error (no server, a failed login, a lost connection) returns None, or raises
QuickStoreError once the store is open: this path prints nothing (the usual path says what
went wrong, its URL masked). The transaction is read-only and rolled back: nothing is written.
"""

from __future__ import annotations

import contextlib
import re
from typing import TYPE_CHECKING
from urllib.parse import parse_qsl, unquote

from gradestore.persistence.quick_sqlite import _UNCHANGED_SOURCE, HEAD_REVISION

if TYPE_CHECKING:
    import psycopg
    from psycopg.rows import TupleRow

# Any constant works; it only has to be the same in every gradestore process (db.py's
# write transactions take it; here, because this module must not import SQLAlchemy).
POSTGRES_WRITE_LOCK_KEY = 0x6772_6164
# ensure_schema's question (db._has_version_table): a table-like alembic_version visible in
# the search path, outside pg_catalog.
POSTGRES_HAS_VERSION_TABLE = (
    "SELECT 1 FROM pg_catalog.pg_class c"
    " JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace"
    " WHERE c.relname = 'alembic_version' AND c.relkind IN ('r', 'p', 'f', 'v', 'm')"
    " AND pg_catalog.pg_table_is_visible(c.oid) AND n.nspname <> 'pg_catalog'"
)
# The libpq keywords a URL's query may hold here: they change how the connection is made or
# named, not which server, database, role or schema it reaches.
QUERY_KEYWORDS = frozenset(
    {
        "application_name",
        "channel_binding",
        "connect_timeout",
        "gssencmode",
        "keepalives",
        "keepalives_count",
        "keepalives_idle",
        "keepalives_interval",
        "krbsrvname",
        "sslcert",
        "sslcrl",
        "sslkey",
        "sslmode",
        "sslrootcert",
        "tcp_user_timeout",
    }
)
# Seconds this path waits for a connection (libpq's least): a server slower than that to
# answer gets the usual path, which waits as long as the URL and libpq let it.
QUICK_CONNECT_TIMEOUT = 2
_PREFIXES = ("postgresql://", "postgresql+psycopg://")
# Characters SQLAlchemy's URL pattern reads as part of a user name, a password or a database
# name, and ours as well; ':' only in the password, '@' nowhere (config.normalize_url escapes
# a password's '@' as %40).
_NAME = r"[A-Za-z0-9._~!$&'()*+,;=%-]"
_PLAIN_URL = re.compile(
    rf"""
    (?:(?P<user>{_NAME}+)(?::(?P<password>(?:{_NAME}|:)*))?@)?
    (?P<host>[A-Za-z0-9][A-Za-z0-9.-]*)
    (?::(?P<port>[0-9]{{1,5}}))?
    /(?P<dbname>{_NAME}+)
    (?:\?(?P<query>[^#]*))?
    """,
    re.X,
)
_SOURCE_QUERY = _UNCHANGED_SOURCE.replace(":sha256", "%(sha256)s")


class QuickStoreError(Exception):
    """A psycopg error after the store was opened (the caller takes the usual path)."""


def connection_parameters(url: str) -> dict[str, str | int] | None:
    """The keyword arguments SQLAlchemy's psycopg dialect gives ``psycopg.connect`` for a
    plain URL (see the module's docstring); None for any other URL."""
    prefix = next((prefix for prefix in _PREFIXES if url.startswith(prefix)), None)
    if prefix is None:
        return None
    match = _PLAIN_URL.fullmatch(url, len(prefix))
    if match is None:
        return None
    parameters: dict[str, str | int] = {"host": match["host"]}
    database = unquote(match["dbname"])
    if not database:
        return None
    parameters["dbname"] = database
    if match["user"] is not None:
        parameters["user"] = unquote(match["user"])
    if match["password"]:  # SQLAlchemy leaves out an empty password
        parameters["password"] = unquote(match["password"])
    if match["port"] is not None:
        port = int(match["port"])
        if not port:
            return None
        parameters["port"] = port
    if match["query"] is not None:
        query = parse_qsl(match["query"])
        keys = [key for key, _ in query]
        if len(set(keys)) != len(keys) or not set(keys) <= QUERY_KEYWORDS:
            return None
        parameters.update(query)
    if any("\x00" in str(value) for value in parameters.values()):
        return None
    return parameters


class QuickPostgresSources:
    """The one question of SourcesStore this store answers, in its write lock's transaction."""

    def __init__(self, connection: psycopg.Connection[TupleRow]) -> None:
        self._connection = connection

    def unchanged_source(self, sha256: str) -> tuple[int, int] | None:
        import psycopg

        try:
            row = self._connection.execute(_SOURCE_QUERY, {"sha256": sha256}).fetchone()
        except psycopg.Error as error:
            raise QuickStoreError(type(error).__name__) from None
        return None if row is None else (int(row[0]), int(row[1]))

    def close(self) -> None:
        """Roll back (nothing was written) and close: the write lock goes."""
        import psycopg

        try:
            self._connection.rollback()
        except psycopg.Error as error:
            raise QuickStoreError(type(error).__name__) from None
        finally:
            self._connection.close()


def open_at_head(url: str) -> QuickPostgresSources | None:
    """The store at ``url`` in a transaction holding the write lock, when it is one this
    module is sure of (see the module's docstring); None otherwise, and for any error."""
    parameters = connection_parameters(url)
    if parameters is None:
        return None
    try:
        import psycopg
        from psycopg.conninfo import make_conninfo
    except ImportError:
        return None
    timeout = _connect_timeout(parameters.get("connect_timeout"))
    if timeout is None:
        return None
    try:
        # What psycopg.connect makes of the dialect's keyword arguments.
        conninfo = make_conninfo("", **{**parameters, "connect_timeout": timeout})
        connection = psycopg.connect(conninfo)
    except (psycopg.Error, ValueError):
        return None
    sure = False
    try:
        connection.read_only = True  # BEGIN READ ONLY
        sure = _is_sure(connection)
    except psycopg.Error:
        pass
    finally:
        if not sure:
            with contextlib.suppress(psycopg.Error):
                connection.close()
    return QuickPostgresSources(connection) if sure else None


def _connect_timeout(given: str | int | None) -> int | None:
    """QUICK_CONNECT_TIMEOUT, or the URL's connect_timeout when it is shorter (libpq waits
    for ever for 0 or less); None for one libpq would refuse (the usual path says so)."""
    try:
        seconds = 0 if given is None else int(given)
    except ValueError:
        return None
    return QUICK_CONNECT_TIMEOUT if seconds <= 0 else min(seconds, QUICK_CONNECT_TIMEOUT)


def _is_sure(connection: psycopg.Connection[TupleRow]) -> bool:
    """The write lock taken without waiting, and the expected schema revision."""
    locked = connection.execute(
        "SELECT pg_try_advisory_xact_lock(%(key)s::bigint)", {"key": POSTGRES_WRITE_LOCK_KEY}
    ).fetchone()
    if locked != (True,):  # another writer: the usual path waits for it
        return False
    if connection.execute(POSTGRES_HAS_VERSION_TABLE).fetchone() is None:
        return False
    revisions = connection.execute("SELECT version_num FROM alembic_version LIMIT 2").fetchall()
    return revisions == [(HEAD_REVISION,)]

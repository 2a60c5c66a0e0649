"""Engine and sessions. One engine per process; short sessions per unit of work."""

from __future__ import annotations

import socket
import time
import weakref

import asyncpg
from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, DisconnectionError, OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlalchemy.pool import AsyncAdaptedQueuePool

from hub.settings import Settings


def is_sqlite(url: str) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


def create_engine(settings: Settings) -> AsyncEngine:
    url = settings.database_url
    if is_sqlite(url):
        database = make_url(url).database
        if database and database != ":memory:":
            settings.data_dir.mkdir(parents=True, exist_ok=True)
        engine = create_async_engine(
            url, pool_size=settings.db_pool_size, max_overflow=settings.db_pool_size, poolclass=CountingPool
        )
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        return engine
    engine = create_async_engine(url, pool_size=settings.db_pool_size, max_overflow=settings.db_pool_size, poolclass=CountingPool)
    event.listen(engine.sync_engine.pool, "checkin", _note_checkin)
    event.listen(engine.sync_engine.pool, "checkout", _ping_if_idle)
    return engine


# A connection back from use within this long is alive: pinging it on every checkout (SQLAlchemy's
# pool_pre_ping) cost a round trip per statement, a fifth of a one-row lookup's time.
IDLE_PING_SECONDS = 2.0


def _note_checkin(dbapi_connection, record) -> None:
    record.info["checked_in"] = time.monotonic()


def _ping_if_idle(dbapi_connection, record, proxy) -> None:
    """Ping a connection that sat idle (the server may have dropped it meanwhile: a restart, an
    administrator); a dead one is replaced by a new connection before anyone uses it."""
    if time.monotonic() - record.info.get("checked_in", 0.0) < IDLE_PING_SECONDS:
        return
    try:
        dbapi_connection.ping()
    except Exception as error:  # noqa: BLE001 - any failure means: not usable, connect anew
        raise DisconnectionError(str(error)) from error


_readers: weakref.WeakKeyDictionary[AsyncEngine, AsyncEngine] = weakref.WeakKeyDictionary()


def reader(engine: AsyncEngine) -> AsyncEngine:
    """The engine for single-statement reads: on PostgreSQL without a transaction around them.

    A read in its own transaction costs BEGIN and ROLLBACK, two more round trips for one SELECT;
    under READ COMMITTED a transaction gives a lone statement nothing it does not have alone.
    (SQLite starts no transaction for a SELECT anyway; switching its isolation level would cost
    two hops to its worker thread.)
    """
    if engine.dialect.name != "postgresql":
        return engine
    found = _readers.get(engine)
    if found is None:
        found = _readers[engine] = engine.execution_options(isolation_level="AUTOCOMMIT")
    return found


class CountingPool(AsyncAdaptedQueuePool):
    """The usual pool, counting checkouts still in progress (for /metrics).

    A checkout that finds a free connection finishes without yielding to the event loop, so
    whoever reads `waiting` from that loop sees only checkouts that wait: for a connection
    to come back, or for a new one to be opened (and pinged).
    """

    waiting = 0

    def connect(self):
        self.waiting += 1
        try:
            return super().connect()
        finally:
            self.waiting -= 1


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    # WAL lets loader batches read while a writer commits; busy_timeout makes
    # concurrent writers wait instead of failing at once; SQLite leaves foreign
    # keys off unless asked.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


BUSY_RETRY_SECONDS = 5
BUSY_MESSAGE = "数据库正在写入其他数据（如一次较大的导入），本次请求未执行：请稍后重试"


def is_busy(error: BaseException | None) -> bool:
    """SQLite's single writer lock was held past busy_timeout (e.g. by a long import): nothing was written, try again."""
    return isinstance(error, OperationalError) and "database is locked" in str(error.orig)


UNAVAILABLE_MESSAGE = "数据库暂时无法连接，本次请求未完成：请稍后重试"
# Connection exceptions (08), an administrator's or a crash's shutdown, a restart in progress (57P0x), no free connection slots.
_UNAVAILABLE_STATES = ("08", "57P01", "57P02", "57P03", "53300")


def is_unavailable(error: BaseException | None) -> bool:
    """The database server could not be reached or dropped the connection (down, restarting, refusing connections)."""
    if isinstance(error, (ConnectionError, socket.gaierror)):  # e.g. refused: nothing listens on the port
        return True
    if not isinstance(error, DBAPIError):
        return False
    if error.connection_invalidated:  # SQLAlchemy saw the connection break
        return True
    cause = error.orig.__cause__ if error.orig is not None and error.orig.__cause__ is not None else error.orig
    if isinstance(cause, (ConnectionError, asyncpg.exceptions.ConnectionDoesNotExistError)):
        return True
    if isinstance(cause, asyncpg.exceptions.InterfaceError) and "connection is closed" in str(cause):
        return True
    state = getattr(cause, "sqlstate", None) or ""
    return state.startswith(_UNAVAILABLE_STATES) or (state == "55000" and "not currently accepting connections" in str(cause))


def database_trouble(error: BaseException | None) -> tuple[str, str] | None:
    """(code, message) when the database could not serve a request for a passing reason: answer 503 with Retry-After."""
    if is_busy(error):
        return "DATABASE_BUSY", BUSY_MESSAGE
    if is_unavailable(error):
        return "DATABASE_UNAVAILABLE", UNAVAILABLE_MESSAGE
    return None


def session_factory(engine: AsyncEngine) -> async_sessionmaker:
    return async_sessionmaker(engine, expire_on_commit=False)


class StatementCounter:
    """Counts SQL statements sent on an engine (tests and benchmarks assert on it)."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self.statements: list[str] = []
        event.listen(engine.sync_engine, "before_cursor_execute", self._record)

    def _record(self, conn, cursor, statement, parameters, context, executemany) -> None:
        self.statements.append(statement)

    @property
    def count(self) -> int:
        return len(self.statements)

    def reset(self) -> None:
        self.statements.clear()

    def close(self) -> None:
        event.remove(self.engine.sync_engine, "before_cursor_execute", self._record)

"""A small, bounded pool of SQLite connections for :class:`~carecoord.storage.SQLiteStore`.

A connection is checked out for one store call (one read, one query, one
``BEGIN IMMEDIATE`` … ``COMMIT``) and handed back, so any number of threads,
short-lived or not, share at most ``max_size`` connections; nothing is tied
to a thread, and a thread that ends leaves nothing open behind it.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress

from ..model import StorageError

__all__ = ["ConnectionPool"]


class ConnectionPool:
    """Up to ``max_size`` connections made by ``connect``, shared by every thread.

    A call that finds every connection in use and the pool at its bound waits
    up to ``timeout`` seconds for one to come back, then raises
    :class:`~carecoord.StorageError`. Idle connections are reused, most
    recently returned first, and stay open until :meth:`close`.
    """

    def __init__(
        self, connect: Callable[[], sqlite3.Connection], *, max_size: int, timeout: float
    ) -> None:
        self._connect = connect
        self._max_size = max_size
        self._timeout = timeout
        self._idle: list[sqlite3.Connection] = []
        self._open = 0  # idle + checked out + being made
        self._closed = False
        self._changed = threading.Condition(threading.Lock())

    @property
    def open_connections(self) -> int:
        """Connections open now: idle, in use, or being opened."""
        with self._changed:
            return self._open

    @property
    def idle_connections(self) -> int:
        """Open connections waiting in the pool for a caller."""
        with self._changed:
            return len(self._idle)

    @contextmanager
    def connection(self) -> Iterator[sqlite3.Connection]:
        """A connection of the pool for the ``with`` block; handed back at its end.

        sqlite3 errors from opening a connection propagate unchanged (the
        store translates them); a closed pool or a wait that timed out raises
        :class:`~carecoord.StorageError`.
        """
        conn = self._acquire()
        try:
            yield conn
        finally:
            self._release(conn)

    def _acquire(self) -> sqlite3.Connection:
        deadline = time.monotonic() + self._timeout
        with self._changed:
            while True:
                if self._closed:
                    raise StorageError("the store is closed")
                if self._idle:
                    return self._idle.pop()
                if self._open < self._max_size:
                    self._open += 1
                    break
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise StorageError(
                        f"no SQLite connection came free within {self._timeout:g} seconds "
                        f"({self._max_size} in use)"
                    )
                self._changed.wait(remaining)
        try:
            return self._connect()  # outside the lock: opening may take a while
        except BaseException:
            self._discard()
            raise

    def _release(self, conn: sqlite3.Connection) -> None:
        if conn.in_transaction:  # never hand on an open transaction
            try:
                conn.execute("ROLLBACK")
            except sqlite3.Error:
                _close_quietly(conn)
                self._discard()
                return
        with self._changed:
            if not self._closed:
                self._idle.append(conn)
                self._changed.notify()
                return
        _close_quietly(conn)  # the pool was closed while it was in use
        self._discard()

    def _discard(self) -> None:
        """Forget one open connection (it failed to open, broke, or was closed)."""
        with self._changed:
            self._open -= 1
            self._changed.notify()

    def close(self) -> None:
        """Close the idle connections now and the others as they come back.

        Later (and waiting) calls raise :class:`~carecoord.StorageError`.
        Closing twice is harmless.
        """
        with self._changed:
            self._closed = True
            idle, self._idle = self._idle, []
            self._open -= len(idle)
            self._changed.notify_all()
        for conn in idle:
            _close_quietly(conn)


def _close_quietly(conn: sqlite3.Connection) -> None:
    with suppress(sqlite3.Error):
        conn.close()

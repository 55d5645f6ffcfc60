"""Runs query jobs in worker processes that are killed when a query runs too long."""

from __future__ import annotations

import logging
import multiprocessing
import queue
import signal
import threading
import time
import weakref
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from multiprocessing.context import BaseContext
from multiprocessing.process import BaseProcess

from flask import Flask

from server.limits import limits_of
from server.query import (
    QueryAnswer,
    QueryBusyError,
    QueryFailedError,
    QueryFailure,
    QueryJob,
    QueryMemoryError,
    QueryPoolRetiredError,
    QueryTimeoutError,
    failure_error,
)
from server.store import served_build
from server.worker import serve_jobs

log = logging.getLogger(__name__)

EXTENSION_KEY = "osce_kg_query_pools"

#: Seconds between looks, while waiting for a free worker, at whether the pool was retired.
RETIRE_POLL = 0.1


@dataclass
class _Worker:
    """One worker process and the web process's end of its pipe."""

    process: BaseProcess
    conn: Connection
    ready: bool = False

    def wait_ready(self, timeout: float) -> None:
        """Waits for the worker to have opened the store."""
        if self.ready:
            return
        if not self.conn.poll(timeout):
            raise QueryFailedError(f"a query worker did not start within {timeout:g} s")
        message = self.conn.recv()
        if isinstance(message, QueryFailure):
            raise QueryFailedError(message.message, message.detail)
        self.ready = True

    def stop(self) -> None:
        """Kills the process (by its pid) and closes the pipe."""
        if self.process.is_alive():
            self.process.kill()
        self.process.join(timeout=5)
        self.conn.close()


@dataclass
class QueryPool:
    """A few worker processes holding the store read-only; ``run`` bounds each query in time.

    pyoxigraph cannot cancel a running query, so a query over its time limit gets its worker
    killed (and replaced) while the web process goes on serving other requests.
    """

    store_path: str
    size: int
    #: The heap each worker may use, in MB (0: no limit).
    memory_mb: int
    #: Workers lose their network (no SERVICE allowlist: nothing to call).
    offline: bool = True
    start_timeout: float = 60.0
    _context: BaseContext = field(init=False, repr=False)
    _idle: queue.Queue[_Worker] = field(init=False, repr=False)
    _workers: list[_Worker] = field(init=False, repr=False)
    _lock: threading.Lock = field(init=False, repr=False)
    _closed: bool = field(init=False, default=False)
    _retiring: bool = field(init=False, default=False)

    def __post_init__(self) -> None:
        self._context = _worker_context()
        self._idle = queue.Queue()
        self._workers = []
        self._lock = threading.Lock()
        for _ in range(max(1, self.size)):
            self._idle.put(self._spawn())

    def _spawn(self) -> _Worker:
        parent, child = self._context.Pipe()
        process = self._context.Process(  # type: ignore[attr-defined]
            target=serve_jobs,
            args=(self.store_path, child, self.memory_mb, self.offline),
            daemon=True,
            name="sparql-worker",
        )
        process.start()
        child.close()
        worker = _Worker(process, parent)
        with self._lock:
            self._workers.append(worker)
        return worker

    def _replace(self, worker: _Worker) -> None:
        """Kills a worker and, unless the pool is closing, puts a fresh one in its place."""
        worker.stop()
        with self._lock:
            if worker in self._workers:
                self._workers.remove(worker)
            closed = self._closed or self._retiring
        if not closed:
            self._idle.put(self._spawn())

    def run(self, job: QueryJob, *, timeout: float) -> QueryAnswer:
        """Runs a job in a free worker; kills the worker if the query outlasts ``timeout``."""
        if self._closed:
            raise QueryFailedError("the query pool is closed")
        worker = self._take_worker(timeout)
        try:
            worker.wait_ready(self.start_timeout)
            worker.conn.send(job)
            finished = worker.conn.poll(timeout)
            reply = worker.conn.recv() if finished else None
        except (EOFError, OSError) as error:
            log.error(
                "query worker %s died (exit code %s); starting another",
                worker.process.pid,
                worker.process.exitcode,
            )
            self._replace(worker)
            if self.memory_mb and worker.process.exitcode == -signal.SIGABRT:
                raise QueryMemoryError(
                    f"the query needed more than the {self.memory_mb} MB of memory a query may "
                    "use and was stopped; narrow it down (smaller strings, LIMIT) and try again"
                ) from error
            raise QueryFailedError(
                "the query worker stopped unexpectedly", f"exit code {worker.process.exitcode}"
            ) from error
        except BaseException:
            self._replace(worker)
            raise
        if not finished:
            log.warning("query stopped at its time limit of %g s", timeout)
            self._replace(worker)
            raise QueryTimeoutError(
                f"the query ran longer than the {timeout:g} s limit and was stopped; "
                "narrow it down (add LIMIT, more specific patterns) and try again"
            )
        self._release(worker)
        if isinstance(reply, QueryFailure):
            raise failure_error(reply)
        if not isinstance(reply, QueryAnswer):
            raise QueryFailedError("a query worker answered nonsense", repr(reply))
        return reply

    def _take_worker(self, timeout: float) -> _Worker:
        """A free worker, waiting up to ``timeout``; a waiter leaves as soon as the pool retires."""
        deadline = time.monotonic() + timeout
        while not self._retiring:
            left = deadline - time.monotonic()
            if left <= 0:
                raise QueryBusyError(
                    f"every query worker stayed busy for {timeout:g} s; try again later"
                )
            try:
                return self._idle.get(timeout=min(left, RETIRE_POLL))
            except queue.Empty:
                continue
        raise QueryPoolRetiredError("this query pool serves an older build")

    def _release(self, worker: _Worker) -> None:
        """Makes a worker free again, or stops it when the pool is retiring."""
        with self._lock:
            if not self._retiring:
                self._idle.put(worker)
                return
            if worker in self._workers:
                self._workers.remove(worker)
        worker.stop()

    def retire(self) -> None:
        """Takes no new queries; stops idle workers now and busy ones when their query ends."""
        idle: list[_Worker] = []
        with self._lock:
            self._retiring = True
            while True:
                try:
                    idle.append(self._idle.get_nowait())
                except queue.Empty:
                    break
            for worker in idle:
                self._workers.remove(worker)
        for worker in idle:
            worker.stop()

    def close(self) -> None:
        """Kills every worker; the pool answers no more queries."""
        with self._lock:
            self._closed = True
            workers = list(self._workers)
            self._workers.clear()
        for worker in workers:
            worker.stop()

    def worker_pids(self) -> list[int]:
        """The process ids of the live workers (for monitoring and tests)."""
        with self._lock:
            return [w.process.pid for w in self._workers if w.process.pid is not None]


def _worker_context() -> BaseContext:
    """Forkserver: workers start from a small clean process, never by forking a threaded server."""
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["server.worker"])
    return context


@dataclass
class QueryPools:
    """An app's pools: the one over the build being served, and retired ones finishing queries.

    A new build retires the old pool: its queries in flight finish, then its workers stop.
    """

    size: int
    memory_mb: int
    #: Workers lose their network (see ``QueryPool.offline``).
    offline: bool = True
    _current: QueryPool | None = field(default=None, init=False, repr=False)
    _retired: list[QueryPool] = field(default_factory=list, init=False, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False)

    def for_store(self, store_path: str) -> QueryPool:
        """The pool over a store, started on first use; any pool over another store retires."""
        with self._lock:
            pool = self._current
            if pool is not None and pool.store_path == store_path:
                return pool
            if pool is not None:
                pool.retire()
                # kept until close: a query it still runs is stopped then
                self._retired = [p for p in self._retired if p.worker_pids()] + [pool]
            pool = QueryPool(
                store_path, size=self.size, memory_mb=self.memory_mb, offline=self.offline
            )
            self._current = pool
            return pool

    def close(self) -> None:
        """Kills every worker of every pool; the next query starts a fresh pool."""
        with self._lock:
            pools = [*self._retired, *([self._current] if self._current else [])]
            self._current = None
            self._retired = []
        for pool in pools:
            pool.close()


def init_app(app: Flask) -> None:
    """Gives the app its query pools, closed when the app goes away or the interpreter exits."""
    limits = limits_of(app)
    pools = QueryPools(
        limits.workers, limits.worker_memory_mb, offline=not limits.service_allowlist
    )
    app.extensions[EXTENSION_KEY] = pools
    # finalize runs at exit too (SIGTERM is turned into an exit by `osce-kg serve`), so a
    # query still running in a worker is stopped with the server.
    weakref.finalize(app, pools.close)


def query_pool(app: Flask) -> QueryPool:
    """The app's pool of query workers over the build it serves now."""
    pools: QueryPools = app.extensions[EXTENSION_KEY]
    return pools.for_store(str(served_build(app).layout.store))


def run_job(app: Flask, job: QueryJob, *, timeout: float) -> QueryAnswer:
    """Runs a job; when a new build retired the pool just now, runs it in the new pool."""
    try:
        return query_pool(app).run(job, timeout=timeout)
    except QueryPoolRetiredError:
        return query_pool(app).run(job, timeout=timeout)


def close_query_pool(app: Flask) -> None:
    """Stops the app's query workers (tests, shutdown)."""
    pools: QueryPools = app.extensions[EXTENSION_KEY]
    pools.close()

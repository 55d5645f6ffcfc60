"""Runs query jobs in worker processes that are killed when a query runs too long."""

from __future__ import annotations

import functools
import logging
import multiprocessing
import os
import signal
import threading
import time
import weakref
from dataclasses import dataclass, field, replace
from multiprocessing.connection import Connection
from multiprocessing.context import BaseContext
from multiprocessing.process import BaseProcess

from flask import Flask

from server.limits import Limits, limits_of
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
from server.store import Build, StoreFacts, prepare_new_builds, served_build, store_in_memory
from server.worker import serve_jobs

log = logging.getLogger(__name__)

EXTENSION_KEY = "osce_kg_query_pools"

#: Seconds between looks, while waiting for a free worker, at whether the pool was retired.
RETIRE_POLL = 0.1
#: Seconds an idle worker beyond the warm ones is kept, in case the next query needs it.
IDLE_LINGER = 10.0
#: Seconds a client is told to wait (Retry-After) when every worker is busy.
BUSY_RETRY_AFTER = 2
#: Seconds a query runs at the web process's CPU priority. A query still running then drops to
#: ``PoolPlan.nice`` (a runaway query gets the CPU the web process leaves); a worker niced from
#: the start made every query lose the CPU to any other program on a loaded machine (up to 40 %
#: slower than pyoxigraph in-process, benchmarks/bench_latency.py).
FULL_PRIORITY_SECONDS = 1.0


@dataclass
class _Worker:
    """One worker process and the web process's end of its pipe."""

    process: BaseProcess
    conn: Connection
    ready: bool = False
    #: When it last became idle (monotonic seconds); None while it runs a query.
    idle_since: float | None = None
    #: How the worker holds the store (its memory copy's size), once it is ready.
    facts: StoreFacts | None = None
    #: Whether its query outlasted FULL_PRIORITY_SECONDS and it was niced.
    niced: bool = False

    def wait_ready(self, timeout: float) -> None:
        """Waits for the worker to have opened the store."""
        if self.ready:
            return
        if not self.conn.poll(timeout):
            raise QueryFailedError(f"a query worker did not start within {timeout:g} s")
        message = self.conn.recv()
        if isinstance(message, QueryFailure):
            raise QueryFailedError(message.message, message.detail)
        if isinstance(message, StoreFacts):
            self.facts = message
        self.ready = True

    def set_nice(self, nice: int) -> bool:
        """Sets the niceness of every thread of the worker (Linux nices threads one by one);
        False when the system refuses (raising a priority needs CAP_SYS_NICE or RLIMIT_NICE)."""
        pid = self.process.pid
        if pid is None:
            return False
        try:
            threads = [int(name) for name in os.listdir(f"/proc/{pid}/task")]
        except OSError:
            threads = [pid]
        try:
            for thread in threads:
                os.setpriority(os.PRIO_PROCESS, thread, nice)
        except OSError:
            return False
        return True

    def demote(self, nice: int) -> None:
        """Lowers the priority of a worker whose query runs long to ``nice`` below the web
        process's (as os.nice would: 19 at most)."""
        self.niced = True
        if not self.set_nice(min(19, os.getpriority(os.PRIO_PROCESS, 0) + nice)):
            log.debug("could not lower the priority of query worker %s", self.process.pid)

    def restore(self) -> bool:
        """Gives a demoted worker the web process's priority back; False when it cannot be."""
        if not self.niced:
            return True
        if not self.set_nice(os.getpriority(os.PRIO_PROCESS, 0)):
            return False
        self.niced = False
        return True

    def stop(self) -> None:
        """Kills the process (by its pid) and closes the pipe."""
        if self.process.is_alive():
            self.process.kill()
        self.process.join(timeout=5)
        self.conn.close()


@dataclass(frozen=True)
class PoolPlan:
    """How many query workers a pool keeps and may start, and how each one is started."""

    #: Idle workers kept ready, so a query never waits for one to start while others run.
    warm: int
    #: Workers at most, busy or idle.
    most: int
    #: Seconds a query waits for a worker when ``most`` are busy (then QueryBusyError).
    wait: float
    #: The heap each worker may use, in MB (0: no limit).
    memory_mb: int
    #: How much lower a worker's CPU priority is than the web process's once its query has run
    #: for FULL_PRIORITY_SECONDS.
    nice: int = 0
    #: Workers lose their network (no SERVICE allowlist: nothing to call).
    offline: bool = True
    #: Workers copy the store into memory (setting ``STORE=memory``).
    in_memory: bool = False

    @classmethod
    def from_limits(cls, limits: Limits) -> PoolPlan:
        return cls(
            warm=max(1, limits.workers),
            most=max(1, limits.workers, limits.max_workers),
            wait=limits.worker_wait,
            memory_mb=limits.worker_memory_mb,
            nice=limits.worker_nice,
            offline=not limits.service_allowlist,
        )


@dataclass
class QueryPool:
    """Worker processes holding the store read-only; ``run`` bounds each query in time.

    pyoxigraph cannot cancel a running query, so a query over its time limit gets its worker
    killed (and replaced) while the web process goes on serving other requests. The pool keeps
    ``plan.warm`` idle workers ready and grows up to ``plan.most`` while queries run, so a short
    query does not queue behind long ones; idle workers beyond ``warm`` stop after a while.
    """

    store_path: str
    plan: PoolPlan
    start_timeout: float = 60.0
    _context: BaseContext = field(init=False, repr=False)
    #: Idle workers, the most recently used last (taken first: its caches are warm).
    _idle: list[_Worker] = field(init=False, repr=False)
    _workers: list[_Worker] = field(init=False, repr=False)
    _changed: threading.Condition = field(init=False, repr=False)
    _closed: bool = field(init=False, default=False)
    _retiring: bool = field(init=False, default=False)

    def __post_init__(self) -> None:
        self._context = _worker_context()
        self._idle = []
        self._workers = []
        self._changed = threading.Condition()
        with self._changed:
            # one more than the idle ones kept: the first query takes a worker and still
            # leaves ``warm`` ready, so no worker starts (or copies the store) while it runs
            self._top_up(extra=1)

    def _spawn(self) -> _Worker:
        """Starts a worker (it opens the store on its own; ``wait_ready`` waits for that)."""
        parent, child = self._context.Pipe()
        process = self._context.Process(  # type: ignore[attr-defined]
            target=serve_jobs,
            args=(
                self.store_path,
                child,
                self.plan.memory_mb,
                self.plan.offline,
                self.plan.in_memory,
            ),
            daemon=True,
            name="sparql-worker",
        )
        process.start()
        child.close()
        worker = _Worker(process, parent)
        self._workers.append(worker)
        return worker

    def _top_up(self, *, extra: int = 0) -> None:
        """Starts idle workers until ``warm`` (and ``extra``) are ready or ``most`` run
        (holding the lock)."""
        while (
            not (self._closed or self._retiring)
            and len(self._idle) < self.plan.warm + extra
            and len(self._workers) < self.plan.most
        ):
            self._idle.append(self._spawn())

    def _forget(self, worker: _Worker) -> None:
        """Removes a worker from the books (holding the lock); stopping it is the caller's."""
        if worker in self._workers:
            self._workers.remove(worker)
        if worker in self._idle:
            self._idle.remove(worker)

    def _replace(self, worker: _Worker) -> None:
        """Kills a worker and, unless the pool is closing, keeps ``warm`` idle ones ready."""
        worker.stop()
        with self._changed:
            self._forget(worker)
            self._top_up()
            self._changed.notify()

    def run(self, job: QueryJob, *, timeout: float) -> QueryAnswer:
        """Runs a job in a free worker; kills the worker if the query outlasts ``timeout``."""
        if self._closed:
            raise QueryFailedError("the query pool is closed")
        worker = self._take_worker()
        try:
            worker.wait_ready(self.start_timeout)
            worker.conn.send(job)
            finished = self._wait_for_answer(worker, timeout)
            reply = worker.conn.recv() if finished else None
        except (EOFError, OSError) as error:
            log.error(
                "query worker %s died (exit code %s); starting another",
                worker.process.pid,
                worker.process.exitcode,
            )
            self._replace(worker)
            if self.plan.memory_mb and worker.process.exitcode == -signal.SIGABRT:
                raise QueryMemoryError(
                    f"the query needed more than the {self.plan.memory_mb} MB of memory a query "
                    "may use and was stopped; narrow it down (smaller strings, LIMIT) and try again"
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
        if worker.restore():
            self._release(worker)
        else:  # a worker left at a low priority would slow every later query down
            self._replace(worker)
        if isinstance(reply, QueryFailure):
            raise failure_error(reply)
        if not isinstance(reply, QueryAnswer):
            raise QueryFailedError("a query worker answered nonsense", repr(reply))
        return reply

    def _wait_for_answer(self, worker: _Worker, timeout: float) -> bool:
        """Waits up to ``timeout`` seconds for the worker's answer (False: none came); a query
        still running after FULL_PRIORITY_SECONDS gets the lower priority ``plan.nice``."""
        if self.plan.nice <= 0 or timeout <= FULL_PRIORITY_SECONDS:
            return worker.conn.poll(timeout)
        if worker.conn.poll(FULL_PRIORITY_SECONDS):
            return True
        worker.demote(self.plan.nice)
        return worker.conn.poll(timeout - FULL_PRIORITY_SECONDS)

    def _take_worker(self) -> _Worker:
        """An idle worker, or a new one while fewer than ``most`` run; when all are busy, waits
        up to ``plan.wait``. A waiter leaves as soon as the pool retires."""
        deadline = time.monotonic() + self.plan.wait
        with self._changed:
            while not self._retiring:
                if self._idle:
                    worker = self._idle.pop()
                elif len(self._workers) < self.plan.most:
                    worker = self._spawn()
                else:
                    left = deadline - time.monotonic()
                    if left <= 0:
                        raise QueryBusyError(
                            f"all {self.plan.most} query workers are busy; try again in a "
                            "few seconds",
                            retry_after=BUSY_RETRY_AFTER,
                        )
                    self._changed.wait(min(left, RETIRE_POLL))
                    continue
                worker.idle_since = None
                self._top_up()  # the next query finds a worker ready too
                return worker
        raise QueryPoolRetiredError("this query pool serves an older build")

    def _release(self, worker: _Worker) -> None:
        """Makes a worker idle again; stops it when the pool is retiring, and stops workers
        beyond ``warm`` that stayed idle for ``IDLE_LINGER`` seconds."""
        now = time.monotonic()
        with self._changed:
            if self._retiring or self._closed:
                self._forget(worker)
                stopping = [worker]
            else:
                worker.idle_since = now
                self._idle.append(worker)
                stopping = self._idle_too_long(now)
                self._changed.notify()
        for stale in stopping:
            stale.stop()

    def _idle_too_long(self, now: float) -> list[_Worker]:
        """Takes the workers beyond ``warm`` that stayed idle too long off the books (locked)."""
        spare = len(self._idle) - self.plan.warm
        if spare <= 0:
            return []
        stale = [
            w
            for w in self._idle[:spare]  # the longest idle first
            if w.idle_since is not None and now - w.idle_since > IDLE_LINGER
        ]
        for worker in stale:
            self._forget(worker)
        return stale

    def wait_until_warm(self) -> list[StoreFacts]:
        """Waits for the idle workers to have opened the store and run their warm-up query
        (QueryFailedError if one cannot); returns how each holds the store."""
        with self._changed:
            idle = list(self._idle)
        for worker in idle:
            worker.wait_ready(self.start_timeout)
        return [worker.facts or StoreFacts() for worker in idle]

    def retire(self) -> None:
        """Takes no new queries; stops idle workers now and busy ones when their query ends."""
        with self._changed:
            self._retiring = True
            idle = list(self._idle)
            for worker in idle:
                self._forget(worker)
            self._changed.notify_all()
        for worker in idle:
            worker.stop()

    def close(self) -> None:
        """Kills every worker; the pool answers no more queries."""
        with self._changed:
            self._closed = True
            workers = list(self._workers)
            self._workers.clear()
            self._idle.clear()
            self._changed.notify_all()
        for worker in workers:
            worker.stop()

    def worker_pids(self) -> list[int]:
        """The process ids of the live workers (for monitoring and tests)."""
        with self._changed:
            return [w.process.pid for w in self._workers if w.process.pid is not None]


def _worker_context() -> BaseContext:
    """Forkserver: workers start from a small clean process, never by forking a threaded server."""
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["server.worker"])
    return context


@dataclass
class QueryPools:
    """An app's pools: the one over the build being served, one being warmed for the next build,
    and retired ones finishing queries.

    A new build retires the old pool: its queries in flight finish, then its workers stop.
    """

    plan: PoolPlan
    _current: QueryPool | None = field(default=None, init=False, repr=False)
    #: the pool warmed for a build not served yet (``prepare``)
    _next: QueryPool | None = field(default=None, init=False, repr=False)
    _retired: list[QueryPool] = field(default_factory=list, init=False, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False)

    def for_store(self, store_path: str) -> QueryPool:
        """The pool over a store (the one warmed by ``prepare``, else one started now); any
        pool over another store retires."""
        with self._lock:
            pool = self._current
            if pool is not None and pool.store_path == store_path:
                return pool
            if pool is not None:
                pool.retire()
                # kept until close: a query it still runs is stopped then
                self._retired = [p for p in self._retired if p.worker_pids()] + [pool]
            ready, self._next = self._next, None
            if ready is not None and ready.store_path == store_path:
                pool = ready
            else:
                if ready is not None:
                    self._retired.append(ready)
                    ready.retire()
                pool = QueryPool(store_path, self.plan)
            self._current = pool
            return pool

    def prepare(self, store_path: str) -> list[StoreFacts]:
        """Starts the pool over a store that is not served yet and waits until its workers are
        warm (QueryFailedError if one cannot open the store); ``for_store`` then takes it over.
        Returns how each worker holds the store."""
        with self._lock:
            stale: QueryPool | None = None
            if self._current is not None and self._current.store_path == store_path:
                pool = self._current
            elif self._next is not None and self._next.store_path == store_path:
                pool = self._next
            else:
                stale, pool = self._next, QueryPool(store_path, self.plan)
                self._next = pool
        if stale is not None:
            stale.close()
        try:
            return pool.wait_until_warm()
        except QueryFailedError:
            with self._lock:
                if self._next is pool:
                    self._next = None
            pool.close()
            raise

    def close(self) -> None:
        """Kills every worker of every pool; the next query starts a fresh pool."""
        with self._lock:
            pools = [*self._retired, *(p for p in (self._current, self._next) if p is not None)]
            self._current = None
            self._next = None
            self._retired = []
        for pool in pools:
            pool.close()


def init_app(app: Flask) -> None:
    """Gives the app its query pools, closed when the app goes away or the interpreter exits."""
    limits = limits_of(app)
    plan = replace(PoolPlan.from_limits(limits), in_memory=store_in_memory(app))
    if served_build(app).endpoint is not None:  # the workers ask an external SPARQL store
        plan = replace(plan, offline=False)
    pools = QueryPools(plan)
    app.extensions[EXTENSION_KEY] = pools
    # finalize runs at exit too (SIGTERM is turned into an exit by `osce-kg serve`), so a
    # query still running in a worker is stopped with the server.
    weakref.finalize(app, pools.close)
    warm = app.config.get("WARM_START")
    if warm if warm is not None else not app.testing:
        warm_up(app)
        # a new build is loaded and its workers warmed before it is served, off the request path
        prepare_new_builds(app, functools.partial(warm_build, pools), background=True)


def warm_up(app: Flask) -> list[StoreFacts]:
    """Starts the query workers and waits until each has run a first query, and runs one in
    this process too, so the first client's query pays for no start-up (the app answers
    nothing, /healthz included, before this returns). Returns how each worker holds the store."""
    build = served_build(app)
    build.store.query("ASK { ?s ?p ?o }")
    facts = query_pool(app).wait_until_warm()
    log.info(
        "%d query workers warm; %s",
        len(facts),
        "; ".join(f.describe() for f in facts[:1]) or "none",
    )
    return facts


def warm_build(pools: QueryPools, build: Build) -> None:
    """Makes a build that is not served yet ready: one query in this process, and its query
    workers started and warm (QueryFailedError if they cannot open its store)."""
    build.store.query("ASK { ?s ?p ?o }")
    facts = pools.prepare(build.store_location)
    log.info(
        "build %s: %d query workers warm; %s",
        build.build_id,
        len(facts),
        "; ".join(f.describe() for f in facts[:1]) or "none",
    )


def query_pool(app: Flask) -> QueryPool:
    """The app's pool of query workers over the build it serves now."""
    pools: QueryPools = app.extensions[EXTENSION_KEY]
    return pools.for_store(served_build(app).store_location)


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

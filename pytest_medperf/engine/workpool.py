"""Runs a graph of steps, each once, at most N at a time, in threads.

Engine-agnostic: a key is any hashable value; the caller says what a key depends on and
how to run one key (its dependencies done). Threads fit because a step mostly waits on
the engine (docker-py blocks on a socket), which frees the GIL.

What it guarantees, whatever the timing:
- each key runs once, however many threads ask for it;
- a key starts only when its dependencies are done, and never more than `jobs` at once;
- a dependency that raised is not raised across: the dependant's value is what
  `on_dependency_failure` makes of it (the session turns it into a NotRun outcome);
- everything reported (plan(), finished()) is in one order, dependencies first and
  otherwise as first asked, whatever order the runs ended in;
- jobs == 1 runs in the asking thread, lazily, exactly as a sequential session did;
- an interrupt (interrupts/guard.py) is raised only at checkpoints outside the lock (each
  wait in result(), each key run in place); it cancels: no new key starts, `on_cancel`
  stops the running ones, the workers are joined (bounded: see `stuck`), it goes on.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Hashable, Iterable
from typing import Generic, TypeVar

from ..interrupts import checkpoint
from .jobs import JOIN_SECONDS, default_jobs, join_bounded
from .work_done import DependencyFailed, Done, NotStarted

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class CycleError(ValueError):
    """The dependencies loop back on themselves; the message names the loop."""


WAITING, RUNNING, DONE = "waiting", "running", "done"
POLL_SECONDS = 0.2  # how often a waiting caller looks for an interrupt


class WorkPool(Generic[K, V]):
    """Runs wanted keys and their dependencies, each once, at most `jobs` at a time."""

    def __init__(
        self,
        run: Callable[[K], V],
        dependencies: Callable[[K], Iterable[K]],
        *,
        jobs: int | None = None,
        on_dependency_failure: Callable[[K, K, BaseException], V] | None = None,
        on_cancel: Callable[[], None] | None = None,
        on_wait: Callable[[], None] | None = None,
        on_idle: Callable[[], None] | None = None,
        name: str = "medperf-step",
    ) -> None:
        jobs = default_jobs() if jobs is None else jobs
        if jobs < 1:
            raise ValueError(f"jobs must be at least 1, not {jobs}")
        self.jobs = jobs
        self.cancelled = threading.Event()  # a run may poll it to stop early
        self._run = run
        self._dependencies = dependencies
        self._on_dependency_failure = on_dependency_failure
        self._on_cancel = on_cancel
        self._on_wait = on_wait  # called now and then while result() waits (progress lines)
        self._on_idle = on_idle  # a worker ended and no key is running or waiting
        self._name = name
        self._cond = threading.Condition(threading.RLock())
        self._plan: list[K] = []  # dependencies first, otherwise in the order first asked
        self._deps: dict[K, tuple[K, ...]] = {}
        self._state: dict[K, str] = {}
        self._done: dict[K, Done[K, V]] = {}
        self._urgent: set[K] = set()  # keys a caller waits for, with their dependencies
        self._running = 0  # keys running in worker threads (not those run in place)
        self._threads: list[threading.Thread] = []
        self._started = 0
        self._stopped = False
        self._local = threading.local()  # marks the executor's own worker threads
        self.stuck: list[str] = []  # workers still running when the last join gave up

    # -- asking --------------------------------------------------------------------
    def submit(self, keys: Iterable[K]) -> None:
        """Want these keys (and their dependencies); with jobs > 1 they start when ready."""
        with self._cond:
            for key in keys:
                self._add(key, [])
            self._dispatch()

    def result(self, key: K) -> V:
        """The key's value once it is done (run here when jobs == 1); its exception is
        raised again. An interrupt while waiting cancels everything, then goes on."""
        with self._cond:
            self._add(key, [])
            self._urgent.update(self._closure(key))
            self._dispatch()
        try:
            if self.jobs == 1 or getattr(self._local, "worker", False):
                # In place: sequential runs, or a run that asks for another key (its
                # own slot is taken by the wait, so it keeps the count and never deadlocks).
                self._run_here(key)
            while True:
                checkpoint()  # outside the lock: an interrupt never leaves it held
                with self._cond:
                    if key in self._done:
                        done = self._done[key]
                        break
                    self._cond.wait(POLL_SECONDS)
                if self._on_wait is not None:
                    self._on_wait()
            checkpoint()  # a run a signal stopped is no result to report
            if self._on_wait is not None:
                self._on_wait()  # what the run reported just before it ended
        except BaseException:
            if not getattr(self._local, "worker", False):
                self.cancel()
            raise
        return done.unwrap()

    def wait(self, keys: Iterable[K] | None = None) -> list[Done[K, V]]:
        """Wait for these keys (default: every key wanted so far); their ends in plan order."""
        wanted = list(keys) if keys is not None else list(self.plan())
        for key in wanted:
            with contextlib.suppress(Exception):  # kept in its Done
                self.result(key)
        chosen = set(wanted)
        with self._cond:
            return [self._done[k] for k in self._plan if k in chosen]

    def finished(self, key: K | None = None) -> list[Done[K, V]]:
        """The keys done so far (or just this one), in plan order; never starts anything."""
        with self._cond:
            if key is not None:
                return [self._done[key]] if key in self._done else []
            return [self._done[k] for k in self._plan if k in self._done]

    def plan(self) -> tuple[K, ...]:
        """Every key wanted so far, dependencies first, otherwise in the order first asked."""
        with self._cond:
            return tuple(self._plan)

    # -- ending --------------------------------------------------------------------
    def cancel(self) -> None:
        """Start nothing new, tell on_cancel to stop the running keys, and join them."""
        with self._cond:
            first = not self.cancelled.is_set()
            self.cancelled.set()
            self._stop()
        try:
            if first and self._on_cancel is not None:
                self._on_cancel()
        finally:
            self._join()

    def close(self) -> None:
        """Start nothing new and wait for the running keys to end on their own."""
        with self._cond:
            self._stop()
        self._join()

    def __enter__(self) -> WorkPool[K, V]:
        return self

    def __exit__(self, kind: type[BaseException] | None, *rest: object) -> None:
        if kind is not None and not issubclass(kind, Exception):
            self.cancel()
        else:
            self.close()

    # -- inside --------------------------------------------------------------------
    def _add(self, key: K, path: list[K]) -> None:
        """Put key in the plan after its dependencies (a depth-first post-order)."""
        if key in self._deps:
            return
        if key in path:
            loop = " -> ".join(repr(k) for k in [*path[path.index(key) :], key])
            raise CycleError(f"the steps depend on each other in a loop: {loop}")
        deps = tuple(dict.fromkeys(self._dependencies(key)))
        path.append(key)
        for dep in deps:
            self._add(dep, path)
        path.pop()
        self._deps[key] = deps
        self._plan.append(key)
        if self._stopped:
            self._finish(key, Done(key, error=NotStarted(key)))
        else:
            self._state[key] = WAITING

    def _closure(self, key: K) -> set[K]:
        found: set[K] = set()
        todo = [key]
        while todo:
            current = todo.pop()
            if current not in found:
                found.add(current)
                todo.extend(self._deps[current])
        return found

    def _ready(self, key: K) -> bool:
        return self._state[key] == WAITING and all(d in self._done for d in self._deps[key])

    def _dispatch(self) -> None:
        """Start ready keys in worker threads while slots are free: first those a caller
        waits for, then the others, each group in plan order."""
        if self._stopped or self.jobs == 1:
            return
        while self._running < self.jobs:
            ready = [k for k in self._plan if self._ready(k)]
            if not ready:
                return
            key = next((k for k in ready if k in self._urgent), ready[0])
            self._state[key] = RUNNING
            self._running += 1
            self._started += 1
            thread = threading.Thread(
                target=self._work, args=(key,), name=f"{self._name}-{self._started}", daemon=True
            )
            self._threads.append(thread)
            thread.start()

    def _work(self, key: K) -> None:
        self._local.worker = True
        done = self._execute(key, catch=BaseException)
        with self._cond:
            self._running -= 1
            self._finish(key, done)
            self._dispatch()
            # Nothing runs after a dispatch: then nothing waits either (a ready key would
            # have started, and an unready one waits on a running key).
            idle = not self._stopped and not self._running
        if idle and self._on_idle is not None:
            self._on_idle()

    def _run_here(self, key: K) -> None:
        """Run key and its missing dependencies in this thread, in plan order; a key
        another thread runs is waited for."""
        closure = self._closure(key)
        in_worker = getattr(self._local, "worker", False)
        for current in [k for k in self.plan() if k in closure]:
            if not self._claim(current, checkpoints=not in_worker):
                continue
            try:
                done = self._execute(current, catch=BaseException if in_worker else Exception)
            except BaseException:
                with self._cond:
                    self._state[current] = WAITING  # interrupted: not a result
                raise
            with self._cond:
                self._finish(current, done)

    def _claim(self, key: K, *, checkpoints: bool) -> bool:
        """Mark key running in this thread; False when it is done (another thread ran it,
        waited for here)."""
        while True:
            if checkpoints:
                checkpoint()
            with self._cond:
                if self._state.get(key) != RUNNING:
                    if key in self._done:
                        return False
                    self._state[key] = RUNNING
                    return True
                self._cond.wait(POLL_SECONDS)

    def _execute(self, key: K, *, catch: type[BaseException]) -> Done[K, V]:
        with self._cond:
            failed = next(
                ((d, self._done[d].error) for d in self._deps[key] if self._done[d].error),
                None,
            )
        try:
            if failed is None:
                return Done(key, self._run(key))
            dependency, error = failed
            assert error is not None
            if self._on_dependency_failure is None:
                return Done(key, error=DependencyFailed(key, dependency, error))
            return Done(key, self._on_dependency_failure(key, dependency, error))
        except catch as exc:
            return Done(key, error=exc)

    def _finish(self, key: K, done: Done[K, V]) -> None:
        self._done[key] = done
        self._state[key] = DONE
        self._urgent.discard(key)
        self._cond.notify_all()

    def _stop(self) -> None:
        self._stopped = True
        for key in self._plan:
            if self._state[key] == WAITING:
                self._finish(key, Done(key, error=NotStarted(key)))

    def _join(self) -> None:
        """Join every worker, bounded: on_cancel has stopped their runs."""
        with self._cond:
            threads, self._threads = self._threads, []
        self.stuck = join_bounded(threads, JOIN_SECONDS)

"""The step executor on its own, with plain keys and no engine: dependencies, each key
once, at most N at once (counted, not timed), failures, cancellation, N = 1 order."""

from __future__ import annotations

import random
import signal
import threading
from collections import Counter
from collections.abc import Callable, Iterable, Mapping

import pytest

from pytest_medperf.engine.scheduling.jobs import default_jobs
from pytest_medperf.engine.scheduling.work_done import DependencyFailed, NotStarted
from pytest_medperf.engine.scheduling.workpool import CycleError, WorkPool
from pytest_medperf.interrupts import Cancelled, SignalGuard

# MedPerf's chain in small: prepare feeds sanity_check, statistics and infer; evaluate
# needs infer; the three corrupted sanity runs need sanity_check.
CHAIN: dict[str, tuple[str, ...]] = {
    "prepare": (),
    "sanity_check": ("prepare",),
    "statistics": ("prepare",),
    "infer": ("prepare",),
    "evaluate": ("infer", "prepare"),
    "corrupt-1": ("sanity_check",),
    "corrupt-2": ("sanity_check",),
    "corrupt-3": ("sanity_check",),
}


def deps_of(graph: Mapping[str, tuple[str, ...]]) -> Callable[[str], Iterable[str]]:
    return lambda key: graph[key]


def worker_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith("medperf-step")]


class Recorder:
    """A run function that records starts and ends under a lock."""

    def __init__(self, fail: frozenset[str] = frozenset()) -> None:
        self.lock = threading.Lock()
        self.events: list[tuple[str, str]] = []
        self.calls: Counter[str] = Counter()
        self.fail = fail

    def __call__(self, key: str) -> str:
        with self.lock:
            self.calls[key] += 1
            self.events.append(("start", key))
        try:
            if key in self.fail:
                raise ValueError(f"{key} broke")
            return f"{key} done"
        finally:
            with self.lock:
                self.events.append(("end", key))


@pytest.mark.parametrize("jobs", [1, 2, 4])
def test_a_key_starts_only_after_its_dependencies_ended(jobs: int) -> None:
    record = Recorder()
    with WorkPool(record, deps_of(CHAIN), jobs=jobs) as executor:
        executor.submit(CHAIN)
        assert [d.value for d in executor.wait()] == [f"{k} done" for k in executor.plan()]
    for index, (what, key) in enumerate(record.events):
        if what == "start":
            ended = {k for w, k in record.events[:index] if w == "end"}
            assert set(CHAIN[key]) <= ended, f"{key} started before {CHAIN[key]} ended"
    assert worker_threads() == []


@pytest.mark.parametrize("jobs", [1, 3])
def test_each_key_runs_once_however_many_threads_ask(jobs: int) -> None:
    record = Recorder()
    executor: WorkPool[str, str] = WorkPool(record, deps_of(CHAIN), jobs=jobs)
    answers: list[str] = []

    def ask(seed: int) -> None:
        keys = list(CHAIN)
        random.Random(seed).shuffle(keys)
        answers.extend(executor.result(k) for k in keys)

    askers = [threading.Thread(target=ask, args=(seed,)) for seed in range(8)]
    for thread in askers:
        thread.start()
    for thread in askers:
        thread.join()
    executor.close()
    assert record.calls == Counter(dict.fromkeys(CHAIN, 1))
    assert len(answers) == 8 * len(CHAIN)
    assert worker_threads() == []


@pytest.mark.parametrize("jobs", [1, 2, 3])
def test_never_more_than_jobs_at_once_and_exactly_jobs_when_there_is_work(jobs: int) -> None:
    # Every run blocks on a gate until the test lets one through, so what the executor
    # started stays started: once submit() returned, its threads are all alive, and the
    # counter must reach exactly `jobs` (the peak is watched all along).
    gate = threading.Semaphore(0)
    cond = threading.Condition()
    active = peak = 0

    def run(key: int) -> int:
        nonlocal active, peak
        with cond:
            active += 1
            peak = max(peak, active)
            cond.notify_all()
        gate.acquire(timeout=20)
        with cond:
            active -= 1
        return key

    keys = list(range(4 * jobs))
    if jobs == 1:  # in place: the asking thread runs them one by one
        executor: WorkPool[int, int] = WorkPool(run, lambda key: (), jobs=1)
        gate.release(len(keys))
        assert [executor.result(k) for k in keys] == keys
        assert worker_threads() == []
    else:
        with WorkPool(run, lambda key: (), jobs=jobs) as executor:
            executor.submit(keys)
            started = len(worker_threads())
            with cond:
                assert cond.wait_for(lambda: active == started, timeout=20)
            assert started == active == jobs
            gate.release(len(keys))
            assert [d.value for d in executor.wait()] == keys
    assert peak == jobs


def test_jobs_one_runs_in_the_asking_thread_in_the_order_a_sequential_session_did() -> None:
    record = Recorder()
    executor: WorkPool[str, str] = WorkPool(record, deps_of(CHAIN), jobs=1)
    # Items ask in collection order; the first ask of a step runs it and what it needs.
    asks = ["infer", "evaluate", "corrupt-2", "statistics", "sanity_check", "corrupt-1"]
    threads: set[threading.Thread] = set()
    runs: list[str] = []

    def sequential(key: str, done: list[str]) -> None:  # what the session did before
        for dep in CHAIN[key]:
            if dep not in done:
                sequential(dep, done)
        if key not in done:
            done.append(key)

    expected: list[str] = []
    for key in asks:
        sequential(key, expected)
        executor.result(key)
        threads.add(threading.current_thread())
    runs = [k for what, k in record.events if what == "start"]
    assert runs == expected
    assert "corrupt-3" not in record.calls  # lazy, as before: nothing asked, nothing run
    assert threads == {threading.current_thread()} and worker_threads() == []
    executor.close()


@pytest.mark.parametrize("jobs", [1, 3])
def test_a_failed_dependency_reaches_dependants_as_the_callbacks_value(jobs: int) -> None:
    record = Recorder(fail=frozenset({"sanity_check"}))
    seen: list[tuple[str, str, str]] = []

    def not_run(key: str, dependency: str, error: BaseException) -> str:
        seen.append((key, dependency, str(error)))
        return f"not run: {dependency} failed"

    with WorkPool(record, deps_of(CHAIN), jobs=jobs, on_dependency_failure=not_run) as executor:
        executor.submit(CHAIN)
        ends = executor.wait()
        with pytest.raises(ValueError, match="sanity_check broke"):
            executor.result("sanity_check")
        assert executor.result("corrupt-1") == "not run: sanity_check failed"
        assert executor.result("evaluate") == "evaluate done"  # the other branch ran
    broke = "sanity_check broke"
    assert sorted(seen) == [(f"corrupt-{n}", "sanity_check", broke) for n in (1, 2, 3)]
    assert not {"corrupt-1", "corrupt-2", "corrupt-3"} & set(record.calls)
    assert [d.key for d in ends] == list(executor.plan())  # reported in plan order


def test_without_a_callback_a_dependant_fails_naming_the_dependency() -> None:
    graph: dict[str, tuple[str, ...]] = {"a": (), "b": ("a",), "c": ("b",)}
    executor: WorkPool[str, str] = WorkPool(Recorder(fail=frozenset("a")), deps_of(graph), jobs=2)
    with pytest.raises(DependencyFailed, match="'b' did not run: its dependency 'a' failed"):
        executor.result("b")
    with pytest.raises(DependencyFailed, match="'c' did not run: its dependency 'b' failed"):
        executor.result("c")
    executor.close()


def test_a_dependency_loop_is_named() -> None:
    graph = {"a": ("b",), "b": ("c",), "c": ("a",)}
    executor: WorkPool[str, str] = WorkPool(Recorder(), deps_of(graph), jobs=2)
    with pytest.raises(CycleError, match="'a' -> 'b' -> 'c' -> 'a'"):
        executor.submit(["a"])
    executor.close()


def blocking_chain(
    jobs: int,
) -> tuple[WorkPool[str, str], threading.Event, list[str], Counter[str]]:
    """prepare runs until the executor is cancelled; everything else waits behind it, or
    behind `stuck` (a key that runs until cancelled too)."""
    started = threading.Event()
    stopped: list[str] = []
    calls: Counter[str] = Counter()
    graph = {**CHAIN, "stuck": ()}
    holder: list[WorkPool[str, str]] = []

    def run(key: str) -> str:
        calls[key] += 1
        if key in ("prepare", "stuck"):
            started.set()
            if holder[0].cancelled.wait(20):
                stopped.append(key)  # the cancel mechanism stopped it: it ends at once
        return key

    cancels: list[int] = []
    executor = WorkPool(
        run, deps_of(graph), jobs=jobs, on_cancel=lambda: cancels.append(1), name="medperf-step"
    )
    holder.append(executor)
    executor._test_cancels = cancels  # type: ignore[attr-defined]
    return executor, started, stopped, calls


def test_cancel_starts_nothing_new_stops_the_running_and_joins() -> None:
    executor, started, stopped, calls = blocking_chain(jobs=2)
    executor.submit(["evaluate", "stuck"])
    assert started.wait(10)
    executor.cancel()
    assert worker_threads() == []
    assert sorted(stopped) == ["prepare", "stuck"]
    assert executor._test_cancels == [1]  # type: ignore[attr-defined]
    assert set(calls) == {"prepare", "stuck"}
    with pytest.raises(NotStarted):
        executor.result("evaluate")
    with pytest.raises(NotStarted):  # asked after the cancel: never started either
        executor.result("corrupt-3")
    executor.cancel()  # twice is harmless
    assert executor._test_cancels == [1]  # type: ignore[attr-defined]


@pytest.mark.timeout(60)
@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_an_interrupt_while_waiting_in_result_cancels_and_joins(signum: int) -> None:
    """Ctrl-C (SIGINT) and SIGTERM arrive in the main thread, which waits in result():
    the guard raises at the pool's next checkpoint, the interrupt goes on, and no worker
    is left running."""
    assert threading.current_thread() is threading.main_thread()
    executor, started, stopped, calls = blocking_chain(jobs=3)
    signals = SignalGuard()
    signals.install()
    main = threading.main_thread().ident
    assert main is not None

    def interrupt() -> None:
        started.wait(10)
        signal.pthread_kill(main, signum)

    sender = threading.Thread(target=interrupt)
    sender.start()
    try:
        with pytest.raises(KeyboardInterrupt) as caught:
            executor.result("evaluate")
    finally:
        signals.restore()
        sender.join()
    assert isinstance(caught.value, Cancelled) == (signum == signal.SIGTERM)
    assert executor._cond.acquire(timeout=1)  # the pool's lock was not left held
    executor._cond.release()
    assert worker_threads() == []
    assert stopped == ["prepare"]
    assert executor._test_cancels == [1]  # type: ignore[attr-defined]
    assert set(calls) == {"prepare"}
    with pytest.raises(NotStarted):
        executor.result("infer")


def test_an_interrupt_inside_a_sequential_run_goes_on_and_starts_nothing_more() -> None:
    def run(key: str) -> str:
        if key == "sanity_check":
            raise KeyboardInterrupt
        return key

    executor: WorkPool[str, str] = WorkPool(run, deps_of(CHAIN), jobs=1)
    assert executor.result("prepare") == "prepare"
    with pytest.raises(KeyboardInterrupt):
        executor.result("corrupt-1")
    with pytest.raises(NotStarted):
        executor.result("statistics")
    assert executor.finished("prepare")[0].value == "prepare"


def test_the_default_fits_the_machine() -> None:
    assert 2 <= default_jobs() <= 8
    with pytest.raises(ValueError):
        WorkPool(Recorder(), lambda key: (), jobs=0)


@pytest.mark.parametrize("jobs", [2, 4])
def test_on_idle_comes_once_the_last_wanted_key_ended_not_before(jobs: int) -> None:
    """The runtime lets go of its helpers on this call: it must not come while a key still
    runs or waits (extra keys submitted from a run included), and must come at the end."""
    record = Recorder()
    idle: list[list[str]] = []

    def run(key: str) -> str:
        value = record(key)
        if key == "sanity_check":  # extra runs follow the first, as the scheduler submits them
            pool.submit(["corrupt-1", "corrupt-2", "corrupt-3"])
        return value

    def on_idle() -> None:
        with record.lock:
            idle.append([key for what, key in record.events if what == "end"])

    pool: WorkPool[str, str] = WorkPool(run, deps_of(CHAIN), jobs=jobs, on_idle=on_idle)
    pool.submit(["prepare", "sanity_check", "statistics", "infer", "evaluate"])
    pool.wait()
    pool.wait(["corrupt-1", "corrupt-2", "corrupt-3"])
    deadline = threading.Event()
    for _ in range(100):
        if idle:
            break
        deadline.wait(0.05)
    pool.close()
    assert len(idle) == 1 and sorted(idle[0]) == sorted(CHAIN)


def test_on_idle_never_comes_from_a_sequential_or_cancelled_pool() -> None:
    calls: list[str] = []
    sequential: WorkPool[str, str] = WorkPool(
        Recorder(), deps_of(CHAIN), jobs=1, on_idle=lambda: calls.append("sequential")
    )
    sequential.result("evaluate")
    sequential.close()
    executor, started, _stopped, _calls = blocking_chain(jobs=2)
    executor._on_idle = lambda: calls.append("cancelled")  # type: ignore[attr-defined]
    executor.submit(["evaluate", "stuck"])
    assert started.wait(10)
    executor.cancel()
    assert calls == []

"""The signal guard on its own, with no engine: where a signal raises, where it waits for
a checkpoint, the watcher's re-send, the quiet end and the forced exit."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator

import pytest

from pytest_medperf.engine.scheduling.workpool import WorkPool
from pytest_medperf.interrupts import Cancelled, SignalGuard, checkpoint
from pytest_medperf.interrupts.guard import _wait_readable

pytestmark = pytest.mark.timeout(60)
MAIN = threading.main_thread().ident


def send_later(signum: int, delay: float = 0.1) -> threading.Thread:
    assert MAIN is not None
    sender = threading.Thread(target=lambda: (time.sleep(delay), signal.pthread_kill(MAIN, signum)))
    sender.start()
    return sender


@pytest.fixture
def guard() -> Iterator[SignalGuard]:
    calls: list[str] = []
    made = SignalGuard(on_signal=lambda: calls.append(threading.current_thread().name))
    made.on_signal_calls = calls  # type: ignore[attr-defined]
    assert made.install()
    try:
        yield made
    finally:
        made.restore()


def kit_code_blocking(seconds: float) -> None:
    """A call into the kit's own code that blocks and returns without a checkpoint."""
    read, write = os.pipe()
    try:
        _wait_readable(read, seconds)
    finally:
        os.close(read)
        os.close(write)


@pytest.mark.parametrize(
    ("signum", "raised"), [(signal.SIGINT, KeyboardInterrupt), (signal.SIGTERM, Cancelled)]
)
def test_outside_the_kit_code_a_signal_raises_at_once(
    guard: SignalGuard, signum: int, raised: type[BaseException]
) -> None:
    """In pytest's or a test's code the guard acts as Python's own Ctrl-C does."""
    sender = send_later(signum)
    started = time.monotonic()
    with pytest.raises(raised) as caught:
        time.sleep(10)
    sender.join()
    assert time.monotonic() - started < 2
    assert type(caught.value) is raised
    assert guard.received == [signum] and guard.raised
    assert guard.heard.wait(2)
    assert guard.on_signal_calls == ["medperf-signals"]  # type: ignore[attr-defined]


def test_inside_the_kit_code_a_signal_waits_for_a_checkpoint(guard: SignalGuard) -> None:
    sender = send_later(signal.SIGTERM)
    kit_code_blocking(0.5)  # the signal comes at 0.1 s: recorded, not raised in there
    sender.join()
    assert guard.received == [signal.SIGTERM] and not guard.raised
    with pytest.raises(Cancelled, match="the kit was sent SIGTERM: cancelled like Ctrl-C"):
        checkpoint()


def test_the_watcher_sends_it_again_once_the_main_thread_leaves_the_kit_code(
    guard: SignalGuard,
) -> None:
    """A kit call that ends without a checkpoint: the signal is heard just after it."""
    sender = send_later(signal.SIGINT)
    kit_code_blocking(0.5)
    sender.join()
    left = time.monotonic()
    with pytest.raises(KeyboardInterrupt):
        time.sleep(10)
    assert time.monotonic() - left < 1


def test_while_the_session_ends_nothing_is_raised_and_the_exit_is_128_plus_n(
    guard: SignalGuard,
) -> None:
    guard.begin_ending()
    send_later(signal.SIGTERM, 0.0).join()
    time.sleep(0.3)  # no exception: the clean-up goes on
    assert guard.received == [signal.SIGTERM]
    with pytest.raises(SystemExit) as caught:
        guard.finish()
    assert caught.value.code == 128 + signal.SIGTERM
    assert signal.getsignal(signal.SIGTERM) is not guard._handle


def test_no_signal_no_exit(guard: SignalGuard) -> None:
    guard.begin_ending()
    guard.finish()  # returns: the session's own status stands
    assert not guard.heard.is_set()


FORCED = """
import os, signal, sys, time
from pytest_medperf.interrupts import LEDGER, SignalGuard
guard = SignalGuard()
guard.install()
LEDGER.add_container("medperf-task-1")
LEDGER.add_container("medperf-task-2", "unix:///run/other.sock")
LEDGER.add_folder("/tmp/pytest-medperf-1-x")
guard.begin_ending()  # the clean-up after the first signal is under way
os.kill(os.getpid(), signal.{first})
time.sleep(0.2)
os.kill(os.getpid(), signal.{second})
time.sleep(10)
print("never reached")
"""


@pytest.mark.parametrize(("first", "second"), [("SIGINT", "SIGINT"), ("SIGINT", "SIGTERM")])
def test_a_second_signal_exits_at_once_and_says_what_is_left(first: str, second: str) -> None:
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-c", FORCED.format(first=first, second=second)],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert time.monotonic() - started < 5
    assert done.returncode == 128 + getattr(signal, second), done.stderr
    err = done.stderr
    assert "never reached" not in done.stdout
    assert "exiting at once, without finishing it" in err
    assert "containers left: medperf-task-1, medperf-task-2" in err
    assert "folders left: /tmp/pytest-medperf-1-x" in err
    assert (
        "remove them with: docker rm -f medperf-task-1; "
        "docker -H unix:///run/other.sock rm -f medperf-task-2; rm -rf /tmp/pytest-medperf-1-x"
    ) in err


def test_a_signal_ignored_on_purpose_stays_ignored() -> None:
    """Under `nohup` SIGHUP is ignored: closing the terminal must not cancel the session."""
    before = signal.signal(signal.SIGHUP, signal.SIG_IGN)
    guard = SignalGuard()
    try:
        guard.install()
        assert signal.getsignal(signal.SIGHUP) is signal.SIG_IGN
        assert signal.getsignal(signal.SIGTERM) == guard._handle
    finally:
        guard.restore()
        signal.signal(signal.SIGHUP, before)


def lock_is_free(lock: object) -> bool:
    """Whether another thread can take the lock (an RLock's owner always can)."""
    got: list[bool] = []

    def take() -> None:
        got.append(lock.acquire(timeout=1))  # type: ignore[attr-defined]
        if got[0]:
            lock.release()  # type: ignore[attr-defined]

    taker = threading.Thread(target=take)
    taker.start()
    taker.join()
    return got[0]


@pytest.mark.parametrize("where", ["__enter__", "__exit__"])
def test_a_signal_landing_inside_the_pools_lock_never_leaves_it_held(
    guard: SignalGuard, where: str
) -> None:
    """The hang this guards against: a handler's exception between a lock's acquire and
    its release (the condition's Python-level __enter__ and __exit__). The signal is made
    to land exactly there, by a trace function calling the handler as Python would."""
    deps = {"a": (), "b": ("a",)}
    pool: WorkPool[str, str] = WorkPool(lambda k: k, lambda k: deps[k], jobs=1)
    fired: list[str] = []

    def tracer(frame, event, arg):  # type: ignore[no-untyped-def]
        caller = frame.f_back.f_globals.get("__name__") if frame.f_back else None
        here = event == "call" and frame.f_code.co_name == where
        if here and not fired and caller == "pytest_medperf.engine.scheduling.workpool":
            fired.append(where)
            guard._handle(signal.SIGTERM, frame)
        return None

    sys.settrace(tracer)
    try:
        with pytest.raises(Cancelled):
            pool.result("b")  # the next checkpoint raises it
    finally:
        sys.settrace(None)
    assert fired == [where]
    assert lock_is_free(pool._cond)
    pool.close()

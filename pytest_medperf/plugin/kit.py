"""The plugin's state for one pytest session: the engine, the report, the progress line."""

from __future__ import annotations

import contextlib
import threading
from pathlib import Path
from typing import Any

import pytest

from ..benchmark_rules.finder import FoundRule, RuleSet, find_rules
from ..checks.budget import Budget
from ..engine.kit_options import user_rule
from ..engine.session import KitSession
from ..errors import KitError
from ..interrupts import SignalGuard
from ..reports import json_report, terminal
from ..reports.markdown import markdown
from ..reports.record import ItemRecord
from ..reports.session_report import SessionReport
from ..runtimes.base import Runner
from ..runtimes.choice import make_runner
from .options.settings import Settings, budgets
from .options.table import KIT_KEY as KIT_KEY
from .options.values import shown_name


class Kit:
    """What the plugin keeps for one pytest session; registered as a plugin itself, so its
    reporting hooks run only in sessions that check configs (the pytest-cov habit)."""

    def __init__(
        self,
        config: pytest.Config,
        settings: Settings,
        runner: Runner | None = None,
        guard: SignalGuard | None = None,
    ) -> None:
        """runner: one already warming up (plugin/warmup.py), else made here; guard: the
        session's signal guard (installed by hooks.py), else one not installed."""
        self.settings = settings
        self.configs = list(settings.configs)
        self.shown = settings.shown
        self.guard = guard or SignalGuard()
        self.report = SessionReport()
        self.pytest_config = config
        self.rule_problems: dict[str, None] = {}  # owners' rules that cannot be used
        self._rules: tuple[frozenset[int], RuleSet] | None = None
        try:
            runner = runner or make_runner(
                settings.runtime,
                observe_network=settings.network_watch,
                docker_host=settings.docker_host,
            )
            self.session = KitSession(
                settings.engine_options,
                runner,
                shown_paths=settings.shown,
                progress=Progress(config) if not settings.is_worker else None,
            )
        except KitError as exc:
            raise pytest.UsageError(str(exc)) from None
        # From the guard's watcher thread, at the first signal: no run starts any more,
        # running containers are killed at once (the main thread stops at a checkpoint).
        self.guard.on_signal = self.session.runner.cancel_runs

    @property
    def engine_address(self) -> str | None:
        """The address of the Docker engine this process runs containers on (None: not
        Docker). Each xdist worker has its own (--medperf-docker-hosts)."""
        return getattr(self.session.runner, "address", None)

    def budgets(self) -> tuple[Budget, ...]:
        """The session's budgets as they stand now (a late conftest.py may add some)."""
        return budgets(self.pytest_config)

    # -- owners' rules --------------------------------------------------------------
    def rules_for(self, config_path: Path) -> list[FoundRule]:
        """The owners' rules for a config (conftest.py files beside it are loaded by now)."""
        rules, clashes = self._rule_set().for_config(config_path)
        self.rule_problems.update(dict.fromkeys(clashes))
        return rules

    def _rule_set(self) -> RuleSet:
        """Found again only when the registered plugins changed (a conftest was loaded)."""
        pluginmanager = self.pytest_config.pluginmanager
        plugins = frozenset(id(p) for p in pluginmanager.get_plugins())
        if self._rules is None or self._rules[0] != plugins:
            config = self.pytest_config
            found = find_rules(
                pluginmanager,
                {"config": config},
                shown=lambda path: shown_name(config, path.absolute()),
                everywhere=(config.rootpath, config.invocation_params.dir),
            )
            self._rules = (plugins, found)
            self.rule_problems.update(dict.fromkeys(found.problems))
        return self._rules[1]

    @pytest.hookimpl(tryfirst=True)
    def pytest_collection_modifyitems(self) -> None:
        self._rule_set()
        if self.rule_problems:
            raise pytest.UsageError(
                "pytest-medperf: a benchmark rule cannot be used:\n"
                + "\n".join(f"  {line}" for line in self.rule_problems)
            )

    # -- reporting hooks ---------------------------------------------------------------
    def pytest_report_header(self) -> list[str]:
        """The runtime and the uid tasks run as, and why (per config: the summary); how
        inputs are given and how inputs-untouched proves its clause."""
        if not self.configs:
            return []
        runtime = self.session.runner.name
        how = (
            "compares each file's metadata and sha256 (--medperf-input-digests)"
            if self.settings.engine_options.input_digests
            else "compares each entry's metadata (content digests: --medperf-input-digests)"
        )
        return [
            f"pytest-medperf: runtime {runtime}; {user_rule(self.settings.engine_options)}",
            f"pytest-medperf: inputs mounted read-only where they are; inputs-untouched {how}",
        ]

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        wire = getattr(report, "medperf", None)
        if wire is not None and report.when == "call":
            self.report.add(ItemRecord.from_wire(wire))

    @pytest.hookimpl(tryfirst=True)
    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> None:
        # From here a signal no longer interrupts: the report and the clean-up finish.
        self.guard.begin_ending()
        # No item asks any more (done, -x, or interrupted): steps still running are
        # stopped, then the holders can go.
        self.session.stop_runs()
        finish_soon = getattr(self.session.runner, "finish_soon", None)
        if finish_soon is not None:  # no run follows: the holder goes during the summary
            finish_soon()
        if self.settings.is_worker:
            return
        for path in self.configs:  # configs that produced no item still appear
            self.report.ensure(self.shown[path])
        if self.settings.markdown_path is not None:
            self.settings.markdown_path.parent.mkdir(parents=True, exist_ok=True)
            with open(self.settings.markdown_path, "a", encoding="utf-8") as out:  # a step summary
                out.write(markdown(self.report))
        if self.settings.report_path is None:
            return
        json_report.write(
            self.settings.report_path,
            self.report,
            exit_status=int(exitstatus),
            interrupted=int(exitstatus) == int(pytest.ExitCode.INTERRUPTED)
            or bool(self.guard.received),
        )

    def pytest_terminal_summary(self, terminalreporter: Any, config: pytest.Config) -> None:
        hosts = self.settings.docker_hosts
        lines = terminal.summary_lines(
            self.report, verbose=config.get_verbosity() > 0, engines=bool(hosts)
        )
        if lines:
            terminalreporter.section("MedPerf conformance")
            for line in lines:
                terminalreporter.write_line(line)
        if len(hosts) > 1 and self.settings.xdist_dist == "no":
            terminalreporter.write_line(
                f"pytest-medperf: without pytest-xdist (-n N) only the first engine of "
                f"--medperf-docker-hosts ran containers: {hosts[0]}"
            )
        for line in self.session.swept:
            terminalreporter.write_line(f"pytest-medperf: {line}")
        where = self.session.sandbox_path
        if where is not None and self.settings.engine_options.keep:
            terminalreporter.write_line(f"pytest-medperf: sandbox kept at {where}")
        if self.settings.report_path is not None and not self.settings.is_worker:
            terminalreporter.write_line(
                f"pytest-medperf: JSON report written to {self.settings.report_path}"
            )


class Progress:
    """Shows that a long task is alive: elapsed time and its last log line, now and then.

    Nothing under -q, nothing on xdist workers (their output is not a terminal). Steps
    run in worker threads (--medperf-jobs) report here too, but only the main thread
    writes to the terminal: a line from another thread waits for flush(), which the
    main thread calls while it waits for a step.
    """

    FIRST, EVERY = 15.0, 30.0

    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        self.next: dict[str, float] = {}
        self._pending: list[str] = []
        self._lock = threading.Lock()

    def __call__(self, name: str, elapsed: float, last_line: str) -> None:
        if self.config.get_verbosity() < 0:
            return
        with self._lock:
            if elapsed < self.next.get(name, self.FIRST):
                return
            self.next[name] = elapsed + self.EVERY
            tail = f": {last_line[:100]}" if last_line else ""
            self._pending.append(f"pytest-medperf: {name} running for {elapsed:.0f} s{tail}")
        self.flush()

    def note(self, line: str) -> None:
        """A line of the kit's own progress (unpacking an archive), shown like a run's."""
        if self.config.get_verbosity() < 0:
            return
        with self._lock:
            self._pending.append(line)
        self.flush()

    def flush(self) -> None:
        """Write the waiting lines, from the main thread only."""
        if threading.current_thread() is not threading.main_thread():
            return
        with self._lock:
            lines, self._pending = self._pending, []
        reporter = self.config.pluginmanager.get_plugin("terminalreporter")
        if reporter is None or not lines:
            return
        # Written while an item runs: without suspending capture the line would be
        # swallowed, or shown as the captured output of whichever item failed, though it
        # is another step's progress.
        capture = self.config.pluginmanager.get_plugin("capturemanager")
        with capture.global_and_fixture_disabled() if capture else contextlib.nullcontext():
            for line in lines:
                reporter.write_line(line)

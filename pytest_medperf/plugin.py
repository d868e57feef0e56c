"""pytest wiring only: options, collection of config files into items, reporting.

The engine (session.py and below) knows nothing of pytest. Without
--medperf-config (or the medperf_config ini setting) this plugin adds options
and nothing else.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from .catalogue import rule
from .checks import CheckContext, Finding, Outcome, TaskCheck, checks_for_task
from .checks.data import load_user_schema
from .config import task_names_of_broken
from .errors import ConfigErrors, KitError
from .options import OPTIONS
from .report import SessionReport, _Config
from .runners.base import ImageInfo, Limits, Runner, UnavailableRunner
from .session import KitOptions, KitSession, NotRun, TaskRun, default_user

KIT_KEY = pytest.StashKey["Kit"]()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("medperf", "MedPerf container conformance (pytest-medperf)")
    group.addoption(
        "--medperf-config",
        action="append",
        default=[],
        metavar="PATH",
        help="container_config.yaml (or mlcube.yaml) to check; repeat for several.",
    )
    parser.addini(
        "medperf_config", "container configs to check (relative to rootdir)", type="linelist"
    )
    for option in OPTIONS:
        option.register(group, parser)


def _value(config: pytest.Config, name: str) -> Any:
    cli = config.getoption("medperf_" + name)
    if cli not in (None, [], ""):
        return cli
    ini = config.getini("medperf_" + name)
    return ini if ini not in ("", []) else None


def _path(config: pytest.Config, name: str) -> Path | None:
    """CLI paths are relative to the working directory, ini paths to rootdir."""
    cli = config.getoption("medperf_" + name)
    if cli:
        return Path(cli).absolute()
    ini = config.getini("medperf_" + name)
    return (config.rootpath / ini).absolute() if ini else None


def _config_paths(config: pytest.Config) -> list[Path]:
    paths = [Path(p).absolute() for p in config.getoption("medperf_config")]
    paths += [(config.rootpath / p).absolute() for p in config.getini("medperf_config")]
    unique: list[Path] = []
    for path in paths:
        if path not in unique:
            unique.append(path)
    return unique


def _options(config: pytest.Config, configs: list[Path]) -> KitOptions:
    timeout = _value(config, "timeout")
    try:
        timeout_s = float(timeout) if timeout is not None else None
    except ValueError:
        raise pytest.UsageError(
            f"--medperf-timeout {timeout!r}: give a number of seconds."
        ) from None
    keep = config.getoption("medperf_keep")
    report = _path(config, "report")
    sandbox_dir = _path(config, "sandbox_dir")
    if sandbox_dir is not None and not sandbox_dir.is_dir():
        raise pytest.UsageError(f"--medperf-sandbox-dir {sandbox_dir}: no such folder.")
    return KitOptions(
        limits=_limits(config),
        sandbox_base=sandbox_dir,
        log_dir=report.with_name(report.stem + "-logs") if report else None,
        configs=tuple(configs),
        user=_value(config, "user") or default_user(),
        timeout=timeout_s,
        keep=bool(keep if keep is not None else config.getini("medperf_keep")),
        demo_data=_path(config, "demo_data"),
        data=_path(config, "data"),
        predictions=_path(config, "predictions"),
        parameters=_path(config, "parameters"),
        additional_files=_path(config, "additional_files"),
        gpus=_value(config, "gpus"),
        shm_size=_value(config, "shm_size"),
    )


def _limits(config: pytest.Config) -> Limits:
    cpus, pids = _value(config, "cpus"), _value(config, "pids_limit")
    try:
        return Limits(
            memory=_value(config, "memory"),
            cpus=float(cpus) if cpus else None,
            pids=int(pids) if pids else 4096,
        )
    except ValueError:
        raise pytest.UsageError(
            f"--medperf-cpus {cpus!r} / --medperf-pids-limit {pids!r}: give numbers."
        ) from None


class Kit:
    """What the plugin keeps for one pytest session."""

    def __init__(self, config: pytest.Config, configs: list[Path]) -> None:
        self.configs = configs
        self.report = SessionReport()
        self.chain_groups = lambda: self.session.chain_groups()
        self.report_path = _path(config, "report")
        self.is_worker = hasattr(config, "workerinput")
        determinism = config.getoption("medperf_determinism")
        self.determinism = bool(
            determinism if determinism is not None else config.getini("medperf_determinism")
        )
        self.schemas: dict[str, tuple[dict[str, Any], str]] = {}
        for kind in ("results", "statistics"):
            path = _path(config, f"{kind}_schema")
            if path is not None:
                try:
                    self.schemas[kind] = (
                        load_user_schema(path, f"--medperf-{kind}-schema"),
                        f"the given schema {path.name}",
                    )
                except KitError as exc:
                    raise pytest.UsageError(str(exc)) from None
        self.shown = shown = {p: _shown(config, p) for p in configs}
        try:
            runner = _runner(config)
            self.session = KitSession(
                _options(config, configs),
                runner,
                shown_paths=shown,
                progress=Progress(config) if not self.is_worker else None,
            )
        except KitError as exc:
            raise pytest.UsageError(str(exc)) from None


class Progress:
    """Shows that a long task is alive: elapsed time and its last log line, now and then.

    Nothing under -q, nothing on xdist workers (their output is not a terminal).
    """

    FIRST, EVERY = 15.0, 30.0

    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        self.next: dict[str, float] = {}

    def __call__(self, name: str, elapsed: float, last_line: str) -> None:
        if self.config.get_verbosity() < 0 or elapsed < self.next.get(name, self.FIRST):
            return
        self.next[name] = elapsed + self.EVERY
        reporter = self.config.pluginmanager.get_plugin("terminalreporter")
        if reporter is None:
            return
        tail = f": {last_line[:100]}" if last_line else ""
        reporter.write_line(f"pytest-medperf: {name} running for {elapsed:.0f} s{tail}")


def _runner(config: pytest.Config) -> Runner:
    # Imported here: without --medperf-config the plugin loads no container client.
    from .runners.docker import DockerRunner
    from .runners.singularity import SingularityRunner, find_binary

    # Imported here: without --medperf-config the plugin loads no container client.

    runtime = _value(config, "runtime") or "docker"
    if runtime not in ("docker", "singularity"):
        raise pytest.UsageError(f"medperf_runtime = {runtime!r}: use docker or singularity.")
    if runtime == "docker":
        watch = (_value(config, "network_watch") or "auto") != "off"
        return DockerRunner(observe_network=watch)
    binary = find_binary()
    if binary is None:
        return UnavailableRunner(
            "singularity",
            "no apptainer or singularity binary is on PATH, so the Singularity "
            "runtime cannot run here",
        )
    docker = DockerRunner(observe_network=False)
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return SingularityRunner(
        binary,
        cache / "pytest-medperf" / "sif",
        docker_id=lambda reference: docker.inspect_image(reference).image_id,
        docker_loader=docker.load_archive,
    )


def _shown(config: pytest.Config, path: Path) -> str:
    """The config's name in node ids and messages: relative to rootdir, else to cwd."""
    for base in (config.rootpath, config.invocation_params.dir):
        try:
            return path.relative_to(base).as_posix()
        except ValueError:
            continue
    return path.as_posix()


@pytest.hookimpl(trylast=True)
def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "medperf: a MedPerf container conformance check")
    configs = _config_paths(config)
    if not configs:
        return
    missing = [str(p) for p in configs if not p.is_file()]
    if missing:
        raise pytest.UsageError(
            f"--medperf-config: no such file: {', '.join(missing)}. Give the path of a "
            "container_config.yaml (or mlcube.yaml)."
        )
    config.stash[KIT_KEY] = kit = Kit(config, configs)
    _KITS.append(kit)
    # Collect the configs themselves: with no test paths given, only them.
    wanted = [str(p) for p in configs]
    if config.args_source == pytest.Config.ArgsSource.ARGS:
        config.args = [*config.args, *[w for w in wanted if w not in config.args]]
    else:
        config.args = wanted


@pytest.hookimpl(optionalhook=True, tryfirst=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    """With xdist, hand out whole chains: the tasks of a config, and of configs that feed
    each other, go to one worker in order, so no task runs twice or out of order."""
    kit = config.stash.get(KIT_KEY, None)
    if kit is None or config.getvalue("dist") not in ("load", "loadscope"):
        return None
    from xdist.scheduler import LoadScopeScheduling

    groups = {kit.shown[path]: kit.shown[root] for path, root in kit.chain_groups().items()}

    class ChainScheduling(LoadScopeScheduling):  # type: ignore[misc, valid-type]
        def _split_scope(self, nodeid: str) -> str:
            config_part = nodeid.split("::", 1)[0]
            if config_part in groups:
                return f"medperf:{groups[config_part]}"
            return super()._split_scope(nodeid)

    return ChainScheduling(config, log)


def pytest_unconfigure(config: pytest.Config) -> None:
    kit = config.stash.get(KIT_KEY, None)
    if kit is not None:
        if kit in _KITS:
            _KITS.remove(kit)
        kit.session.close()


def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> pytest.Collector | None:
    kit = parent.config.stash.get(KIT_KEY, None)
    if kit is not None and file_path.absolute() in kit.configs:
        # An explicit node id keeps '<config path>::<task>::<rule>' readable also for a
        # config outside rootdir (pytest would otherwise shorten it to '').
        return ConfigFile.from_parent(
            parent, path=file_path, nodeid=kit.shown[file_path.absolute()]
        )
    return None


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    report = yield
    if isinstance(item, KitItem) and report.when == "call":
        report.medperf = item.record(report)
        html = item.config.pluginmanager.get_plugin("html")
        log = item.container_log()
        if html is not None and log is not None and hasattr(html, "extras"):
            report.extras = [*getattr(report, "extras", []), html.extras.text(log, name="log")]
    return report


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    record = getattr(report, "medperf", None)
    if record is None or report.when != "call":
        return
    kit = _kit_of_report(report)
    if kit is not None:
        kit.report.add(record)


_KITS: list[Kit] = []


def _kit_of_report(report: pytest.TestReport) -> Kit | None:
    # logreport has no config argument; the session's Kit is the last configured one.
    return _KITS[-1] if _KITS else None


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    kit = session.config.stash.get(KIT_KEY, None)
    if kit is None or kit.is_worker or kit.report_path is None:
        return
    for path in kit.configs:  # configs that produced no item still appear
        shown = kit.shown[path]
        kit.report.configs.setdefault(shown, _Config(shown))
    kit.report.write(
        kit.report_path,
        exit_status=int(exitstatus),
        interrupted=int(exitstatus) == int(pytest.ExitCode.INTERRUPTED),
    )


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    kit = config.stash.get(KIT_KEY, None)
    if kit is None:
        return
    lines = kit.report.table_lines(verbose=config.get_verbosity() > 0)
    if lines:
        terminalreporter.section("MedPerf conformance")
        for line in lines:
            terminalreporter.write_line(line)
    where = kit.session.sandbox_path
    if where is not None and kit.session.options.keep:
        terminalreporter.write_line(f"pytest-medperf: sandbox kept at {where}")
    if kit.report_path is not None and not kit.is_worker:
        terminalreporter.write_line(f"pytest-medperf: JSON report written to {kit.report_path}")


def skip_here(reason: str) -> None:
    """Skip, reported at the config file rather than at this plugin's source line."""
    try:
        exc = pytest.skip.Exception(reason, _use_item_location=True)
    except TypeError:  # a pytest without the keyword
        exc = pytest.skip.Exception(reason)
    raise exc


class CheckFailed(Exception):
    """A rule failed: the item shows the finding, not a traceback."""

    def __init__(self, finding: Finding) -> None:
        self.finding = finding
        super().__init__(finding.render())


class ConfigFile(pytest.File):
    """A container config: its config-level items, then one collector per task."""

    def collect(self) -> Iterator[pytest.Item | pytest.Collector]:
        session = self.config.stash[KIT_KEY].session
        loaded = session.config(self.path.absolute())
        yield ConfigValidItem.from_parent(self, name="config-valid")
        yield ImageAvailableItem.from_parent(self, name="image-available")
        if isinstance(loaded, ConfigErrors):
            names = task_names_of_broken(self.path)
        else:
            names = session.steps(self.path.absolute())
        for step in names:
            yield TaskNode.from_parent(self, name=step)


class TaskNode(pytest.Collector):
    """One run of a config (a task, or evaluate on one model); its items are the rules."""

    def collect(self) -> Iterator[pytest.Item]:
        kit = self.config.stash[KIT_KEY]
        for check in checks_for_task(self.name.partition("[")[0]):
            if check.rule_id == "deterministic" and not kit.determinism:
                continue  # opt-in: no item at all unless asked for
            yield TaskCheckItem.from_parent(self, name=check.rule_id, check=check)


class KitItem(pytest.Item):
    """Shared behaviour: markers, a finding instead of a traceback, a readable location."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.add_marker("medperf")
        self.user_properties.append(("rule", self.rule_id))

    @property
    def rule_id(self) -> str:
        return self.name

    @property
    def session_(self) -> KitSession:
        return self.config.stash[KIT_KEY].session

    @property
    def config_path(self) -> Path:
        return self.path.absolute()

    finding: Finding | None = None

    def step(self) -> str | None:
        return None

    def run(self) -> TaskRun | None:
        return None

    def container_log(self) -> str | None:
        run = self.run()
        return run.result.log if run is not None else None

    def record(self, report: pytest.TestReport) -> dict[str, Any]:
        """This item's line in the JSON report (plain data: it crosses xdist's wire)."""
        session = self.session_
        loaded = session.config(self.config_path)
        image = session.image(self.config_path) if not isinstance(loaded, ConfigErrors) else None
        info: dict[str, Any] = {}
        if not isinstance(loaded, ConfigErrors):
            info = {"format": loaded.format, "kinds": list(loaded.kinds), "image": loaded.image}
        if isinstance(image, ImageInfo):
            info["image_id"] = image.image_id
        message = None
        if self.finding is not None:
            message = self.finding.render()
        elif report.skipped and isinstance(report.longrepr, tuple):
            message = str(report.longrepr[2]).removeprefix("Skipped: ")
        elif report.failed:
            message = report.longreprtext
        record: dict[str, Any] = {
            "config": self.config.stash[KIT_KEY].shown[self.config_path],
            "config_info": info,
            "step": self.step(),
            "rule": self.rule_id,
            "outcome": report.outcome,
            "message": message,
            "evidence": list(self.finding.evidence) if self.finding else [],
        }
        run = self.run()
        if run is not None:
            result = run.result
            record["run"] = {
                "exit_code": result.exit_code,
                "duration": round(result.duration, 3),
                "runtime": result.runtime,
                "user": result.user,
                "log_path": str(run.log_path) if run.log_path else None,
                "timed_out": result.timed_out,
            }
        elif self.step() is not None:
            record["run"] = {"timed_out": False}
        return record

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> Any:
        if isinstance(excinfo.value, CheckFailed):
            return excinfo.value.finding.render() + self._log_section(excinfo.value.finding)
        if isinstance(excinfo.value, KitError):
            return f"[{self.rule_id}] {excinfo.value}"
        return super().repr_failure(excinfo, style=style)

    def _log_section(self, finding: Finding) -> str:
        """The container log's tail under a failure, unless the evidence already quotes it."""
        run = self.run()
        if run is None:
            return ""
        lines: list[str] = []
        if not any(e.startswith("| ") for e in finding.evidence):
            tail = run.result.log_tail(10)
            if tail:
                lines.append("Container log (last lines):")
                lines += [f"  | {line}" for line in tail]
        if run.log_path is not None:
            lines.append(f"Full log: {run.log_path}")
        return ("\n" + "\n".join(lines)) if lines else ""

    def reportinfo(self) -> tuple[Path, int, str]:
        # The domain is the part after the file: "infer::exit-status" (no dots, which
        # the terminal would turn into "::").
        return self.path, 0, self.nodeid.split("::", 1)[1]

    def apply(self, outcome: Outcome) -> None:
        if outcome.status == "failed" and outcome.finding is not None:
            self.finding = outcome.finding
            raise CheckFailed(outcome.finding)
        if outcome.status == "skipped":
            skip_here(outcome.reason or "not applicable")


class ConfigValidItem(KitItem):
    def runtest(self) -> None:
        loaded = self.session_.config(self.config_path)
        if not isinstance(loaded, ConfigErrors):
            return
        errors = loaded.errors
        shown = errors[0].file
        evidence = tuple(
            f"{_where(e)}: {e.problem}" + (f" Fix: {e.fix}" if e.fix else "") for e in errors
        )
        count = f"{len(errors)} problem" + ("s" if len(errors) > 1 else "")
        self.finding = Finding(
            "config-valid",
            None,
            f"{shown} cannot be used by MedPerf ({count}).",
            evidence,
            "correct each key named above; schemas/container_config.schema.json describes "
            "what MedPerf accepts.",
        )
        raise CheckFailed(self.finding)


def _where(error: Any) -> str:
    parts = []
    if error.line is not None:
        parts.append(f"line {error.line}" + (f", column {error.column}" if error.column else ""))
    if error.key:
        parts.append(error.key)
    return " ".join(parts) if parts else error.file


class ImageAvailableItem(KitItem):
    def runtest(self) -> None:
        found = self.session_.image(self.config_path)
        if isinstance(found, ImageInfo):
            self.user_properties.append(("image_id", found.image_id))
            return
        if found.cause in ("config", "unsupported"):
            skip_here(found.reason)
        config = self.session_.config(self.config_path)
        image = getattr(config, "image", "?")
        self.finding = Finding("image-available", None, found.reason, (f"image: {image}",))
        raise CheckFailed(self.finding)


class TaskCheckItem(KitItem):
    def __init__(self, *, check: TaskCheck, **kwargs: Any) -> None:
        self.check = check
        super().__init__(**kwargs)

    @property
    def task(self) -> str:
        assert self.parent is not None
        return self.parent.name

    def step(self) -> str | None:
        return self.task

    def run(self) -> TaskRun | None:
        outcome = self.session_.state(self.config_path).outcomes.get(self.task)
        return outcome if isinstance(outcome, TaskRun) else None

    def runtest(self) -> None:
        outcome = self.session_.outcome(self.config_path, self.task)
        if isinstance(outcome, NotRun):
            self._not_run(outcome)
            return
        self.user_properties.append(("task", self.task))
        self.user_properties.append(("image", outcome.config.image))
        self.user_properties.append(("exit_code", outcome.result.exit_code))
        kit = self.config.stash[KIT_KEY]
        session, path, task = self.session_, self.config_path, self.task
        context = CheckContext(
            rerun_as_root=lambda: session.root_rerun(path, task),
            second_run=lambda: session.second_run(path, task),
            corrupted_sanity_runs=lambda: session.corrupted_sanity_runs(path),
            schemas=kit.schemas,
            determinism=kit.determinism,
        )
        self.apply(self.check.run(outcome, context))

    def _not_run(self, outcome: NotRun) -> None:
        if outcome.cause in ("input", "engine") and self.rule_id == "exit-status":
            fix = (
                "give the option named above."
                if outcome.cause == "input"
                else "start the Docker engine and run the kit again."
            )
            self.finding = Finding(
                "exit-status", self.task, f"the task could not run: {outcome.reason}", fix=fix
            )
            raise CheckFailed(self.finding)
        skip_here(f"{self.task} did not run: {outcome.reason}")


__all__ = ["TaskRun", "rule"]

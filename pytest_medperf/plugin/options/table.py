"""The kit's options, as data: each is a command-line flag and an ini setting of the
same name (`--medperf-timeout` and `medperf_timeout`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

import pytest

if TYPE_CHECKING:
    from ..kit import Kit

# Here, not in kit.py: the plugin looks it up in every session, and must not load the
# engine to do so when no config is given.
KIT_KEY: pytest.StashKey[Kit] = pytest.StashKey()


@dataclass(frozen=True)
class Option:
    name: str  # "timeout" -> --medperf-timeout, medperf_timeout
    help: str
    metavar: str | None = None
    kind: Literal["value", "flag", "list"] = "value"
    choices: tuple[str, ...] | None = None
    ini_default: Any = None

    @property
    def flag(self) -> str:
        return "--medperf-" + self.name.replace("_", "-")

    def register(self, group: Any, parser: pytest.Parser) -> None:
        if self.kind == "flag":
            group.addoption(self.flag, action="store_true", default=None, help=self.help)
            parser.addini(f"medperf_{self.name}", self.help, type="bool", default=False)
            return
        if self.kind == "list":  # repeatable flag; one entry per line in the ini file
            group.addoption(
                self.flag, action="append", default=[], metavar=self.metavar, help=self.help
            )
            parser.addini(f"medperf_{self.name}", self.help.replace("%%", "%"), type="linelist")
            return
        ini_help = self.help.replace("%%", "%")
        group.addoption(
            self.flag, default=None, metavar=self.metavar, choices=self.choices, help=self.help
        )
        parser.addini(f"medperf_{self.name}", ini_help, type="string", default=self.ini_default)


OPTIONS: tuple[Option, ...] = (
    Option(
        "demo_data",
        "raw input of a data preparator: a folder or .tar.gz with paths.yaml; repeatable, "
        "NAME=PATH names it (default: the folder's or archive's name).",
        "[NAME=]PATH",
        kind="list",
    ),
    Option(
        "data",
        "a prepared dataset: a folder holding data/ and labels/; repeatable, NAME=DIR names "
        "it (default: the folder's name).",
        "[NAME=]DIR",
        kind="list",
    ),
    Option("predictions", "predictions for a metrics container run on its own.", "DIR"),
    Option(
        "model_files",
        "the model asset's files a script container's run_script reads (mounted as "
        "model_files, read-only).",
        "DIR",
    ),
    Option(
        "training_config",
        "the training config an FL config's generate_plan reads (default: "
        "workspace/training_config.yaml beside the config).",
        "FILE",
    ),
    Option(
        "collaborators",
        "how many collaborators train in an FL config's federation, each on a --medperf-data "
        "dataset, reused in turn (default 2).",
        "N",
    ),
    Option(
        "parameters",
        "parameters file for every config, or CONFIG=FILE for one (CONFIG: its path or "
        "folder name); repeatable (default: workspace/parameters.yaml beside the config).",
        "[CONFIG=]FILE",
        kind="list",
    ),
    Option(
        "additional_files",
        "additional files for every config, or CONFIG=PATH for one; repeatable "
        "(default: workspace/additional_files/ beside the config).",
        "[CONFIG=]DIR|TAR.GZ",
        kind="list",
    ),
    Option(
        "container_loglevel",
        "set MEDPERF_LOGLEVEL=LEVEL (upper-cased) in every task's environment, as "
        "MedPerf's --container-loglevel does (default: not set).",
        "LEVEL",
    ),
    Option(
        "user",
        "user to run containers as (default: a uid the image's /etc/passwd does not list, as "
        "at a site: yours, or 54321 when you are root or the image lists yours).",
        "UID:GID",
    ),
    Option(
        "timeout",
        "kill a task that prints nothing for this long and fail its exit-status, as "
        "MedPerf's timeout (default: no limit).",
        "SECONDS",
    ),
    Option(
        "gpus", "override the config's gpus, as MedPerf's --gpus does (0: none).", "N|all|device=.."
    ),
    Option("shm_size", "override the config's shm_size.", "SIZE"),
    Option(
        "runtime",
        "the container runtime, as MedPerf's --platform (default docker).",
        choices=("docker", "singularity"),
        ini_default="docker",
    ),
    Option(
        "pull",
        "pull each DockerImage from its registry as every site does, test what was pulled "
        "and report its registry digest (the hash to register).",
        kind="flag",
    ),
    Option(
        "image_hash",
        "the hash registered for the container (a registry digest sha256:..., or an "
        "archive's or SIF's sha256), or CONFIG=HASH for one config; repeatable; "
        "image-available fails on a mismatch.",
        "[CONFIG=]sha256:HEX",
        kind="list",
    ),
    Option(
        "decryption_key",
        "the passphrase file of an EncryptedDockerArchive / EncryptedSingularityFile "
        "(decrypted with gpg, as MedPerf does).",
        "FILE",
    ),
    Option(
        "determinism",
        "run infer and evaluate twice and check the outputs are identical.",
        kind="flag",
    ),
    Option(
        "strict",
        "also fail what MedPerf accepts: NaN/Infinity in statistics.yaml or results.yaml, "
        "empty ones, results whose metrics are not numbers, and advice rules' findings "
        "(sanity-check-rejects-bad-data).",
        kind="flag",
    ),
    Option(
        "baseline",
        "a folder of golden statistics/results (one YAML per container x model x dataset): "
        "adds matches-baseline items.",
        "DIR",
    ),
    Option("rtol", "relative tolerance of matches-baseline for numbers (default 1e-6).", "FLOAT"),
    Option("atol", "absolute tolerance of matches-baseline for numbers (default 1e-9).", "FLOAT"),
    Option(
        "update_baseline",
        "write or refresh the baseline with this session's values and say what changed "
        "(nothing is ever written without it).",
        kind="flag",
    ),
    Option(
        "resource_tolerance",
        "with --medperf-baseline: warn when a task's peak memory or CPU time grew by more "
        "than this against its stored profile (default 50%%).",
        "PERCENT",
    ),
    Option(
        "budget",
        "a benchmark's limit on what a task may cost, checked by a within-budget item: "
        "TASK (a task or *) : memory|output (bytes, KiB, MiB, GiB) or wall|cpu (s, m, h), "
        "e.g. infer:memory=8GiB; repeatable, added to the ini setting's.",
        "TASK:RESOURCE=LIMIT",
        kind="list",
    ),
    Option("results_schema", "a stricter JSON Schema (JSON or YAML) for results.yaml.", "FILE"),
    Option(
        "statistics_schema", "a stricter JSON Schema (JSON or YAML) for statistics.yaml.", "FILE"
    ),
    Option(
        "report",
        "write a JSON report (schemas/report.schema.json), with each run's log beside it.",
        "PATH",
    ),
    Option(
        "markdown",
        "append a Markdown summary (each config's verdict, the model x dataset table of "
        "metrics and rules) to this file, e.g. $GITHUB_STEP_SUMMARY.",
        "PATH",
    ),
    Option(
        "network_watch",
        "auto: watch network attempts where the kit can (root, local "
        "engine); off: judge no-network from the log only.",
        choices=("auto", "off"),
        ini_default="auto",
    ),
    Option("memory", "memory cap per container (default: 90%% of this machine's memory).", "SIZE"),
    Option("cpus", "CPU cap per container (default: none).", "N"),
    Option("pids_limit", "process cap per container, against fork bombs (default: 4096).", "N"),
    Option(
        "docker_hosts",
        "Docker engines to spread the session over with pytest-xdist (worker gwN uses "
        "the N-th, round robin; without xdist the first): unix:///path.sock, tcp://HOST:PORT "
        "or ssh://[USER@]HOST; comma- or space-separated, or repeated.",
        "HOST[,HOST...]",
        kind="list",
    ),
    Option(
        "sandbox_dir",
        "where the sandbox is made (default: the temp dir); with a remote "
        "engine, a folder the engine sees at the same path.",
        "DIR",
    ),
    Option(
        "sweep_age",
        "remove leftovers (containers, sandboxes) of a session that is not provably ended "
        "once they are this old (default: 24).",
        "HOURS",
    ),
    Option(
        "jobs",
        "run up to N independent steps at once (default: this machine's CPUs, at least "
        "2 and at most 8; 1 runs them one after another).",
        "N",
    ),
    Option(
        "input_digests",
        "inputs-untouched also compares a sha256 of every input file before and after each "
        "run (reads every byte; by default it compares each entry's metadata).",
        kind="flag",
    ),
    Option(
        "keep",
        "keep the sandbox (mounted folders, outputs, logs) and print where it is.",
        kind="flag",
    ),
)

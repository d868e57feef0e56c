"""The rule catalogue: one place that the checks, the item names, the report, the
scheduler and the README read from. Rule ids are public interface (contract.md section 6).
A rule that needs runs beyond its step's own declares them here (extra_runs)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..engine.inputs.corruptions import CORRUPTIONS
from ..engine.steps import ExtraRuns, Purpose
from ..runtimes.base import is_singularity

if TYPE_CHECKING:
    from ..runtimes.base import RunResult

CONFIG_LEVEL = "config"
EVERY_TASK = "every task"

# What a rule's failure means for a MedPerf user (docs/consequences.md):
MEDPERF_FAILS = "medperf-fails"  # MedPerf's own run fails, or its checks refuse the output
FAILS_AT_SITES = "fails-at-sites"  # MedPerf here accepts it; a site that differs fails it
FORBIDDEN = "forbidden"  # nothing fails, but the container does what a benchmark forbids
ADVICE = "advice"  # a quality check beyond MedPerf: a warning unless --medperf-strict
CONSEQUENCES = (MEDPERF_FAILS, FAILS_AT_SITES, FORBIDDEN, ADVICE)


@dataclass(frozen=True)
class Rule:
    id: str
    applies_to: str
    fails_when: str
    fix: str
    extra_runs: ExtraRuns | None = None  # runs beyond the step's own the rule asks for
    consequence: str = MEDPERF_FAILS  # one of CONSEQUENCES


def _failed_by_itself(result: RunResult) -> bool:
    """non-root asks for the run as root when the task failed on its own (not a time-out,
    not a start error) and the runtime can run it as root (Singularity cannot)."""
    ends = result.succeeded or result.timed_out or result.start_error
    return not ends and not is_singularity(result.runtime)


def _succeeded(result: RunResult) -> bool:
    """deterministic and sanity-check-rejects-bad-data compare with a run that succeeded."""
    return result.succeeded


RULES: tuple[Rule, ...] = (
    Rule(
        "config-valid",
        CONFIG_LEVEL,
        "the config breaks the schema or MedPerf's rules (unknown run_args key, relative "
        "mount path, unknown volume key for the task, duplicate mount path, bad type, a gpus "
        "value MedPerf refuses, a non-string shm_size, environment value or command item, "
        "metadata_path read without prepare declaring it), or a task declares parameters_file "
        "and the session has no parameters file MedPerf could take; a legacy mlcube.yaml "
        "passes with a MedPerfFormatWarning",
        "correct the key named in the message; schemas/container_config.schema.json "
        "lists what MedPerf accepts",
    ),
    Rule(
        "image-available",
        CONFIG_LEVEL,
        "the image cannot be got as a site gets it: not on the engine (with --medperf-pull: "
        "not pullable from its registry), an archive that cannot be loaded or has no repo "
        "tag, an encrypted container without a working key, or a hash that differs from "
        "--medperf-image-hash",
        "build or load the image locally, push it (docker push IMAGE) and check with "
        "--medperf-pull; save archives by name; register the hash the kit reports",
    ),
    Rule(
        "singularity-portable",
        CONFIG_LEVEL,
        "judged from the config and the image's metadata, no run, under either runtime: "
        "fails for what MedPerf's Singularity runner refuses or crashes on (an environment "
        "value that is not a string, a GPU count); warns for what may break there (a "
        "command or entrypoint relative to the image's WORKDIR, shm_size, reliance on USER)",
        "quote environment values, ask for GPUs as \"all\" or \"device=N\", use absolute "
        "paths in command and entrypoint, and rely on no user, WORKDIR or shm_size of the image",
        consequence=FAILS_AT_SITES,
    ),
    Rule(
        "exit-status",
        EVERY_TASK,
        "the task exits non-zero or times out (sanity_check on good data included)",
        "run the task by hand with the same mounts and read the log tail in the message",
    ),
    Rule(
        "outputs-present",
        "tasks with outputs",
        "a declared output is missing, empty, or of the wrong type (file vs directory); a "
        "report_file MedPerf cannot read as a table",
        "write each output at the mount path the config declares for it",
    ),
    Rule(
        "no-network",
        "every task but a CA's (MedPerf gives those the network)",
        "the task tried to use the network (it runs with none; the kit names the attempt)",
        "ship weights in the image or in additional_files and remove downloads, "
        "telemetry and uploads",
        consequence=FORBIDDEN,
    ),
    Rule(
        "no-writes-outside",
        EVERY_TASK,
        "the task wrote, or tried to write, outside its output mounts and /tmp",
        "write only to the output mounts and /tmp (set HOME, caches and temp dirs to /tmp)",
        consequence=FORBIDDEN,
    ),
    Rule(
        "inputs-untouched",
        EVERY_TASK,
        "any input (data, labels, parameters, additional files) differs after the run",
        "treat inputs as read-only; copy to /tmp what you must change",
        consequence=FORBIDDEN,
    ),
    Rule(
        "non-root",
        EVERY_TASK,
        "the task only works as root (it runs as a non-root uid)",
        "make what the task reads world-readable and what it writes live under /tmp or "
        "an output mount",
        ExtraRuns(Purpose.AS_ROOT, _failed_by_itself),
        consequence=FAILS_AT_SITES,
    ),
    Rule(
        "statistics-valid",
        "statistics",
        "statistics.yaml is missing, empty, not a mapping, unreadable by a safe loader, not "
        "storable as JSON (or breaks a given schema); NaN/Inf pass with a warning",
        "write a YAML mapping of plain numbers, strings, lists and mappings",
    ),
    Rule(
        "results-valid",
        "evaluate, run_script",
        "results.yaml (run_script: in results_path) is missing, empty, not a mapping, "
        "unreadable by a safe loader, not storable as JSON (or breaks a given schema); "
        "NaN/Inf pass with a warning",
        "write a YAML mapping of metric name to number (nested mappings allowed)",
    ),
    Rule(
        "sanity-check-rejects-bad-data",
        "sanity_check",
        "sanity_check exits 0 on prepared data the kit has emptied or corrupted",
        "make sanity_check exit non-zero when cases are missing, empty or unreadable",
        ExtraRuns(Purpose.CORRUPTED, _succeeded, tuple(name for name, _ in CORRUPTIONS)),
        consequence=ADVICE,
    ),
    Rule(
        "matches-baseline",
        "statistics, evaluate (with --medperf-baseline)",
        "a value of statistics.yaml or results.yaml differs from the stored baseline of the "
        "same container x model x dataset beyond --medperf-rtol/--medperf-atol, or none is "
        "stored",
        "if the change is intended, record it with --medperf-update-baseline and review the "
        "baseline file's diff",
        consequence=ADVICE,
    ),
    Rule(
        "cert-files-present",
        "get_client_cert, get_server_cert, trust",
        "get_client_cert or get_server_cert leaves no key.key or crt.crt (PEM) in pki_assets "
        "(MedPerf then deletes the folder); trust leaves no CA root certificate (*.crt)",
        "write key.key and crt.crt (trust: the root certificate) directly in pki_assets",
    ),
    Rule(
        "verify-cert-works",
        "verify_cert",
        "verify_cert exits 0 on a certificate its CA did not sign (the kit's own throwaway "
        "CA's); its refusal of the CA's own certificate is exit-status",
        "verify the signature against the CA's root and exit non-zero when it fails",
        ExtraRuns(Purpose.FOREIGN_CERT, _succeeded),
        consequence=FORBIDDEN,
    ),
    Rule(
        "plan-valid",
        "generate_plan (FL)",
        "plan.yaml is missing, empty, not a YAML mapping, or does not name the aggregator's "
        "address and port from the aggregator config",
        "write plan.yaml as a mapping carrying the aggregator config's address and port",
    ),
    Rule(
        "federation-completes",
        "start_aggregator (FL)",
        "in the local federation the aggregator does not exit 0 within the timeout, or a "
        "collaborator does not take part (it fails, or never connects to the aggregator)",
        "make the aggregator wait for every collaborator in cols.yaml, finish its rounds and "
        "exit 0",
    ),
    Rule(
        "talks-only-to-aggregator",
        "train (FL)",
        "a collaborator tries to reach any host but the aggregator (the kit names the attempt)",
        "remove downloads, telemetry and uploads from train; reach only the plan's aggregator",
        consequence=FORBIDDEN,
    ),
    Rule(
        "within-budget",
        "tasks with a budget (--medperf-budget)",
        "the task used more peak memory, wall time, CPU time or output space than the "
        "benchmark owner's budget for it (no budget, no item)",
        "make the task fit (smaller batches, fewer workers, one case at a time), or agree a "
        "larger budget with the benchmark owner",
        consequence=FORBIDDEN,
    ),
    Rule(
        "deterministic",
        "infer, evaluate, run_script (opt-in)",
        "two runs on the same input give different outputs",
        "seed every random generator and sort what you list from disk",
        ExtraRuns(Purpose.AGAIN, _succeeded),
        consequence=ADVICE,
    ),
)

RULES_BY_ID: dict[str, Rule] = {rule.id: rule for rule in RULES}

# Rules that judge what a task should have written: when the task did not finish well
# they are skipped (one cause, one failure: exit-status names it). Rules that judge
# behaviour (no-network, no-writes-outside, inputs-untouched) still judge.
JUDGES_OUTPUTS = frozenset(
    {
        "outputs-present",
        "statistics-valid",
        "results-valid",
        "matches-baseline",
        "plan-valid",
        "cert-files-present",
        "verify-cert-works",
    }
)
NOT_JUDGED = "not judged: the task failed (see exit-status)"

# Opt-in advice: asking for the rule (--medperf-determinism, --medperf-baseline) is
# asking to gate on it, so its failure fails without --medperf-strict.
OPT_IN = frozenset({"deterministic", "matches-baseline"})


def rule(rule_id: str) -> Rule:
    """The catalogue entry for an id; a KeyError here is a bug in the kit."""
    return RULES_BY_ID[rule_id]

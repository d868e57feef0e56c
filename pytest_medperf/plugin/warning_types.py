"""The kit's warning classes: what MedPerf accepts but an author should see.

Own classes, so a CI gate can turn exactly these into failures with
`-W error::pytest_medperf.MedPerfDataWarning` (pytest's filterwarnings).
"""

from __future__ import annotations


class MedPerfWarning(UserWarning):
    """Base class of every warning the kit issues."""


class MedPerfDataWarning(MedPerfWarning):
    """statistics.yaml or results.yaml holds values MedPerf stores in another form
    (NaN and Infinity become strings), or holds nothing."""


class MedPerfAdviceWarning(MedPerfWarning):
    """An advice rule found something (a quality check MedPerf never runs, e.g.
    sanity-check-rejects-bad-data): the item passes; `--medperf-strict` makes it fail."""


class MedPerfFormatWarning(MedPerfWarning):
    """A config the kit still runs but current MedPerf no longer loads (a legacy
    mlcube.yaml); `-W error::pytest_medperf.MedPerfFormatWarning` makes it a config-valid
    failure."""


class MedPerfTaskWarning(MedPerfWarning):
    """A config names a task MedPerf never runs: MedPerf ignores it, and so does the kit."""


class MedPerfResourceWarning(MedPerfWarning):
    """With --medperf-baseline: a task's peak memory or CPU time grew beyond
    --medperf-resource-tolerance against its stored profile (timings are noisy: a warning,
    never a failure, unless -W error::pytest_medperf.MedPerfResourceWarning asks)."""

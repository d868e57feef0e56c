"""What JUnit XML (--junitxml) shows of an item: pytest writes an item's user
properties as <property> elements; these are read from the item's record."""

from __future__ import annotations

from . import resources
from .record import ItemRecord

RESOURCE_RULES = frozenset({"exit-status", "within-budget"})


def junit_properties(record: ItemRecord) -> list[tuple[str, object]]:
    """rule and its consequence (and an advice item's finding), for an owner's rule its
    source; image-available: the image's id and
    registered hash; for a step that ran: task, the config's image and (the kit's
    rules) exit_code."""
    properties: list[tuple[str, object]] = [("rule", record.rule)]
    if record.consequence is not None:
        properties.append(("consequence", record.consequence))
    if record.advice:
        properties.append(("advice", record.message))
    if record.source is not None:
        properties.append(("source", record.source))
    info = record.config_info
    if record.rule == "image-available" and info.image_id is not None:
        properties.append(("image_id", info.image_id))
        if info.image_hash is not None:
            properties.append(("image_hash", info.image_hash))
    if record.run is not None and record.run.ran and record.step is not None:
        properties += [("task", record.step), ("image", record.config_info.image)]
        if record.source is None:
            properties.append(("exit_code", record.run.exit_code))
            properties += [("runtime", record.run.runtime), ("user", record.run.user)]
        if record.rule in RESOURCE_RULES:  # the step's profile, once a step
            properties += resources.junit_properties(record.run)
    return properties

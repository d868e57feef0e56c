"""README is the guide for container authors and benchmark owners (issue #23 item 8): short
enough to read, with the two commands of a fresh machine and the design notes that say
why each library is or is not used; contributors' matters live in CONTRIBUTING.md and
docs/."""

from __future__ import annotations

import re

from conftest import REPO

README = (REPO / "README.md").read_text(encoding="utf-8")


def section(text: str, heading: str) -> str:
    """The text under a '## heading', up to the next '## '."""
    start = text.index(f"\n## {heading}\n")
    end = text.find("\n## ", start + 1)
    return text[start : end if end != -1 else len(text)]


def test_readme_is_at_most_450_lines() -> None:
    assert len(README.splitlines()) <= 450


def test_the_two_commands_of_a_fresh_machine_are_in_readme_and_in_the_makefile() -> None:
    setup = section(README, "Set-up of this repository on a fresh machine")
    targets = set(re.findall(r"(?m)^([a-z-]+):", (REPO / "Makefile").read_text()))
    for target in ("demo", "test"):
        assert re.search(rf"(?m)^make {target}\b", setup)
        assert target in targets


def test_design_notes_say_why_each_library_is_or_is_not_used() -> None:
    notes = section(README, "Design notes")
    bullets = " ".join(re.findall(r"(?m)^- \*\*(.+?)\*\*", notes))
    for library in ("pytest", "pluggy", "docker-py", "jsonschema", "PyYAML", "spython"):
        assert library in bullets, library
    assert "**testcontainers** is not used" in notes


def test_contributors_have_their_own_guide() -> None:
    contributing = (REPO / "CONTRIBUTING.md").read_text(encoding="utf-8")
    assert "(CONTRIBUTING.md)" in README
    assert "tests/unit/" in contributing and "tests/docker/" in contributing
    assert "(docs/layout.md)" in contributing

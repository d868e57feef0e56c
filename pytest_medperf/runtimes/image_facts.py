"""What an image says about itself without running it: its /etc/passwd and /etc/group and
its config (WORKDIR, USER, ENV, ENTRYPOINT, CMD). A site's uid, Singularity's semantics
and the explanations of failures at a site are decided from these."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ImageFacts:
    """An image's metadata; None where the image could not be read."""

    passwd: str | None = None
    group: str | None = None
    workdir: str = ""
    user: str = ""
    env: tuple[str, ...] = ()
    entrypoint: tuple[str, ...] = ()
    cmd: tuple[str, ...] = ()

    def listed_uids(self) -> frozenset[int] | None:
        """The uids the image's /etc/passwd lists (None: no /etc/passwd read)."""
        if self.passwd is None:
            return None
        return frozenset(passwd_uids(self.passwd))

    def env_value(self, key: str) -> str | None:
        for item in self.env:
            name, _, value = item.partition("=")
            if name == key:
                return value
        return None


def passwd_uids(text: str) -> list[int]:
    found = []
    for line in text.splitlines():
        fields = line.split(":")
        if len(fields) >= 3 and fields[2].isdigit():
            found.append(int(fields[2]))
    return found

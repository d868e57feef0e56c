"""Encrypted containers, decrypted exactly as MedPerf decrypts them (contract.md §3b):

    gpg --batch --decrypt --output OUT --passphrase-file KEY FILE

gpg runs with its own throw-away home (GNUPGHOME) inside the kit's private folder, so
the user's ~/.gnupg is never created or changed, and its agent is stopped afterwards.
The key's content never appears in a message: the kit reads the key file only to
scrub gpg's output of it, should gpg ever echo it.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
from pathlib import Path

from ..base import ImageUnavailable

OPTION = "--medperf-decryption-key"


def gpg_argv(encrypted: Path, key: Path, output: Path) -> list[str]:
    """MedPerf's own decryption command line."""
    return [
        "gpg",
        "--batch",
        "--decrypt",
        "--output",
        str(output),
        "--passphrase-file",
        str(key),
        str(encrypted),
    ]


def decrypt(encrypted: Path, key: Path | None, output: Path, *, kind: str) -> None:
    """Decrypt into output (which must not exist); ImageUnavailable names what failed.

    output's folder must be private to the kit: the decrypted image is the author's
    secret.
    """
    if key is None:
        raise ImageUnavailable(
            f"{kind} {encrypted.name} is encrypted and no decryption key was given: MedPerf "
            "stops with 'Container is encrypted but decryption key is not provided'. Give "
            f"the key file the container was encrypted with: {OPTION} KEYFILE."
        )
    if not key.is_file():
        raise ImageUnavailable(
            f"{OPTION} {key}: no such file, so the {kind} cannot be decrypted. Give the "
            "passphrase file the container was encrypted with."
        )
    if shutil.which("gpg") is None:
        raise ImageUnavailable(
            f"{kind} needs gpg to be decrypted, as MedPerf does ('GPG is not installed'); "
            "install it (Debian: apt-get install gnupg; scripts/ensure-tools.sh does)."
        )
    home = output.parent / ".gnupg-home"
    home.mkdir(mode=0o700, exist_ok=True)
    env = {**os.environ, "GNUPGHOME": str(home)}
    try:
        done = _run_gpg(gpg_argv(encrypted, key, output), env)
    finally:
        _stop_agent(env)
        shutil.rmtree(home, ignore_errors=True)
    if done.returncode != 0:
        with contextlib.suppress(OSError):
            output.unlink()
        raise ImageUnavailable(
            f"gpg could not decrypt {encrypted} with the key file {key} "
            f"({_reason(done.stderr, key)}); MedPerf stops the same way ('File decryption "
            "failed'). Give the passphrase file the container was encrypted with "
            f"(`gpg --batch --symmetric --passphrase-file KEY ...`), via {OPTION}."
        )


def _run_gpg(argv: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    try:
        return subprocess.run(
            argv,
            env=env,
            capture_output=True,
            text=True,
            errors="replace",
            stdin=subprocess.DEVNULL,
            check=False,
        )
    except OSError as exc:
        return subprocess.CompletedProcess(argv, 2, "", f"gpg: {exc.strerror}")


def _reason(stderr: str, key: Path) -> str:
    """gpg's own reason (the 'decryption failed: ...' line), with the key's content
    removed should gpg ever echo it."""
    lines = [line.removeprefix("gpg: ").strip() for line in stderr.splitlines() if line.strip()]
    failing = [line for line in lines if "failed" in line or "error" in line.lower()]
    text = "; ".join(failing or lines[-1:]) or "no reason given"
    return scrub(text, key)[:300]


def scrub(text: str, key: Path) -> str:
    """text without the key file's content (nor any of its lines)."""
    try:
        secret = key.read_text(errors="replace")
    except OSError:
        return text
    for part in sorted({secret, secret.strip(), *secret.splitlines()}, key=len, reverse=True):
        if len(part.strip()) >= 4:
            text = text.replace(part, "[key]")
    return text


def _stop_agent(env: dict[str, str]) -> None:
    """gpg starts an agent for its home; stop it, so nothing outlives the session."""
    if shutil.which("gpgconf") is None:
        return
    with contextlib.suppress(OSError, subprocess.SubprocessError):
        subprocess.run(
            ["gpgconf", "--kill", "gpg-agent"],
            env=env,
            capture_output=True,
            timeout=10,
            check=False,
        )


def remove_sensitive(path: Path) -> None:
    """Remove a decrypted file (or folder); MedPerf removes them right after use too."""
    with contextlib.suppress(FileNotFoundError):
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink()

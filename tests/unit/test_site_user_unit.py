"""The uid decision (kit_options.run_user), singularity-portable's judgement of a config,
and the pieces of the Singularity emulation that need no engine."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from pytest_medperf.checks.at_site import relative_paths
from pytest_medperf.checks.portable import hard_problems, soft_problems
from pytest_medperf.engine.kit_options import (
    SITE_UID,
    KitOptions,
    default_user,
    run_user,
    user_rule,
)
from pytest_medperf.runtimes.base import Mount, RunSpec
from pytest_medperf.runtimes.image_facts import ImageFacts
from pytest_medperf.runtimes.singularity_runtime.emulation import (
    Identity,
    emulated_kwargs,
    environment,
    passwd_text,
    refusal,
)

PASSWD = "root:x:0:0:root:/root:/bin/bash\napp:x:1000:1000::/home/app:/bin/sh\n"


def test_a_uid_the_image_does_not_list_is_kept() -> None:
    decided = run_user(KitOptions(user="1001:1001"), frozenset({0, 1000}))
    assert decided.user == "1001:1001"
    assert decided.why == "uid 1001: not in the image's /etc/passwd, as at a site"


def test_a_uid_the_image_lists_moves_to_an_unused_one_keeping_the_gid() -> None:
    decided = run_user(KitOptions(user="1000:1000"), frozenset({0, 1000, SITE_UID}))
    assert decided.user == f"{SITE_UID + 1}:1000"
    assert "uid 1000 is listed there" in decided.why


def test_medperf_user_is_used_as_given() -> None:
    decided = run_user(KitOptions(user="1000:1000", user_given=True), frozenset({1000}))
    assert (decided.user, decided.why) == ("1000:1000", "uid 1000: given with --medperf-user")


def test_the_session_default_is_yours_or_a_sites_uid_as_root() -> None:
    expected = f"{SITE_UID}:{SITE_UID}" if os.getuid() == 0 else f"{os.getuid()}:{os.getgid()}"
    assert default_user() == expected == KitOptions().user


@pytest.mark.parametrize(
    ("argv", "relative"),
    [
        (
            ["python3", "model.py", "--config=conf/settings.yaml"],
            ["model.py", "conf/settings.yaml"],
        ),
        (["./run.sh"], ["./run.sh"]),
        (["python3", "/app/model.py", "--batch", "8"], []),
        (["bash", "-c", "echo hi"], []),
    ],
)
def test_relative_paths_in_a_command(argv: list[str], relative: list[str]) -> None:
    assert relative_paths(argv) == relative


def _config(**run_args: object) -> dict:
    return {"tasks": {"infer": {"run_args": run_args}}}


def test_singularity_portable_fails_an_integer_environment_value_and_a_gpu_count() -> None:
    problems = hard_problems(_config(environment={"OMP_NUM_THREADS": 1}, gpus=2))
    assert len(problems) == 2
    assert "OMP_NUM_THREADS is 1, not a string" in problems[0]
    assert "Cannot use gpu count when running singularity" in problems[1]
    assert hard_problems(_config(environment={"A": "1"}, gpus="all")) == []


def test_singularity_portable_warns_for_workdir_relative_command_shm_size_and_user() -> None:
    facts = ImageFacts(workdir="/app", user="app")
    warned = soft_problems(_config(command="python3 model.py", shm_size="2gb"), facts)
    assert len(warned) == 3
    assert "'model.py' relative to the image's WORKDIR (/app)" in warned[0]
    assert "shm_size" in warned[1] and "USER app" in warned[2]
    assert soft_problems(_config(command="python3 /app/model.py"), ImageFacts(workdir="/app")) == []


def test_the_generated_passwd_adds_or_rewrites_the_users_line() -> None:
    site = Identity(54321, 54321, "site", "/root")
    assert passwd_text(PASSWD, site).endswith("site:x:54321:54321::/root:/bin/sh\n")
    own = Identity(1000, 1000, "me", "/home/me")
    assert "me:x:1000:1000::/home/me:/bin/sh" in passwd_text(PASSWD, own).splitlines()
    assert "app:" not in passwd_text(PASSWD, own)


def _spec(**changes: object) -> RunSpec:
    base: dict = dict(
        image="example/model:1",
        command=("python3", "/app/model.py"),
        entrypoint=None,
        environment={"MODE": "fast", "HOME": "/elsewhere"},
        mounts=(Mount(Path("/host/tmp"), "/tmp", False),),
        user="54321:54321",
        name="medperf-x",
    )
    base.update(changes)
    return RunSpec(**base)


def test_the_environment_is_apptainers_and_the_configs_with_home_last() -> None:
    facts = ImageFacts(env=("PATH=/opt/conda/bin:/usr/bin",))
    env = environment(_spec(), facts, Identity(54321, 54321, "site", "/root"))
    assert (
        env["PATH"] == "/opt/conda/bin:/usr/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/sbin:/bin"
    )
    assert env["LANG"] == "C" and env["MODE"] == "fast" and env["HOME"] == "/root"
    assert env["APPTAINER_COMMAND"] == "run"
    assert (
        environment(_spec(entrypoint="/bin/sh"), facts, Identity(1, 1, "a", "/a"))[
            "APPTAINER_COMMAND"
        ]
        == "exec"
    )


def test_emulated_kwargs_read_only_no_shm_size_home_tmpfs() -> None:
    kwargs = emulated_kwargs(_spec(shm_size="2gb"), ImageFacts(workdir="/app"), None)
    assert kwargs["read_only"] is True and "shm_size" not in kwargs
    assert kwargs["working_dir"] == kwargs["environment"]["HOME"]
    assert set(kwargs["tmpfs"]) == {kwargs["working_dir"], "/var/tmp"}
    assert "uid=54321" in kwargs["tmpfs"][kwargs["working_dir"]]
    assert kwargs["network_mode"] == "none"


def test_a_gpu_count_is_refused_as_medperf_refuses_it() -> None:
    assert "Cannot use gpu count" in (refusal(_spec(gpus=2)) or "")
    assert refusal(_spec(gpus="all")) is None


def test_the_header_says_the_rule_and_the_given_user() -> None:
    assert user_rule(KitOptions(user="1001:1001", user_given=True)) == (
        "tasks run as 1001:1001 (--medperf-user)"
    )
    said = user_rule(KitOptions(user="1001:1001"))
    assert "unless an image's /etc/passwd lists uid 1001" in said and "as at a site" in said

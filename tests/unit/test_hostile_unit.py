"""What a misbehaving container leaves, judged without one (issue 11): a log scanner in
bounded memory, links judged where they lead and compared as links, never followed (the
containers themselves: tests/docker/test_hostile.py)."""

from __future__ import annotations

import os
from pathlib import Path

from pytest_medperf.observe.evidence import LogScanner


def test_the_scanner_keeps_evidence_and_tail_in_bounded_memory() -> None:
    scanner = LogScanner()
    noise = b"step 1 ok\n" * 100_000
    scanner.feed(noise)
    scanner.feed(b"PermissionError: [Errno 13] Permission denied: '/opt/cache/x'\nstep")
    scanner.feed(b" 2 ok\n" + noise[:50] + b"x" * 10_000_000)  # an endless last line
    scanner.feed(b"\nurllib.error.URLError: <urlopen error [Errno -3] Temporary failure in ")
    scanner.feed(b"name resolution>\n")
    scanner.finish()
    assert list(scanner.denied) == ["/opt/cache/x"]
    assert [n.line[:21] for n in scanner.network] == ["urllib.error.URLError"]
    tail = scanner.tail()
    assert tail[-1].endswith("Temporary failure in name resolution>")
    assert len(tail[-1]) <= 4096
    assert "step 2 ok" in tail


def test_a_redrawn_progress_line_reads_as_a_terminal_shows_it() -> None:
    """Keras' progress bar as the chest X-ray tutorial's MobileNetV2 prints it: carriage
    returns and backspaces redraw one line; the tail and the progress line keep what is
    left on screen, not the control characters."""
    scanner = LogScanner()
    scanner.feed(b"TF-TRT Warning: Could not find TensorRT\n\r1/9 [==>......] - ETA: 16s")
    scanner.feed(b"\b" * 40)
    assert scanner.last_line == "1/9 [==>......] - ETA: 16s"  # still running
    scanner.feed(b"\r6/9 [=======>..] - ETA: 0s" + b"\b" * 40)
    scanner.feed(b"\r9/9 [==========] - 2s 12ms/step\n")
    scanner.finish()
    assert scanner.tail()[-2:] == (
        "TF-TRT Warning: Could not find TensorRT",
        "9/9 [==========] - 2s 12ms/step",
    )
    scanner = LogScanner()
    scanner.feed(b"50%|#####     | 1/2\r100%|##########| 2/2\r\n")  # tqdm
    scanner.finish()
    assert scanner.tail() == ("100%|##########| 2/2",)


def test_links_are_judged_where_they_lead_without_following_them(tmp_path: Path) -> None:
    from pytest_medperf.observe.links import link_problems

    out = tmp_path / "out"
    (out / "sub").mkdir(parents=True)
    (out / "real.csv").write_text("x\n")
    os.symlink("real.csv", out / "ok.csv")
    os.symlink("..", out / "sub" / "up")  # the output itself: inside
    os.symlink("up/../etc/passwd", out / "sub" / "sneaky")  # lexically inside; really not
    os.symlink("/etc/passwd", out / "abs")
    os.symlink("self", out / "self")
    found = {(p.link, p.why) for p in link_problems(out)}
    assert found == {("sub/sneaky", "leaves"), ("abs", "leaves"), ("self", "loop")}


def test_determinism_compares_links_as_links(tmp_path: Path) -> None:
    from pytest_medperf.checks.compare.output_diff import first_difference

    first, second = tmp_path / "first", tmp_path / "second"
    for folder in (first, second):
        folder.mkdir()
        (folder / "predictions.csv").write_text("case,prediction\n")
    # Both name the same host file, so reading through them would call them equal.
    os.symlink("/etc/hostname", first / "extra.csv")
    os.symlink("/etc/../etc/hostname", second / "extra.csv")
    difference = first_difference(first, second)
    assert difference == (
        "extra.csv is a link to '/etc/hostname' in the first run, to "
        "'/etc/../etc/hostname' in the second"
    )
    os.unlink(second / "extra.csv")
    (second / "extra.csv").write_text("x")
    assert first_difference(first, second) == (
        "extra.csv is a link in the first run and a file in the second"
    )

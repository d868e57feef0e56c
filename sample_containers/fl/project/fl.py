"""A tiny federation for the kit's tests, standard library and PyYAML only.

generate_plan: plan.yaml from the training config and the aggregator config.
start_aggregator: waits for the collaborators of cols.yaml (HTTP on the plan's port),
  averages one number over a few rounds, writes report.yaml and the weights.
train: joins the aggregator named in the plan and sends an update each round.
A flag breaks one thing on purpose (the kit's violation samples):
  --forget-address, --no-report, --contact-other, --crash-as LABEL, --no-status,
  --read-root-only-as LABEL (a setting only root may read).
  --join-wait SECONDS (aggregator; default 20): the samples whose collaborator never joins
  say how long to wait for it, so their tests do not wait the default.
get_experiment_status (the FL admin's task): asks the live aggregator for its status and
  writes status.yaml.
"""

from __future__ import annotations

import http.client
import json
import os
import socket
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import yaml

VOLUMES = Path("/mlcommons/volumes")
JOIN_WAIT = 20.0  # seconds the aggregator waits for every collaborator
CONNECT_WAIT = 60.0  # seconds a collaborator retries to reach the aggregator


def log(text: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {text}", flush=True)


def read_yaml(path: Path) -> dict:
    data = yaml.safe_load(path.read_text())
    if not isinstance(data, dict):
        raise SystemExit(f"{path} is not a YAML mapping")
    return data


def check_pki() -> None:
    node, ca = VOLUMES / "node_cert_folder", VOLUMES / "ca_cert_folder"
    if sorted(p.name for p in node.iterdir()) != ["crt.crt", "key.key"]:
        raise SystemExit(f"{node} must hold key.key and crt.crt")
    if not [p for p in ca.iterdir() if p.suffix == ".crt"]:
        raise SystemExit(f"{ca} holds no certificate")


def generate_plan(flags: list[str]) -> None:
    training = read_yaml(VOLUMES / "training_config" / "training_config.yaml")
    aggregator = read_yaml(VOLUMES / "aggregator_config" / "aggregator_config.yaml")
    plan = {
        "rounds": int(training.get("rounds", 2)),
        "round_seconds": float(training.get("round_seconds", 0)),
    }
    if "--forget-address" not in flags:
        plan["aggregator"] = aggregator
    (VOLUMES / "plan" / "plan.yaml").write_text(yaml.safe_dump(plan))
    log(f"plan written: {plan}")


class Aggregator:
    def __init__(self, expected: list[str], rounds: int, seconds: float) -> None:
        self.seconds = seconds  # a round's least duration (the admin's window)
        self.round_started = time.monotonic()
        self.expected = expected
        self.rounds = rounds
        self.joined: list[str] = []
        self.round = 0
        self.weight = 0.0
        self.updates: dict[str, float] = {}
        self.finished_by: set[str] = set()
        self.started = False
        self.history: list[float] = []
        self.lock = threading.Lock()

    def finish_round(self) -> None:
        """Average the round once every collaborator sent its update and its time is up."""
        waited = time.monotonic() - self.round_started >= self.seconds
        if self.updates and set(self.updates) >= set(self.joined) and waited:
            self.weight = sum(self.updates.values()) / len(self.updates)
            self.history.append(self.weight)
            log(f"round {self.round + 1}/{self.rounds}: weight {self.weight:.3f}")
            self.updates = {}
            self.round += 1
            self.round_started = time.monotonic()

    def answer(self, path: str, body: dict) -> dict:
        with self.lock:
            label = str(body.get("label"))
            if path == "/status":
                return {
                    "round": self.round,
                    "rounds": self.rounds,
                    "collaborators": self.joined,
                    "asked_by": label,
                }
            if path == "/join":
                if label not in self.expected:
                    return {"error": f"{label} is not in cols.yaml"}
                if label not in self.joined:
                    self.joined.append(label)
                    log(f"collaborator {label} joined ({len(self.joined)}/{len(self.expected)})")
                return {"ok": True}
            if path == "/update" and body.get("round") == self.round:
                self.updates[label] = float(body["value"])
                self.finish_round()
                return {"ok": True}
            if not self.started:
                return {"wait": True}
            self.finish_round()  # when the round's time is up
            if self.round >= self.rounds:
                self.finished_by.add(label)
                return {"done": True}
            if label in self.updates:
                return {"wait": True}
            return {"round": self.round, "weight": self.weight}


def start_aggregator(flags: list[str]) -> None:
    check_pki()
    plan = read_yaml(VOLUMES / "plan" / "plan.yaml")
    expected = sorted(read_yaml(VOLUMES / "collaborators" / "cols.yaml"))
    state = Aggregator(expected, int(plan["rounds"]), float(plan.get("round_seconds", 0)))

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            size = int(self.headers.get("Content-Length", 0))
            reply = json.dumps(state.answer(self.path, json.loads(self.rfile.read(size))))
            self.send_response(200)
            self.send_header("Content-Length", str(len(reply)))
            self.end_headers()
            self.wfile.write(reply.encode())

        def log_message(self, *args: object) -> None:
            return

    server = ThreadingHTTPServer(("0.0.0.0", int(plan["aggregator"]["port"])), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    log(f"aggregator listening on port {plan['aggregator']['port']}, expecting {expected}")
    join_wait = JOIN_WAIT
    if "--join-wait" in flags:
        join_wait = float(flags[flags.index("--join-wait") + 1])
    deadline = time.monotonic() + join_wait
    while len(state.joined) < len(expected) and time.monotonic() < deadline:
        time.sleep(0.1)
    with state.lock:
        if not state.joined:
            raise SystemExit("no collaborator joined")
        if len(state.joined) < len(expected):
            log(f"going on with {state.joined}: the others did not join in {join_wait:g} s")
        state.started = True
        state.round_started = time.monotonic()
    while state.round < state.rounds:
        time.sleep(0.05)
    deadline = time.monotonic() + 5
    while state.finished_by < set(state.joined) and time.monotonic() < deadline:
        time.sleep(0.05)
    server.shutdown()
    weights = VOLUMES / "output_weights" / "final.json"
    weights.write_text(json.dumps({"weight": state.weight, "history": state.history}))
    (VOLUMES / "output_logs" / "aggregator.log").write_text(f"trained with {state.joined}\n")
    if "--no-report" not in flags:
        report = {"rounds": state.rounds, "collaborators": state.joined, "weight": state.weight}
        (VOLUMES / "report" / "report.yaml").write_text(yaml.safe_dump(report))
    log("training done")


def post(address: str, port: int, path: str, body: dict) -> dict:
    connection = http.client.HTTPConnection(address, port, timeout=10)
    try:
        connection.request("POST", path, json.dumps(body), {"Content-Type": "application/json"})
        return json.loads(connection.getresponse().read())
    finally:
        connection.close()


def train(flags: list[str]) -> None:
    label = os.environ["MEDPERF_PARTICIPANT_LABEL"]
    if "--crash-as" in flags and flags[flags.index("--crash-as") + 1] == label:
        raise RuntimeError(f"{label}: the data loader crashed (on purpose)")
    check_pki()
    if "--read-root-only-as" in flags and flags[flags.index("--read-root-only-as") + 1] == label:
        log(f"setting: {Path('/etc/fl-root-only.conf').read_text().strip()}")
    plan = read_yaml(VOLUMES / "plan" / "plan.yaml")
    address, port = plan["aggregator"]["address"], int(plan["aggregator"]["port"])
    if "--contact-other" in flags:  # a host name, then an address (TEST-NET-3)
        for host in ("telemetry.example.org", "203.0.113.7"):
            try:
                socket.create_connection((host, 443), timeout=3).close()
            except OSError as exc:
                log(f"telemetry not sent to {host}: {exc}")
    files = [p for p in (VOLUMES / "data").rglob("*") if p.is_file()]
    value = sum(p.stat().st_size for p in files) / max(len(files), 1)
    deadline = time.monotonic() + CONNECT_WAIT
    while True:
        try:
            answer = post(address, port, "/join", {"label": label})
            break
        except OSError as exc:
            if time.monotonic() > deadline:
                raise SystemExit(f"cannot reach the aggregator {address}:{port}: {exc}") from None
            time.sleep(0.3)
    if "error" in answer:
        raise SystemExit(answer["error"])
    log(f"{label} joined {address}:{port}")
    rounds = 0
    while True:
        answer = post(address, port, "/task", {"label": label})
        if answer.get("done"):
            break
        if "round" in answer:
            update = (answer["weight"] + value) / 2
            body = {"label": label, "round": answer["round"], "value": update}
            post(address, port, "/update", body)
            rounds += 1
        else:
            time.sleep(0.05)
    (VOLUMES / "output_logs" / "train.log").write_text(f"{label}: {rounds} rounds\n")
    log(f"{label} done after {rounds} rounds")


def get_experiment_status(flags: list[str]) -> None:
    check_pki()
    plan = read_yaml(VOLUMES / "plan" / "plan.yaml")
    address, port = plan["aggregator"]["address"], int(plan["aggregator"]["port"])
    admin = os.environ["MEDPERF_ADMIN_PARTICIPANT_CN"]
    deadline = time.monotonic() + CONNECT_WAIT
    while True:
        try:
            status = post(address, port, "/status", {"label": admin})
            break
        except OSError as exc:
            if time.monotonic() > deadline:
                raise SystemExit(f"cannot reach the aggregator {address}:{port}: {exc}") from None
            time.sleep(0.2)
    log(f"status: {status}")
    if "--no-status" not in flags:
        (VOLUMES / "status" / "status.yaml").write_text(yaml.safe_dump(status))


if __name__ == "__main__":
    task, flags = sys.argv[1], sys.argv[2:]
    tasks = {
        "generate_plan": generate_plan,
        "start_aggregator": start_aggregator,
        "train": train,
        "get_experiment_status": get_experiment_status,
    }
    tasks[task](flags)

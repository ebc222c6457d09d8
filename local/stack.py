"""`make run`: the whole service on this machine.

moto server (DynamoDB, SQS) on :4566, the Twilio simulator on :4010,
`chalice local` on :8000, and the runner that plays EventBridge and the SQS
event sources (local/runner.py), with the table and queues created from
infra/ and demo contacts. Ctrl-C or SIGTERM stops every process this started.

Stopping: SIGTERM, SIGINT or SIGHUP, to this process or to its whole
process group (as `timeout`, CI runners and process managers send it, often
more than once), stops every child within STOP_GRACE_S (+ a kill): each
child runs in its own session, so the first signal is acted on here, once;
repeats are ignored while the stop runs. Every child's process group gets
SIGTERM at the same moment, and SIGKILL whatever is left at the deadline.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from local.environment import BRAND_NUMBER, DEFAULTS, LOOPBACK, Ports, stack_env

ROOT = Path(__file__).resolve().parent.parent
LOCAL_STAGE = "local"  # names the queues: rapport-local-plan, rapport-local-send, rapport-local-events
STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)
STOP_GRACE_S = 8.0  # then SIGKILL: everything is gone well within 15 s


def _leads_group(process: subprocess.Popen[Any]) -> bool:
    """Started with start_new_session (or process_group=0): its group is its own."""
    try:
        return os.getpgid(process.pid) == process.pid
    except ProcessLookupError:  # already reaped
        return False


def _signal(process: subprocess.Popen[Any], signum: int, group: bool) -> None:
    if group:
        with contextlib.suppress(ProcessLookupError):  # the group is empty: all gone
            os.killpg(process.pid, signum)  # the process and whatever it started
        return
    if process.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            process.send_signal(signum)


def stop_processes(processes: Iterable[subprocess.Popen[Any]], grace_s: float = STOP_GRACE_S) -> None:
    """SIGTERM every process (its whole process group when it leads one) at
    once, wait up to `grace_s` for all of them together, then SIGKILL what is
    left, groups included (grandchildren too), and reap. Safe to call twice."""
    found = [(process, _leads_group(process)) for process in processes]  # before anything is reaped
    for process, group in found:
        _signal(process, signal.SIGTERM, group)
    deadline = time.monotonic() + grace_s
    for process, _ in found:
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=max(0.0, deadline - time.monotonic()))
    for process, group in found:
        _signal(process, signal.SIGKILL, group)  # a group may outlive its leader
    for process, _ in found:
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=3)


def stop_process(process: subprocess.Popen[Any], grace_s: float = STOP_GRACE_S) -> None:
    """SIGTERM, then SIGKILL if it is still there after `grace_s`."""
    stop_processes([process], grace_s)


def wait_for(url: str, timeout_s: float = 60.0, process: subprocess.Popen[Any] | None = None) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"{url}: process exited with {process.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=2):  # noqa: S310 (our own http:// URL)
                return
        except urllib.error.HTTPError:
            return  # it answers: that is all we wait for
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            time.sleep(0.2)
    raise TimeoutError(f"{url} did not answer within {timeout_s:.0f}s")


class StackStoppedError(BaseException):
    """A stop signal arrived: leave whatever the stack was doing and stop it.
    (BaseException, as KeyboardInterrupt: no `except Exception` swallows it.)"""


class Stack:
    def __init__(self, ports: Ports, env: dict[str, str]) -> None:
        self.ports = ports
        self.env = env
        self.processes: list[subprocess.Popen[bytes]] = []
        self._stopping = False  # a stop signal came, or stop() began: later signals change nothing
        self._spawning = False  # between fork and being listed: a signal must not lose the child
        self._stopped = False

    def on_signal(self, signum: int, _frame: object) -> None:
        """The first stop signal interrupts what the stack is doing; repeats
        (a group-wide signal, `timeout` signalling twice) are ignored."""
        if self._stopping:
            return
        self._stopping = True
        if not self._spawning:
            raise StackStoppedError(signal.Signals(signum).name)

    def _spawn(self, args: list[str], quiet: bool = False) -> subprocess.Popen[bytes]:
        """Each child in its own session: a terminal's Ctrl-C or a group-wide
        SIGTERM reaches this process only, which then stops every child."""
        output = subprocess.DEVNULL if quiet else None
        self._spawning = True
        try:
            process = subprocess.Popen(
                args, cwd=ROOT, env=self.env, start_new_session=True, stdout=output, stderr=output
            )
            self.processes.append(process)
        finally:
            self._spawning = False
        if self._stopping:
            raise StackStoppedError("signalled while starting a process")
        return process

    def start(self, demo: bool = True, runner: bool = True) -> None:
        import boto3

        from chalicelib.adapters.webhook import CONNECTION_OVERRIDES  # the retries docs/operations.md configures
        from chalicelib.services.keys import Role
        from local.demo import seed
        from local.keys import role_keys
        from local.ordering_sim import OrderingSimulator
        from local.schema import create_queues, create_table
        from local.twilio_sim import TwilioSimulator

        if not self.env.get("TWILIO_AUTH_TOKEN"):
            raise SystemExit("TWILIO_AUTH_TOKEN is empty: webhooks would be refused (fail closed)")
        aws_emulator = [sys.executable, "-m", "local.aws_emulator", "-H", LOOPBACK, "-p", str(self.ports.aws)]
        moto = self._spawn([*aws_emulator, "--exit-with-parent"], quiet=True)
        wait_for(f"http://{LOOPBACK}:{self.ports.aws}/moto-api/", process=moto)
        session = boto3.Session(
            region_name=self.env["AWS_DEFAULT_REGION"],
            aws_access_key_id=self.env["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=self.env["AWS_SECRET_ACCESS_KEY"],
        )
        dynamodb = session.client("dynamodb", endpoint_url=self.env["AWS_ENDPOINT_URL"])
        create_table(dynamodb, self.env["TABLE_NAME"])
        visibility = {"SendQueue": self.ports.send_visibility_s} if self.ports.send_visibility_s else {}
        sqs = session.client("sqs", endpoint_url=self.env["AWS_ENDPOINT_URL"])
        queues = create_queues(sqs, LOCAL_STAGE, visibility)
        self.env["PLAN_QUEUE_URL"], self.env["SEND_QUEUE_URL"] = queues["PlanQueue"], queues["SendQueue"]
        self.env["EVENTS_QUEUE_URL"] = queues["EventsQueue"]
        self.demo_phones = seed(dynamodb, self.env["TABLE_NAME"]) if demo else []
        self.role_keys = role_keys(dynamodb, self.env["TABLE_NAME"])  # one API key per role, printed by banner()
        self.sim = TwilioSimulator(
            self.env["TWILIO_ACCOUNT_SID"], self.env["TWILIO_AUTH_TOKEN"], self.env["PUBLIC_BASE_URL"], BRAND_NUMBER,
            inbound_url=f"{self.env['PUBLIC_BASE_URL'].rstrip('/')}/twilio/inbound#{CONNECTION_OVERRIDES}",
        )  # fmt: skip
        self.sim_server = self.sim.serve(LOOPBACK, self.ports.twilio)
        self.ordering = OrderingSimulator(
            self.env["ORDER_WEBHOOK_SECRET"], f"http://{LOOPBACK}:{self.ports.api}", self.role_keys[Role.INTEGRATION][1]
        )
        self.ordering_server = self.ordering.serve(LOOPBACK, self.ports.ordering)
        api = self._spawn(
            [sys.executable, "-m", "local.api_server", "local", "--no-autoreload", "--host", LOOPBACK,
             "--port", str(self.ports.api), "--stage", "dev"]
        )  # fmt: skip
        wait_for(f"http://{LOOPBACK}:{self.ports.api}/health", process=api)
        if runner:
            self._spawn([sys.executable, "-m", "local.runner", "--tick-seconds", str(self.ports.tick_seconds)])

    def stop(self) -> None:
        """Every child and its process group, together, within STOP_GRACE_S
        (+ SIGKILL); then the simulator's port. Idempotent."""
        self._stopping = True  # signals from here on are ignored: nothing interrupts the stop
        if self._stopped:
            return
        self._stopped = True
        stop_processes(reversed(self.processes))
        for server in (getattr(self, "sim_server", None), getattr(self, "ordering_server", None)):
            if server is not None:
                server.shutdown()
                server.server_close()

    def banner(self) -> str:
        env, p = self.env, self.ports
        token_note = "(default)" if env["TWILIO_AUTH_TOKEN"] == DEFAULTS["TWILIO_AUTH_TOKEN"] else "(from environment)"
        pids = {name: proc.pid for name, proc in zip(("moto", "chalice", "runner"), self.processes, strict=False)}
        runner = (
            f"tick every {p.tick_seconds:g} s, SQS consumers (pid {pids['runner']})"
            if "runner" in pids
            else "not started (--no-runner): run `python -m local.runner` with the stack's environment"
        )
        example = self.demo_phones[0] if self.demo_phones else "+447700900123"
        return "\n".join(
            [
                "Rapport local stack",
                f"  API             http://{LOOPBACK}:{p.api}  chalice local (pid {pids['chalice']})",
                f"  Console         http://{LOOPBACK}:{p.api}/console  (sign in with a key below; docs/console.md)",
                f"  AWS emulator    http://{LOOPBACK}:{p.aws}  moto server (pid {pids['moto']}),"
                f" table {env['TABLE_NAME']!r}, queues rapport-{LOCAL_STAGE}-plan, -send and -events",
                f"  Lambda runner   {runner}",
                f"  Twilio sim      http://{LOOPBACK}:{p.twilio}  account {env['TWILIO_ACCOUNT_SID']},"
                f" brand number {BRAND_NUMBER}",
                f"  Ordering sim    {env['ORDER_WEBHOOK_URL']}  takes REORDER's YES, posts the order's events back",
                f"  PUBLIC_BASE_URL {env['PUBLIC_BASE_URL']}",
                f"  TWILIO_AUTH_TOKEN {env['TWILIO_AUTH_TOKEN']} {token_note}",
                f"  OPERATOR_TOKEN  {env['OPERATOR_TOKEN']} (an admin token for scripts; docs/api.md)",
                "API keys (one per role; `make key NAME=… ROLE=…` makes more; docs/api.md, Keys and roles):",
                *(
                    f"  {role.value:<15} {key}  ({name})"
                    for role, (name, key) in getattr(self, "role_keys", {}).items()
                ),
                f"  demo contacts   {', '.join(self.demo_phones) or 'none'}",
                "Text the service (signed as Twilio signs it):",
                f'  make text FROM={example} BODY="hello"',
                f"  make phone FROM={example}        (interactive; try STOP, HELP, START)",
                "Operator API, for example:",
                f"  curl -H 'Authorization: Bearer {env['OPERATOR_TOKEN']}' http://{LOOPBACK}:{p.api}/api/campaigns",
                "Ctrl-C or SIGTERM stops everything.",
            ]
        )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--api-port", type=int, default=Ports.api)
    parser.add_argument("--aws-port", type=int, default=Ports.aws)
    parser.add_argument("--twilio-port", type=int, default=Ports.twilio)
    parser.add_argument("--ordering-port", type=int, default=Ports.ordering)
    parser.add_argument("--tick-seconds", type=float, default=Ports.tick_seconds, help="the schedule's period")
    parser.add_argument("--no-demo", action="store_true", help="start with an empty table")
    parser.add_argument(
        "--no-runner",
        action="store_true",
        help="start no Lambda runner (tests that kill and restart senders run their own: `python -m local.runner`"
        " with the stack's environment, PLAN_QUEUE_URL, SEND_QUEUE_URL and EVENTS_QUEUE_URL included)",
    )
    parser.add_argument(
        "--send-visibility-seconds",
        type=int,
        help="the send queue's visibility timeout instead of infra's 720 (with SEND_LEASE_SECONDS below it:"
        " tests that run a killed sender's timings scaled down)",
    )
    args = parser.parse_args(argv)
    ports = Ports(
        api=args.api_port,
        aws=args.aws_port,
        twilio=args.twilio_port,
        ordering=args.ordering_port,
        tick_seconds=args.tick_seconds,
        send_visibility_s=args.send_visibility_seconds,
    )
    stack = Stack(ports, stack_env(ports))

    for signum in STOP_SIGNALS:  # before any child exists, so none can be left behind
        signal.signal(signum, stack.on_signal)
    try:
        stack.start(demo=not args.no_demo, runner=not args.no_runner)
        print(stack.banner(), flush=True)
        while all(process.poll() is None for process in stack.processes):
            time.sleep(0.5)
        print("a stack process exited; stopping the rest", file=sys.stderr)
    except (StackStoppedError, KeyboardInterrupt):
        pass
    finally:
        with contextlib.suppress(StackStoppedError):  # a first signal just as the stop began
            stack.stop()
        stack.stop()  # nothing to do when the first call ran
        for signum in STOP_SIGNALS:  # a late repeat must not kill the exit (finalising restores SIG_DFL)
            signal.signal(signum, signal.SIG_IGN)
        print("stopped", flush=True)


if __name__ == "__main__":
    main()

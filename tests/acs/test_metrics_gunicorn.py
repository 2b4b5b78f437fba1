"""/metrics under gunicorn with several worker processes (acs/gunicorn_conf.py): with
PROMETHEUS_MULTIPROC_DIR every process writes its request figures there and a scrape, whichever
process answers it, adds them all up; figures left from a previous run are emptied at start."""

import os
import re
import subprocess
import sys
import urllib.request

import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.acs.metrics_scrape import TOKEN
from tests.workers import ROOT, free_port, wait_until, worker_database_url

pytestmark = pytest.mark.django_db(transaction=True)

REQUESTS = 40


def _get(url: str, token: str | None = None, timeout: float = 5) -> tuple[int, bytes]:
    request = urllib.request.Request(url)  # noqa: S310 (a local test server)
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 (local)
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, b""
    except OSError:
        return 0, b""


def test_a_scrape_adds_up_every_gunicorn_worker_process(tmp_path):
    folder = tmp_path / "prometheus"
    folder.mkdir()
    (folder / "counter_999999.db").write_bytes(b"left from a previous run")
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": worker_database_url(),
        "PROMETHEUS_MULTIPROC_DIR": str(folder),
        "METRICS_TOKEN": TOKEN,
        "PORT": str(port),
        "WEB_CONCURRENCY": "2",
    }
    log = tmp_path / "gunicorn.log"
    with log.open("wb") as out:
        server = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-c", "python:acs.gunicorn_conf", "acs.wsgi"],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        # A long client timeout: a request given up on while the workers boot would still be
        # answered, and counted, later.
        assert wait_until(lambda: _get(f"{base}/healthz/live", timeout=60)[0] == 200, timeout=60), (
            log.read_text()
        )
        assert not (folder / "counter_999999.db").exists()  # emptied at start
        for _ in range(REQUESTS - 1):
            assert _get(f"{base}/healthz/live")[0] == 200
        # Both worker processes wrote their figures.
        assert wait_until(lambda: len(list(folder.glob("counter_*.db"))) >= 2, timeout=10)

        status, body = _get(f"{base}/metrics", TOKEN)
        assert status == 200
        assert _get(f"{base}/metrics")[0] == 404
    finally:
        server.terminate()
        server.wait(timeout=20)

    # The access log's lines end with the request id each response carried.
    access = [line for line in log.read_text().splitlines() if '"GET /healthz/live' in line]
    assert len(access) == REQUESTS
    assert all(re.search(r" [0-9a-f]{32}$", line) for line in access), access[:3]

    served = sum(
        sample.value
        for family in text_string_to_metric_families(body.decode())
        for sample in family.samples
        if sample.name == "django_http_responses_total_by_status_view_method_total"
        and sample.labels.get("view") == "healthz-live"
        and sample.labels.get("status") == "200"
    )
    assert served == REQUESTS

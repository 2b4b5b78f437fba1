"""Export files in S3-compatible object storage (EXPORTS_STORAGE=s3), against a real S3 HTTP
endpoint on 127.0.0.1 started by the test (moto's server, a local stand-in for MinIO or AWS):
the worker's file goes to the private bucket and not to disk, the audited download answers
with a presigned link that expires, only the requester or a supervisor gets one, and the
cleanup removes the object. The local-disk default is tested in test_exports.py."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import boto3
import pytest
import requests
from django.utils import timezone
from moto.server import ThreadedMotoServer

from acs.models import AuditEvent
from acs.roles import Role
from cases.exports.models import ExportJob, export_storage
from cases.exports.services import export_download_link, exports_cleanup_expired
from tests.cases import hmis_world
from tests.cases.export_helpers import built
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

case = hmis_world.case
BUCKET = "acs-exports-test"


@pytest.fixture(scope="module")
def s3_endpoint():
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def bucket(s3_endpoint, settings, tmp_path):
    client = boto3.client(
        "s3",
        endpoint_url=s3_endpoint,
        region_name="us-east-1",
        aws_access_key_id="test-key",
        aws_secret_access_key="test-secret",
    )
    client.create_bucket(Bucket=BUCKET)
    settings.EXPORTS_ROOT = tmp_path / "exports-on-disk"
    settings.EXPORTS_STORAGE = "s3"
    settings.EXPORTS_DOWNLOAD_LINK_SECONDS = 60
    settings.EXPORTS_S3_OPTIONS = {
        **settings.EXPORTS_S3_OPTIONS,
        "bucket_name": BUCKET,
        "endpoint_url": s3_endpoint,
        "region_name": "us-east-1",
        "access_key": "test-key",
        "secret_key": "test-secret",
        "location": "exports",
        "querystring_expire": 60,
    }
    yield client
    listed = client.list_objects_v2(Bucket=BUCKET).get("Contents", [])
    for item in listed:
        client.delete_object(Bucket=BUCKET, Key=item["Key"])
    client.delete_bucket(Bucket=BUCKET)


def keys(client) -> list[str]:
    return [item["Key"] for item in client.list_objects_v2(Bucket=BUCKET).get("Contents", [])]


def test_the_worker_stores_the_export_in_the_bucket_not_on_disk(case, case_manager, bucket):
    job, rows = built(case_manager)

    assert keys(bucket) == [f"exports/{job.public_id}/residents.csv"]
    assert rows and "resident_id" in rows[0]
    assert export_root_files() == []
    head = bucket.head_object(Bucket=BUCKET, Key=f"exports/{job.public_id}/residents.csv")
    assert head["ContentLength"] > 0


def export_root_files() -> list:
    from django.conf import settings

    root = settings.EXPORTS_ROOT
    return list(root.rglob("*")) if root.exists() else []


def test_the_admin_download_redirects_to_a_presigned_link_that_serves_the_file(
    client, case, case_manager, supervisor, bucket
):
    job, _ = built(case_manager)
    url = f"/admin/cases/exportjob/{job.public_id}/download/"
    client.force_login(UserFactory(username="colleague", role=Role.CASE_MANAGER))
    assert client.get(url).status_code == 404

    client.force_login(supervisor)
    response = client.get(url)

    assert response.status_code == 302
    assert "no-store" in response["Cache-Control"]
    link = response["Location"]
    parts = urlsplit(link)
    query = parse_qs(parts.query)
    assert parts.path == f"/{BUCKET}/exports/{job.public_id}/residents.csv"
    assert query["X-Amz-Expires"] == ["60"]
    assert query["X-Amz-Signature"]
    assert query["response-content-disposition"] == ['attachment; filename="residents.csv"']
    # The link carries ids and a signature, nothing personal (names stay in the file).
    assert "Maria" not in link and "Ana" not in link
    fetched = requests.get(link, timeout=10)
    assert fetched.status_code == 200
    assert fetched.content.startswith(b"resident_id,")
    assert fetched.headers["Content-Disposition"] == 'attachment; filename="residents.csv"'
    # Without the signature the private bucket refuses.
    assert requests.get(link.split("?")[0], timeout=10).status_code == 403
    assert AuditEvent.objects.filter(
        actor=supervisor, target_id=job.public_id, detail__event="downloaded"
    ).exists()


def test_a_presigned_link_lives_as_long_as_the_setting_says_from_the_moment_it_is_made(
    case, case_manager, bucket, settings
):
    # The S3 server refuses a link past X-Amz-Date + X-Amz-Expires (AWS, MinIO). moto does not
    # enforce the expiry, so this checks what the link asks for, signed with the rest.
    job, _ = built(case_manager)
    settings.EXPORTS_DOWNLOAD_LINK_SECONDS = 5

    link = export_download_link(actor=case_manager, public_id=job.public_id)

    query = parse_qs(urlsplit(link).query)
    assert query["X-Amz-Expires"] == ["5"]
    signed_at = datetime.strptime(query["X-Amz-Date"][0], "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
    assert abs((timezone.now() - signed_at).total_seconds()) < 60


def test_the_cleanup_removes_an_expired_export_from_the_bucket(case, case_manager, bucket):
    job, _ = built(case_manager)
    ExportJob.objects.filter(pk=job.pk).update(expires_at=timezone.now() - timedelta(minutes=1))

    assert exports_cleanup_expired() == 1

    assert keys(bucket) == []
    assert not export_storage().exists(job.file.name)

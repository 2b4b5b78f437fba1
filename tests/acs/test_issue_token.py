import json

import pytest
from django.core.management import CommandError, call_command
from django.test import Client

from acs.models import ApiToken
from acs.roles import Role

pytestmark = pytest.mark.django_db


def test_issue_token_prints_a_working_cad_token_once_and_stores_only_its_hash(capsys):
    call_command("issue_token", "cad", "city-cad")
    out, err = capsys.readouterr()
    token = out.strip()

    row = ApiToken.objects.get()
    assert row.user.username == "cad_integration:city-cad"
    assert row.user.has_role(Role.CAD_INTEGRATION)
    assert token not in row.digest and row.prefix in token
    assert "shown only now" in err
    assert row.expires_at is not None

    client = Client(HTTP_AUTHORIZATION=f"Bearer {token}")
    body = {
        "call_type": "WELFARE",
        "priority": 3,
        "source": "911",
        "received_at": "2026-11-24T10:00:00Z",
    }
    response = client.put(
        "/api/v1/cad/calls/T-1", json.dumps(body), content_type="application/json"
    )
    assert response.status_code == 201


def test_issue_token_can_issue_a_token_that_never_expires(capsys):
    call_command("issue_token", "cad", "backup-cad", "--expires-in-days", "0")

    assert ApiToken.objects.get().expires_at is None


def test_issue_token_refuses_a_bad_name():
    with pytest.raises(CommandError):
        call_command("issue_token", "cad", "bad name; drop")
    assert not ApiToken.objects.exists()

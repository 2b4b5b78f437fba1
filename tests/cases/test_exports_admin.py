"""Exports in the admin: asking for one, the services' refusals, who sees which, downloads, and
the Part 2 permission for free text."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from acs.models import AuditEvent
from cases.exports.models import ExportJob
from tests.cases.export_helpers import ask, built
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


# --- the admin ----------------------------------------------------------------------------------


def test_a_case_manager_asks_for_an_export_in_the_admin(client, case_manager, exports_dir):
    client.force_login(case_manager)

    response = client.post(
        "/admin/cases/exportjob/add/",
        {
            "kind": "encounters_csv",
            "start_date": "2026-01-01",
            "end_date": "2026-03-31",
            "redaction": "deidentified",
        },
    )

    job = ExportJob.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/admin/cases/exportjob/{job.public_id}/change/"
    assert (job.requested_by, job.kind, job.redaction) == (
        case_manager,
        "encounters_csv",
        "deidentified",
    )
    page = client.get(response["Location"])
    assert page.status_code == 200
    body = page.content.decode()
    # While it runs, the page refreshes itself (no inline script) and shows the progress.
    assert '<meta http-equiv="refresh"' in body
    assert "<progress" in body
    assert "<script>" not in body.replace('<script src="', "")


def test_the_admin_form_shows_the_services_refusals(client, case_manager, exports_dir):
    client.force_login(case_manager)

    response = client.post(
        "/admin/cases/exportjob/add/",
        {
            "kind": "hmis_csv",
            "start_date": "2026-01-01",
            "end_date": "2026-03-31",
            "redaction": "deidentified",
        },
    )

    assert response.status_code == 200
    assert "always identified" in response.content.decode()
    assert not ExportJob.objects.exists()


def test_case_managers_see_their_own_exports_and_supervisors_everyones(
    client, case_manager, supervisor, exports_dir
):
    from acs.roles import Role

    mine = ask(case_manager)
    theirs = ask(UserFactory(username="colleague", role=Role.CASE_MANAGER))

    client.force_login(case_manager)
    listing = client.get("/admin/cases/exportjob/").content.decode()
    assert str(mine.public_id) in listing and str(theirs.public_id) not in listing
    assert client.get(f"/admin/cases/exportjob/{theirs.public_id}/change/").status_code == 302

    client.force_login(supervisor)
    listing = client.get("/admin/cases/exportjob/").content.decode()
    assert str(mine.public_id) in listing and str(theirs.public_id) in listing


def test_downloading_from_the_admin_is_an_attachment_for_the_requester_only(
    client, case, case_manager, supervisor, exports_dir
):
    from acs.roles import Role

    job, _ = built(case_manager)
    url = f"/admin/cases/exportjob/{job.public_id}/download/"

    client.force_login(UserFactory(username="colleague", role=Role.CASE_MANAGER))
    assert client.get(url).status_code == 404
    client.force_login(supervisor)
    response = client.get(url)
    assert response.status_code == 200
    assert response["Content-Disposition"] == 'attachment; filename="residents.csv"'
    assert "no-store" in response["Cache-Control"]
    assert b"".join(response.streaming_content).startswith(b"resident_id,")
    assert AuditEvent.objects.filter(
        actor=supervisor, target_id=job.public_id, detail__event="downloaded"
    ).exists()


def test_a_responder_never_reaches_the_exports_admin(client, responder, exports_dir):
    client.force_login(responder)

    assert client.get("/admin/cases/exportjob/").status_code == 302


def test_the_exports_list_makes_the_same_queries_for_2_or_8_exports(
    client, supervisor, case_manager, exports_dir
):
    client.force_login(supervisor)
    client.get("/admin/cases/exportjob/")  # the first request of a session checks MFA
    for _ in range(2):
        ask(case_manager)
    with CaptureQueriesContext(connection) as few:
        assert client.get("/admin/cases/exportjob/").status_code == 200
    for _ in range(6):
        ask(case_manager)
    with CaptureQueriesContext(connection) as many:
        assert client.get("/admin/cases/exportjob/").status_code == 200

    assert len(many) == len(few)


def test_free_text_that_may_hold_substance_use_needs_the_part_2_permission(
    case, case_manager, supervisor, exports_dir
):
    type(case["ana"]).objects.filter(pk=case["ana"].pk).update(safety_flags="Uses; go slowly")
    type(case["e1"]).objects.filter(pk=case["e1"].pk).update(transport_destination="Detox")

    _, residents = built(case_manager, redaction="full")
    _, encounters = built(case_manager, kind="encounters_csv", redaction="full")
    assert "safety_flags" not in residents[0]
    assert "transport_destination" not in encounters[0]
    assert "Detox" not in str(encounters) and "go slowly" not in str(residents)

    _, residents = built(supervisor, redaction="full", include_part2=True)
    _, encounters = built(supervisor, kind="encounters_csv", redaction="full", include_part2=True)
    assert "Uses; go slowly" in {r["safety_flags"] for r in residents}
    assert "Detox" in {e["transport_destination"] for e in encounters}


def test_a_part_2_export_says_which_narratives_the_responder_flagged(
    case, case_manager, supervisor, exports_dir
):
    type(case["e1"]).objects.filter(pk=case["e1"].pk).update(
        narrative="Wants the detox list", narrative_part2=True
    )

    _, plain = built(case_manager, kind="encounters_csv", redaction="full")
    _, part2 = built(supervisor, kind="encounters_csv", redaction="full", include_part2=True)

    # Without the Part 2 permission no narrative leaves, flagged or not, nor the flag.
    assert "narrative" not in plain[0] and "narrative_part2" not in plain[0]
    flags = {row["narrative"]: row["narrative_part2"] for row in part2}
    assert flags["Wants the detox list"] == "1"
    assert set(flags.values()) == {"0", "1"}


def test_the_request_form_offers_a_range_that_holds_the_newest_records(client, case_manager):
    """The form's dates defaulted to last month alone: empty in a fresh demo and early on."""
    from django.utils import timezone

    client.force_login(case_manager)
    form = client.get("/admin/cases/exportjob/add/").context["adminform"].form
    today = timezone.localdate()
    assert form.initial["end_date"] == today
    assert form.initial["start_date"] <= today.replace(day=1)

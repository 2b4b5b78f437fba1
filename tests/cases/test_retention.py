"""Retention: records untouched for seven years are de-identified, and the command says so."""

import uuid
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from acs.models import AuditEvent
from cases.models import Encounter, EncounterResident, Resident
from cases.services.residents import refresh_search_names
from cases.services.retention import retention_deidentify
from tests.factories import ResidentFactory

pytestmark = pytest.mark.django_db
YEARS = timedelta(days=365 * 8)


def aged(resident, delta=YEARS):
    Resident.objects.filter(pk=resident.pk).update(updated_at=timezone.now() - delta)


@pytest.fixture
def old(responder, unit):
    resident = ResidentFactory(
        preferred_name="Old Sunny",
        legal_name="Sunny Legal",
        aliases=["Sun"],
        phone="505-555-0100",
        email="sunny@example.org",
        where_to_find_me="Library",
        safety_flags="Dog",
        gender="female",
    )
    refresh_search_names(resident)
    resident.save()
    encounter = Encounter.objects.create(
        client_id=uuid.uuid4(),
        unit=unit,
        created_by=responder,
        occurred_at=timezone.now() - YEARS,
        narrative="Talked about her sister Ana",
    )
    EncounterResident.objects.create(encounter=encounter, resident=resident)
    aged(resident)
    return resident


def test_an_old_record_loses_what_identifies_the_person(old):
    report = retention_deidentify()
    assert report.counts["residents"] == 1 and report.counts["encounter narratives"] == 1
    old.refresh_from_db()
    assert (old.preferred_name, old.legal_name, old.aliases, old.phone, old.email) == (
        "",
        "",
        [],
        "",
        "",
    )
    assert old.where_to_find_me == old.safety_flags == "" and old.date_of_birth is None
    assert old.search_names == "" and old.search_keys == []  # nor the names' searchable words
    assert old.gender == "female"  # categories stay, for counts
    assert old.deidentified_at is not None
    assert Encounter.objects.get().narrative == ""
    assert AuditEvent.objects.filter(target_id=old.public_id, action="change").exists()
    # Done once: a second run finds nothing.
    assert retention_deidentify().counts["residents"] == 0


def test_recent_activity_keeps_a_record(old, responder, unit):
    encounter = Encounter.objects.create(
        client_id=uuid.uuid4(), unit=unit, created_by=responder, occurred_at=timezone.now()
    )
    EncounterResident.objects.create(encounter=encounter, resident=old)
    aged(old)
    assert retention_deidentify().counts["residents"] == 0
    old.refresh_from_db()
    assert old.preferred_name == "Old Sunny"


def test_a_dry_run_counts_and_changes_nothing(old, capsys):
    call_command("retention", "--dry-run")
    out = capsys.readouterr().out
    assert "Would de-identify" in out and "residents: 1" in out
    old.refresh_from_db()
    assert old.preferred_name == "Old Sunny"


def test_the_period_is_configurable(old):
    assert retention_deidentify(years=10).counts["residents"] == 0
    assert retention_deidentify(years=5).counts["residents"] == 1


def test_a_merge_forgets_the_names_and_values_it_kept_for_an_undo(old, case_manager):
    from cases.models import ResidentMerge
    from cases.services import resident_merge

    twin = ResidentFactory(preferred_name="Sunny Twin", phone="505-555-0199")
    merge = resident_merge(
        actor=case_manager, survivor=old, duplicate=twin, values={"phone": "505-555-0199"}
    )
    assert merge.replaced_values and merge.added_aliases  # the old number, the twin's name
    aged(old)
    aged(twin)

    report = retention_deidentify()

    assert report.counts["residents"] == 2 and report.counts["merge records"] == 1
    merge = ResidentMerge.objects.get()
    assert (merge.replaced_values, merge.added_aliases) == ({}, [])
    assert retention_deidentify(dry_run=True).counts["merge records"] == 0

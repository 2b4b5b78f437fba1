"""An unchanged re-import is answered from the digest of the input and the directory's mark
(resources/hsds_import/unchanged.py); anything changed since, in the file or the directory,
sends the import through every check again."""

import io
import json

import pytest
from django.core.management import call_command
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from resources.hsds_import import directory_import
from resources.models import HsdsImportRun, Phone, Service
from tests.factories import PhoneFactory

pytestmark = pytest.mark.django_db

NOTE = "Unchanged since the import of"


@pytest.fixture
def exported(tmp_path, directory):
    sal = directory["shelter"]
    PhoneFactory(service=sal.service, description="Front desk")
    path = tmp_path / "services.json"
    call_command("hsds_export", json=str(path), stderr=io.StringIO())
    return path


def fast(report) -> bool:
    return any(note.startswith(NOTE) for note in report.notes)


def test_a_second_import_of_the_same_file_is_answered_from_the_first(exported):
    first = directory_import(exported)
    second = directory_import(exported)

    assert not fast(first) and fast(second)
    assert second.written and second.problems == []
    assert (second.total("created"), second.total("updated")) == (0, 0)
    records = {k: c["created"] + c["updated"] + c["unchanged"] for k, c in first.counts.items()}
    assert {k: c["unchanged"] for k, c in second.counts.items() if c["unchanged"]} == {
        k: n for k, n in records.items() if n
    }
    total = sum(records.values())
    assert second.lines()[-1] == f"Imported: 0 created, 0 updated, {total} unchanged."


def test_the_unchanged_answer_reads_no_directory_row(exported):
    directory_import(exported)
    with CaptureQueriesContext(connection) as ctx:
        assert fast(directory_import(exported))
    # The mark (one query over every table) and the earlier run.
    assert len(ctx.captured_queries) == 2


def test_a_directory_change_since_sends_the_file_through_every_check(exported):
    directory_import(exported)
    phone = Phone.objects.get(description="Front desk")
    wanted = phone.number
    phone.number = "+15055550199"
    phone.save()

    again = directory_import(exported)

    assert not fast(again)
    assert again.counts["phone"]["updated"] == 1
    assert Phone.objects.get(pk=phone.pk).number == wanted


def test_a_change_that_leaves_updated_at_alone_is_seen_too(exported):
    directory_import(exported)
    # Its own (sub)transaction, as any other writer's would be: the row gets a new xmin.
    with transaction.atomic():
        Service.objects.filter(name="Overnight emergency shelter").update(description="Edited")

    again = directory_import(exported)

    assert not fast(again)
    assert again.counts["service"]["updated"] == 1


def test_a_deleted_row_is_made_again(exported):
    directory_import(exported)
    Phone.objects.filter(description="Front desk").delete()

    again = directory_import(exported)

    assert not fast(again)
    assert again.counts["phone"]["created"] == 1


def test_a_changed_file_is_read_and_checked(exported):
    directory_import(exported)
    items = json.loads(exported.read_text(encoding="utf-8"))
    shelter = next(i for i in items if i["name"] == "Overnight emergency shelter")
    shelter["description"] = "Beds for adults."
    exported.write_text(json.dumps(items), encoding="utf-8")

    again = directory_import(exported)

    assert not fast(again)
    assert again.counts["service"]["updated"] == 1


def test_dry_runs_and_rejected_imports_are_not_remembered(tmp_path, exported):
    directory_import(exported, dry_run=True)
    assert not HsdsImportRun.objects.exists()
    items = json.loads(exported.read_text(encoding="utf-8"))
    items[0]["status"] = "sometimes"
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(items), encoding="utf-8")
    directory_import(bad)
    assert not HsdsImportRun.objects.exists()
    assert not fast(directory_import(bad))


def test_a_dry_run_of_an_unchanged_file_says_nothing_would_change(exported):
    directory_import(exported)
    report = directory_import(exported, dry_run=True)

    assert fast(report) and not report.written
    assert report.lines()[-1].startswith("Dry run, nothing written: 0 new, 0 changed")


def test_the_csv_datapackage_is_answered_the_same_way(tmp_path, directory):
    folder = tmp_path / "csv"
    call_command("hsds_export", csv=str(folder), stderr=io.StringIO())
    directory_import(folder)

    assert fast(directory_import(folder))
    assert fast(directory_import(folder / "datapackage.json"))
    (folder / "phones.csv").write_text(
        (folder / "phones.csv").read_text(encoding="utf-8") + "\n", encoding="utf-8"
    )
    assert not fast(directory_import(folder))

"""Bulk writes defer the search documents' refresh to the end (migration 0021,
resources.services.search.search_refresh_deferred): inside, no document is rewritten; on the
way out, every service touched is, once; outside, the triggers refresh as before."""

import pytest
from django.db import connection, transaction

from resources.models import Attribute, Service, ServiceSearchDocument
from resources.services import search_refresh_deferred
from tests.factories import OrganizationFactory, TaxonomyTermFactory

pytestmark = pytest.mark.django_db


def document(service: Service) -> str | None:
    row = ServiceSearchDocument.objects.filter(service=service).values_list("document", flat=True)
    return str(row[0]) if row else None


def test_documents_are_written_once_on_the_way_out():
    organization = OrganizationFactory(name="Casa Esperanza")
    term = TaxonomyTermFactory(name="Warming center", code="warming")

    with transaction.atomic(), search_refresh_deferred():
        service = Service.objects.create(organization=organization, name="Night shelter")
        Attribute.objects.create(service=service, taxonomy_term=term)
        assert document(service) is None  # nothing refreshed yet

    text = document(service)
    assert "'night'" in text and "'warm'" in text and "'esperanza'" in text
    with connection.cursor() as cursor:  # the notes went with the refresh
        cursor.execute("SELECT to_regclass('pg_temp.resources_search_pending')")
        assert cursor.fetchone()[0] is None


def test_outside_the_triggers_refresh_at_once():
    service = Service.objects.create(organization=OrganizationFactory(), name="Dental van")
    assert "'dental'" in document(service)


def test_an_error_inside_refreshes_nothing_and_the_next_write_is_not_deferred():
    organization = OrganizationFactory()
    with pytest.raises(ValueError), transaction.atomic(), search_refresh_deferred():
        Service.objects.create(organization=organization, name="Gone")
        raise ValueError

    service = Service.objects.create(organization=organization, name="Laundry")
    assert "'laundri'" in document(service)

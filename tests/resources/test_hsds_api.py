"""The public HSDS 3.0 API: every object validates against the HSDS schemas, the Page envelope,
the query parameters, errors in the project's shape, and query counts independent of page size.
"""

from datetime import date, time, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from resources.hsds_schemas import errors
from resources.models import (
    Contact,
    CostOption,
    Organization,
    RequiredDocument,
    Service,
    Taxonomy,
    TaxonomyTerm,
)
from tests.factories import (
    AttributeFactory,
    LanguageFactory,
    OrganizationFactory,
    PhoneFactory,
    ScheduleFactory,
    ServiceFactory,
)
from tests.resources.conftest import place

pytestmark = pytest.mark.django_db

API = "/api/hsds"


@pytest.fixture
def detailed(directory):
    """The directory with every kind of detail on the shelter."""
    sal = directory["shelter"]
    service, location = sal.service, sal.location
    phone = PhoneFactory(service=service, description="Front desk, 24 hours")
    LanguageFactory(phone=phone)
    contact = Contact.objects.create(
        service=service, name="Intake desk", email="intake@example.org"
    )
    PhoneFactory(contact=contact)
    PhoneFactory(location=location, type="text")
    PhoneFactory(organization=service.organization)
    PhoneFactory(service_at_location=sal)
    CostOption.objects.create(service=service, option="Free", amount=0, currency="USD")
    RequiredDocument.objects.create(service=service, document="None required")
    ScheduleFactory(location=location, closed=True, valid_from=date(2026, 12, 25))
    ScheduleFactory(
        service_at_location=sal, freq="MONTHLY", byday="1SA", opens_at=time(9), closes_at=time(12)
    )
    Service.objects.filter(pk=service.pk).update(
        url="https://casadepaz.example.org/shelter",
        email="shelter@example.org",
        minimum_age=18,
        last_verified_at=timezone.now(),
    )
    return directory


def get(client, path, **params):
    response = client.get(f"{API}{path}", params)
    return response


def assert_valid(instance, schema):
    assert errors(instance, schema) == []


# --- base ------------------------------------------------------------------------------------


def test_root_gives_version_profile_and_openapi_url_without_sign_in(client):
    body = get(client, "/").json()

    assert body["version"] == "3.0"
    assert body["profile"].startswith("https://")
    assert body["openapi_url"].endswith("openapi.json")


# --- every object validates ------------------------------------------------------------------


def test_service_list_items_validate_against_compiled_service_list(client, detailed):
    body = get(client, "/services").json()

    assert body["total_items"] == 4
    for item in body["contents"]:
        assert_valid(item, "compiled/service_list.json")


def test_full_service_validates_against_service_json(client, detailed):
    shelter = detailed["shelter"].service

    body = get(client, f"/services/{shelter.public_id}").json()

    assert_valid(body, "service.json")
    assert body["id"] == str(shelter.public_id)
    assert body["organization"]["name"] == "Casa de Paz"
    assert {lang["code"] for lang in body["languages"]} == {"en", "es"}
    assert body["attributes"][0]["taxonomy_term"]["code"] == "shelter-emergency"
    assert body["service_at_locations"][0]["location"]["addresses"][0]["city"] == "Albuquerque"
    assert body["accepts_referrals"] is True
    assert body["schedules"][0]["opens_at"] == "19:00"


def test_full_services_list_validates(client, detailed):
    body = get(client, "/services", full="true").json()

    for item in body["contents"]:
        assert_valid(item, "service.json")
    assert any(item["phones"] for item in body["contents"])


def test_service_at_locations_validate_in_list_and_full_form(client, detailed):
    listed = get(client, "/service_at_locations").json()
    full = get(client, f"/service_at_locations/{detailed['shelter'].public_id}").json()

    for item in listed["contents"]:
        assert_valid(item, "compiled/service_at_location_list.json")
    assert_valid(full, "service_at_location.json")
    assert_valid(full["service"], "service.json")
    assert full["capacity"]["available"] == 12
    assert full["capacity"]["stale"] is False
    closure = next(s for s in full["location"]["schedules"] if s.get("closed"))
    assert closure["valid_from"] == "2026-12-25"


def test_organizations_validate_in_list_full_and_full_service_form(client, detailed):
    org = detailed["shelter"].service.organization

    for item in get(client, "/organizations").json()["contents"]:
        assert_valid(item, "compiled/organization_list.json")
    full = get(client, f"/organizations/{org.public_id}").json()
    assert_valid(full, "organization.json")
    service = detailed["shelter"].service
    assert full["services"] == [
        {"id": str(service.public_id), "name": service.name, "status": service.status}
    ]
    with_services = get(client, f"/organizations/{org.public_id}", full_service="true").json()
    assert_valid(with_services, "organization.json")
    assert with_services["services"][0]["name"] == "Overnight emergency shelter"


@pytest.mark.parametrize("full_service", ["false", "true"])
def test_organization_answer_validates_against_compiled_organization_schema(
    client, detailed, full_service
):
    """openapi.json gives compiled/organization.json for /organizations/{id}: its `services`
    items need `id`, `name` and `status`, so a list of bare ids would not validate."""
    org = detailed["shelter"].service.organization
    ServiceFactory(organization=org, name="Day drop-in", status="inactive")

    body = get(client, f"/organizations/{org.public_id}", full_service=full_service).json()

    assert_valid(body, "compiled/organization.json")
    assert {(s["name"], s["status"]) for s in body["services"]} == {
        ("Overnight emergency shelter", "active"),
        ("Day drop-in", "inactive"),
    }


def test_organization_answer_query_count_does_not_grow_with_its_services(client, directory):
    org = directory["shelter"].service.organization

    def queries():
        with CaptureQueriesContext(connection) as ctx:
            response = client.get(f"{API}/organizations/{org.public_id}")
        assert response.status_code == 200
        return len(ctx.captured_queries), len(response.json()["services"])

    few, few_services = queries()
    for i in range(6):
        ServiceFactory(organization=org, name=f"Another service {i}")
    many, many_services = queries()

    assert many_services == few_services + 6
    assert many == few


def test_taxonomies_and_terms_validate(client, db):
    taxonomy = Taxonomy.objects.get(name="ACS needs")
    term = TaxonomyTerm.objects.get(code="detox")

    for item in get(client, "/taxonomies").json()["contents"]:
        assert_valid(item, "taxonomy.json")
    assert_valid(get(client, f"/taxonomies/{taxonomy.public_id}").json(), "taxonomy.json")
    for item in get(client, "/taxonomy_terms", per_page=100).json()["contents"]:
        assert_valid(item, "taxonomy_term.json")
    detail = get(client, f"/taxonomy_terms/{term.public_id}").json()
    assert_valid(detail, "taxonomy_term.json")
    assert detail["parent_id"] == str(TaxonomyTerm.objects.get(code="crisis").public_id)
    assert detail["taxonomy_detail"]["name"] == "ACS needs"


# --- paging ----------------------------------------------------------------------------------


def test_page_envelope_counts_pages_and_marks_first_and_last(client, directory):
    first = get(client, "/services", per_page=3).json()
    second = get(client, "/services", per_page=3, page=2).json()
    beyond = get(client, "/services", per_page=3, page=9).json()

    assert {k: v for k, v in first.items() if k != "contents"} == {
        "total_items": 4,
        "total_pages": 2,
        "page_number": 1,
        "size": 3,
        "first_page": True,
        "last_page": False,
        "empty": False,
    }
    assert (second["size"], second["first_page"], second["last_page"]) == (1, False, True)
    assert (beyond["size"], beyond["empty"], beyond["contents"]) == (0, True, [])


def test_minimal_services_are_ids_and_modification_times(client, directory):
    body = get(client, "/services", minimal="true").json()

    assert set(body["contents"][0]) == {"id", "last_modified"}


# --- query parameters ------------------------------------------------------------------------


def test_search_parameter_is_typo_tolerant(client, directory):
    body = get(client, "/services", search="shleter").json()

    assert [s["name"] for s in body["contents"]] == ["Overnight emergency shelter"]


def test_taxonomy_term_and_organization_filters(client, directory):
    term = directory["terms"]["food"]
    org = directory["detox"].service.organization

    by_term = get(client, "/services", taxonomy_term_id=str(term.public_id)).json()
    by_org = get(client, "/service_at_locations", organization_id=str(org.public_id)).json()

    assert [s["name"] for s in by_term["contents"]] == ["Food pantry"]
    assert [s["service"]["name"] for s in by_org["contents"]] == ["Crisis stabilization"]


def test_taxonomy_id_filter_on_terms_and_top_only(client, db):
    taxonomy = Taxonomy.objects.get(name="ACS needs")
    crisis = TaxonomyTerm.objects.get(code="crisis")

    top = get(client, "/taxonomy_terms", top_only="true", per_page=100).json()
    children = get(client, "/taxonomy_terms", parent_id=str(crisis.public_id)).json()
    other = get(client, "/taxonomy_terms", taxonomy_id=str(crisis.public_id)).json()

    assert all("parent_id" not in t for t in top["contents"])
    assert {t["code"] for t in children["contents"]} == {"crisis-stabilization", "detox"}
    assert other["total_items"] == 0
    assert (
        get(client, "/taxonomy_terms", taxonomy_id=str(taxonomy.public_id)).json()["total_items"]
        == TaxonomyTerm.objects.count()
    )


def test_modified_after_leaves_out_older_records(client, directory):
    Service.objects.exclude(name="Food pantry").update(
        updated_at=timezone.now() - timedelta(days=30)
    )
    since = (timezone.now() - timedelta(days=1)).isoformat()

    body = get(client, "/services", modified_after=since).json()

    assert [s["name"] for s in body["contents"]] == ["Food pantry"]


def test_postcode_and_proximity_measure_from_the_postcode_centroid(client, directory):
    far = directory["clinic"].location.addresses.get()
    far.postal_code = "87501"
    far.save()

    near = get(client, "/service_at_locations", postcode="87102", proximity=10_000).json()
    only_santa_fe = get(client, "/service_at_locations", postcode="87501").json()

    assert near["total_items"] == 3
    assert [s["service"]["name"] for s in only_santa_fe["contents"]] == ["Walk-in clinic"]


def test_field_app_parameters_combine_on_service_at_locations(client, directory):
    body = get(
        client,
        "/service_at_locations",
        latitude=35.0844,
        longitude=-106.6504,
        radius_km=5,
        open_at="2026-11-24T23:00:00-07:00",
        has_capacity="true",
        language="es",
        accepts_referrals="true",
    ).json()

    assert [s["service"]["name"] for s in body["contents"]] == ["Overnight emergency shelter"]
    assert body["contents"][0]["distance_km"] == pytest.approx(1.39, abs=0.05)


# --- errors ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "params", "field"),
    [
        ("/services", {"page": "0"}, "page"),
        ("/services", {"page": "two"}, "page"),
        ("/services", {"per_page": "100000"}, "per_page"),
        ("/services", {"taxonomy_term_id": "not-a-uuid"}, "taxonomy_term_id"),
        ("/services", {"organization_id": "42"}, "organization_id"),
        ("/services", {"modified_after": "yesterday"}, "modified_after"),
        ("/services", {"format": "ndjson"}, "format"),
        ("/service_at_locations", {"latitude": "35"}, "longitude"),
        ("/service_at_locations", {"latitude": "95", "longitude": "0"}, "latitude"),
        ("/service_at_locations", {"proximity": "1000"}, "proximity"),
        ("/service_at_locations", {"postcode": "00000", "proximity": "1000"}, "postcode"),
        (
            "/service_at_locations",
            {"latitude": "35", "longitude": "-106", "radius_km": "-1"},
            "radius_km",
        ),
        ("/service_at_locations", {"open_at": "tonight"}, "open_at"),
        ("/taxonomy_terms", {"top_only": "maybe"}, "top_only"),
    ],
)
def test_bad_query_parameters_are_400_in_the_project_error_shape(client, db, path, params, field):
    response = get(client, path, **params)

    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid"
    assert error["message"]
    assert field in error["fields"]


@pytest.mark.parametrize(
    "path", ["services", "organizations", "service_at_locations", "taxonomies", "taxonomy_terms"]
)
@pytest.mark.parametrize("bad_id", ["0b6f3c1e-6c1a-4f7e-9d8e-000000000000", "1", "nope"])
def test_unknown_or_malformed_ids_are_404(client, db, path, bad_id):
    response = get(client, f"/{path}/{bad_id}")

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_internal_integer_ids_are_never_exposed(client, directory):
    sal = directory["shelter"]

    body = get(client, f"/service_at_locations/{sal.public_id}").json()

    assert body["id"] == str(sal.public_id)
    assert str(sal.pk) not in {str(v) for v in body.values() if not isinstance(v, (dict, list))}


# --- query counts ----------------------------------------------------------------------------


def grow(directory, n=8):
    """n more services, named to sort first, each with every kind of detail."""
    term = directory["terms"]["food"]
    for i in range(n):
        org = OrganizationFactory(name=f"A grown org {i}")
        service = ServiceFactory(organization=org, name=f"A grown service {i}")
        sal = place(service, f"Grown place {i}", 35.08 + i / 1000, -106.65)
        LanguageFactory(service=service)
        LanguageFactory(location=sal.location)
        LanguageFactory(phone=PhoneFactory(service=service))
        LanguageFactory(phone=PhoneFactory(location=sal.location))
        PhoneFactory(organization=org)
        PhoneFactory(service_at_location=sal)
        for owner in ({"service": service}, {"service_at_location": sal}, {"organization": org}):
            contact = Contact.objects.create(name=f"Desk {i}", **owner)
            LanguageFactory(phone=PhoneFactory(contact=contact))
        Contact.objects.create(name="Front", location=sal.location)
        ScheduleFactory(service=service, opens_at=time(9), closes_at=time(17))
        ScheduleFactory(location=sal.location, closed=True, valid_from=date(2026, 12, 25))
        ScheduleFactory(service_at_location=sal, opens_at=time(9), closes_at=time(12))
        CostOption.objects.create(service=service, option="Free")
        RequiredDocument.objects.create(service=service, document="Photo ID")
        AttributeFactory(service=service, taxonomy_term=term)
        Taxonomy.objects.create(name=f"A taxonomy {i}", description="Grown")


@pytest.mark.parametrize(
    "path",
    [
        "/services",
        "/services?full=true",
        "/service_at_locations",
        "/service_at_locations?full=true",
        "/service_at_locations?open_at=2026-11-24T10:00:00-07:00&search=service"
        "&latitude=35.08&longitude=-106.65",
        "/organizations",
        "/organizations?full=true",
        "/organizations?full_service=true",
        "/taxonomies",
        "/taxonomy_terms",
    ],
)
def test_list_query_count_does_not_grow_with_page_size(client, detailed, path):
    def queries(per_page):
        sep = "&" if "?" in path else "?"
        with CaptureQueriesContext(connection) as ctx:
            response = client.get(f"{API}{path}{sep}per_page={per_page}")
        assert response.status_code == 200
        return len(ctx.captured_queries), response.json()["size"]

    grow(detailed)
    small, small_size = queries(2)
    large, large_size = queries(8)

    assert large_size > small_size
    assert large == small


def test_the_short_service_at_location_list_reads_no_nested_lists(client, detailed):
    """The short form shows the one-to-one rows the page joins: the count and the page's keys
    (one statement, as they are few), its rows, and nothing prefetched (addresses, languages,
    terms: what the field app shows)."""
    grow(detailed)
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(f"{API}/service_at_locations?per_page=8")
    assert response.status_code == 200 and response.json()["size"] == 8
    statements = [q["sql"] for q in ctx.captured_queries]
    assert len(statements) == 2, statements
    for table in ("resources_address", "resources_language", "resources_attribute"):
        assert not [sql for sql in statements if f'FROM "{table}"' in sql], table


def test_organization_count_includes_every_organization(client, directory):
    assert get(client, "/organizations").json()["total_items"] == Organization.objects.count()


def test_organization_and_term_search_are_typo_tolerant(client, directory):
    orgs = get(client, "/organizations", search="Duke Citty").json()
    terms = get(client, "/taxonomy_terms", search="shleter").json()

    assert orgs["contents"][0]["name"] == "Duke City Community Pantry"
    assert terms["contents"][0]["name"] in {"Shelter", "Emergency shelter", "Family shelter"}


def test_stale_capacity_is_marked_stale(client, directory, settings):
    settings.CAPACITY_STALE_AFTER = timedelta(minutes=5)
    from resources.models import Capacity

    Capacity.objects.update(updated_at=timezone.now() - timedelta(minutes=6))

    body = get(client, f"/service_at_locations/{directory['shelter'].public_id}").json()

    assert body["capacity"]["stale"] is True

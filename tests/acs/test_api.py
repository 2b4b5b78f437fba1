import pytest

pytestmark = pytest.mark.django_db


def test_me_returns_the_public_id_and_roles_of_the_signed_in_user(client, responder):
    client.force_login(responder)

    response = client.get("/api/v1/me")

    assert response.status_code == 200
    assert response.json() == {
        "id": str(responder.public_id),
        "username": "responder",
        "roles": ["responder"],
    }


def test_api_refuses_anonymous_callers_with_the_one_error_shape(client):
    response = client.get("/api/v1/me")

    assert response.status_code == 401
    error = response.json()["error"]
    assert error["code"] == "not_authenticated"
    assert error["message"]
    assert error["fields"] == {}


def test_unknown_api_paths_are_404(client, responder):
    client.force_login(responder)

    assert client.get("/api/v1/nothing-here").status_code == 404


def test_openapi_schema_and_docs_are_served(client):
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert schema.status_code == 200
    assert "/api/v1/me" in schema.json()["paths"]

    assert client.get("/api/docs/").status_code == 200

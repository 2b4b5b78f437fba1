"""Issue 21: the district map, a choropleth drawn on the server as SVG from the configured
GeoJSON, with its title, description and table; hidden figures hatched, never coloured."""

import json
import re

import pytest

from cases.transparency import district_map
from cases.transparency.district_map import Region, choropleth
from tests.cases.transparency_world import busy_april, records, refreshed  # noqa: F401

pytestmark = pytest.mark.django_db


def test_the_demo_boundaries_are_nine_districts_that_project_inside_the_view():
    shapes, height = district_map.district_shapes()
    assert sorted(s.district for s in shapes) == [str(n) for n in range(1, 10)]
    for shape in shapes:
        coords = [float(v) for v in re.findall(r"-?\d+\.\d", shape.path)]
        assert all(0 <= v <= 360 for v in coords[0::2])
        assert all(0 <= v <= height for v in coords[1::2])


def test_each_district_is_coloured_by_its_figure_and_a_hidden_one_is_hatched():
    svg = choropleth(
        regions=[
            Region("1", "District 1", 10.0, "10.0%"),
            Region("2", "District 2", 90.0, "90.0%"),
            Region("3", "District 3", None, "fewer than 10", suppressed=True),
        ],
        title="Coverage by council district, March 2026",
        desc="Of the eligible calls...",
        map_id="m",
    )
    assert '<title id="m-title">Coverage by council district, March 2026</title>' in svg
    assert 'aria-labelledby="m-title m-desc"' in svg and 'role="img"' in svg
    assert re.search(r'class="m1"><title>District 1: 10.0%</title>', svg)
    assert re.search(r'class="m5"><title>District 2: 90.0%</title>', svg)
    assert re.search(r'class="hidden"><title>District 3: fewer than 10</title>', svg)
    assert re.search(r'class="none"><title>District 4: no figures</title>', svg)
    assert "<script" not in svg


def test_the_boundaries_file_is_a_setting(settings, tmp_path):
    square = {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "properties": {"district": "A", "name": "Ward A"},
                "geometry": {
                    "type": "MultiPolygon",
                    "coordinates": [[[[0, 0], [1, 0], [1, 1], [0, 1], [0, 0]]]],
                },
            }
        ],
    }
    path = tmp_path / "wards.geojson"
    path.write_text(json.dumps(square))
    settings.TRANSPARENCY_DISTRICTS_GEOJSON = str(path)
    shapes, _height = district_map.district_shapes()
    assert [(s.district, s.name) for s in shapes] == [("A", "Ward A")]


def test_the_public_page_has_the_map_and_its_table(client, busy_april):  # noqa: F811
    html = client.get("/transparency/", {"start": "2026-03", "end": "2026-04"}).content.decode()
    assert '<svg class="district-map"' in html
    assert "Coverage of eligible calls by council district, April 2026" in html
    table = html[html.index('<table class="map-table">') :]
    table = table[: table.index("</table>")]
    assert "District 3" in table

    chosen = client.get("/transparency/", {"end": "2026-04", "map": "calls_received"})
    assert chosen.status_code == 200
    assert "Calls received by council district, April 2026" in chosen.content.decode()
    assert client.get("/transparency/", {"map": "nonsense"}).status_code == 400


def test_the_public_page_in_spanish_by_its_switch_or_the_browser(client, busy_april):  # noqa: F811
    english = client.get("/transparency/", {"end": "2026-04"}).content.decode()
    assert "How Albuquerque Community Safety is doing" in english
    assert 'hreflang="es"' in english and "lang=es" in english

    spanish = client.get("/transparency/", {"end": "2026-04", "lang": "es"})
    html = spanish.content.decode()
    assert spanish["Content-Language"] == "es"
    assert "Cómo le va a Albuquerque Community Safety" in html
    assert "Cobertura de las llamadas elegibles por distrito del concejo, abril 2026" in html
    assert "menos de 10" in html and "Llamadas recibidas" in html
    assert "Todos los distritos" in html
    # The filters keep the language.
    assert '<input type="hidden" name="lang" value="es">' in html

    browser = client.get("/transparency/", {"end": "2026-04"}, HTTP_ACCEPT_LANGUAGE="es")
    assert "Cómo le va a Albuquerque Community Safety" in browser.content.decode()
    # The downloads stay in English for the machines that read them.
    data = client.get("/transparency/metrics.json", {"end": "2026-04"}, HTTP_ACCEPT_LANGUAGE="es")
    assert all(f["value"] != "menos de 10" for f in data.json()["figures"])

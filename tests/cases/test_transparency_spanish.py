"""Issue 21: the public transparency pages in Spanish leave no English behind: the charts'
tables (headers, months, parts), the charts' month ticks and summaries, and every definition
on /transparency/definitions/. The downloads stay in English (tests/cases/test_transparency_map.py).
"""

from html.parser import HTMLParser

import pytest

from cases.transparency.definitions import CALL_OUTCOMES, HOURS, METRICS, OTHER_DESTINATIONS
from tests.cases.transparency_world import busy_april, records, refreshed  # noqa: F401

pytestmark = pytest.mark.django_db

# Django's short month names ("M"): "Mar" and "May" are Spanish short names too.
MONTHS_EN = ("Jan", "Feb", "Apr", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
# Words that, standing alone as a table cell or a tick, would be English left behind.
ENGLISH_CELLS = {
    *MONTHS_EN,
    "Month",
    "Share",
    "Out of",
    "Calls measured",
    "Median (min:s)",
    "90th percentile (min:s)",
    "Median",
    "90th percentile",
    "Calls",
    "Encounters",
    "People",
    "Referrals",
    "Follow-ups",
    "Source",
    "Hour of day",
    "Destination",
    "District",
    "not shown",
    "none measured",
    "Counts",
    "Month and district",
    "Left out",
    "Small numbers",
    *(label for _, label in CALL_OUTCOMES),
    *(label for _, label in HOURS),
    OTHER_DESTINATIONS[1],
}


class _Text(HTMLParser):
    """What a reader sees or hears: text (SVG <title> and ticks too) and aria-labels."""

    def __init__(self):
        super().__init__()
        self.chunks: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.chunks += [v for k, v in attrs if k == "aria-label" and v]

    def handle_data(self, data):
        if data.strip():
            self.chunks.append(data.strip())


def text_of(html: str) -> list[str]:
    parser = _Text()
    parser.feed(html)
    return parser.chunks


def english_cells(chunks: list[str]) -> set[str]:
    return ENGLISH_CELLS & set(chunks)


def test_the_spanish_page_has_spanish_tables_months_and_summaries(client, busy_april):  # noqa: F811
    query = {"start": "2026-03", "end": "2026-04"}
    english = text_of(client.get("/transparency/", query).content.decode())
    html = client.get("/transparency/", {**query, "lang": "es"}).content.decode()
    spanish = text_of(html)

    # The check sees the English where it is.
    assert {"Month", "Share", "Out of", "Apr", "Calls measured", "Source"} <= set(english)
    assert "Apr 2026" in english and "A responder arrived" in english
    # And none of it in Spanish.
    assert english_cells(spanish) == set()
    joined = "\n".join(spanish)
    assert "Apr 2026" not in joined and "by month" not in joined and " of " not in joined
    for cell in ("Mes", "Proporción", "Sobre un total de", "Llamadas medidas", "Origen"):
        assert cell in spanish, cell
    assert "Abr 2026" in spanish and "Mar 2026" in spanish  # table rows and headers
    assert "Abr" in spanish  # the chart's tick
    assert "Llegó un equipo" in spanish
    assert "Devuelta a la policía: no había ningún equipo libre" in spanish
    assert "10 a. m." in spanish  # calls by hour
    # The district map names districts without figures in Spanish too, and the equity
    # charts the languages.
    assert not [c for c in spanish if "no figures" in c or c.startswith("District ")]
    assert "Distrito 1: sin cifras" in spanish
    assert not [c for c in spanish if ", English:" in c or ", Spanish:" in c]
    assert any(", Español: " in c for c in spanish)
    assert any(c.startswith("Llamadas recibidas, Todos los distritos, por mes") for c in spanish)
    # The definition links keep the language.
    assert (
        html.count("/transparency/definitions/?lang=es#")
        == html.count('<figure class="metric"') + 1
    )


def test_the_spanish_definitions_page_has_no_english_definition_left(client):
    english = text_of(client.get("/transparency/definitions/").content.decode())
    response = client.get("/transparency/definitions/", {"lang": "es"})
    spanish = text_of(response.content.decode())
    joined = "\n".join(spanish)

    assert response["Content-Language"] == "es"
    assert "Qué significa cada cifra" in spanish and "Números pequeños" in spanish
    assert {"Cuenta", "Sobre un total de", "Mes y distrito", "Se excluye"} <= set(spanish)
    assert english_cells(spanish) == set()
    texts = [
        getattr(m, field)
        for m in METRICS.values()
        for field in ("title", "question", "counts", "denominator", "timestamps", "excluded")
        if getattr(m, field)
    ]
    assert all(text in english for text in texts)  # the check finds them in English...
    left = [text for text in texts if text in joined]
    assert left == []  # ...and none in Spanish
    assert "«menos de 10»" in joined and "Every figure is computed" not in joined
    assert "Mes y distrito" in spanish and "← Volver a las cifras" in spanish


def test_a_bad_month_is_explained_in_spanish_on_the_page_and_in_english_to_machines(client):
    page = client.get("/transparency/", {"end": "2026-13", "lang": "es"})
    assert page.status_code == 400
    html = page.content.decode()
    assert "Indique un mes como AAAA-MM, por ejemplo 2026-03." in html
    assert "Give a month" not in html

    data = client.get("/transparency/metrics.json", {"end": "2026-13"}, HTTP_ACCEPT_LANGUAGE="es")
    assert data.status_code == 400
    assert data.json()["error"]["fields"]["end"] == [
        "Give a month as YYYY-MM, for example 2026-03."
    ]


def test_numbers_on_the_spanish_page_are_written_the_spanish_way():
    """1,234 and 61.5% in English; 1 234 and 61,5% in Spanish (Django's es formats: a
    non-breaking space between thousands, a comma before decimals), also on chart ticks."""
    from datetime import date

    from django.utils import translation

    from cases.models import Metric as M
    from cases.transparency import charts
    from cases.transparency.selectors import figure
    from cases.transparency.suppression import Cell

    calls = Cell(date(2026, 4, 1), "", M.CALLS_RECEIVED, count=12345)
    share = Cell(date(2026, 4, 1), "", M.HANDLED_WITHOUT_POLICE, count=1230, denominator=2000)
    with translation.override("en"):
        assert figure(calls, public=True).text == "12,345"
        assert figure(share, public=True).text == "61.5%"
        assert "1,230 of 2,000" in figure(share, public=True).detail
        assert charts.number_text(2500.0) == "2,500"
    with translation.override("es"):
        assert figure(calls, public=True).text == "12\xa0345"
        assert figure(share, public=True).text == "61,5%"
        assert "1\xa0230" in figure(share, public=True).detail
        assert "2\xa0000" in figure(share, public=True).detail
        assert charts.number_text(2.5, 1) == "2,5"

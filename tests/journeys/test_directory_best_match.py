"""A case manager, a supervisor and an administrator search the admin's service list for a
word a statewide directory's services share, and for two words: best match first, page after
page ("100+ results" past the search's count), each page read from the words' heaviest
documents (heaviest_page_keys, #18), the same rows as every
match ranked. Two words ranked by the sum of their weights where each role meets them: the
responder's resources screen, the desk's referral picker."""

import factory
import pytest

from acs.management.commands.seed_demo import demo_uuid
from cases.models import Resident
from resources.admin import directory as directory_admin
from resources.models import Service
from resources.selectors import listed_brief, page_rows, service_search, text_search
from resources.selectors.directory import pages as directory_search
from tests.factories import ServiceAtLocationFactory, ServiceFactory
from tests.journeys.harness import DESK_TABLET, DESKTOP, FIELD_TABLET, Journey, seed_demo

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _walk_best_first(live_server, browser, monkeypatch, username: str, text: str) -> None:
    """Search the service list for `text` as `username`: the first two pages are the
    matches ranked (rank, name, id), each page read from the heaviest documents."""
    services, _ranked = text_search(Service.objects.all(), text, service="")
    best = list(services.order_by("-text_score", "name", "id").values_list("name", flat=True))
    assert len(best) > 100
    # As a statewide directory's thousands of matches: past the few sorted whole, and past
    # the search's count, which says so.
    monkeypatch.setattr(directory_search, "SPARSE_MATCHES", 10)
    monkeypatch.setattr(directory_admin, "MATCHES_COUNTED", 100)
    answered = []
    heaviest = directory_search.heaviest_page_keys

    def watched(*args, **kwargs):
        keys = heaviest(*args, **kwargs)
        answered.append(keys is not None)
        return keys

    monkeypatch.setattr(directory_search, "heaviest_page_keys", watched)

    slug = text.replace(" ", "-")
    # A folder of its own for each search: a journey clears its folder's shots as it starts,
    # and the walks of one user run at once on two workers.
    desk = Journey(browser, live_server.url, f"directory-{slug}-{username}", (DESK_TABLET, DESKTOP))
    desk.sign_in(username)
    desk.set_up_authenticator()
    desk.goto("/admin/resources/service/")
    desk.page.fill("#searchbar", text)
    desk.page.locator("#changelist-search input[type=submit]").click()
    desk.at(r"/admin/resources/service/\?q=" + text.replace(" ", r"\+"))
    first_page = desk.page.locator("#result_list tbody th").all_inner_texts()
    assert first_page == best[:50]
    assert "100+ results" in desk.page.locator("#changelist-search").inner_text()
    assert "100+ services" in desk.page.locator(".paginator").inner_text()
    assert desk.page.locator(".paginator .showall").count() == 0  # not every row was counted
    desk.shot("best-first")
    desk.page.locator(".paginator a", has_text="2").first.click()
    desk.at(r"/admin/resources/service/\?(.*&)?p=2(&.*)?")
    second_page = desk.page.locator("#result_list tbody th").all_inner_texts()
    assert second_page == best[50:100]
    desk.shot("second-page")
    assert answered and all(answered), "each page from the heaviest documents"
    desk.finish()


@pytest.mark.parametrize("username", ["casemanager", "supervisor", "admin"])
def test_a_word_many_services_share_pages_best_match_first(
    live_server, browser, monkeypatch, username
):
    seed_demo()
    ServiceFactory.create_batch(120, name=factory.Sequence(lambda n: f"Pantry {n:03d}"))
    ServiceFactory.create_batch(
        30,
        name=factory.Sequence(lambda n: f"Groceries {n:03d}"),
        description="A pantry shelf by the door.",
    )
    _walk_best_first(live_server, browser, monkeypatch, username, "pantry")


@pytest.mark.parametrize("username", ["casemanager", "supervisor"])
def test_two_words_many_services_share_page_by_the_sum_of_their_weights(
    live_server, browser, monkeypatch, username
):
    """Every place listed holds both words; those with both in the name come first (the
    first two pages), then those with one in the name and the other in the description."""
    seed_demo()
    ServiceFactory.create_batch(120, name=factory.Sequence(lambda n: f"Food pantry {n:03d}"))
    ServiceFactory.create_batch(
        40,
        name=factory.Sequence(lambda n: f"Pantry {n:03d}"),
        description="Food for anyone who asks.",
    )
    ServiceFactory.create_batch(
        40,
        name=factory.Sequence(lambda n: f"Food bank {n:03d}"),
        description="A pantry shelf by the door.",
    )
    ServiceFactory.create_batch(40, name=factory.Sequence(lambda n: f"Food hall {n:03d}"))
    _walk_best_first(live_server, browser, monkeypatch, username, "food pantry")


def _places_saying_food_pantry() -> None:
    """Places with both words in the name, and places with one in the name and the other in
    the description (ranked below them by the sum of the words' weights), all taking
    referrals."""
    ServiceAtLocationFactory.create_batch(
        30,
        service__name=factory.Sequence(lambda n: f"Food pantry {n:03d}"),
        service__accepts_referrals=True,
    )
    ServiceAtLocationFactory.create_batch(
        30,
        service__name=factory.Sequence(lambda n: f"Pantry {n:03d}"),
        service__description="Food for anyone who asks.",
        service__accepts_referrals=True,
    )


def test_a_responder_searches_two_words_on_the_resources_screen(live_server, browser):
    seed_demo()
    _places_saying_food_pantry()
    searched = listed_brief(service_search(text="food pantry"), languages=True)
    best = [place.service.name for place in page_rows(searched, 0, 50)]
    assert any(name.startswith("Pantry ") for name in best)

    field = Journey(
        browser, live_server.url, "directory-food-pantry-responder", (FIELD_TABLET, DESKTOP)
    )
    field.sign_in("responder")
    field.at(r"/field/")
    field.goto("/field/resources/")
    field.page.fill("#q", "food pantry")
    field.page.click("#resource-search button[type=submit]")
    field.at(r"/field/resources/")
    listed = field.page.locator("#resource-list li.resource strong").all_inner_texts()
    assert listed == best
    # Both words in the name first; a word in the description counts for less.
    last_both = max(i for i, name in enumerate(listed) if name.startswith("Food pantry "))
    first_one = min(i for i, name in enumerate(listed) if name.startswith("Pantry "))
    assert last_both < first_one
    field.shot("resources-best-first")
    field.finish()


@pytest.mark.parametrize("username", ["casemanager", "supervisor"])
def test_the_desks_referral_picker_offers_two_words_by_the_sum_of_their_weights(
    live_server, browser, username
):
    seed_demo()
    _places_saying_food_pantry()
    resident = Resident.objects.get(public_id=demo_uuid("resident-2"))

    desk = Journey(browser, live_server.url, f"directory-picker-{username}", (DESK_TABLET, DESKTOP))
    desk.sign_in(username)
    desk.set_up_authenticator()
    desk.goto(f"/admin/cases/resident/{resident.pk}/change/")
    desk.refer_picker("food pantry")
    # The picker first lists every place taking referrals (by name), then, once the words
    # are searched, the matches: wait for the list of the words, none of the first list's.
    desk.page.wait_for_function(
        """() => {
            const texts = [...document.querySelectorAll('.select2-results__option')]
                .map((o) => o.textContent);
            return texts.length > 1 && !texts.some((t) => /Searching|24-hour crisis/.test(t));
        }"""
    )
    offered = desk.page.locator(".select2-results__option").all_inner_texts()
    # The picker's page: places with both words in the name, none with one of them only
    # in the description (each of those ranks below the 30 with both in the name).
    assert sum("Food pantry " in text for text in offered) >= 15, offered
    assert not [text for text in offered if text.startswith("Pantry ")], offered
    desk.shot("picker-food-pantry")
    desk.finish()

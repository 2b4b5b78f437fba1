"""A case manager and a supervisor search the admin's service list for a word a statewide
directory's services share, and for two words: best match first, page after page, each page
read from the words' heaviest documents (heaviest_page_keys, #18), the same rows as every
match ranked."""

import factory
import pytest

from resources.models import Service
from resources.selectors import text_search
from resources.selectors.directory import search as directory_search
from tests.factories import ServiceFactory
from tests.journeys.harness import DESK_TABLET, DESKTOP, Journey, seed_demo

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _walk_best_first(live_server, browser, monkeypatch, username: str, text: str) -> None:
    """Search the service list for `text` as `username`: the first two pages are the
    matches ranked (rank, name, id), each page read from the heaviest documents."""
    services, _ranked = text_search(Service.objects.all(), text, service="")
    best = list(services.order_by("-text_score", "name", "id").values_list("name", flat=True))
    assert len(best) > 100
    # As a statewide directory's thousands of matches: past the few sorted whole.
    monkeypatch.setattr(directory_search, "SPARSE_MATCHES", 10)
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
    desk.shot("best-first")
    desk.page.locator(".paginator a", has_text="2").first.click()
    desk.at(r"/admin/resources/service/\?(.*&)?p=2(&.*)?")
    second_page = desk.page.locator("#result_list tbody th").all_inner_texts()
    assert second_page == best[50:100]
    desk.shot("second-page")
    assert answered and all(answered), "each page from the heaviest documents"
    desk.finish()


@pytest.mark.parametrize("username", ["casemanager", "supervisor"])
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

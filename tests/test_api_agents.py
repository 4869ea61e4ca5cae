"""Agents: each article they find says who may read it, and they can search as a given customer would."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from pydantic import TypeAdapter

from api.schemas import SearchOut
from kb.access.keys import create_key
from tests.conftest import JWT_SECRET, served_kb
from tests.problems import assert_problem
from tests.test_api_customers import ARTICLES, customer, found


@pytest.fixture
def api(make_client) -> TestClient:
    """The API over the customers' quokka articles: public, signed-in, per segment, and a draft."""
    return make_client(ARTICLES, jwt_secret=JWT_SECRET)


def key(client: TestClient, role: str = "agent") -> dict[str, str]:
    return {"Authorization": f"Bearer {create_key(served_kb(client).engine, name=role, role=role).secret}"}


def hits(client: TestClient, headers: dict[str, str], **params: str) -> dict[str, dict]:
    body = client.get("/v1/search", params={"q": "quokka", "mode": "keyword", "limit": "50"} | params, headers=headers)
    assert body.status_code == 200, body.text
    return {hit["id"]: hit for hit in body.json()["hits"]}


def test_staff_hits_say_each_articles_audience_and_status(api: TestClient) -> None:
    found_by_agent = hits(api, key(api))
    assert (found_by_agent["quokka-basics"]["audience"], found_by_agent["quokka-basics"]["status"]) == ("public", "published")
    assert found_by_agent["quokka-saml"]["audience"] == ["enterprise"]
    assert (found_by_agent["quokka-next"]["audience"], found_by_agent["quokka-next"]["status"]) == ("signed_in", "draft")


def test_search_responses_hold_exactly_their_published_schema_for_staff_and_customers(api: TestClient) -> None:
    for headers in (key(api), customer("enterprise")):
        body = api.get("/v1/search", params={"q": "quokka", "mode": "keyword", "limit": "50"}, headers=headers).json()
        assert body["hits"]
        assert TypeAdapter(SearchOut).validate_python(body, strict=True) == body  # extra keys would be dropped


def test_customers_hits_carry_no_audience_or_status(api: TestClient) -> None:
    for hit in hits(api, customer("enterprise", "beta")).values():
        assert hit["audience"] is None and hit["status"] is None


def test_an_article_read_by_staff_says_its_audience_and_status(api: TestClient) -> None:
    article = api.get("/v1/articles/quokka-next", headers=key(api)).json()
    assert (article["audience"], article["status"]) == ("signed_in", "draft")
    listed = api.get("/v1/articles", headers=key(api, "writer")).json()["items"]
    assert {item["id"]: item["audience"] for item in listed}["quokka-labs"] == ["beta"]


@pytest.mark.parametrize(
    ("as_", "segments"), [("customer:enterprise", ("enterprise",)), ("customer", ()), ("customer:beta,enterprise", ("beta", "enterprise"))]
)
def test_staff_searching_as_a_customer_find_exactly_what_that_customer_finds(
    api: TestClient, as_: str, segments: tuple[str, ...]
) -> None:
    agent = key(api)
    assert set(hits(api, agent, **{"as": as_})) == found(api, customer(*segments))
    posted = api.post("/v1/search", json={"q": "quokka", "mode": "keyword", "limit": 50, "as": as_}, headers=agent).json()
    assert {hit["id"] for hit in posted["hits"]} == found(api, customer(*segments))


def test_staff_searching_as_an_anonymous_reader_or_a_bot_find_public_articles_only(api: TestClient) -> None:
    agent = key(api)
    assert set(hits(api, agent, **{"as": "anonymous"})) == set(hits(api, agent, **{"as": "bot"})) == {"quokka-basics"}


def test_staff_reading_an_article_as_a_customer_get_what_that_customer_gets(api: TestClient) -> None:
    agent = key(api)
    assert api.get("/v1/articles/quokka-saml", params={"as": "customer:enterprise"}, headers=agent).status_code == 200
    assert_problem(api.get("/v1/articles/quokka-saml", params={"as": "customer:beta"}, headers=agent), 404)
    listed = api.get("/v1/articles", params={"as": "anonymous"}, headers=agent).json()["items"]
    assert [item["id"] for item in listed] == [item["id"] for item in api.get("/v1/articles").json()["items"]]


@pytest.mark.parametrize("who", ["anonymous", "customer", "bot"])
def test_only_staff_may_read_as_someone_else(api: TestClient, who: str) -> None:
    headers = {"anonymous": {}, "customer": customer("beta"), "bot": key(api, "bot")}[who]
    assert_problem(api.get("/v1/search", params={"q": "quokka", "as": "agent"}, headers=headers), 403)
    assert_problem(api.get("/v1/articles/quokka-basics", params={"as": "customer:enterprise"}, headers=headers), 403)


def test_an_unknown_reader_to_search_as_is_a_422_naming_as(api: TestClient) -> None:
    assert_problem(api.get("/v1/search", params={"q": "quokka", "as": "robot"}, headers=key(api)), 422, field="as")


def test_on_the_sample_an_agent_can_tell_internal_articles_and_drafts_from_public_ones(sample_kb, client: TestClient) -> None:
    agent = {"Authorization": f"Bearer {create_key(sample_kb.engine, name='agent', role='agent').secret}"}
    internal = client.get("/v1/articles/refund-approval-playbook", headers=agent).json()
    draft = client.get("/v1/articles/offline-mode", headers=agent).json()
    assert (internal["audience"], internal["status"]) == ("agents", "published")
    assert draft["status"] == "draft"
    found_hits = client.get("/v1/search", params={"q": "refund approval"}, headers=agent).json()["hits"]
    assert {hit["id"]: hit["audience"] for hit in found_hits}["refund-approval-playbook"] == "agents"


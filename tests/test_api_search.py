"""GET and POST /v1/search: the hit contract and the errors for bad input."""

from __future__ import annotations

import pytest

from tests.problems import assert_problem


def test_search_hit_carries_id_title_locale_url_anchor_snippet_score_and_commit(client) -> None:
    body = client.get("/v1/search", params={"q": "reset password", "locale": "en"}).json()
    hit = body["hits"][0]
    assert hit["id"] == "reset-password" and hit["locale"] == "en" and hit["title"]
    assert hit["url"].startswith("/hc/en/articles/reset-password")
    assert hit["url"].endswith(f"#{hit['anchor']}") or not hit["anchor"]
    assert hit["snippet"] and isinstance(hit["score"], float)
    assert hit["commit"] == body["commit"] == client.get("/readyz").json()["commit"]
    assert len(hit["revision"]) == 40


def test_post_search_takes_the_same_fields_as_get(client) -> None:
    params = {"q": "invoice", "locale": "en", "mode": "keyword", "limit": 3}
    by_get = client.get("/v1/search", params=params).json()
    by_post = client.post("/v1/search", json=params).json()
    assert by_get["hits"] == by_post["hits"] and len(by_get["hits"]) == 3


@pytest.mark.parametrize("mode", ["keyword", "semantic", "hybrid"])
def test_every_mode_answers(client, mode: str) -> None:
    body = client.get("/v1/search", params={"q": "connect slack", "mode": mode}).json()
    assert body["mode"] == mode and body["hits"]


def test_tags_filter_repeats_in_the_query_string(client) -> None:
    body = client.get("/v1/search", params=[("q", "password"), ("tags", "login"), ("tags", "password")]).json()
    assert body["hits"]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"q": ""}, "q"),
        ({"q": "   \t "}, "q"),
        ({"q": "x" * 1001}, "q"),
        ({"q": "password", "limit": 0}, "limit"),
        ({"q": "password", "limit": 101}, "limit"),
        ({"q": "password", "limit": "ten"}, "limit"),
        ({"q": "password", "offset": -1}, "offset"),
        ({"q": "password", "locale": "fr"}, "locale"),
        ({"q": "password", "mode": "fuzzy"}, "mode"),
    ],
)
def test_bad_search_input_gets_a_422_naming_the_field(client, params: dict, field: str) -> None:
    assert_problem(client.get("/v1/search", params=params), 422, field=field)
    assert_problem(client.post("/v1/search", json=params), 422, field=field)


def test_missing_query_gets_a_422_naming_q(client) -> None:
    assert_problem(client.get("/v1/search"), 422, field="q")


def test_malformed_json_body_gets_a_problem_not_a_500(client) -> None:
    response = client.post("/v1/search", content=b"{not json", headers={"content-type": "application/json"})
    assert_problem(response, 422)


def test_unknown_path_is_a_problem_404(client) -> None:
    assert_problem(client.get("/v1/nothing-here"), 404)

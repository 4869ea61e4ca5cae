"""What text kb accepts at the edge: every string a request carries is a checked line or prose (kb/core/text.py)."""

from __future__ import annotations

import types
import typing
from collections.abc import Iterator

import pytest
from fastapi.routing import APIRoute
from pydantic import AfterValidator, BaseModel

from api.app import create_app
from kb.core.requests import InvalidRequest, SearchRequest
from kb.core.settings import Settings
from kb.core.text import TEXT_VALIDATORS, refusal
from tests.problems import assert_problem


def _unchecked(annotation: object, metadata: typing.Sequence[object] = (), where: str = "") -> Iterator[str]:
    """Where, inside a type, a ``str`` arrives without one of kb.core.text's checks."""
    if any(isinstance(m, AfterValidator) and m.func in TEXT_VALIDATORS for m in metadata):
        return
    if typing.get_origin(annotation) is typing.Annotated:
        base, *extra = typing.get_args(annotation)
        yield from _unchecked(base, [*metadata, *extra], where)
    elif annotation is str:
        yield where
    elif isinstance(annotation, type) and issubclass(annotation, BaseModel):
        for name, field in annotation.model_fields.items():
            yield from _unchecked(field.annotation, field.metadata, f"{where}.{name}")
    elif typing.get_origin(annotation) in (list, tuple, set, dict, typing.Union, types.UnionType):
        for argument in typing.get_args(annotation):
            yield from _unchecked(argument, (), where)


def _unchecked_in_route(route: APIRoute) -> Iterator[str]:
    pending = [route.dependant]
    while pending:
        dependant = pending.pop()
        pending += dependant.dependencies
        for param in (*dependant.path_params, *dependant.query_params, *dependant.header_params,
                      *dependant.cookie_params, *dependant.body_params):  # fmt: skip
            info = param.field_info
            for where in _unchecked(info.annotation, info.metadata, param.name):
                yield f"{','.join(sorted(route.methods or ()))} {route.path}: {where}"


def _api_routes(routes: typing.Sequence[object]) -> Iterator[APIRoute]:
    """Every route of the app, inside the routers it includes too."""
    for route in routes:
        if isinstance(route, APIRoute):
            yield route
        elif (router := getattr(route, "original_router", None)) is not None:
            yield from _api_routes(router.routes)


def test_every_string_a_request_carries_is_checked_as_a_line_or_as_prose() -> None:
    """A route added with a plain ``str`` parameter or body field fails here, before it can let NUL or a
    lone surrogate through to git, a tokenizer or the database."""
    app = create_app(Settings.model_construct())
    routes = list(_api_routes(app.routes))
    assert len(routes) > 20  # the API and the help-center pages
    assert [where for route in routes for where in _unchecked_in_route(route)] == []


@pytest.mark.parametrize(
    ("value", "prose", "words"),
    [
        ("a\x00b", False, "U+0000 (NUL) at character 1"),
        ("\ud800", True, "lone surrogate (U+D800) at character 0"),
        ("line\nbreak", False, "U+000A (line feed) at character 4"),
        ("\x1b[31m", True, "U+001B at character 0; only tab and line breaks are allowed"),
        ("next\x85line", True, "U+0085"),
    ],
)
def test_refused_text_is_named_by_character_and_position(value: str, prose: bool, words: str) -> None:
    assert words in (refusal(value, prose=prose) or "")


@pytest.mark.parametrize(
    "value", ["tab\tand\r\nlines", "パスワード", "e\u0301" * 500, "emoji 🔥 and ✓", "\u200bzero width", "ｆｕｌｌ"]
)
def test_prose_accepts_line_breaks_and_any_unicode_text(value: str) -> None:
    assert refusal(value, prose=True) is None


def test_a_line_refuses_what_prose_allows() -> None:
    assert refusal("two\nlines") is not None and refusal("two\nlines", prose=True) is None


def test_search_requests_from_the_command_line_are_held_to_the_same_rules() -> None:
    with pytest.raises(InvalidRequest) as refused:
        SearchRequest(query="pass\x00word")
    assert refused.value.field == "q"
    with pytest.raises(InvalidRequest) as refused:
        SearchRequest(query="password", tags=("ok", "bad\x07"))
    assert refused.value.field == "tags"


def test_a_conversation_read_with_a_query_is_held_to_the_same_rules_and_bounded() -> None:
    with pytest.raises(InvalidRequest) as refused:
        SearchRequest(query="and on mobile?", context=("fine", "bad\x00turn"))
    assert refused.value.field == "context"
    with pytest.raises(InvalidRequest) as refused:
        SearchRequest(query="and on mobile?", context=("x" * 40_000, "y" * 11_000))
    assert refused.value.field == "context" and "51000 characters" in str(refused.value)


def test_a_lone_surrogate_in_a_json_search_is_a_422_in_every_mode_and_locale(client) -> None:
    for extra in ({"mode": "hybrid"}, {"mode": "semantic"}, {"mode": "keyword"}, {"locale": "ja"}):
        body = '{"q": "\\ud800 pass", ' + ", ".join(f'"{k}": "{v}"' for k, v in extra.items()) + "}"
        response = client.post("/v1/search", content=body, headers={"Content-Type": "application/json"})
        assert "lone surrogate" in assert_problem(response, 422, field="q")["detail"]


def test_a_body_that_is_not_json_names_the_body_and_where_it_breaks(client) -> None:
    response = client.post("/v1/search", content='{"q": "x",\n "limit": }', headers={"Content-Type": "application/json"})
    body = assert_problem(response, 422, field="body")
    assert "line 2, column" in body["detail"]


def test_a_help_center_address_with_a_control_character_is_a_page_not_json(client) -> None:
    response = client.get("/hc/ja/search?q=%00")
    assert response.status_code == 400
    assert response.headers["content-type"].startswith("text/html")
    assert "読み取れません" in response.text

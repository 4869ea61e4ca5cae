"""The HTTP surface under pressure: rate limits, size limits, CORS, cache and security headers, unsafe HTML, unsafe settings."""

from __future__ import annotations

import os
from collections.abc import Iterator

import limits
import pytest
import redis
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from api.app import create_app
from api.ratelimits import LocalWindows
from kb.access.keys import create_key
from kb.access.tokens import issue_customer_token
from kb.cli import app as cli
from kb.core.security import InsecureSettings
from kb.core.settings import Settings
from tests.conftest import JWT_SECRET, article_text, served_kb
from tests.problems import assert_problem
from tests.test_articles_render import assert_inert

REDIS_URL = os.environ.get("KB_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
"""The machine's Redis, as in production (these machines run one); database 15 is the tests' own."""


@pytest.fixture
def redis_db() -> Iterator[redis.Redis]:
    connection = redis.Redis.from_url(REDIS_URL)
    try:
        connection.ping()
    except redis.ConnectionError:
        pytest.skip(f"no Redis at {REDIS_URL} (set KB_TEST_REDIS_URL)")
    connection.flushdb()
    yield connection
    connection.flushdb()


def key(client: TestClient, role: str = "agent") -> dict[str, str]:
    return {"Authorization": f"Bearer {create_key(served_kb(client).engine, name='t', role=role).secret}"}


# --- rate limits ---


def test_an_address_over_its_limit_gets_429_with_retry_after(make_client) -> None:
    client = make_client(rate_limit_anonymous="3/minute")
    assert [client.get("/v1/search", params={"q": "x"}).status_code for _ in range(3)] == [200, 200, 200]
    refused = client.get("/v1/search", params={"q": "x"})
    body = assert_problem(refused, 429)
    assert 1 <= int(refused.headers["Retry-After"]) <= 60
    assert "3 per 1 minute" in body["detail"]


def test_each_api_key_has_its_own_bucket_apart_from_the_address(make_client) -> None:
    client = make_client(rate_limit_anonymous="2/minute", rate_limit_keys="3/minute")
    first, second = key(client), key(client)
    assert [client.get("/v1/articles", headers=first).status_code for _ in range(4)] == [200, 200, 200, 429]
    assert client.get("/v1/articles", headers=second).status_code == 200
    assert [client.get("/v1/articles").status_code for _ in range(3)] == [200, 200, 429]


def test_refused_credentials_count_against_the_address(make_client) -> None:
    client = make_client(rate_limit_anonymous="2/minute")
    wrong = {"Authorization": "Bearer kb_aaaaaaaa_" + "b" * 43}
    assert [client.get("/v1/articles", headers=wrong).status_code for _ in range(3)] == [401, 401, 429]


def test_health_checks_are_never_limited(make_client) -> None:
    client = make_client(rate_limit_anonymous="1/minute")
    assert {client.get("/healthz").status_code for _ in range(5)} == {200}


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def test_the_previous_windows_hits_weigh_by_the_share_of_it_still_in_the_sliding_window() -> None:
    clock, ten = Clock(600.0), limits.parse("10/minute")
    windows = LocalWindows(clock)
    assert [windows.hit(ten, "address:a") is None for _ in range(11)] == [True] * 10 + [False]
    clock.now = 600.0 + 60 + 30  # half of the last minute is still inside: its 10 hits weigh 5
    assert [windows.hit(ten, "address:a") is None for _ in range(6)] == [True] * 5 + [False]
    assert windows.hit(ten, "address:b") is None


def test_retry_after_names_the_first_second_a_hit_is_allowed_again() -> None:
    clock, ten = Clock(600.0), limits.parse("10/minute")
    windows = LocalWindows(clock)
    for _ in range(7):
        windows.hit(ten, "address:a")
    clock.now = 600.0 + 60 + 10  # the previous window's 7 hits weigh 7 × 5/6: 5 more are allowed
    assert [windows.hit(ten, "address:a") is None for _ in range(5)] == [True] * 5
    retry = windows.hit(ten, "address:a")
    assert retry == 8  # the weight falls under 5 once 1 - 5/7 of the minute has gone: 17.1 s in
    clock.now += retry - 1
    assert windows.hit(ten, "address:a") is not None
    clock.now += 1
    assert windows.hit(ten, "address:a") is None


def test_buckets_idle_for_two_windows_are_forgotten() -> None:
    clock, one = Clock(600.0), limits.parse("1/minute")
    windows = LocalWindows(clock)
    windows.PRUNE_EVERY = 10
    for number in range(9):
        windows.hit(one, f"address:{number}")
    assert len(windows) == 9
    clock.now += 120
    windows.hit(one, "address:new")  # the tenth hit sweeps
    assert len(windows) == 1


def test_processes_sharing_redis_share_the_count(make_client, redis_db: redis.Redis) -> None:
    # Two apps stand for two kb processes behind one load balancer.
    one = make_client(rate_limit_anonymous="3/minute", redis_url=REDIS_URL)
    two = make_client(rate_limit_anonymous="3/minute", redis_url=REDIS_URL)
    statuses = [one.get("/v1/articles").status_code, two.get("/v1/articles").status_code,
                one.get("/v1/articles").status_code, two.get("/v1/articles").status_code]  # fmt: skip
    assert statuses == [200, 200, 200, 429]
    assert any(name.startswith(b"kb-ratelimit") for name in redis_db.scan_iter())


def test_an_unreachable_redis_lets_requests_through(make_client, caplog) -> None:
    """Rate limits protect capacity, they do not decide access: a Redis outage must not take the help center down."""
    client = make_client(rate_limit_anonymous="1/minute", redis_url="redis://127.0.0.1:1/0")
    assert [client.get("/v1/articles").status_code for _ in range(2)] == [200, 200]
    assert "rate limits are not counted" in caplog.text


# --- sizes ---


def test_a_body_over_the_limit_is_refused_before_it_is_read(make_client) -> None:
    client = make_client(max_body_bytes=2048)
    body = assert_problem(client.post("/v1/search", content=b"{" + b" " * 4096 + b"}", headers={"Content-Type": "application/json"}), 413)
    assert "2048" in body["detail"]


def test_a_chunked_body_is_counted_as_it_arrives(make_client) -> None:
    client = make_client(max_body_bytes=2048)

    def chunks():
        yield b'{"q": "'
        for _ in range(10):
            yield b"x" * 1000
        yield b'"}'

    assert_problem(client.post("/v1/search", content=chunks(), headers={"Content-Type": "application/json"}), 413)


def test_a_query_string_over_the_limit_is_a_414(make_client) -> None:
    client = make_client(max_query_bytes=1024)
    assert_problem(client.get("/v1/search", params={"q": "x" * 2000}), 414)
    assert client.get("/v1/search", params={"q": "x" * 500}).status_code == 200


# --- CORS and headers ---


def test_cors_answers_listed_origins_only(make_client) -> None:
    client = make_client(cors_origins="https://app.example.org")
    preflight = {"Access-Control-Request-Method": "GET", "Access-Control-Request-Headers": "authorization"}
    allowed = client.options("/v1/search", headers={"Origin": "https://app.example.org"} | preflight)
    assert allowed.headers["access-control-allow-origin"] == "https://app.example.org"
    other = client.get("/v1/search", params={"q": "x"}, headers={"Origin": "https://evil.example.net"})
    assert "access-control-allow-origin" not in other.headers


def test_cors_lets_a_browser_mcp_client_send_its_protocol_headers(make_client) -> None:
    client = make_client(cors_origins="https://app.example.org")
    preflight = {"Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "authorization, mcp-protocol-version"}
    allowed = client.options("/mcp", headers={"Origin": "https://app.example.org"} | preflight)
    assert allowed.status_code == 200
    assert "mcp-protocol-version" in allowed.headers["access-control-allow-headers"].lower()


def test_without_cors_origins_no_origin_is_allowed(make_client) -> None:
    client = make_client()
    response = client.get("/v1/search", params={"q": "x"}, headers={"Origin": "https://app.example.org"})
    assert "access-control-allow-origin" not in response.headers


def test_a_wildcard_origin_is_refused_with_the_way_to_fix_it() -> None:
    with pytest.raises(ValueError, match=r"list each one as https://host"):
        Settings(cors_origins="*")  # type: ignore[arg-type]  # the environment's form, a string, which the validator splits


def test_responses_vary_by_credentials_and_credentialed_ones_stay_private(make_client) -> None:
    client = make_client(jwt_secret=JWT_SECRET)
    anonymous = client.get("/v1/search", params={"q": "workspace"})
    assert {"Authorization", "Cookie"} <= {part.strip() for part in anonymous.headers["vary"].split(",")}
    assert "private" not in anonymous.headers.get("cache-control", "")
    token = issue_customer_token(secret=JWT_SECRET, subject="a")
    for headers in (key(client), {"Authorization": f"Bearer {token}"}):
        assert client.get("/v1/search", params={"q": "workspace"}, headers=headers).headers["cache-control"] == "private, no-store"
    client.cookies.set("kb_session", token)
    assert client.get("/hc/en").headers["cache-control"] == "private, no-store"
    client.cookies.clear()
    spaced = client.get("/hc/en", headers={"Cookie": f"kb_session ={token}"})  # the parser forgives the space
    assert spaced.headers["cache-control"] == "private, no-store"


def test_static_files_stay_cacheable_by_shared_caches(make_client) -> None:
    client = make_client()
    response = client.get("/hc/static/site.css")
    assert response.status_code == 200 and "vary" not in response.headers


def test_site_pages_carry_the_security_headers(make_client) -> None:
    client = make_client()
    for url in ("/hc/en", "/hc/en/articles/start", "/hc/en/nope"):
        headers = client.get(url).headers
        assert "script-src 'self'" in headers["content-security-policy"]
        assert headers["x-frame-options"] == "DENY"
        assert headers["x-content-type-options"] == "nosniff"
        assert headers["referrer-policy"] == "strict-origin-when-cross-origin"


# --- HTML from Markdown, through the whole pipeline ---

HOSTILE = """
<script>alert('script')</script>

[click](javascript:alert('link'))

<img src=x onerror="alert('img')">

<div onclick="alert('div')">raw *block*</div>

<svg onload="alert('svg')"><a href="javascript:alert(1)"><circle r="5"/></a></svg>

<iframe src="https://evil.example.net"></iframe>
"""


def test_hostile_markdown_is_inert_in_the_api_and_on_the_site(make_client) -> None:
    client = make_client({"en/hostile.md": article_text("hostile", "Hostile", HOSTILE)})
    api_html = client.get("/v1/articles/hostile").json()["html"]
    page = client.get("/hc/en/articles/hostile").text
    opening = '<div class="article-body">'
    body = page[page.index(opening) + len(opening) : page.index('<section class="vote"')].replace("</div>", "")  # the body alone
    for html in (api_html, body):
        assert_inert(html)
        assert "&lt;script&gt;" in html  # shown as text, so a writer sees what went wrong


# --- settings kb refuses ---


@pytest.mark.parametrize(
    ("options", "words"),
    [
        ({"jwt_secret": "changeme"}, "KB_JWT_SECRET is a sample value"),
        ({"jwt_secret": "short-but-not-sample"}, "at least 32"),
        ({"jwt_secret": ""}, "empty"),
        ({"github_webhook_secret": "x" * 40}, "KB_REPO_URL is unset"),
        ({"gitlab_webhook_token": "", "repo_url": "/tmp/remote"}, "KB_GITLAB_WEBHOOK_TOKEN is set but empty"),
        ({"jwt_secret": "-----BEGIN PUBLIC KEY-----\nMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE" + "A" * 40}, "PEM key"),
    ],
)
def test_insecure_settings_stop_the_server_with_the_way_to_fix_them(tmp_path, options: dict, words: str) -> None:
    with pytest.raises(InsecureSettings, match=words) as refused:
        create_app(Settings(data_dir=tmp_path, **options))
    assert "secrets.token_urlsafe" in str(refused.value) or "KB_REPO_URL" in str(refused.value)


def test_kb_serve_refuses_insecure_settings_before_starting(tmp_path) -> None:
    result = CliRunner().invoke(cli, ["serve"], env={"KB_DATA_DIR": str(tmp_path), "KB_JWT_SECRET": "secret"})
    assert result.exit_code == 2
    assert "refuses to start" in result.output and "KB_JWT_SECRET" in result.output

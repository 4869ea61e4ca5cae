"""The one assertion every error test uses: RFC 9457 problem+json with an actionable detail."""

from __future__ import annotations

from kb.access.audit import Response


def assert_problem(response: Response, status: int, *, field: str | None = None) -> dict:
    """The response is application/problem+json with ``status``; ``field`` is named when given."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert body["status"] == status
    assert body["title"] and body["detail"]
    assert "Traceback" not in body["detail"]
    if field is not None:
        assert any(error["field"] == field for error in body.get("errors", [])), body
        assert field in body["detail"]
    return body

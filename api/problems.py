"""Errors as application/problem+json (RFC 9457), with a detail a person can act on."""

from __future__ import annotations

import logging
from http import HTTPStatus

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from kb.assist import FeedbackConflict, InteractionNotFound, UnknownArticle
from kb.core import UNAVAILABLE, FeedReset, InvalidRequest, unavailable_reason
from kb.writing import NotAtRef, ProposalNotFound, ProposalRefused
from versioning import InvalidRef, UnknownRef
from versioning.proposals import ProposalConflict

log = logging.getLogger(__name__)
MEDIA_TYPE = "application/problem+json"
DATABASE_RETRY_SECONDS = 5


def problem(status: int, detail: str, *, errors: list[dict[str, str]] | None = None, headers: dict | None = None) -> JSONResponse:
    body: dict[str, object] = {"type": "about:blank", "title": HTTPStatus(status).phrase, "status": status, "detail": detail}
    if errors:
        body["errors"] = errors
    return JSONResponse(body, status_code=status, media_type=MEDIA_TYPE, headers=headers)


def _field(location: tuple) -> str:
    """'limit' rather than ('query', 'limit'): callers know their parameter names, not FastAPI's."""
    if location and location[0] in ("query", "body", "path", "header", "cookie"):
        location = location[1:]
    return ".".join(str(part) for part in location) or "request"


async def _invalid_request(request: Request, error: InvalidRequest) -> JSONResponse:
    return problem(422, str(error), errors=[{"field": error.field, "message": error.message}])


async def validation_failed(request: Request, error: RequestValidationError) -> JSONResponse:
    errors = [_error_item(item, error.body) for item in error.errors()]
    detail = "; ".join(f"{item['field']}: {item['message']}" for item in errors)
    return problem(422, detail, errors=errors)


def _error_item(item: dict, body: object) -> dict[str, str]:
    """One entry of ``errors``. A body that is not JSON names the body and where it broke, not a byte offset as a field."""
    if item.get("type") == "json_invalid":
        position = item["loc"][-1] if isinstance(item["loc"][-1], int) else 0
        where = _line_and_column(body, position)
        return {"field": "body", "message": f"not valid JSON{where}: {item.get('ctx', {}).get('error', 'cannot be parsed')}"}
    return {"field": _field(tuple(item["loc"])), "message": item["msg"]}


def _line_and_column(body: object, position: int) -> str:
    if not isinstance(body, str):
        return ""
    line = body.count("\n", 0, position) + 1
    column = position - (body.rfind("\n", 0, position) + 1) + 1
    return f" at line {line}, column {column}"


async def _not_found(request: Request, error: LookupError) -> JSONResponse:
    """A ref that names no commit, or an article absent at a ref: the message names only what the caller sent."""
    return problem(404, str(error))


async def _invalid_ref(request: Request, error: InvalidRef) -> JSONResponse:
    """A safety net: routes name the exact parameter; any ref that still reaches here was refused before git."""
    return problem(422, str(error), errors=[{"field": "ref", "message": str(error)}])


async def _gone(request: Request, error: Exception) -> JSONResponse:
    """A change-feed cursor from before the feed's database was replaced: a 410, as a watch too old is."""
    return problem(410, str(error), errors=[{"field": "since", "message": str(error)}])


async def _conflict(request: Request, error: Exception) -> JSONResponse:
    """A merge that would overwrite a change, or a proposal already merged or closed: nothing was changed."""
    paths = getattr(error, "paths", [])
    return problem(409, str(error), errors=[{"field": "files", "message": path} for path in paths] or None)


async def _http_error(request: Request, error: HTTPException) -> JSONResponse:
    detail = error.detail if isinstance(error.detail, str) else HTTPStatus(error.status_code).description
    return problem(error.status_code, detail, headers=getattr(error, "headers", None))


async def _database_unavailable(request: Request, error: Exception) -> JSONResponse:
    """The database is down, restarting or unwritable: the same request may succeed later.

    A write that failed here left nothing half-done that a retry would not finish: a proposal's branch
    is removed with its row, and a merge retried is recognised as done and recorded.
    """
    log.warning("database unavailable on %s %s: %s", request.method, request.url.path, unavailable_reason(error))
    return problem(503, "the database cannot take this request right now; try again shortly",
                   headers={"Retry-After": str(DATABASE_RETRY_SECONDS)})


async def _unexpected(request: Request, error: Exception) -> JSONResponse:
    # The detail stays generic: an internal message could name a file or an article the caller may not see.
    log.exception("unhandled error on %s %s", request.method, request.url.path)
    return problem(500, "kb hit an internal error; it has been logged.")


def install(app: FastAPI) -> None:
    # The decorator, called directly, registers as add_exception_handler does; Starlette types that method for
    # handlers of any Exception, which a handler of one exception class is not (starlette issue 2417).
    app.exception_handler(InvalidRequest)(_invalid_request)
    app.exception_handler(RequestValidationError)(validation_failed)
    app.exception_handler(HTTPException)(_http_error)
    app.exception_handler(UnknownRef)(_not_found)
    app.exception_handler(InvalidRef)(_invalid_ref)
    app.exception_handler(NotAtRef)(_not_found)
    app.exception_handler(ProposalNotFound)(_not_found)
    app.exception_handler(ProposalConflict)(_conflict)
    app.exception_handler(FeedReset)(_gone)
    app.exception_handler(InteractionNotFound)(_not_found)
    app.exception_handler(UnknownArticle)(_not_found)
    app.exception_handler(FeedbackConflict)(_conflict)
    app.exception_handler(ProposalRefused)(_conflict)
    for unavailable in UNAVAILABLE:
        app.exception_handler(unavailable)(_database_unavailable)
    app.exception_handler(Exception)(_unexpected)

"""ASGI middleware around every response: request size limits, and headers that keep caches per reader."""

from __future__ import annotations

from starlette.datastructures import Headers, MutableHeaders
from starlette.exceptions import HTTPException
from starlette.requests import cookie_parser
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.deps import SESSION_COOKIE, STAFF_COOKIE
from api.problems import problem
from api.site.routes import STATIC_URL


class RequestLimits:
    """Refuse a query string or a body larger than the settings allow, before any of it is parsed.

    A declared Content-Length over the limit is answered at once; a chunked body is counted as it is
    read, and the read fails with a 413 the moment it passes the limit.
    """

    def __init__(self, app: ASGIApp, *, max_body_bytes: int, max_query_bytes: int) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes
        self.max_query_bytes = max_query_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if len(scope["query_string"]) > self.max_query_bytes:
            detail = f"the query string is {len(scope['query_string'])} bytes; at most {self.max_query_bytes} are accepted"
            await problem(414, detail)(scope, receive, send)
            return
        declared = Headers(scope=scope).get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_body_bytes:
            await problem(413, self._too_large(int(declared)))(scope, receive, send)
            return
        await self.app(scope, self._counting(receive), send)

    def _counting(self, receive: Receive) -> Receive:
        received = 0

        async def counted() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_body_bytes:
                    # An HTTPException, so FastAPI's body parsing passes it on as it is, not as a 400.
                    raise HTTPException(413, self._too_large(received))
            return message

        return counted

    def _too_large(self, size: int) -> str:
        return f"the request body is over {self.max_body_bytes} bytes ({size} or more); send less (KB_MAX_BODY_BYTES)"


class PerReaderCaching:
    """Responses differ by reader: say so to every cache, and keep signed-in answers out of shared ones.

    ``Vary`` names the credentials on every response; a response to a request that carried any is
    ``private, no-store``, so no proxy or CDN can hand one reader's view to another.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_headers = Headers(scope=scope)
        # Parsed as the app parses it, so a spelling the parser forgives cannot slip past this check.
        cookies = cookie_parser(request_headers.get("cookie", ""))
        credentialed = "authorization" in request_headers or SESSION_COOKIE in cookies or STAFF_COOKIE in cookies
        static = scope["path"].startswith(STATIC_URL)  # the same bytes for everyone: left cacheable by CDNs

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                if not static:
                    headers.add_vary_header("Authorization")
                    headers.add_vary_header("Cookie")
                headers.setdefault("X-Content-Type-Options", "nosniff")
                if credentialed:
                    headers["Cache-Control"] = "private, no-store"
            await send(message)

        await self.app(scope, receive, send_with_headers)

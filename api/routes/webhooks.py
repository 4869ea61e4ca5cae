"""POST /v1/webhooks/github and /gitlab: authenticate a delivery, answer 202 at once, queue a sync."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Request
from pydantic import BaseModel, SecretStr
from starlette.responses import JSONResponse

from api.deps import header
from kb.core import Settings, SyncLoop
from versioning.webhooks import Deliveries, github_signature_valid, github_wants_sync, gitlab_token_valid, gitlab_wants_sync

router = APIRouter(prefix="/v1/webhooks", tags=["webhooks"])


class WebhookOut(BaseModel):
    status: str
    """queued (a sync will run), ignored (not about the served branch) or duplicate (delivery seen before)."""


@router.post("/github", status_code=202, response_model=WebhookOut)
async def github(request: Request) -> JSONResponse:
    """GitHub push and pull_request events, signed with the shared secret (X-Hub-Signature-256)."""
    settings: Settings = request.app.state.settings
    loop, secret = _configured(request, settings.github_webhook_secret)
    body = await request.body()
    if not github_signature_valid(secret, body, header(request, "X-Hub-Signature-256")):
        raise HTTPException(401, "missing or wrong X-Hub-Signature-256: sign the raw body with the configured secret")
    wanted = github_wants_sync(header(request, "X-GitHub-Event") or "", body, settings.repo_branch)
    return _accept(request, loop, wanted, header(request, "X-GitHub-Delivery"))


@router.post("/gitlab", status_code=202, response_model=WebhookOut)
async def gitlab(request: Request) -> JSONResponse:
    """GitLab push and merge request events, authenticated by X-Gitlab-Token."""
    settings: Settings = request.app.state.settings
    loop, token = _configured(request, settings.gitlab_webhook_token)
    if not gitlab_token_valid(token, header(request, "X-Gitlab-Token")):
        raise HTTPException(401, "missing or wrong X-Gitlab-Token")
    body = await request.body()
    wanted = gitlab_wants_sync(header(request, "X-Gitlab-Event") or "", body, settings.repo_branch)
    return _accept(request, loop, wanted, header(request, "X-Gitlab-Event-UUID"))


def _configured(request: Request, secret: SecretStr | None) -> tuple[SyncLoop, str]:
    """The server's sync loop and the webhook's secret; without either, the webhook does not exist."""
    loop: SyncLoop | None = getattr(request.app.state, "sync", None)
    if secret is None or loop is None:
        raise HTTPException(404, "this webhook is off: set its secret and KB_REPO_URL to turn it on")
    return loop, secret.get_secret_value()


def _accept(request: Request, loop: SyncLoop, wanted: bool, delivery: str | None) -> JSONResponse:
    deliveries: Deliveries = request.app.state.deliveries
    if not deliveries.first_time(delivery):
        return JSONResponse({"status": "duplicate"}, status_code=202)
    if not wanted:
        return JSONResponse({"status": "ignored"}, status_code=202)
    loop.request()
    return JSONResponse({"status": "queued"}, status_code=202)

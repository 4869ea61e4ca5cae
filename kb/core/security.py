"""Settings kb refuses to start with: secrets anyone could guess, and webhooks that could not work safely."""

from __future__ import annotations

import os
import secrets

from pydantic import SecretStr

from kb.core.settings import Settings

GENERATE = "python -c 'import secrets; print(secrets.token_urlsafe(32))'"
SAMPLE_SECRETS = frozenset(
    {"changeme", "change-me", "secret", "password", "test", "example", "kb", "sample", "your-secret", "replace-me"}
)
"""Values copied from examples and tutorials: whoever reads the same page can sign tokens or deliveries."""

MIN_LENGTH = {"jwt_secret": 32, "session_secret": 32, "github_webhook_secret": 16, "gitlab_webhook_token": 16}
"""HS256 needs a 256-bit key to be as strong as its hash; webhook secrets only authenticate a sender."""


class InsecureSettings(ValueError):
    """kb will not serve with these settings; the message lists every problem and how to fix it."""


def insecure_settings(settings: Settings) -> list[str]:
    """Every problem with the security-relevant settings, each saying which variable and what to do."""
    problems = [
        problem
        for name, minimum in MIN_LENGTH.items()
        if (problem := _weak_secret(f"KB_{name.upper()}", getattr(settings, name), minimum)) is not None
    ]
    for name in ("github_webhook_secret", "gitlab_webhook_token"):
        if getattr(settings, name) is not None and not settings.repo_url:
            problems.append(
                f"KB_{name.upper()} turns a webhook on, but KB_REPO_URL is unset: a delivery queues a sync of "
                "KB_REPO_URL. Set KB_REPO_URL, or unset the webhook secret."
            )
    return problems


def check_settings(settings: Settings) -> None:
    """Raise InsecureSettings listing every problem; the server and `kb serve` call this before serving."""
    problems = insecure_settings(settings)
    if problems:
        raise InsecureSettings("kb refuses to start with insecure settings:\n" + "\n".join(f"- {p}" for p in problems))


def _weak_secret(variable: str, secret: SecretStr | None, minimum: int) -> str | None:
    if secret is None:
        return None
    value = secret.get_secret_value()
    if not value.strip():
        return f"{variable} is set but empty: anyone could sign with it. Generate one with {GENERATE}"
    if value.strip().lower() in SAMPLE_SECRETS or "example" in value.lower():
        return f"{variable} is a sample value from documentation. Generate one with {GENERATE}"
    if "-----BEGIN" in value:
        return f"{variable} holds a PEM key; customer tokens are HS256, signed with a shared secret. Generate one with {GENERATE}"
    if len(value) < minimum:
        return f"{variable} has {len(value)} characters; use at least {minimum}. Generate one with {GENERATE}"
    return None


SESSION_SECRET_FILE = "session-secret"


def session_secret(settings: Settings) -> bytes:
    """What staff sessions are signed with beside their key's digest: KB_SESSION_SECRET, else a random secret kept
    in the data folder (created once, readable by kb's user only), so a copy of the database alone forges nothing."""
    if settings.session_secret is not None:
        return settings.session_secret.get_secret_value().encode()
    path = settings.data_dir / SESSION_SECRET_FILE
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        draft = path.with_name(f".{SESSION_SECRET_FILE}-{os.getpid()}")
        with os.fdopen(os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as file:
            file.write(secrets.token_urlsafe(32))
        try:
            os.link(draft, path)  # whole or not at all: a process starting beside this one may win, and both read its secret
        except FileExistsError:
            pass
        finally:
            draft.unlink()
    return path.read_text().strip().encode()

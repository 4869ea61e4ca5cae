"""Customer tokens: HS256 JWTs that the company's own login signs with a secret it shares with kb.

kb never sees the customer's password. The login puts who the customer is (``sub``), which segments
they belong to (``segments``) and until when (``exp``) in a token, as Zendesk's and Meilisearch's
tenant tokens do; kb checks the signature and the claims and reads the articles those segments open.
"""

from __future__ import annotations

import datetime as dt

import jwt
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from articles.model import SEGMENT_NAME
from kb.access.rules import Principal

ALGORITHM = "HS256"
LEEWAY_SECONDS = 30
"""Clock skew forgiven on ``exp`` and ``nbf`` between the login's machine and kb's."""


class TokenRefused(ValueError):
    """A customer token kb does not accept; the message says which check failed, never the token."""


class _Claims(BaseModel):
    model_config = ConfigDict(extra="allow")
    sub: str = Field(min_length=1, max_length=256)
    segments: tuple[str, ...] = Field(default=(), max_length=100)

    @field_validator("segments")
    @classmethod
    def _segment_names(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        bad = [name for name in value if not SEGMENT_NAME.match(name)]
        if bad:
            raise ValueError(f"invalid segment name(s) {', '.join(map(repr, bad[:3]))}: lowercase letters, digits, '-' and '_'")
        return value


def verify_customer_token(token: str, *, secret: str, audience: str | None = None, issuer: str | None = None) -> Principal:
    """The customer a token names, or TokenRefused: an expired or forged token is never read as anonymous."""
    try:
        claims = jwt.decode(
            token,
            secret,
            algorithms=[ALGORITHM],  # never the token's own choice: "none" and RS256-with-the-secret are refused
            audience=audience,
            issuer=issuer,
            leeway=LEEWAY_SECONDS,
            options={"require": ["sub", "exp"], "verify_aud": audience is not None, "verify_iss": issuer is not None},
        )
    except jwt.ExpiredSignatureError:
        raise TokenRefused("the customer token has expired; sign in again") from None
    except jwt.InvalidSignatureError:
        raise TokenRefused("the customer token's signature does not match KB_JWT_SECRET") from None
    except jwt.MissingRequiredClaimError as error:
        raise TokenRefused(f"the customer token has no {error.claim!r} claim") from None
    except jwt.InvalidAlgorithmError:
        raise TokenRefused(f"the customer token must be signed with {ALGORITHM}") from None
    except jwt.InvalidAudienceError:
        raise TokenRefused("the customer token's 'aud' claim is not KB_JWT_AUDIENCE") from None
    except jwt.InvalidIssuerError:
        raise TokenRefused("the customer token's 'iss' claim is not KB_JWT_ISSUER") from None
    except jwt.ImmatureSignatureError:
        raise TokenRefused("the customer token is not valid yet ('nbf' or 'iat' is in the future)") from None
    except jwt.PyJWTError as error:  # InvalidKeyError is not an InvalidTokenError; every failure is a refusal
        raise TokenRefused(f"not a customer token kb can read: {error}") from None
    try:
        parsed = _Claims.model_validate(claims)
    except ValidationError as error:
        first = error.errors()[0]
        field = ".".join(str(part) for part in first["loc"])
        raise TokenRefused(f"the customer token's {field!r} claim is invalid: {first['msg']}") from None
    return Principal("customer", customer=parsed.sub, segments=frozenset(parsed.segments))


def issue_customer_token(
    *, secret: str, subject: str, segments: tuple[str, ...] = (), lifetime: dt.timedelta = dt.timedelta(hours=1),
    audience: str | None = None, issuer: str | None = None,
) -> str:
    """A token as a company's login would sign it: for `kb tokens issue`, the access audit and tests."""
    now = dt.datetime.now(dt.UTC)
    claims: dict[str, object] = {"sub": subject, "segments": list(segments), "iat": now, "exp": now + lifetime}
    if audience is not None:
        claims["aud"] = audience
    if issuer is not None:
        claims["iss"] = issuer
    return jwt.encode(claims, secret, algorithm=ALGORITHM)

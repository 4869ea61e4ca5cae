"""Who may see and who may do what: access rules and views, roles, API keys, customer tokens, explanations, the leak audit.

What the API and other callers use is named here; the modules beside it are its parts.
"""

from kb.access.explain import ArticleNotFound, Explanation, explain_access
from kb.access.keys import KEY_PREFIX, authenticate, key_principal, session_key, session_token
from kb.access.rules import (
    ADMIN_ROLES,
    ANONYMOUS,
    PUBLIC,
    REVIEWER_ROLES,
    ROLES,
    STAFF,
    STAFF_ROLES,
    WRITER_ROLES,
    Principal,
    Role,
    View,
    access_rules_at,
    customer_view,
    parse_principal,
)
from kb.access.tokens import TokenRefused, verify_customer_token

__all__ = [
    "ADMIN_ROLES",
    "ANONYMOUS",
    "KEY_PREFIX",
    "PUBLIC",
    "REVIEWER_ROLES",
    "ROLES",
    "STAFF",
    "STAFF_ROLES",
    "WRITER_ROLES",
    "ArticleNotFound",
    "Explanation",
    "Principal",
    "Role",
    "TokenRefused",
    "View",
    "access_rules_at",
    "authenticate",
    "customer_view",
    "explain_access",
    "key_principal",
    "parse_principal",
    "session_key",
    "session_token",
    "verify_customer_token",
]

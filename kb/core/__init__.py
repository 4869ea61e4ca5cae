"""The application core: settings, the database, the `KnowledgeBase` and how it is opened, indexed, synced and searched.

What the API and other callers use is named here; the modules beside it are its parts.
"""

from kb.core.bootstrap import CatchUp, open_knowledge_base
from kb.core.changes import MAX_CHANGES_PAGE, FeedReset, change_page
from kb.core.cursors import decode_cursor, encode_cursor
from kb.core.db import UNAVAILABLE, unavailable_reason
from kb.core.knowledge_base import KnowledgeBase, SearchResponse
from kb.core.requests import MAX_LIMIT, MAX_OFFSET, InvalidRequest, SearchRequest
from kb.core.security import check_settings
from kb.core.settings import Settings
from kb.core.siteconfig import LOGO_TYPES, Colors, SiteConfig, SiteConfigError, SiteLink, Support, parse_site_config
from kb.core.sync import SyncLoop
from kb.core.text import Line, Prose, is_email_address, refusal

__all__ = [
    "LOGO_TYPES",
    "MAX_CHANGES_PAGE",
    "MAX_LIMIT",
    "MAX_OFFSET",
    "UNAVAILABLE",
    "CatchUp",
    "Colors",
    "FeedReset",
    "InvalidRequest",
    "KnowledgeBase",
    "Line",
    "Prose",
    "SearchRequest",
    "SearchResponse",
    "Settings",
    "SiteConfig",
    "SiteConfigError",
    "SiteLink",
    "Support",
    "SyncLoop",
    "change_page",
    "check_settings",
    "decode_cursor",
    "encode_cursor",
    "is_email_address",
    "open_knowledge_base",
    "parse_site_config",
    "refusal",
    "unavailable_reason",
]

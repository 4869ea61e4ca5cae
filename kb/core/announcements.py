"""Announcements: articles with ``kind: announcement`` that show across the site, the widget and the
assistants' answers while their window (``starts`` … ``ends``) is open.

An announcement is an article first: it is indexed, searched and readable at its address before, during
and after its window. Only while active does it also become a banner and move to the front of a bot's
answer or an agent's suggestions that it matches.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from articles.model import Article
from kb.access.rules import View
from kb.core.contexts import one_per_id

SEVERITY_ORDER = {"incident": 0, "maintenance": 1, "info": 2}
"""The order banners show in: an outage before planned work before a notice."""


def rank(article: Article) -> int:
    """Where an announcement stands among others: the most severe first."""
    return SEVERITY_ORDER[article.front.announced_severity]


def now() -> dt.datetime:
    """The moment windows are judged at: the wall clock, in UTC (tests move it with time-machine)."""
    return dt.datetime.now(dt.UTC)


def active(articles: Iterable[Article], *, view: View, locale: str, moment: dt.datetime) -> list[Article]:
    """Announcements open at ``moment`` that ``view`` may see, one per id, most severe then newest first.

    Each in ``locale`` where it is translated, else in the language it was written in: an outage is
    worth telling a reader in a language they may read less well, rather than not at all.
    """
    chosen = one_per_id((a for a in articles if a.front.active_at(moment) and view.can_see(a)), locale)
    opened = {a.id: a.front.starts or a.updated_at or dt.datetime.min.replace(tzinfo=dt.UTC) for a in chosen}
    newest_first = sorted(chosen, key=lambda a: opened[a.id], reverse=True)
    return sorted(newest_first, key=rank)

"""Why a principal can or cannot see an article: the rule that gave it its audience, and the verdict."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from articles.model import LOCALES, Article
from kb.access.rules import AccessRules, Principal, describe_audience
from kb.core.requests import InvalidRequest


class ArticleNotFound(LookupError):
    """No indexed article has that id (in that locale)."""


@dataclass(frozen=True)
class Explanation:
    article_id: str
    locale: str
    path: str
    principal: str
    visible: bool
    audience: str
    audience_rule: str
    """Where the audience came from: front matter, which .kb/access.yml rule, or the default."""
    status: str
    reason: str


def explain_access(
    articles: Sequence[Article], rules: AccessRules, article_id: str, *, locale: str | None, principal: Principal
) -> list[Explanation]:
    """One explanation per locale of the article (or the one ``locale``) among ``articles``, indexed under ``rules``."""
    if locale is not None and locale not in LOCALES:
        raise InvalidRequest("locale", f"unknown locale {locale!r}; kb has {', '.join(LOCALES)}")
    found = [a for a in articles if a.id == article_id and locale in (None, a.locale)]
    if not found:
        raise ArticleNotFound(f"no article {article_id!r}" + (f" in locale {locale!r}" if locale else "") + " is indexed")
    view = principal.view
    explanations = []
    for article in sorted(found, key=lambda a: a.locale):
        _, rule = rules.decide(article)
        visible, reason = view.verdict(article.audience, article.front.status)
        explanations.append(
            Explanation(
                article_id=article.id,
                locale=article.locale,
                path=article.path,
                principal=principal.label,
                visible=visible,
                audience=describe_audience(article.audience),
                audience_rule=rule,
                status=article.front.status,
                reason=reason,
            )
        )
    return explanations


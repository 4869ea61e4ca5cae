"""Checks across articles for a content repo's CI: broken links, missing translations, near-duplicates.

`kb check` runs them (:func:`check_folder`) after the per-file validation, on the articles that would be indexed.
"""

from __future__ import annotations

import datetime as dt
import fnmatch
import posixpath
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from urllib.parse import urlsplit

import numpy as np
import yaml
from pydantic import BaseModel, ConfigDict, ValidationError

from articles.model import LOCALES, Article, ArticleError
from articles.parse import InvalidArticle, is_article_path, parse_article
from articles.render import render_html
from articles.templates import TEMPLATES_DIR, Template, missing_sections, parse_templates, template_for
from kb.access.published import select_articles, with_audience
from kb.access.rules import ACCESS_FILE, parse_access_rules
from kb.core.siteconfig import MAX_LOGO_BYTES, SITE_FILE, SiteConfigError, parse_site_config
from kb.writing.staleness import BehindOriginal, ReviewDue, UnknownOrigin, reviews_due, translations_behind
from search.encoder import Encoder
from search.synonyms import SYNONYMS_FILE, SynonymsError, parse_synonyms
from versioning import ContentRepo, InvalidRef, RepositoryError, UnknownRef

TRANSLATIONS_FILE = ".kb/translations.yml"
NEAR_DUPLICATE_COSINE = 0.85
"""Article embeddings this close say the same thing: one of the two is likely redundant or outdated.

With the default model, the closest two distinct articles of the sample help center score 0.73
(cancel-subscription and delete-your-account; 0.72 among the Japanese ones), a copy retitled with
one word changed 0.96, and the same short article with one sentence added 0.84."""


def broken_links(articles: Sequence[Article]) -> list[ArticleError]:
    """Links to ``.md`` files that are not among ``articles`` (missing, invalid, or outside the repository)."""
    paths = {article.path for article in articles}
    errors = []
    for article in articles:
        for href in _markdown_links(article):
            target = posixpath.normpath(posixpath.join(posixpath.dirname(article.path), urlsplit(href).path))
            if target not in paths:
                reason = f"links to {href!r}, which is not an article here (missing, invalid or outside the repository)"
                errors.append(ArticleError(article.path, "links", reason))
    return errors


def _markdown_links(article: Article) -> list[str]:
    """Relative links to Markdown files, exactly the ones the renderer would rewrite to article pages."""
    found: list[str] = []

    def collect(href: str) -> None:
        found.append(href)

    render_html(article.body, resolve_link=collect)
    return found


class _Requirement(BaseModel):
    model_config = ConfigDict(extra="forbid")
    path: str
    locales: list[str]


class _TranslationsFile(BaseModel):
    model_config = ConfigDict(extra="forbid")
    required: list[_Requirement] = []


@dataclass(frozen=True)
class TranslationRules:
    """Articles whose path matches a glob must exist, with the same id, in each of its locales."""

    required: tuple[tuple[str, tuple[str, ...]], ...] = ()


def parse_translation_rules(data: bytes | None) -> tuple[TranslationRules, list[ArticleError]]:
    if data is None:
        return TranslationRules(), []
    try:
        parsed = _TranslationsFile.model_validate(yaml.safe_load(data.decode("utf-8")) or {})
    except (UnicodeDecodeError, yaml.YAMLError, ValidationError) as error:
        return TranslationRules(), [ArticleError(TRANSLATIONS_FILE, "yaml", " ".join(str(error).split()))]
    errors = [
        ArticleError(TRANSLATIONS_FILE, "required.locales", f"unknown locale {locale!r}; kb has {', '.join(LOCALES)}")
        for rule in parsed.required
        for locale in rule.locales
        if locale not in LOCALES
    ]
    return TranslationRules(tuple((rule.path, tuple(rule.locales)) for rule in parsed.required)), errors


def missing_translations(articles: Sequence[Article], rules: TranslationRules) -> list[ArticleError]:
    locales_of: dict[str, set[str]] = defaultdict(set)
    for article in articles:
        locales_of[article.id].add(article.locale)
    errors = []
    for article in articles:
        for glob, locales in rules.required:
            if not fnmatch.fnmatchcase(article.path, glob):
                continue
            missing = [locale for locale in locales if locale not in locales_of[article.id]]
            if missing:
                reason = f"needs a translation in {', '.join(missing)} ({TRANSLATIONS_FILE}: {glob!r})"
                errors.append(ArticleError(article.path, "translations", reason))
    return errors


@dataclass(frozen=True)
class NearDuplicate:
    first: Article
    second: Article
    cosine: float


def near_duplicates(
    articles: Sequence[Article], encoder: Encoder, *, threshold: float = NEAR_DUPLICATE_COSINE
) -> list[NearDuplicate]:
    """Pairs of articles in the same locale whose embeddings (title and body) are at least ``threshold`` alike.

    Translations share an id and are never compared; the model sees the start of each article,
    which is where two articles on the same thing say so.
    """
    pairs = []
    by_locale: dict[str, list[Article]] = defaultdict(list)
    for article in articles:
        by_locale[article.locale].append(article)
    for group in by_locale.values():
        if len(group) < 2:
            continue
        vectors = encoder.encode([f"{article.title}\n\n{article.body}" for article in group])
        similarity = vectors @ vectors.T
        for i, j in zip(*np.nonzero(np.triu(similarity >= threshold, k=1)), strict=True):
            pairs.append(NearDuplicate(group[i], group[j], float(similarity[i, j])))
    return sorted(pairs, key=lambda pair: -pair.cosine)


@dataclass
class CheckReport:
    articles: list[Article] = field(default_factory=list)
    errors: list[ArticleError] = field(default_factory=list)
    warnings: list[ArticleError] = field(default_factory=list)
    """What a writer should look at but that does not fail the check: a template's section missing, a review due…"""
    behind: list[BehindOriginal] = field(default_factory=list)
    """Translations whose original changed since they were made, each with the original's diff since."""


def check_folder(root: Path, *, today: dt.date | None = None) -> CheckReport:
    """Validate a content folder as the indexer would, then across articles, for `kb check` in a content repo's CI.

    Across articles: links to other articles that do not resolve, and translations that
    ``.kb/translations.yml`` requires but that are missing.
    """
    rules, errors = parse_access_rules(_read(root / ACCESS_FILE))
    translation_rules, translation_errors = parse_translation_rules(_read(root / TRANSLATIONS_FILE))
    parsed: list[Article] = []
    for file in sorted(p for p in root.rglob("*") if p.is_file()):
        path = file.relative_to(root).as_posix()
        if not is_article_path(path):
            continue
        try:
            parsed.append(with_audience(parse_article(path, file.read_bytes()), rules))
        except InvalidArticle as invalid:
            errors.append(invalid.error)
    active, rejected = select_articles(parsed, rules)
    across = broken_links(active) + missing_translations(active, translation_rules) + translation_errors + site_errors(root)
    across += synonym_errors(root)
    templates, template_errors = parse_templates(template_files(root))
    unknown, warnings = template_problems(active, templates)
    errors += template_errors + unknown
    dated, behind = _with_git(root, active, errors)
    warnings += [_due_warning(due) for due in reviews_due(dated, today=today or dt.date.today())]
    warnings += [_behind_warning(item) for item in behind]
    return CheckReport(
        articles=active, errors=sorted(errors + rejected + across, key=lambda e: e.path),
        warnings=sorted(warnings, key=lambda e: e.path), behind=behind,
    )  # fmt: skip


def _with_git(root: Path, articles: list[Article], errors: list[ArticleError]) -> tuple[list[Article], list[BehindOriginal]]:
    """When ``root`` is a Git repository with commits: the articles with their last change in Git (one edited and not
    committed yet is being looked at now), and the translations behind their original (a ``translated_from`` that
    is no commit here added to ``errors``). Elsewhere: the articles as they are, and nothing known of translations."""
    try:
        repo = ContentRepo(root)
        head = repo.resolve("HEAD")
    except (RepositoryError, UnknownRef, InvalidRef):
        return articles, []
    with repo:
        committed = {file.path: file for file in repo.files_at(head, paths=[article.path for article in articles])}
        now = dt.datetime.now(dt.UTC)
        dated = []
        for article in articles:
            file = committed.get(article.path)
            if file is not None and file.data == (root / article.path).read_bytes():
                dated.append(replace(article, revision=file.revision, updated_at=file.updated_at))
            else:
                dated.append(replace(article, updated_at=now))
        unknown: list[UnknownOrigin] = []
        committed_articles = [a for a in dated if a.revision]
        behind = translations_behind(repo, committed_articles, at=head, default_locale=_default_locale(root), unknown=unknown)
        for origin in unknown:
            path, _, reason = str(origin).partition(": translated_from: ")
            errors.append(ArticleError(path, "translated_from", reason))
    return dated, behind


def _default_locale(root: Path) -> str:
    try:
        return parse_site_config(_read(root / SITE_FILE)).default_locale
    except SiteConfigError:
        return LOCALES[0]


def _due_warning(due: ReviewDue) -> ArticleError:
    front = due.article.front
    reason = f"review due since {due.due} (review_every {front.review_every}; last reviewed or changed {due.last_looked})"
    return ArticleError(due.article.path, "review_every", reason)


def _behind_warning(item: BehindOriginal) -> ArticleError:
    reason = (f"translated from {item.translated_from[:12]}, and {item.original.path} changed since "
              f"(last in {item.original.revision[:12]}): update the translation and its translated_from")  # fmt: skip
    return ArticleError(item.translation.path, "translated_from", reason)


def template_files(root: Path) -> list[tuple[str, bytes]]:
    """The files of a content folder's .kb/templates/, as (path in the repository, bytes)."""
    folder = root / TEMPLATES_DIR
    return [(file.relative_to(root).as_posix(), file.read_bytes()) for file in sorted(folder.glob("*.md"))] if folder.is_dir() else []


def template_problems(
    articles: Sequence[Article], templates: Mapping[tuple[str, str | None], Template]
) -> tuple[list[ArticleError], list[ArticleError]]:
    """Errors: an article names a template there is none of (a typo). Warnings: it lacks a section its template requires."""
    unknown, missing = [], []
    for article in articles:
        name = article.front.template
        if name is None:
            continue
        template = template_for(templates, name, article.locale)
        if template is None:
            known = sorted({key[0] for key in templates}) or ["none"]
            unknown.append(ArticleError(article.path, "template", f"no template {name!r} in {TEMPLATES_DIR}/ (there: {', '.join(known)})"))
            continue
        lacking = missing_sections(article, template)
        if lacking:
            reason = f"lacks the section(s) {', '.join(map(repr, lacking))} of template {name!r} ({template.path})"
            missing.append(ArticleError(article.path, "template", reason))
    return unknown, missing


def site_errors(root: Path) -> list[ArticleError]:
    """.kb/site.yml's problem, if any, and a logo it names that is not in the folder (or too large to serve)."""
    try:
        site = parse_site_config(_read(root / SITE_FILE))
    except SiteConfigError as broken:
        return [ArticleError(SITE_FILE, broken.field, broken.reason)]
    if site.logo is not None:
        logo = _read(root / site.logo)
        if logo is None:
            return [ArticleError(SITE_FILE, "logo", f"{site.logo} is not in the content repository")]
        if len(logo) > MAX_LOGO_BYTES:
            return [ArticleError(SITE_FILE, "logo", f"{site.logo} is {len(logo)} bytes; kb serves logos up to {MAX_LOGO_BYTES}")]
    return []


def synonym_errors(root: Path) -> list[ArticleError]:
    """.kb/synonyms.yml's problem, if any (`search/synonyms.py`)."""
    try:
        parse_synonyms(_read(root / SYNONYMS_FILE))
    except SynonymsError as broken:
        return [ArticleError(SYNONYMS_FILE, broken.field, broken.reason)]
    return []


def _read(file: Path) -> bytes | None:
    return file.read_bytes() if file.is_file() else None

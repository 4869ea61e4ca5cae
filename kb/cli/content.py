"""Reading and checking the content: `kb search`, `kb impact`, `kb history`, `kb diff`, `kb check`."""

from __future__ import annotations

import json
import sys
import textwrap
from contextlib import nullcontext
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from kb.cli.common import console, content_repo, errors, fail, find_article, or_exit, served_commit, show_progress
from kb.core.settings import Settings
from kb.writing.checks import NEAR_DUPLICATE_COSINE

if TYPE_CHECKING:
    from articles.model import Article


def search(
    query: str,
    locale: Annotated[str | None, typer.Option(help="en or ja; all locales when absent.")] = None,
    mode: Annotated[str, typer.Option(help="keyword, semantic or hybrid.")] = "hybrid",
    limit: Annotated[int, typer.Option(help="How many articles to show.")] = 10,
    as_json: Annotated[bool, typer.Option("--json", help="Print the results as JSON.")] = False,
) -> None:
    """Search as an anonymous help-center visitor would."""
    from kb.access.rules import PUBLIC
    from kb.core.bootstrap import open_knowledge_base
    from kb.core.requests import InvalidRequest, SearchRequest

    settings = Settings()
    try:
        request = SearchRequest(query=query, mode=mode, locale=locale, limit=limit, max_query_chars=settings.max_query_chars)
    except InvalidRequest as invalid:
        errors.print(f"error: {invalid}", markup=False)
        raise typer.Exit(2) from None
    kb = open_knowledge_base(settings)
    response = kb.search(request, view=PUBLIC)
    kb.close()
    hits = response.results.hits
    if as_json:
        rows = [
            {
                "id": h.article.id,
                "locale": h.article.locale,
                "title": h.article.title,
                "anchor": h.chunk.anchor,
                "score": h.score,
                "snippet": h.snippet,
                "commit": response.commit,
            }
            for h in hits
        ]
        sys.stdout.write(json.dumps({"total": response.results.total, "hits": rows}, ensure_ascii=False, indent=2) + "\n")
        return
    table = Table("#", "article", "locale", "section", "score")
    for rank, hit in enumerate(hits, start=1):
        table.add_row(
            str(rank),
            f"{hit.article.title}\n[dim]{hit.article.id}[/]",
            hit.article.locale,
            " › ".join(hit.chunk.heading_path) or "—",
            f"{hit.score:.4f}",
        )
    console.print(table)
    console.print(f"{response.results.total} matching article(s) at commit {response.commit[:12]}")


def impact(
    head: Annotated[str, typer.Option(help="The branch, tag or commit with the change.")],
    base: Annotated[str, typer.Option(help="What to compare with.")] = "main",
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of Markdown.")] = False,
) -> None:
    """Search the golden queries (.kb/golden.yml) at both refs; exit 1 if an expected article leaves the top 3.

    Markdown by default, to paste into a pull request; only chunks whose text changed are embedded.
    """
    from kb.access.rules import PUBLIC
    from kb.core.bootstrap import open_knowledge_base
    from kb.writing.impact import impact as search_impact

    kb = open_knowledge_base(Settings())
    try:
        report = or_exit(lambda: search_impact(kb, base, head, view=PUBLIC))
    finally:
        kb.close()
    if as_json:
        sys.stdout.write(json.dumps(report.as_dict(), ensure_ascii=False, indent=2) + "\n")
    else:
        sys.stdout.write(report.markdown())
    if report.failed:
        raise typer.Exit(1)


def history(
    article_id: Annotated[str, typer.Argument(metavar="ID", help="The article's id (front matter `id`).")],
    locale: Annotated[str | None, typer.Option(help="en or ja; English, else the first translation, when absent.")] = None,
    limit: Annotated[int, typer.Option(help="How many commits to show, newest first.")] = 20,
    as_json: Annotated[bool, typer.Option("--json", help="Print the commits as JSON.")] = False,
) -> None:
    """The commits that changed an article, following renames and moves of its file."""
    from kb.access.rules import STAFF
    from kb.writing.history import MAX_HISTORY_PAGE, history_page

    with content_repo() as repo:
        head = served_commit(repo)
        article = find_article(repo, article_id, locale, head)
        page = or_exit(lambda: history_page(repo, article, at=head, view=STAFF, limit=limit, cursor=None))
    if as_json:
        rows = [
            {
                "sha": r.sha,
                "author_name": r.author_name,
                "author_email": r.author_email,
                "date": r.committed_at.isoformat(),
                "message": r.message,
                "path": r.path,
                "change": r.kind,
            }
            for r in page.revisions
        ]
        sys.stdout.write(json.dumps(rows, ensure_ascii=False, indent=2) + "\n")
        return
    table = Table("commit", "date", "author", "change", "message", title=f"{article.title} ({article.id}, {article.locale})")
    for r in page.revisions:
        change = f"{r.kind}\n[dim]{r.path}[/]" if r.kind == "renamed" else r.kind
        subject = r.message.splitlines()[0] if r.message else ""
        table.add_row(r.sha[:12], r.committed_at.strftime("%Y-%m-%d %H:%M"), r.author_name, change, subject)
    console.print(table)
    if page.next_cursor:
        console.print(f"[dim]older commits exist: --limit shows up to {MAX_HISTORY_PAGE}[/]")


def diff(
    article_id: Annotated[str, typer.Argument(metavar="ID", help="The article's id (front matter `id`).")],
    old: Annotated[str, typer.Argument(metavar="A", help="Commit sha, branch or tag of the old version.")],
    new: Annotated[str, typer.Argument(metavar="B", help="Commit sha, branch or tag of the new version.")],
    locale: Annotated[str | None, typer.Option(help="en or ja; English, else the first translation, when absent.")] = None,
) -> None:
    """The article's Markdown file between two refs, as a unified diff (renames and moves followed)."""
    from kb.access.rules import STAFF
    from kb.writing.history import article_diff

    with content_repo() as repo:
        head = served_commit(repo)
        article = find_article(repo, article_id, locale, head)
        result = or_exit(lambda: article_diff(repo, article, old, new, at=head, view=STAFF))
    sys.stdout.write(result.diff.unified)


def check(
    path: Annotated[Path, typer.Argument(help="A content folder (the root holding .kb/ and the locale folders).")],
    near_duplicates: Annotated[
        bool, typer.Option(help="Also list pairs of articles whose embeddings are nearly the same (loads the model).")
    ] = True,
    threshold: Annotated[
        float, typer.Option(help="Cosine similarity from which two articles are near-duplicates.")
    ] = NEAR_DUPLICATE_COSINE,
    contradictions: Annotated[
        bool, typer.Option(help="Also list sections of articles giving different figures for one thing (loads the model).")
    ] = True,
) -> None:
    """Validate every article, the links between them, required translations and .kb/*.yml; exit 1 on any error.

    Warnings do not fail the check: near-duplicate articles, possible contradictions (two sections giving different
    figures for one thing), a section an article's template requires that it lacks, an article due for review, a
    translation whose original changed since (with the original's diff since).
    """
    from kb.writing.checks import check_folder

    if not path.is_dir():
        errors.print(f"error: {path} is not a folder", markup=False)
        raise typer.Exit(2)
    report = check_folder(path)
    for error in report.errors:
        errors.print(str(error), markup=False, highlight=False)
    for warning in report.warnings:
        errors.print(f"warning: {warning}", markup=False, highlight=False)
    for item in report.behind:
        errors.print(f"{item.original.path} since {item.translated_from[:12]}, for {item.translation.path}:", markup=False, highlight=False)
        errors.print(textwrap.indent(item.diff, "    "), markup=False, highlight=False, end="")
    if near_duplicates:
        _print_near_duplicates(report.articles, threshold)
    if contradictions:
        _print_contradictions(report.articles)
    console.print(f"{len(report.articles)} article(s) valid, {len(report.errors)} error(s)")
    if report.errors:
        raise typer.Exit(1)


def _print_contradictions(articles: list[Article]) -> None:
    from kb.core.bootstrap import load_encoder
    from kb.writing.contradictions import contradictions

    with console.status("Comparing figures…", spinner="dots") if show_progress() else nullcontext():
        found = contradictions(articles, load_encoder(Settings()))
    for pair in found:
        first, second = pair.first, pair.second
        errors.print(
            f"warning: {first.article.path}#{first.anchor} and {second.article.path}#{second.anchor} may contradict each other "
            f"({pair.kind}: {', '.join(first.figures)} against {', '.join(second.figures)}):\n"
            f"    “{first.text}”\n    “{second.text}”",
            markup=False,
            highlight=False,
        )


def _print_near_duplicates(articles: list[Article], threshold: float) -> None:
    from kb.core.bootstrap import load_encoder
    from kb.writing.checks import near_duplicates

    with console.status("Comparing articles…", spinner="dots") if show_progress() else nullcontext():
        pairs = near_duplicates(articles, load_encoder(Settings()), threshold=threshold)
    for pair in pairs:
        errors.print(
            f"warning: {pair.first.path} and {pair.second.path} are near-duplicates (cosine {pair.cosine:.3f})",
            markup=False,
            highlight=False,
        )


def new(
    article_id: Annotated[str, typer.Argument(metavar="ID", help="The new article's id, e.g. export-to-csv.")],
    title: Annotated[str, typer.Option(help="Its title.")],
    template: Annotated[str | None, typer.Option(help="A template of .kb/templates/ (e.g. how-to); a blank page when absent.")] = None,
    locale: Annotated[str, typer.Option(help="en or ja.")] = "en",
    category: Annotated[str | None, typer.Option(help="Its category: a folder under the locale's, and its front matter's.")] = None,
    folder: Annotated[Path, typer.Option(help="The content folder (the root holding .kb/ and the locale folders).")] = Path("."),
) -> None:
    """Start an article from a template, as a draft, in a content folder: LOCALE/[CATEGORY/]ID.md."""
    from articles.model import LOCALES
    from articles.parse import InvalidArticle
    from articles.templates import TEMPLATES_DIR, new_article, parse_templates, template_for
    from kb.writing.checks import template_files

    if locale not in LOCALES:
        fail(f"--locale {locale!r} is not one of {', '.join(LOCALES)}")
    templates, broken = parse_templates(template_files(folder))
    chosen = None
    if template is not None:
        chosen = template_for(templates, template, locale)
        if chosen is None:
            why = "; ".join(str(error) for error in broken if f"/{template}." in error.path)
            known = ", ".join(sorted({name for name, _ in templates})) or "none"
            fail(f"--template {template!r}: " + (why or f"no such template in {folder / TEMPLATES_DIR} (there: {known})"))
    target = folder / locale / (category or "") / f"{article_id}.md"
    if target.exists():
        fail(f"{target} exists already; choose another id or edit it")
    extra: dict[str, object] = {"category": category} if category else {}
    if chosen is None or "status" not in chosen.front_matter:
        extra["status"] = "draft"
    try:
        text = new_article(chosen, article_id=article_id, title=title, locale=locale, extra=extra)
    except InvalidArticle as invalid:
        fail(f"{invalid.error.field}: {invalid.error.reason}")
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text, encoding="utf-8")
    console.print(f"wrote {target} (status: draft until you publish it)" if extra.get("status") else f"wrote {target}", markup=False)


def restore(
    article_id: Annotated[str, typer.Argument(metavar="ID", help="The article to restore.")],
    revision: Annotated[str, typer.Argument(metavar="REV", help="A commit, branch or tag where it was as it should be again.")],
    locale: Annotated[str | None, typer.Option(help="en or ja; English, else the first translation, when absent.")] = None,
    author: Annotated[str, typer.Option(help="Who proposes it (the proposal's author).")] = "kb restore",
) -> None:
    """Propose putting an article back as it was at REV: a proposal to review and merge like any other."""
    from kb.core.bootstrap import load_encoder
    from kb.core.db import make_engine
    from kb.core.knowledge_base import KnowledgeBase
    from kb.writing import ProposalRefused, restore_article

    settings = Settings()
    with content_repo() as repo:
        head = served_commit(repo)
        article = find_article(repo, article_id, locale, head)
    kb = KnowledgeBase(settings=settings, encoder=load_encoder(settings), engine=make_engine(settings.database))
    try:
        record = or_exit(lambda: restore_article(kb, article, revision, at=head, author=author))
    except ProposalRefused as refused:
        fail(str(refused))
    finally:
        kb.close()
    console.print(f"proposal {record.id}: {record.title} (branch {record.branch})", markup=False)
    console.print(f"review it as any other: GET /v1/proposals/{record.id}, then POST /v1/proposals/{record.id}/merge", markup=False)

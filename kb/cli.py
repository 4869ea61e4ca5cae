"""The `kb` command line: index, serve, search, sync, impact, history, diff, check, eval, keys, token and access. Bare `kb` serves."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, TypeVar

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from kb.checks import NEAR_DUPLICATE_COSINE
from kb.settings import Settings

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from articles.model import Article
    from kb.audit import Reader
    from kb.evaluation.run import EvalReport
    from kb.indexer import BuildReport
    from versioning import ContentRepo

T = TypeVar("T")

app = typer.Typer(help="kb: a knowledge base for support teams, kept as Markdown in Git.", no_args_is_help=False)
keys_app = typer.Typer(help="API keys: create (shown once), list, revoke.", no_args_is_help=True)
app.add_typer(keys_app, name="keys")
access_app = typer.Typer(help="Who may see what: explain one verdict, audit a live server for leaks.", no_args_is_help=True)
app.add_typer(access_app, name="access")
console = Console()
errors = Console(stderr=True, soft_wrap=True)  # one error per line, whatever the terminal width


def run() -> None:
    """The `kb` command: the app, with a database that cannot be reached or is damaged said in one line (exit 3)."""
    try:
        app()
    except Exception as error:
        from kb.db import UNAVAILABLE, DamagedDatabase, unavailable_reason

        if isinstance(error, DamagedDatabase):
            errors.print(f"error: {error}", markup=False)
            raise SystemExit(3) from None
        if not isinstance(error, UNAVAILABLE):
            raise
        errors.print(f"error: the database cannot be reached or written ({unavailable_reason(error)}); "
                     "check KB_DATABASE_URL and that the database is up, then try again", markup=False)
        raise SystemExit(3) from None


def _show_progress() -> bool:
    """A bar on a terminal; nothing in CI logs or pipes."""
    return console.is_terminal and not os.environ.get("CI")


@app.callback(invoke_without_command=True)
def main(context: typer.Context) -> None:
    """With no command, serve (as `kb serve` does)."""
    if context.invoked_subcommand is None:
        serve()


@app.command()
def index(full: Annotated[bool, typer.Option(help="Rebuild from scratch instead of from the saved snapshot.")] = False) -> None:
    """Index the content repository's default branch and save the snapshot the server will load."""
    from kb.bootstrap import ensure_content, load_encoder
    from kb.db import make_engine
    from kb.knowledge_base import KnowledgeBase

    settings = Settings()
    ensure_content(settings)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    with console.status("Loading the embedding model…", spinner="dots") if _show_progress() else nullcontext():
        encoder = load_encoder(settings)
    kb = KnowledgeBase(settings=settings, encoder=encoder, engine=make_engine(settings.database))
    previous = None if full else kb.store.load_latest()
    with _progress() as bar:
        task = bar.add_task("Reading articles", total=None)
        report = kb.refresh(previous=previous, progress=lambda stage, done, total: bar.update(
            task, description=f"{stage.capitalize()} {'articles' if stage == 'chunking' else 'chunks'}", completed=done, total=total))
    kb.close()
    _print_report(report)


def _progress() -> Progress:
    return Progress(
        TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
        console=console, disable=not _show_progress(), transient=True,
    )


def _print_report(report: BuildReport) -> None:
    kind = "incremental" if report.incremental else "full"
    console.print(f"Indexed commit [bold]{report.commit[:12]}[/] ({kind}) in {report.seconds:.1f}s "
                  f"({report.model_seconds:.1f}s of it in the embedding model)")
    console.print(f"  articles indexed: {report.articles}   files parsed: {report.parsed}")
    console.print(f"  chunks: {report.chunks}   embedded: {report.embedded}   from cache: {report.cached}")
    if report.skipped:
        console.print(f"  [yellow]skipped {len(report.skipped)} file(s):[/]")
        for error in report.skipped:
            console.print(f"    {error}", markup=False, highlight=False, soft_wrap=True)
    else:
        console.print("  skipped: 0")


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Overrides KB_HOST.")] = None,
    port: Annotated[int | None, typer.Option(help="Overrides KB_PORT.")] = None,
) -> None:
    """Serve the API (and the help center) with uvicorn."""
    import logging

    import uvicorn

    # uvicorn configures only its own loggers; kb's (sample copy, indexing progress) need a handler too.
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s:     %(name)s: %(message)s")
    for package in ("kb", "api"):
        logging.getLogger(package).setLevel(logging.INFO)
    settings = Settings()
    _refuse_insecure(settings)
    _check_database(settings)
    # The app is named by its import string, so this module never imports `api` (imports go api → kb).
    uvicorn.run(
        "api.app:create_app", factory=True, host=host or settings.host, port=port or settings.port, access_log=settings.access_log
    )


@app.command()
def search(
    query: str,
    locale: Annotated[str | None, typer.Option(help="en or ja; all locales when absent.")] = None,
    mode: Annotated[str, typer.Option(help="keyword, semantic or hybrid.")] = "hybrid",
    limit: Annotated[int, typer.Option(help="How many articles to show.")] = 10,
    as_json: Annotated[bool, typer.Option("--json", help="Print the results as JSON.")] = False,
) -> None:
    """Search as an anonymous help-center visitor would."""
    from kb.access import PUBLIC
    from kb.bootstrap import open_knowledge_base
    from kb.requests import InvalidRequest, SearchRequest

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
            {"id": h.article.id, "locale": h.article.locale, "title": h.article.title, "anchor": h.chunk.anchor,
             "score": h.score, "snippet": h.snippet, "commit": response.commit}
            for h in hits
        ]
        sys.stdout.write(json.dumps({"total": response.results.total, "hits": rows}, ensure_ascii=False, indent=2) + "\n")
        return
    table = Table("#", "article", "locale", "section", "score")
    for rank, hit in enumerate(hits, start=1):
        table.add_row(str(rank), f"{hit.article.title}\n[dim]{hit.article.id}[/]", hit.article.locale,
                      " › ".join(hit.chunk.heading_path) or "—", f"{hit.score:.4f}")
    console.print(table)
    console.print(f"{response.results.total} matching article(s) at commit {response.commit[:12]}")


@app.command()
def sync() -> None:
    """Fetch KB_REPO_BRANCH from KB_REPO_URL, fast-forward it (never a reset) and reindex what changed."""
    from kb.bootstrap import open_knowledge_base
    from kb.sync import sync_knowledge_base

    settings = Settings()
    if not settings.repo_url:
        errors.print("error: KB_REPO_URL is not set: there is no remote to sync with", markup=False)
        raise typer.Exit(2)
    kb = _or_exit(lambda: open_knowledge_base(settings))
    try:
        report = _or_exit(lambda: sync_knowledge_base(kb))
    finally:
        kb.close()
    console.print(report.message, markup=False, highlight=False)
    if report.build is not None:
        _print_report(report.build)
    if report.result.status == "diverged":
        raise typer.Exit(1)


@app.command()
def impact(
    head: Annotated[str, typer.Option(help="The branch, tag or commit with the change.")],
    base: Annotated[str, typer.Option(help="What to compare with.")] = "main",
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of Markdown.")] = False,
) -> None:
    """Search the golden queries (.kb/golden.yml) at both refs; exit 1 if an expected article leaves the top 3.

    Markdown by default, to paste into a pull request; only chunks whose text changed are embedded.
    """
    from kb.access import PUBLIC
    from kb.bootstrap import open_knowledge_base
    from kb.impact import impact as search_impact

    kb = open_knowledge_base(Settings())
    try:
        report = _or_exit(lambda: search_impact(kb, base, head, view=PUBLIC))
    finally:
        kb.close()
    if as_json:
        sys.stdout.write(json.dumps(report.as_dict(), ensure_ascii=False, indent=2) + "\n")
    else:
        sys.stdout.write(report.markdown())
    if report.failed:
        raise typer.Exit(1)


@app.command()
def history(
    article_id: Annotated[str, typer.Argument(metavar="ID", help="The article's id (front matter `id`).")],
    locale: Annotated[str | None, typer.Option(help="en or ja; English, else the first translation, when absent.")] = None,
    limit: Annotated[int, typer.Option(help="How many commits to show, newest first.")] = 20,
    as_json: Annotated[bool, typer.Option("--json", help="Print the commits as JSON.")] = False,
) -> None:
    """The commits that changed an article, following renames and moves of its file."""
    from kb.access import STAFF
    from kb.history import MAX_HISTORY_PAGE, history_page

    with _content_repo() as repo:
        head = _served_commit(repo)
        article = _find_article(repo, article_id, locale, head)
        page = _or_exit(lambda: history_page(repo, article, at=head, view=STAFF, limit=limit, cursor=None))
    if as_json:
        rows = [{"sha": r.sha, "author_name": r.author_name, "author_email": r.author_email,
                 "date": r.committed_at.isoformat(), "message": r.message, "path": r.path, "change": r.kind}
                for r in page.revisions]
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


@app.command()
def diff(
    article_id: Annotated[str, typer.Argument(metavar="ID", help="The article's id (front matter `id`).")],
    old: Annotated[str, typer.Argument(metavar="A", help="Commit sha, branch or tag of the old version.")],
    new: Annotated[str, typer.Argument(metavar="B", help="Commit sha, branch or tag of the new version.")],
    locale: Annotated[str | None, typer.Option(help="en or ja; English, else the first translation, when absent.")] = None,
) -> None:
    """The article's Markdown file between two refs, as a unified diff (renames and moves followed)."""
    from kb.access import STAFF
    from kb.history import article_diff

    with _content_repo() as repo:
        head = _served_commit(repo)
        article = _find_article(repo, article_id, locale, head)
        result = _or_exit(lambda: article_diff(repo, article, old, new, at=head, view=STAFF))
    sys.stdout.write(result.diff.unified)


def _content_repo() -> ContentRepo:
    from kb.bootstrap import ensure_content
    from versioning import ContentRepo

    settings = Settings()
    ensure_content(settings)
    return ContentRepo(settings.content_path)


def _served_commit(repo: ContentRepo) -> str:
    """KB_REPO_BRANCH's tip when following a remote, else HEAD's: the commit the server serves."""
    settings = Settings()
    return _or_exit(lambda: repo.resolve(settings.repo_branch if settings.repo_url else None))


def _find_article(repo: ContentRepo, article_id: str, locale: str | None, head: str) -> Article:
    from kb.history import find_article

    return _or_exit(lambda: find_article(repo, article_id, locale, at=head))


def _or_exit(action: Callable[[], T]) -> T:
    """Run ``action``; a bad or unknown ref, a missing article or a failed sync ends the command with its message."""
    from kb.history import NotAtRef
    from kb.requests import InvalidRequest
    from versioning import InvalidRef, UnknownRef
    from versioning.sync import SyncError

    try:
        return action()
    except (InvalidRequest, InvalidRef, UnknownRef, NotAtRef, SyncError) as error:
        errors.print(f"error: {error}", markup=False)
        raise typer.Exit(2) from None


@keys_app.command("create")
def keys_create(
    role: Annotated[str, typer.Option(help="agent, bot, writer, reviewer or admin.")],
    name: Annotated[str, typer.Option(help="Who or what uses the key, e.g. helpdesk.")],
    expires_in: Annotated[str | None, typer.Option(help="A lifetime such as 90d or 12h; none when absent.")] = None,
) -> None:
    """Create a key and print it once: only its digest is stored."""
    from kb.keys import KeyRefused, create_key

    try:
        new = create_key(_engine(), name=name, role=role, expires_in=expires_in)
    except KeyRefused as error:
        errors.print(f"error: {error}", markup=False)
        raise typer.Exit(2) from None
    sys.stdout.write(new.secret + "\n")
    errors.print(f"key {new.record.id} ({new.record.role}, {new.record.name}) created; it will not be shown again",
                 markup=False)


@keys_app.command("list")
def keys_list() -> None:
    """Every key with its id, role, name, prefix and state; never the key itself."""
    from kb.keys import list_keys

    table = Table("id", "role", "name", "prefix", "created", "expires", "state")
    for key in list_keys(_engine()):
        state = "revoked" if key.revoked_at else "active"
        table.add_row(str(key.id), key.role, key.name, f"kb_{key.prefix}_…", key.created_at.strftime("%Y-%m-%d"),
                      key.expires_at.strftime("%Y-%m-%d %H:%M") if key.expires_at else "never", state)
    console.print(table)


@keys_app.command("revoke")
def keys_revoke(key_id: Annotated[int, typer.Argument(metavar="ID", help="The id `kb keys list` shows.")]) -> None:
    """Revoke a key; the next request that presents it gets a 401."""
    from kb.keys import KeyRefused, revoke_key

    try:
        record = revoke_key(_engine(), key_id)
    except KeyRefused as error:
        errors.print(f"error: {error}", markup=False)
        raise typer.Exit(2) from None
    console.print(f"key {record.id} ({record.role}, {record.name}) revoked", markup=False)


def _engine() -> Engine:
    from kb.db import make_engine

    settings = Settings()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    return make_engine(settings.database)


@app.command()
def check(
    path: Annotated[Path, typer.Argument(help="A content folder (the root holding .kb/ and the locale folders).")],
    near_duplicates: Annotated[
        bool, typer.Option(help="Also list pairs of articles whose embeddings are nearly the same (loads the model).")
    ] = True,
    threshold: Annotated[
        float, typer.Option(help="Cosine similarity from which two articles are near-duplicates.")
    ] = NEAR_DUPLICATE_COSINE,
) -> None:
    """Validate every article, the links between them, required translations and .kb/*.yml; exit 1 on any error.

    Near-duplicate articles are listed as warnings: they do not fail the check.
    """
    from kb.validation import check_folder

    if not path.is_dir():
        errors.print(f"error: {path} is not a folder", markup=False)
        raise typer.Exit(2)
    report = check_folder(path)
    for error in report.errors:
        errors.print(str(error), markup=False, highlight=False)
    if near_duplicates:
        _print_near_duplicates(report.articles, threshold)
    console.print(f"{len(report.articles)} article(s) valid, {len(report.errors)} error(s)")
    if report.errors:
        raise typer.Exit(1)


def _print_near_duplicates(articles: list[Article], threshold: float) -> None:
    from kb.bootstrap import load_encoder
    from kb.checks import near_duplicates

    with console.status("Comparing articles…", spinner="dots") if _show_progress() else nullcontext():
        pairs = near_duplicates(articles, load_encoder(Settings()), threshold=threshold)
    for pair in pairs:
        errors.print(
            f"warning: {pair.first.path} and {pair.second.path} are near-duplicates (cosine {pair.cosine:.3f})",
            markup=False, highlight=False,
        )


@app.command("eval")
def evaluate_command(
    dataset: Annotated[Path, typer.Argument(help="A BEIR-layout folder: corpus.jsonl, queries.jsonl, qrels.tsv.")],
    mode: Annotated[str, typer.Option(help="keyword, semantic, hybrid or all.")] = "all",
    baselines: Annotated[bool, typer.Option("--baselines", help="Also run plain BM25, plain dense and txtai hybrid.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
) -> None:
    """Measure search quality (nDCG@10, Recall@10/100, MRR@10) and latency on a data set, through kb's own pipeline."""
    from dataclasses import asdict

    from kb.bootstrap import load_encoder
    from kb.evaluation.beir import DatasetError, load_dataset
    from kb.evaluation.corpus import corpus_language
    from kb.evaluation.progress import stage_rows
    from kb.evaluation.run import baselines_for, evaluate
    from search.snapshot import MODES

    modes = list(MODES) if mode == "all" else [mode]
    if not set(modes) <= set(MODES):
        errors.print(f"error: --mode {mode!r}: use keyword, semantic, hybrid or all", markup=False)
        raise typer.Exit(2)
    try:
        data = load_dataset(dataset)
    except DatasetError as error:
        errors.print(f"error: {error}", markup=False)
        raise typer.Exit(2) from None
    settings = Settings()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    encoder = load_encoder(settings)
    with _progress() as bar:
        chosen = baselines_for(corpus_language(data.documents), settings=settings) if baselines else []
        report = evaluate(data, settings=settings, encoder=encoder, modes=modes, baselines=chosen, progress=stage_rows(bar))
    if as_json:
        sys.stdout.write(json.dumps(asdict(report), indent=2) + "\n")
        return
    _print_eval(report)


def _print_eval(report: EvalReport) -> None:
    from kb.evaluation.metrics import METRICS

    table = Table(title=f"{report.dataset} ({report.language}): {report.documents} documents, "
                        f"{report.chunks} chunks, {report.queries} queries")
    for column in ("system", *METRICS, "p50 ms", "p95 ms"):
        table.add_column(column, justify="right")
    for result in report.results:
        latency = [f"{result.latency_ms[p]:.1f}" if result.latency_ms else "" for p in ("p50", "p95")]
        table.add_row(result.name, *(f"{result.metrics[m]:.4f}" for m in METRICS), *latency)
    console.print(table)


def _check_database(settings: Settings) -> None:
    """Open the database once before serving: a damaged or unreachable one is said in one line, not a traceback."""
    from kb.db import make_engine

    settings.data_dir.mkdir(parents=True, exist_ok=True)  # where the default SQLite file goes
    make_engine(settings.database).dispose()


def _refuse_insecure(settings: Settings) -> None:
    """Say what is insecure and how to fix it, before uvicorn starts (the app refuses too, less readably)."""
    from kb.security import insecure_settings

    problems = insecure_settings(settings)
    if problems:
        errors.print("error: kb refuses to start with insecure settings:", markup=False)
        for problem in problems:
            errors.print(f"  - {problem}", markup=False)
        raise typer.Exit(2)


@app.command()
def token(
    subject: Annotated[str, typer.Option("--sub", help="Who the customer is (the token's sub).")],
    segments: Annotated[str, typer.Option(help="Comma-separated segments, e.g. enterprise,beta.")] = "",
    expires_in: Annotated[str, typer.Option(help="A lifetime such as 1h or 7d.")] = "1h",
) -> None:
    """Sign a customer token with KB_JWT_SECRET, as your login would: to try signed-in views and the site.

    Prints the token, then (on stderr) the site URL that signs a browser in with it.
    """
    from urllib.parse import urlencode

    from kb.keys import KeyRefused, parse_duration
    from kb.tokens import issue_customer_token

    settings = Settings()
    if settings.jwt_secret is None or not settings.jwt_secret.get_secret_value():
        errors.print("error: KB_JWT_SECRET is unset or empty, so kb accepts no customer tokens", markup=False)
        raise typer.Exit(2)
    try:
        lifetime = parse_duration(expires_in)
    except KeyRefused as error:
        errors.print(f"error: --expires-in: {error}", markup=False)
        raise typer.Exit(2) from None
    names = tuple(name.strip() for name in segments.split(",") if name.strip())
    signed = issue_customer_token(secret=settings.jwt_secret.get_secret_value(), subject=subject, segments=names,
                                  lifetime=lifetime, audience=settings.jwt_audience, issuer=settings.jwt_issuer)
    sys.stdout.write(signed + "\n")
    errors.print(f"sign a browser in: http://{settings.host}:{settings.port}/hc/session?{urlencode({'jwt': signed})}",
                 markup=False, highlight=False)


@access_app.command("explain")
def access_explain(
    article_id: Annotated[str, typer.Argument(metavar="ID")],
    locale: Annotated[str | None, typer.Option(help="en or ja; every locale when absent.")] = None,
    as_: Annotated[
        str, typer.Option("--as", help="anonymous, customer, customer:SEGMENT,…, bot, agent, writer, reviewer, admin.")
    ] = "anonymous",
) -> None:
    """Whether a principal can see an article at the served commit, and which rule decided."""
    from kb.access import parse_principal
    from kb.explain import ArticleNotFound, explain_access
    from kb.requests import InvalidRequest
    from kb.validation import articles_at

    try:
        principal = parse_principal(as_)
    except ValueError as error:
        errors.print(f"error: --as: {error}", markup=False)
        raise typer.Exit(2) from None
    with _content_repo() as repo:
        articles, rules = articles_at(repo, _served_commit(repo))
    try:
        explanations = explain_access(articles, rules, article_id, locale=locale, principal=principal)
    except (ArticleNotFound, InvalidRequest) as error:
        errors.print(f"error: {error}", markup=False)
        raise typer.Exit(2) from None
    for item in explanations:
        verdict = "[green]visible[/]" if item.visible else "[red]hidden[/]"
        console.print(f"{item.article_id} ({item.locale}, {item.path}) as {item.principal}: {verdict}")
        console.print(f"  audience {item.audience}, from {item.audience_rule}", markup=False, highlight=False)
        console.print(f"  status {item.status}", markup=False, highlight=False)
        console.print(f"  because {item.reason}", markup=False, highlight=False)


@access_app.command("audit")
def access_audit(
    url: Annotated[str, typer.Option(help="The running kb server to probe.")] = "http://127.0.0.1:8000",
    readers: Annotated[list[str] | None, typer.Option("--as", help="Only these principals (repeatable); all kinds by default.")] = None,
) -> None:
    """Probe every surface of a live server as every kind of reader, with the words of every article each may not see.

    Uses this machine's settings: the content repository (what exists and who may see it), the database
    (temporary API keys, revoked at the end) and KB_JWT_SECRET (customer tokens). Exits 1 on any finding.
    """
    import httpx

    from kb.audit import Auditor, subject_of
    from kb.validation import articles_at

    settings = Settings()
    with _content_repo() as repo:
        head = _served_commit(repo)
        articles, rules = articles_at(repo, head)
        first = repo.first_commit(head)
    wanted = _audit_principals(settings, sorted(rules.segments), readers)
    with _audit_readers(settings, wanted, articles) as audit_readers, httpx.Client(base_url=url, timeout=60) as client:
        auditor = Auditor(client, [subject_of(a) for a in articles], commits=(first, head))
        with _progress() as bar:
            task = bar.add_task("Probing", total=auditor.planned_probes(audit_readers))
            auditor.progress = lambda count: bar.advance(task, count)
            try:
                report = auditor.run(audit_readers)
            except httpx.HTTPError as error:
                errors.print(f"error: {url}: {error}", markup=False)
                raise typer.Exit(2) from None
    table = Table("surface", "probes")
    for surface, count in sorted(report.probes.items()):
        table.add_row(surface, str(count))
    console.print(table)
    console.print(f"{report.total} probes as {len(report.readers)} readers: {', '.join(report.readers)}", markup=False)
    if report.waited_seconds:
        console.print(f"waited {report.waited_seconds:.0f}s for the server's rate limits "
                      "(raise KB_RATE_LIMIT_ANONYMOUS while auditing to go faster)", markup=False)
    if report.findings:
        errors.print(f"{len(report.findings)} finding(s):", markup=False)
        for finding in report.findings:
            errors.print(f"  {finding}", markup=False, highlight=False)
        raise typer.Exit(1)
    console.print("no leaks found", markup=False)


def _audit_principals(settings: Settings, segments: list[str], chosen: list[str] | None) -> list[str]:
    """Every kind of reader (each declared segment as a customer), or the ones asked for."""
    from kb.access import parse_principal

    customers = ["customer", *(f"customer:{name}" for name in segments)] if settings.jwt_secret else []
    everyone = ["anonymous", *customers, "bot", "agent", "writer", "reviewer", "admin"]
    for label in chosen or []:
        try:
            parse_principal(label)
        except ValueError as error:
            errors.print(f"error: --as: {error}", markup=False)
            raise typer.Exit(2) from None
        if label.startswith("customer") and settings.jwt_secret is None:
            errors.print("error: --as customer needs KB_JWT_SECRET, to sign the customer's token", markup=False)
            raise typer.Exit(2)
    return chosen or everyone


@contextmanager
def _audit_readers(settings: Settings, labels: list[str], articles: list[Article]) -> Iterator[list[Reader]]:
    """Readers with real credentials: customer tokens signed now, API keys created now and revoked after."""
    from kb.access import parse_principal
    from kb.audit import Reader
    from kb.keys import create_key, revoke_key
    from kb.tokens import issue_customer_token

    engine = _engine()
    created: list[int] = []
    readers = []
    try:
        for label in labels:
            principal = parse_principal(label)
            headers: dict[str, str] = {}
            if principal.kind == "customer":
                assert settings.jwt_secret is not None  # _audit_principals offers customers only when there is one
                signed = issue_customer_token(secret=settings.jwt_secret.get_secret_value(), subject="kb-access-audit",
                                              segments=tuple(sorted(principal.segments)), audience=settings.jwt_audience,
                                              issuer=settings.jwt_issuer)
                headers["Authorization"] = f"Bearer {signed}"
            elif principal.kind != "anonymous":
                key = create_key(engine, name="kb access audit", role=principal.kind, expires_in="2h")
                created.append(key.id)
                headers["Authorization"] = f"Bearer {key.secret}"
            view = principal.view
            visible = frozenset(a.key for a in articles if view.can_see(a))
            readers.append(Reader(label, headers, visible, staff=view.staff, admin=principal.kind == "admin"))
        yield readers
    finally:
        for key_id in created:
            revoke_key(engine, key_id)

"""Who may see and do what: `kb keys`, `kb token`, `kb access explain`, `kb access audit`."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from kb.cli.common import console, content_repo, errors, open_engine, progress_bar, served_commit
from kb.core.settings import Settings

if TYPE_CHECKING:
    from articles.model import Article
    from kb.access.audit import Reader


def keys_create(
    role: Annotated[str, typer.Option(help="agent, bot, writer, reviewer or admin.")],
    name: Annotated[str, typer.Option(help="Who or what uses the key, e.g. helpdesk.")],
    expires_in: Annotated[str | None, typer.Option(help="A lifetime such as 90d or 12h; none when absent.")] = None,
) -> None:
    """Create a key and print it once: only its digest is stored."""
    from kb.access.keys import KeyRefused, create_key

    try:
        new = create_key(open_engine(), name=name, role=role, expires_in=expires_in)
    except KeyRefused as error:
        errors.print(f"error: {error}", markup=False)
        raise typer.Exit(2) from None
    sys.stdout.write(new.secret + "\n")
    errors.print(f"key {new.record.id} ({new.record.role}, {new.record.name}) created; it will not be shown again", markup=False)


def keys_list() -> None:
    """Every key with its id, role, name, prefix and state; never the key itself."""
    from kb.access.keys import list_keys

    table = Table("id", "role", "name", "prefix", "created", "expires", "state")
    for key in list_keys(open_engine()):
        state = "revoked" if key.revoked_at else "active"
        table.add_row(
            str(key.id),
            key.role,
            key.name,
            f"kb_{key.prefix}_…",
            key.created_at.strftime("%Y-%m-%d"),
            key.expires_at.strftime("%Y-%m-%d %H:%M") if key.expires_at else "never",
            state,
        )
    console.print(table)


def keys_revoke(key_id: Annotated[int, typer.Argument(metavar="ID", help="The id `kb keys list` shows.")]) -> None:
    """Revoke a key; the next request that presents it gets a 401."""
    from kb.access.keys import KeyRefused, revoke_key

    try:
        record = revoke_key(open_engine(), key_id)
    except KeyRefused as error:
        errors.print(f"error: {error}", markup=False)
        raise typer.Exit(2) from None
    console.print(f"key {record.id} ({record.role}, {record.name}) revoked", markup=False)


def token(
    subject: Annotated[str, typer.Option("--sub", help="Who the customer is (the token's sub).")],
    segments: Annotated[str, typer.Option(help="Comma-separated segments, e.g. enterprise,beta.")] = "",
    expires_in: Annotated[str, typer.Option(help="A lifetime such as 1h or 7d.")] = "1h",
) -> None:
    """Sign a customer token with KB_JWT_SECRET, as your login would: to try signed-in views and the site.

    Prints the token, then (on stderr) the site URL that signs a browser in with it.
    """
    from urllib.parse import urlencode

    from kb.access.keys import KeyRefused, parse_duration
    from kb.access.tokens import issue_customer_token

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
    signed = issue_customer_token(
        secret=settings.jwt_secret.get_secret_value(),
        subject=subject,
        segments=names,
        lifetime=lifetime,
        audience=settings.jwt_audience,
        issuer=settings.jwt_issuer,
    )
    sys.stdout.write(signed + "\n")
    errors.print(
        f"sign a browser in: http://{settings.host}:{settings.port}/hc/session?{urlencode({'jwt': signed})}", markup=False, highlight=False
    )


def access_explain(
    article_id: Annotated[str, typer.Argument(metavar="ID")],
    locale: Annotated[str | None, typer.Option(help="en or ja; every locale when absent.")] = None,
    as_: Annotated[
        str, typer.Option("--as", help="anonymous, customer, customer:SEGMENT,…, bot, agent, writer, reviewer, admin.")
    ] = "anonymous",
) -> None:
    """Whether a principal can see an article at the served commit, and which rule decided."""
    from kb.access.explain import ArticleNotFound, explain_access
    from kb.access.published import articles_at
    from kb.access.rules import parse_principal
    from kb.core.requests import InvalidRequest

    try:
        principal = parse_principal(as_)
    except ValueError as error:
        errors.print(f"error: --as: {error}", markup=False)
        raise typer.Exit(2) from None
    with content_repo() as repo:
        articles, rules = articles_at(repo, served_commit(repo))
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


def access_audit(
    url: Annotated[str, typer.Option(help="The running kb server to probe.")] = "http://127.0.0.1:8000",
    readers: Annotated[list[str] | None, typer.Option("--as", help="Only these principals (repeatable); all kinds by default.")] = None,
) -> None:
    """Probe every surface of a live server as every kind of reader, with the words of every article each may not see.

    Uses this machine's settings: the content repository (what exists and who may see it), the database
    (temporary API keys, revoked at the end) and KB_JWT_SECRET (customer tokens). Exits 1 on any finding.
    """
    import httpx

    from kb.access.audit import Auditor, subject_of
    from kb.access.published import articles_at

    settings = Settings()
    with content_repo() as repo:
        head = served_commit(repo)
        articles, rules = articles_at(repo, head)
        first = repo.first_commit(head)
    wanted = _audit_principals(settings, sorted(rules.segments), readers)
    with _audit_readers(settings, wanted, articles) as audit_readers, httpx.Client(base_url=url, timeout=60) as client:
        auditor = Auditor(client, [subject_of(a) for a in articles], commits=(first, head))
        with progress_bar() as bar:
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
        console.print(
            f"waited {report.waited_seconds:.0f}s for the server's rate limits (raise KB_RATE_LIMIT_ANONYMOUS while auditing to go faster)",
            markup=False,
        )
    if report.findings:
        errors.print(f"{len(report.findings)} finding(s):", markup=False)
        for finding in report.findings:
            errors.print(f"  {finding}", markup=False, highlight=False)
        raise typer.Exit(1)
    console.print("no leaks found", markup=False)


def _audit_principals(settings: Settings, segments: list[str], chosen: list[str] | None) -> list[str]:
    """Every kind of reader (each declared segment as a customer), or the ones asked for."""
    from kb.access.rules import parse_principal

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
    from kb.access.audit import Reader
    from kb.access.keys import create_key, revoke_key
    from kb.access.rules import parse_principal
    from kb.access.tokens import issue_customer_token

    engine = open_engine()
    created: list[int] = []
    readers = []
    try:
        for label in labels:
            principal = parse_principal(label)
            headers: dict[str, str] = {}
            if principal.kind == "customer":
                assert settings.jwt_secret is not None  # _audit_principals offers customers only when there is one
                signed = issue_customer_token(
                    secret=settings.jwt_secret.get_secret_value(),
                    subject="kb-access-audit",
                    segments=tuple(sorted(principal.segments)),
                    audience=settings.jwt_audience,
                    issuer=settings.jwt_issuer,
                )
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

"""A data set's corpus as a content repository of Markdown articles, so it is indexed as real content is."""

from __future__ import annotations

import json
import re
import tempfile
from collections.abc import Sequence
from pathlib import Path

from kb.evaluation.baselines import Document
from search.analyze import query_language
from versioning.bootstrap import create_repo_from_folder

_NOT_SLUG = re.compile(r"[^a-z0-9_-]+")
_BLOCK_MARKER = re.compile(r"^(\s{0,3})(#|>|---|===)", re.MULTILINE)
_TITLE_FALLBACK_CHARS = 80


def corpus_language(documents: Sequence[Document], *, sample: int = 200) -> str:
    """"ja" when most of a sample of documents are in Japanese script, else "en"."""
    picked = documents[:: max(1, len(documents) // sample)]
    japanese = sum(query_language(f"{doc.title} {doc.text}") == "ja" for doc in picked)
    return "ja" if japanese * 2 > len(picked) else "en"


def article_ids(documents: Sequence[Document]) -> dict[str, str]:
    """A valid, unique article id for every document id (BEIR ids may hold capitals or punctuation)."""
    ids: dict[str, str] = {}
    taken: set[str] = set()
    for document in documents:
        base = _NOT_SLUG.sub("-", document.id.lower()).strip("-_")[:100] or "doc"
        candidate, number = base, 1
        while candidate in taken:
            candidate, number = f"{base}-{number}", number + 1
        taken.add(candidate)
        ids[document.id] = candidate
    return ids


def article_markdown(document: Document, *, article_id: str, locale: str) -> str:
    """The document as an article: its title in front matter, its text as the body.

    Lines that Markdown would read as headings, quotes or rules are escaped so the text stays text:
    the corpus has no structure of its own to give sections.
    """
    title = document.title.strip() or document.text.strip()[:_TITLE_FALLBACK_CHARS] or document.id
    body = _BLOCK_MARKER.sub(r"\1\\\2", document.text)
    return f"---\nid: {article_id}\ntitle: {json.dumps(title, ensure_ascii=False)}\nlocale: {locale}\n---\n\n{body}\n"


def write_repository(documents: Sequence[Document], destination: Path, *, locale: str) -> dict[str, str]:
    """Create a Git repository of one article per document at ``destination``; returns article id → document id."""
    ids = article_ids(documents)
    with tempfile.TemporaryDirectory(prefix="kb-eval-") as staging:
        folder = Path(staging) / locale
        folder.mkdir()
        for document in documents:
            text = article_markdown(document, article_id=ids[document.id], locale=locale)
            (folder / f"{ids[document.id]}.md").write_text(text, encoding="utf-8")
        create_repo_from_folder(Path(staging), destination, message="Import evaluation corpus").close()
    return {article_id: document_id for document_id, article_id in ids.items()}

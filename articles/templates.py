"""Article templates: `.kb/templates/NAME.md` in the content repository (seed 000's how-to, troubleshooting…).

A template is a Markdown file like an article, whose front matter says what it is for and what a new
article starts with, and whose body is the skeleton a writer fills in. ``NAME.ja.md`` is its Japanese
variant (headings in Japanese); an article in a language without a variant uses ``NAME.md``. The H2
headings of the body are the sections every article following it must have, unless ``required_sections``
names fewer. `kb new --template NAME` and proposals start from one; `kb check` warns when an article
whose front matter says ``template: NAME`` lacks a required section.

```markdown
---
description: One task, step by step.
required_sections: [Before you start, Steps]
front_matter: {category: account, review_every: 180d}
---
What the reader will have done at the end, in one sentence.

## Before you start
## Steps
## If it does not work
```
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from articles.model import LOCALES, Article, ArticleError, FrontMatter
from articles.parse import InvalidArticle, parse_article, split_document
from articles.sections import split_sections

TEMPLATES_DIR = ".kb/templates"
_NAME = re.compile(rf"^{re.escape(TEMPLATES_DIR)}/([a-z0-9][a-z0-9_-]{{0,127}})(?:\.({'|'.join(LOCALES)}))?\.md$")
SET_BY_KB = ("id", "title", "locale", "template")
"""Front matter a new article gets from the writer and the template's name, never from the template's defaults."""


class _TemplateFront(BaseModel):
    model_config = ConfigDict(extra="forbid")
    description: str = ""
    required_sections: list[str] | None = Field(default=None, description="H2 headings required; every H2 of the body when absent.")
    front_matter: dict[str, object] = Field(default_factory=dict, description="What a new article's front matter starts with.")


@dataclass(frozen=True)
class Template:
    name: str
    locale: str | None
    """The language of its headings; None for the default variant."""
    path: str
    description: str
    front_matter: Mapping[str, object]
    body: str
    required: tuple[str, ...]


def is_template_path(path: str) -> bool:
    return _NAME.match(path) is not None


def parse_template(path: str, data: bytes) -> Template:
    """A template file, checked: its front matter's fields, and the defaults it gives a new article valid as front matter.

    Raises ``InvalidArticle`` naming the file and field, as an article's problems are named.
    """
    found = _NAME.match(path)
    if found is None:
        raise InvalidArticle(ArticleError(path, "path", f"a template is {TEMPLATES_DIR}/NAME.md or NAME.ja.md (NAME: a-z, 0-9, - and _)"))
    front_data, body = split_document(path, data)
    try:
        front = _TemplateFront.model_validate(front_data)
    except ValidationError as error:
        first = error.errors()[0]
        raise InvalidArticle(ArticleError(path, ".".join(str(p) for p in first["loc"]), first["msg"])) from None
    taken = sorted(set(front.front_matter) & set(SET_BY_KB))
    if taken:
        reason = f"{', '.join(taken)} come from the writer and the template's name, not its defaults"
        raise InvalidArticle(ArticleError(path, "front_matter", reason))
    try:
        FrontMatter.model_validate({"id": "x", "title": "x", **front.front_matter})
    except ValidationError as error:
        first = error.errors()[0]
        raise InvalidArticle(ArticleError(path, "front_matter." + ".".join(str(p) for p in first["loc"]), first["msg"])) from None
    headings = h2_headings(body)
    required = tuple(front.required_sections) if front.required_sections is not None else tuple(headings)
    missing = [heading for heading in required if _key(heading) not in {_key(h) for h in headings}]
    if missing:
        raise InvalidArticle(ArticleError(path, "required_sections", f"names {', '.join(map(repr, missing))}, not an H2 of the template"))
    return Template(found[1], found[2], path, front.description, front.front_matter, body, required)


def parse_templates(files: Iterable[tuple[str, bytes]]) -> tuple[dict[tuple[str, str | None], Template], list[ArticleError]]:
    """The templates among ``files`` (path, bytes), by name and locale, and the problems of those that are broken."""
    found: dict[tuple[str, str | None], Template] = {}
    errors: list[ArticleError] = []
    for path, data in files:
        if not path.startswith(TEMPLATES_DIR + "/") or not path.endswith(".md"):
            continue
        try:
            template = parse_template(path, data)
        except InvalidArticle as invalid:
            errors.append(invalid.error)
            continue
        found[(template.name, template.locale)] = template
    return found, errors


def template_for(templates: Mapping[tuple[str, str | None], Template], name: str, locale: str) -> Template | None:
    """The variant of ``name`` in ``locale``, else its default one."""
    return templates.get((name, locale)) or templates.get((name, None))


BLANK_BODY = "Say in one sentence what the reader will be able to do.\n"


def new_article(template: Template | None, *, article_id: str, title: str, locale: str, extra: Mapping[str, object] = {}) -> str:
    """A new article's Markdown from a template (or a blank page): its front matter (id, title, locale, the template's
    name and defaults, then ``extra``, e.g. a draft status or the questions it answers) and the template's body.

    The result parses as an article (checked here: an ``InvalidArticle`` names what is wrong), so what a writer
    or a proposal starts from is valid.
    """
    front: dict[str, object] = {"id": article_id, "title": title, "locale": locale}
    if template is not None:
        front |= {"template": template.name, **template.front_matter}
    front |= extra
    body = template.body.lstrip("\n") if template is not None else BLANK_BODY
    text = "---\n" + yaml.safe_dump(front, allow_unicode=True, sort_keys=False) + "---\n" + body
    parse_article(f"{locale}/{article_id}.md", text.encode())  # raises InvalidArticle naming what is wrong
    return text


def h2_headings(body: str) -> list[str]:
    """The H2 headings of a Markdown body, in order."""
    return [section.heading_path[0] for section in split_sections(body) if len(section.heading_path) == 1]


def missing_sections(article: Article, template: Template) -> list[str]:
    """The template's required sections the article has no H2 for (headings compared without case or spacing)."""
    present = {_key(heading) for heading in h2_headings(article.body)}
    return [heading for heading in template.required if _key(heading) not in present]


def _key(heading: str) -> str:
    return " ".join(unicodedata.normalize("NFKC", heading).casefold().split())

""".kb/synonyms.yml: the other names customers call things by, per locale, so that a search finds an article
written with a different word ("log in" for "sign in", "bill" for "invoice", ログイン for サインイン).

The file lives in the content repository, reviewed and versioned with the articles it serves::

    en:
      - [sign in, log in, login]        # two-way: each of them finds the others
      - from: phone                      # one-way: "phone" also finds these, not the other way round
        to: [mobile, cell phone]
    ja:
      - [ログイン, サインイン]

Phrases are matched on the query's words as the index reads them (lowercased, stemmed; Sudachi's words
in Japanese), so "logging in" meets "log in". A matched phrase adds the terms of its synonyms to the
query's lexical side at their own weights, and a chunk that holds every content word of a synonym
counts as holding the words it stands for (the answer gate, `search/lexical.py`); a one-word synonym is
marked in snippets. The model reads the query as typed: it knows synonyms of its own.

A file is at most 256 KB, a group or a side of a one-way rule at most 20 phrases, and the whole file at
most 5,000 phrases that find others (YAML aliases counted each time they are used): matching them is
part of every search.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Annotated

import yaml
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, TypeAdapter, ValidationError

from articles.model import LOCALES
from search.analyze import Analyzer, QueryTerms, query_terms

SYNONYMS_FILE = ".kb/synonyms.yml"
MAX_FILE_BYTES = 256 * 1024
MAX_PHRASE_CHARS = 100
MAX_RULES = 2000
"""Entries per locale: a vocabulary, not a thesaurus."""
MAX_PHRASES = 20
"""Phrases in one group, or on one side of a one-way rule: a two-way group of n phrases is n × (n − 1) pairs."""
MAX_ROWS = 5000
"""Phrases that find others, over the whole file (YAML aliases counted as often as they are used): every
query is matched against each of them."""
MAX_EXPANSIONS = 8
"""Synonym phrases one query adds, at most: a long ticket matching many rules stays a query about itself."""


def _phrase(value: object) -> object:
    if isinstance(value, bool) or value is None:
        raise ValueError("YAML reads yes, no, on, off, true, false and ~ as other things than text: put the phrase in quotes")
    if isinstance(value, int | float):
        value = str(value)  # 404, 2.0: error codes and versions are phrases too
    if not isinstance(value, str):
        raise ValueError("a phrase is a text")
    phrase = " ".join(value.split())
    if not phrase or not re.search(r"\w", phrase):
        raise ValueError(f"{value!r} has no word in it")
    if len(phrase) > MAX_PHRASE_CHARS:
        raise ValueError(f"a phrase is at most {MAX_PHRASE_CHARS} characters")
    return phrase


Phrase = Annotated[str, BeforeValidator(_phrase)]


def _listed(value: object) -> object:
    """One phrase or a list of them."""
    return [value] if isinstance(value, str | int | float) and not isinstance(value, bool) else value


class OneWay(BaseModel):
    """``from`` (one phrase or several) also finds ``to``; ``to`` does not find ``from``."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    source: Annotated[list[Phrase], BeforeValidator(_listed), Field(alias="from", min_length=1, max_length=MAX_PHRASES)]
    to: Annotated[list[Phrase], BeforeValidator(_listed), Field(min_length=1, max_length=MAX_PHRASES)]


_TWO_WAY: TypeAdapter[list[str]] = TypeAdapter(Annotated[list[Phrase], Field(min_length=2, max_length=MAX_PHRASES)])


class SynonymsError(ValueError):
    """A broken .kb/synonyms.yml: which entry (``en.2.to``) and why."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{SYNONYMS_FILE}: {field}: {reason}")
        self.field = field
        self.reason = reason


@dataclass(frozen=True)
class Synonyms:
    """Per locale, each phrase and the phrases it also finds."""

    rules: tuple[tuple[str, str, tuple[str, ...]], ...] = ()
    """(locale, phrase, what it also finds), in the file's order."""

    def compiled(self, analyzer: Analyzer) -> SynonymTable:
        """The rules analysed once, as queries are: each phrase's words (what a query is matched on, no character
        pairs) and each synonym's terms (what a matching query adds)."""
        analysed: dict[str, tuple[tuple[str, ...], QueryTerms]] = {}

        def analyse(phrase: str) -> tuple[tuple[str, ...], QueryTerms]:
            if phrase not in analysed:
                tokens = analyzer.tokens(phrase)
                analysed[phrase] = (tuple(token.term for token in tokens if not token.pair), query_terms(tokens))
            return analysed[phrase]

        table: dict[str, list[tuple[tuple[str, ...], tuple[tuple[str, QueryTerms], ...]]]] = {}
        for locale, phrase, finds in self.rules:
            words = analyse(phrase)[0]
            if words:
                table.setdefault(locale, []).append((words, tuple((synonym, analyse(synonym)[1]) for synonym in finds)))
        return SynonymTable({locale: tuple(rules) for locale, rules in table.items()})


NO_SYNONYMS = Synonyms()


@dataclass(frozen=True)
class Expansion:
    """A phrase the query holds (``words``, as analysed) and a synonym it also finds (as written, and its terms)."""

    words: tuple[str, ...]
    synonym: str
    terms: QueryTerms


@dataclass(frozen=True)
class SynonymTable:
    """:class:`Synonyms` analysed: per locale, (a phrase's words, the phrases it also finds with their terms)."""

    rules: dict[str, tuple[tuple[tuple[str, ...], tuple[tuple[str, QueryTerms], ...]], ...]]

    def expansions(self, locale: str, words: list[str]) -> list[Expansion]:
        """The synonyms that a query of ``words`` (its word terms, in order) also finds in ``locale``, each once."""
        found: dict[str, Expansion] = {}
        for phrase, finds in self.rules.get(locale, ()):
            if _contains(words, phrase):
                for synonym, terms in finds:
                    found.setdefault(synonym, Expansion(phrase, synonym, terms))
                    if len(found) >= MAX_EXPANSIONS:
                        return list(found.values())
        return list(found.values())


def _contains(words: list[str], phrase: tuple[str, ...]) -> bool:
    """Whether ``phrase`` stands in ``words`` as a run of consecutive words."""
    size = len(phrase)
    first = phrase[0]
    return any(word == first and tuple(words[i : i + size]) == phrase for i, word in enumerate(words))


def _rule(locale: str, number: int, entry: object) -> list[tuple[str, str, tuple[str, ...]]]:
    """One entry of the file as (locale, phrase, what it also finds) rows; :class:`SynonymsError` names its fault."""
    try:
        if isinstance(entry, list):
            group = _TWO_WAY.validate_python(entry)
            return [(locale, phrase, tuple(other for other in group if other != phrase)) for phrase in group]
        if isinstance(entry, dict):
            one_way = OneWay.model_validate(entry)
            return [(locale, phrase, tuple(one_way.to)) for phrase in one_way.source]
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(part) for part in (locale, number, *first["loc"]))
        raise SynonymsError(where, first["msg"]) from None
    raise SynonymsError(f"{locale}.{number}", "a rule is a list of phrases (two-way) or from: and to: (one-way)")


def parse_synonyms(data: bytes | None) -> Synonyms:
    """The rules of a .kb/synonyms.yml (None: no file, no synonyms); :class:`SynonymsError` names a broken entry."""
    if data is None:
        return NO_SYNONYMS
    if len(data) > MAX_FILE_BYTES:
        raise SynonymsError("(file)", f"{len(data)} bytes; kb reads synonyms files up to {MAX_FILE_BYTES}")
    try:
        raw = yaml.safe_load(data.decode("utf-8"))
    except (UnicodeDecodeError, yaml.YAMLError) as error:
        raise SynonymsError("(file)", f"not readable YAML: {error}") from None
    if raw is None:
        return NO_SYNONYMS
    if not isinstance(raw, dict):
        raise SynonymsError("(file)", "write one list of rules per locale, e.g. en: [[sign in, log in]]")
    rules: list[tuple[str, str, tuple[str, ...]]] = []
    for locale, entries in raw.items():
        if locale not in LOCALES:
            raise SynonymsError(str(locale), f"unknown locale; kb has {', '.join(LOCALES)}")
        if not isinstance(entries, list) or len(entries) > MAX_RULES:
            raise SynonymsError(locale, f"write a list of at most {MAX_RULES} rules")
        for number, entry in enumerate(entries):
            rules += _rule(locale, number, entry)
            if len(rules) > MAX_ROWS:
                reason = f"more than {MAX_ROWS} phrases finding others in the file (aliases counted as often as used)"
                raise SynonymsError(f"{locale}.{number}", reason)
    return Synonyms(tuple(rules))

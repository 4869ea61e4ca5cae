"""Text analysis for the lexical index: one analyser that routes each script run to its language's rules."""

from __future__ import annotations

import re
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import NamedTuple

import bm25s.stopwords
import Stemmer

# Runs of Japanese script (kana, CJK ideographs, the long-vowel mark, half-width katakana). Everything
# else goes through the English rules, so ASCII identifiers inside Japanese text (E1042, SAML, 2FA) are
# analysed exactly as they are in English text and a query in either language finds them.
_CJK_RUN = re.compile(r"[\u3041-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff66-\uff9f々〆ヵヶ]+")
# A word: letters and digits, keeping internal dots, dashes and underscores out so that "X-Orbitly-Signature"
# matches "signature" while "E1042" and "2FA" stay whole.
_WORD = re.compile(r"[^\W_]+", re.UNICODE)
# Full-width ASCII (Ｅ１０４２) maps one-to-one onto ASCII, so offsets into the original text stay valid.
_FULLWIDTH = str.maketrans({chr(c): chr(c - 0xFEE0) for c in range(0xFF01, 0xFF5F)} | {"\u3000": " "})
# Sudachi refuses inputs over ~49 KB; long texts are fed to it in pieces cut at these characters.
_SUDACHI_MAX_CHARS = 4000
# Parts of speech that carry no meaning for retrieval: particles, auxiliary verbs, punctuation, blanks.
_JA_DROPPED_POS = frozenset({"助詞", "助動詞", "補助記号", "空白"})
# Function words: kept in the index and in scoring (dropping them cost "IT", "not" and "no"), but a
# query's matches must include at least one word that is not one of them, and they are not
# highlighted. English: NLTK's list, which bm25s ships. Japanese: Sudachi's parts of speech (particles
# and auxiliaries are dropped outright, above), plus the light verbs, adjectives and formal nouns
# that Sudachi tags like content words, by normalised form. (stopwords-iso's Japanese list was the
# library candidate; its package imports pkg_resources, which Python 3.11 environments lack.)
STOP_WORDS_EN = frozenset(bm25s.stopwords.STOPWORDS_EN_PLUS)
ENGLISH_FUNCTION_WEIGHT = 0.25
"""How much an English function word counts in a query's BM25 against a content word (1): "how do I"
rarely says what a question is about, yet "can", "not" or "after" sometimes do. `python -m
bench.lexical_scoring SET`, kb keyword nDCG@10 (title ×2, articles scored 0.7 best chunk + 0.3 whole):

| function words | australia | cdc    | stackfaq | doc2dial-dev | doc2dial-abstain | mean   |
| -------------- | --------- | ------ | -------- | ------------ | ---------------- | ------ |
| dropped (0)    | 0.5667    | 0.6612 | 0.7693   | 0.5483       | 0.5537           | 0.6198 |
| **0.25**       | 0.5645    | 0.6750 | 0.7789   | 0.5478       | 0.5540           | 0.6240 |
| 0.5            | 0.5640    | 0.6768 | 0.7796   | 0.5334       | 0.5386           | 0.6185 |
| 1 (as before)  | 0.5501    | 0.6680 | 0.7589   | 0.4959       | 0.5003           | 0.5946 |
| plain BM25     | 0.5497    | 0.6659 | 0.7341   | 0.5034       | 0.5125           | 0.5931 |

Left out in turn, each set's four others choose 0.25, and at 0.25 every set is above plain BM25
(which drops 33 stop words outright, a third of NLTK's list: dropping that shorter list instead
scored 0.5413 on australia). Japanese function words (Sudachi's pronouns, adverbs, light verbs) count
fully: one Japanese set cannot justify another weight (jsquad would take 0.5: 0.9431 against 0.9418)."""
_JA_FUNCTION_POS = frozenset({"代名詞", "連体詞", "接続詞", "感動詞", "副詞"})
_JA_LIGHT_WORDS = frozenset(
    {"為る", "居る", "有る", "成る", "出来る", "言う", "無い", "良い", "欲しい", "下さる", "こと", "物", "為", "所", "時", "よう"}
)


@dataclass(frozen=True)
class Token:
    """An index term and where it came from in the text, so snippets can highlight the original words."""

    term: str
    start: int
    end: int
    content: bool = True
    """False for function words ("the", "was", "する"): they rank, but alone they match nothing."""
    weight: float = 1.0
    """How much the term counts when a query is scored (:data:`ENGLISH_FUNCTION_WEIGHT`)."""
    pair: bool = False
    """A character pair of a Japanese run, not a word: it finds compounds, and lies inside other words too."""


class Word(NamedTuple):
    """A word of a query as a chunk can hold it: as its own term, or spelled out, every character pair of it present.

    Spelled out is how a compound that the text's words split otherwise holds it; a chunk holding only
    some of the pairs holds pieces of other words (ワー of ワークスペース, ード of コード), not this one.
    A tuple, not a dataclass: a query's words are hashed tens of times a search.
    """

    term: str
    pairs: tuple[str, ...]
    """Its spelling's character pairs, in order (none for a word of one character)."""


Need = tuple[Word, ...]
"""Where a character pair of a query counts: in a document holding a content word it lies across in the
query, one of one or two (ワー of パスワード: パスワード; 階認 of 段階認証: 段階 or 認証). A document holding
none of them holds the pair inside other words (ワークスペース). A pair touching no content word (した of
しました: a light verb and an auxiliary) counts nowhere: grammar is no evidence of a topic.

jsquad nDCG@10, keyword / hybrid, by what a pair across two words needs: either content word 0.9422 /
0.9419; either word, function words too 0.9420 / 0.9417; both words 0.9417 / 0.9414; the first 0.9419 /
0.9416; the last 0.9418 / 0.9415; pairs counted everywhere (before) 0.9418 / 0.9415. Pairs of
grammar counted everywhere instead of nowhere: 0.9417 / 0.9414 (with both words). Either, not both: a
pair across two words adds that they stand together, and a text's compound often holds one of them
inside a word the query's split does not make (a word of one character has no pairs to be spelled out
with). Content words only: a function word (為る, 居る) stands in nearly every document, so holding a
pair to it holds it to nothing, and reading its postings cost more than the rest of the query."""


@dataclass(frozen=True)
class QueryTerms:
    """A query as the lexical index reads it."""

    terms: list[str]
    """Every term, in order, repeats included: what BM25 scores with."""
    weights: list[float]
    """Each term's weight in that score, in the same order."""
    content: list[str]
    """The distinct terms of content words: what the answer gate weighs, and the only terms highlighted."""
    needs: tuple[Need | None, ...] = ()
    """Per term, in the same order: None for a word, which counts wherever it stands; a Japanese character
    pair's :data:`Need`, for a pair inside an unrelated word of a chunk neither scores, covers nor is
    marked. Empty for a query without pairs."""
    words: tuple[Word, ...] = ()
    """Every content word that a pair of the query needs, each once."""
    alternatives: Mapping[str, tuple[tuple[str, ...], ...]] = field(default_factory=dict)
    """Per content term, groups of terms a chunk may hold in its place, all of a group together: a mistyped
    word's other readings (a group of one each, `search/typos.py`), the content words of a synonym of the
    phrase it is in (`search/synonyms.py`). The answer gate counts the term as held where a whole group is."""
    read_as: tuple[tuple[str, str], ...] = ()
    """Each mistyped word of the query (as typed, lowercased, once) and the word it was read as: what a page says it searched."""
    expansion: int = 0
    """How many of the last terms stand for the query's words rather than being them (other readings,
    synonyms): scored, but the query's own words and pairs are the ones before them."""

    @property
    def needs_per_term(self) -> tuple[Need | None, ...]:
        """:attr:`needs` with an entry for every term, also for a query without pairs (all None)."""
        return self.needs or (None,) * len(self.terms)

    @property
    def standing_in(self) -> list[str]:
        """The terms that stand alone for a content word (a reading, a one-word synonym): marked where they stand."""
        return list(dict.fromkeys(group[0] for groups in self.alternatives.values() for group in groups if len(group) == 1))

    @cached_property
    def pairs_only(self) -> dict[str, tuple[Need, ...]]:
        """The terms that stand in the query only as character pairs, never as a word, each with the needs of its places.

        The query's own terms only: a synonym's word (イン of サインイン) must not make the query's pair (イン of
        ログイン) count anywhere."""
        places: dict[str, dict[Need, None]] = {}
        words = set()
        own = len(self.terms) - self.expansion
        for term, need in zip(self.terms[:own], self.needs[:own], strict=False):  # no needs: no pairs
            if need is None:
                words.add(term)
            else:
                places.setdefault(term, {})[need] = None
        return {term: tuple(needs) for term, needs in places.items() if term not in words}

    def followed_by(self, later: QueryTerms) -> QueryTerms:
        """This text's terms then ``later``'s, as one query; the content words ``later``'s own when it has any.

        How a conversation's last turn is read after the turns before it (`search/query.py`); only the last
        turn is expanded (readings, synonyms), so its expansion stays the last terms.
        """
        needs = self.needs_per_term + later.needs_per_term
        return QueryTerms(
            terms=self.terms + later.terms,
            weights=self.weights + later.weights,
            content=later.content if later.content else list(dict.fromkeys(self.content)),
            needs=needs if self.needs or later.needs else (),
            words=tuple(dict.fromkeys((*self.words, *later.words))),
            alternatives={**self.alternatives, **later.alternatives},
            read_as=self.read_as + later.read_as,
            expansion=later.expansion,
        )

    def with_readings(self, readings: Mapping[int, tuple[str, str, Sequence[Token]]]) -> QueryTerms:
        """This query with the term at each position of ``readings`` read as other words: (as typed, the best
        reading as written, every reading's token, best first).

        The best reading takes the mistyped term's place (in the content words too); the others are scored
        beside it at their own weights and held in its stead (:attr:`alternatives`).
        """
        terms, weights, extra = list(self.terms), list(self.weights), []
        alternatives, replaced, read_as = dict(self.alternatives), {}, {}
        for position, (typed, written, (best, *others)) in sorted(readings.items()):
            replaced[terms[position]] = best
            terms[position], weights[position] = best.term, best.weight
            if typed in read_as:  # typed twice: its other readings are scored once
                continue
            read_as[typed] = written
            others = [other for other in others if other.term != best.term]
            extra += others
            if others:
                alternatives[best.term] = tuple(dict.fromkeys((other.term,) for other in others))
        content = [replaced[term].term if term in replaced else term for term in self.content]
        content = [term for term in content if all(token.term != term or token.content for token in replaced.values())]
        return QueryTerms(
            terms=terms + [token.term for token in extra],
            weights=weights + [token.weight for token in extra],
            content=list(dict.fromkeys(content)),
            needs=self.needs + (None,) * len(extra) if self.needs else (),
            words=self.words,
            alternatives=alternatives,
            read_as=self.read_as + tuple(read_as.items()),
            expansion=self.expansion + len(extra),
        )

    def with_synonym(self, phrase: Sequence[str], synonym: QueryTerms) -> QueryTerms:
        """This query and the terms of a synonym of ``phrase`` (words of this query), scored at their own weights.

        A chunk holding every content word of the synonym holds the phrase's: its content terms, and the
        character pairs of its Japanese words, get them as one group of :attr:`alternatives`.
        """
        words = set(phrase)
        group = tuple(dict.fromkeys(
            term for term, need in zip(synonym.terms, synonym.needs_per_term, strict=True)
            if need is None and term in synonym.content
        ))  # fmt: skip
        needs = self.needs_per_term
        standing = {term for term in self.content if term in words}
        standing |= {term for term, need in zip(self.terms, needs, strict=True) if need and any(w.term in words for w in need)}
        alternatives = dict(self.alternatives)
        for term in standing & set(self.content) if group else ():
            alternatives[term] = tuple(dict.fromkeys((*alternatives.get(term, ()), group)))
        joined = self.needs or synonym.needs
        return QueryTerms(
            terms=self.terms + synonym.terms,
            weights=self.weights + synonym.weights,
            content=self.content,
            needs=needs + synonym.needs_per_term if joined else (),
            words=tuple(dict.fromkeys((*self.words, *synonym.words))),
            alternatives=alternatives,
            read_as=self.read_as,
            expansion=self.expansion + len(synonym.terms),
        )


class Analyzer:
    """English: lowercase and Snowball stemming. Japanese: SudachiPy words plus character bigrams.

    One analyser serves every locale: each run of text is analysed by the rules of its script, so a
    mixed query ("E1042 エラー") and mixed articles need no language detection. Sudachi tokenizers are
    not thread-safe, hence one per thread.

    Measured by `python -m bench.analysers` (plain bm25s over title + text, nDCG@10; the table is in
    docs/benchmarks.md):
    - English: Snowball stems +0.037 over lowercase words on the mean of the three English sets
      (0.644 vs 0.607). Dropping bm25s's 33 English stop words adds 0.002 on that mean (−0.001 on
      feedbackqa-australia) and deletes "IT", "not" and "no", so there are none.
    - Japanese (jsquad): character bigrams 0.9320, Sudachi words 0.9350, MeCab words (fugashi,
      unidic-lite) 0.9339, MeCab + bigrams 0.9398, Sudachi + bigrams 0.9411: words match exact
      terms, bigrams rescue compounds and spellings the dictionary splits differently.
    """

    version = "mixed-2"
    """Part of the snapshot tag: a saved index analysed by other rules must not be reused."""

    def __init__(self) -> None:
        self._local = threading.local()

    def analyze(self, text: str) -> list[str]:
        """Index terms of ``text``, in order."""
        return [token.term for token in self.tokens(text)]

    def query(self, text: str) -> QueryTerms:
        """A query's terms, which of them are content words, and where its character pairs count."""
        return query_terms(self.tokens(text))


    def tokens(self, text: str) -> list[Token]:
        """Index terms with their character spans in ``text``."""
        normalised = text.translate(_FULLWIDTH)
        tokens: list[Token] = []
        position = 0
        for match in _CJK_RUN.finditer(normalised):
            tokens.extend(self._english(normalised, position, match.start()))
            tokens.extend(self._japanese(normalised, match.start(), match.end()))
            position = match.end()
        tokens.extend(self._english(normalised, position, len(normalised)))
        return tokens

    def _english(self, text: str, start: int, end: int) -> list[Token]:
        tokens = []
        for match in _WORD.finditer(text, start, end):
            word = match.group().lower()
            content = word not in STOP_WORDS_EN
            weight = 1.0 if content else ENGLISH_FUNCTION_WEIGHT
            tokens.append(Token(_stemmer().stemWord(word), match.start(), match.end(), content, weight))
        return tokens

    def _japanese(self, text: str, start: int, end: int) -> list[Token]:
        words = self._japanese_words(text, start, end)
        return words + _bigrams(text, start, end, within=[(w.start, w.end) for w in words if w.content])

    def _japanese_words(self, text: str, start: int, end: int) -> list[Token]:
        result = []
        for piece_start in range(start, end, _SUDACHI_MAX_CHARS):
            piece_end = min(piece_start + _SUDACHI_MAX_CHARS, end)
            for morpheme in self._sudachi.tokenize(text[piece_start:piece_end], self._split_mode):
                pos = morpheme.part_of_speech()[0]
                if pos in _JA_DROPPED_POS:
                    continue
                term = morpheme.normalized_form().lower()
                content = pos not in _JA_FUNCTION_POS and term not in _JA_LIGHT_WORDS
                result.append(Token(term, piece_start + morpheme.begin(), piece_start + morpheme.end(), content))
        return result

    @property
    def _sudachi(self):  # sudachipy.Tokenizer; imported lazily because its dictionary takes time to load
        tokenizer = getattr(self._local, "sudachi", None)
        if tokenizer is None:
            tokenizer = self._local.sudachi = self._dictionary.tokenizer()
        return tokenizer

    @cached_property
    def _dictionary(self):
        from sudachipy import Dictionary

        return Dictionary(dict="core")

    @cached_property
    def _split_mode(self):
        from sudachipy import SplitMode

        return SplitMode.A


_STEMMERS = threading.local()


def _stemmer() -> Stemmer.Stemmer:
    """This thread's Snowball stemmer (they are not thread-safe)."""
    stemmer = getattr(_STEMMERS, "english", None)
    if stemmer is None:
        stemmer = _STEMMERS.english = Stemmer.Stemmer("english")
    return stemmer


def english_terms(words: list[str]) -> list[str]:
    """The index terms of English ``words`` (lowercased, one word each), as :meth:`Analyzer.tokens` gives them."""
    return _stemmer().stemWords(words)


def query_terms(tokens: list[Token]) -> QueryTerms:
    """The :class:`QueryTerms` of an analysed query."""
    content = list(dict.fromkeys(t.term for t in tokens if t.content))
    needs = _needs(tokens)
    words = tuple(dict.fromkeys(word for need in needs if need for word in need))
    return QueryTerms([t.term for t in tokens], [t.weight for t in tokens], content, needs, words)


def _bigrams(text: str, start: int, end: int, *, within: list[tuple[int, int]]) -> list[Token]:
    """Overlapping character pairs of a Japanese run (a lone character stands for itself).

    A pair is content when it lies inside one content word (``within``): "の天" of "パリの天気" is not.
    """

    def content(first: int, last: int) -> bool:
        return any(word_start <= first and last <= word_end for word_start, word_end in within)

    if end - start == 1:
        return [Token(text[start], start, end, content(start, end))]
    return [Token(text[i : i + 2], i, i + 2, content(i, i + 2), pair=True) for i in range(start, end - 1)]


def _needs(tokens: list[Token]) -> tuple[Need | None, ...]:
    """Per token, None for a word; for a character pair, the content words of the query it lies across (:data:`Need`).

    A pair that is a whole word of two characters is that word, and counts as a word does. One pass over
    the pairs and the words beside them: a ticket of thousands of characters is analysed for every suggestion.
    """
    pair_at = {token.start: token.term for token in tokens if token.pair}
    if not pair_at:
        return ()
    word_at: dict[int, Word] = {}  # each character of a Japanese content word: the word (Sudachi's words never overlap)
    whole: set[int] = set()  # where a word of two characters starts: the pair there is the word
    for token in tokens:
        if token.pair or not (token.start in pair_at or token.start - 1 in pair_at):  # a word of a Japanese run only
            continue
        if token.end - token.start == 2:
            whole.add(token.start)
        if token.content:
            word = Word(token.term, tuple(pair_at[i] for i in range(token.start, token.end - 1)))
            word_at.update(dict.fromkeys(range(token.start, token.end), word))
    needs: list[Need | None] = []
    for token in tokens:
        if not token.pair or token.start in whole:
            needs.append(None)
            continue
        first, second = word_at.get(token.start), word_at.get(token.start + 1)
        needs.append(tuple(word for word in (first, second if second != first else None) if word is not None))
    return tuple(needs)


_IDENTIFIER = re.compile(r"(?<![^\W_])(?=[^\W\d_]*\d)(?=\d*[^\W\d_])[^\W_]{2,}")


def has_identifier(text: str) -> bool:
    """Whether the text holds a token of letters and digits (E1042, 2FA, W2): a code a model cannot embed."""
    return bool(_IDENTIFIER.search(text.translate(_FULLWIDTH)))


def query_language(text: str) -> str:
    """"ja" when the text contains Japanese script, else "en": picks fusion weights when no locale is given."""
    return "ja" if _CJK_RUN.search(text.translate(_FULLWIDTH)) else "en"

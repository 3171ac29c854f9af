"""Chinese word segmentation for the full-text index and for queries (issue #12 §1).

Both sides go through the same functions, so a word is found exactly when the query cuts into
tokens the index holds.  jieba's *search mode* cuts a compound into the compound and its parts
("社会抚养费" → 社会, 抚养, 抚养费, 社会抚养费), so a clerk finds it by either.

To keep recall when a word is cut differently in the document's context than alone, the index
also holds every two-character run of Chinese text (a bigram), after the words: a query word is
also looked for as the chain of its bigrams (a phrase), which matches the characters wherever
they stand.  A two-character word and the bigram of the same characters are the same token, which
is harmless: both mean "these two characters stand here".

One tokenizer per process, built on first use.  The administrator's terms (``SearchTerm``) are
added to it; every process notices a change through a version number kept in the cache and in
the database, checked at most every ``TERMS_CHECK_SECONDS``.
"""

from __future__ import annotations

import functools
import logging
import re
import threading
import time
import unicodedata
from collections.abc import Iterable, Iterator

logger = logging.getLogger(__name__)

TERMS_CHECK_SECONDS = 30

_lock = threading.Lock()
_tokenizer = None
_terms_version: int | None = None
_terms_checked_at = 0.0

_CR = re.compile(r"_x000d_", re.IGNORECASE)
_SPACE = re.compile(r"\s+")
# A token worth indexing: letters or digits of any script (punctuation and symbols are dropped).
_WORDLIKE = re.compile(r"\w", re.UNICODE)
_HAN = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
_HAN_RUN = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]+")

# Words too common in petitions to narrow anything: a query made only of these (or of single
# characters) is refused without reading the index (query.py).  Function words and the
# vocabulary every petition shares.
STOP_WORDS = frozenset(
    """
    的 了 是 在 我 有 和 就 不 人 都 一 一个 上 也 很 到 说 要 去 你 会 着 没有 看 好 自己 这 那 他 她 它
    我们 你们 他们 及 与 或 等 对 把 被 从 向 为 以 之 其 而 并 但 还 又 所 该 此 这个 那个 什么 怎么 如何
    请 请问 您好 你好 尊敬 领导 问题 反映 信访 要求 请求 希望 解决 情况 相关 有关 部门 政府 工作 没 能 可以
    """.split()  # noqa: SIM905 - read as a paragraph of words
)


def normalise(text: str) -> str:
    """Full-width to half-width (NFKC), Latin lower-cased, ``_x000D_`` and runs of whitespace to
    one space."""
    text = unicodedata.normalize("NFKC", text or "")
    text = _CR.sub(" ", text)
    return _SPACE.sub(" ", text).strip().lower()


def tokenizer():  # noqa: ANN201 - jieba has no type hints
    """The process's jieba tokenizer with the administrator's terms, (re)built when they change."""
    global _tokenizer, _terms_version, _terms_checked_at
    now = time.monotonic()
    if _tokenizer is not None and now - _terms_checked_at < TERMS_CHECK_SECONDS:
        return _tokenizer
    with _lock:
        version = _current_terms_version()
        if _tokenizer is None or version != _terms_version:
            _tokenizer = _build_tokenizer()
            _terms_version = version
        _terms_checked_at = now
    return _tokenizer


def reset() -> None:
    """Forget the tokenizer (tests; a term change is otherwise noticed within the interval)."""
    global _tokenizer, _terms_version, _terms_checked_at
    with _lock:
        _tokenizer, _terms_version, _terms_checked_at = None, None, 0.0


def _build_tokenizer():  # noqa: ANN202
    import jieba

    jieba.setLogLevel(logging.WARNING)
    tok = jieba.Tokenizer()
    tok.initialize()
    for word, weight, pos in _terms():
        tok.add_word(word, freq=weight, tag=pos or None)
    return tok


def _terms() -> list[tuple[str, int | None, str]]:
    try:
        from .models import SearchTerm

        return [(normalise(w), f, p) for w, f, p in SearchTerm.objects.values_list("word", "weight", "pos")]
    except Exception:  # noqa: BLE001 - no table yet (before migrate): segment with the stock dictionary
        logger.debug("search terms not readable", exc_info=True)
        return []


def _current_terms_version() -> int:
    try:
        from .models import terms_version

        return terms_version()
    except Exception:  # noqa: BLE001 - no table yet
        return 0


_CLAUSE = re.compile(r"[^，。！？；：、,.!?;:\s]+")


def _words(text: str) -> Iterator[str]:
    tok = tokenizer()
    # Cut clause by clause (jieba splits at punctuation itself, so the result is the same) through
    # a cache: petitions repeat whole clauses (greetings, formulas), and the seeds' templates do.
    for clause in _CLAUSE.findall(text):
        yield from _clause_words(tok, clause)


@functools.lru_cache(maxsize=200_000)
def _clause_words(tok: object, clause: str) -> tuple[str, ...]:
    return tuple(
        t for t in (t.strip() for t in tok.cut_for_search(clause, HMM=True)) if t and _WORDLIKE.search(t)
    )


def bigrams(text: str) -> Iterator[str]:
    """Every two-character run of Chinese characters in ``text`` (already normalised)."""
    for run in _HAN_RUN.findall(text):
        for i in range(len(run) - 1):
            yield run[i : i + 2]


def index_tokens(text: str) -> list[str]:
    """The tokens stored for ``text``: its words in search mode, then its bigrams."""
    text = normalise(text)
    if not text:
        return []
    return [*_words(text), *bigrams(text)]


def index_text(parts: Iterable[str]) -> str:
    """The space-separated tokens of several texts (what the index rows hold)."""
    return " ".join(t for part in parts for t in index_tokens(part))


def query_words(text: str) -> list[str]:
    """The words of a query text in the order they stand (precise mode: one cut, no overlaps).

    Single Chinese characters standing next to each other that are not stop words are joined
    again: a word jieba knows only in context ("出库" typed alone can come out as 出 + 库) is then
    searched as those characters together rather than dropped as two single characters."""
    text = normalise(text)
    out: list[str] = []
    run = ""
    for token in [*tokenizer().cut(text, HMM=True), " "]:
        token = token.strip()
        if len(token) == 1 and is_han(token) and token not in STOP_WORDS:
            run += token
            continue
        if run:
            out.append(run)
            run = ""
        if token and _WORDLIKE.search(token):
            out.append(token)
    return out


def is_han(text: str) -> bool:
    return bool(_HAN.search(text))


def is_weak(word: str) -> bool:
    """A word that alone would match too much: a stop word or a single character."""
    return word in STOP_WORDS or len(word) < 2

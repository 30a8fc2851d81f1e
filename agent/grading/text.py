"""Text normalisation for matching: sentences, tokens, stems."""

from __future__ import annotations

import re
import threading
import unicodedata
from dataclasses import dataclass
from functools import cached_property, lru_cache

import snowballstemmer

_STEMMER = snowballstemmer.stemmer("english")
# The stemmer keeps its working state on itself: two threads stemming at once corrupt it.
_STEMMER_LOCK = threading.Lock()
_TOKEN = re.compile(r"[a-z0-9]+")
# A sentence ends at . ! ? ; or a line break, but not inside numbers ("0.5") or "e.g.".
_SENTENCE_END = re.compile(r"(?<!\be\.g)(?<!\bi\.e)(?<=[.!?;])\s+|\n+|(?<=:)\s*\n")
_CLAUSE_BREAK = re.compile(r"[,:;()\u2014\u2013]|\s-\s|\b(?:but|whereas|while|although)\b", re.I)
# Function words: they carry no topic of their own.
STOPWORDS = frozenset(
    "a an the and or but if then so because as of to in on at by for with from into about than "
    "that this these those it its is are was were be been being do does did have has had i we you "
    "they he she my our your their me us them which who what when where why how not no can could "
    "would should will may might must also just more most very such there here all any each some "
    "while whereas since".split()
)
BULLET = re.compile(r"^\s*(?:[-*\u2022]|\d+[.)])\s+")

# British spellings folded to American before stemming, so cues need only one.
_SPELLING = {
    "quantisation": "quantization",
    "quantise": "quantize",
    "quantised": "quantized",
    "optimise": "optimize",
    "optimised": "optimized",
    "optimisation": "optimization",
    "utilisation": "utilization",
    "normalisation": "normalization",
    "latencies": "latency",
}


@dataclass(frozen=True)
class Sentence:
    """One sentence of an answer: its verbatim text and its stemmed tokens."""

    text: str
    words: tuple[str, ...]
    stems: tuple[str, ...]
    clauses: tuple[int, ...]  # clause number of each word, so negation stays inside its clause

    @cached_property
    def stem_set(self) -> frozenset[str]:
        """Its stems as a set: a phrase with a stem not in it cannot match."""
        return frozenset(self.stems)


# ASCII's control characters (category C) other than line feed and tab, for the fast path.
_ASCII_CONTROLS = dict.fromkeys([*range(0x09), *range(0x0B, 0x20), 0x7F])


def clean(text: str) -> str:
    """Unicode-normalise and drop control characters, keeping line breaks."""
    text = unicodedata.normalize("NFKC", text)
    if text.isascii():  # most answers: the same result without a lookup per character
        return text.translate(_ASCII_CONTROLS)
    return "".join(ch for ch in text if ch in "\n\t" or unicodedata.category(ch)[0] != "C")


_VOWELS = frozenset("aeiouy")
_NOT_PLURAL = frozenset("this thus plus yes was has his its gas bus".split())


@lru_cache(maxsize=65536)
def stem(word: str) -> str:
    word = _SPELLING.get(word, word)
    # Plural acronyms the stemmer keeps whole: gpus, llms, kpis, slos.
    if 4 <= len(word) <= 6 and word[-1] == "s" and word not in _NOT_PLURAL:
        if not _VOWELS.intersection(word[:-2]):
            word = word[:-1]
    with _STEMMER_LOCK:
        return _STEMMER.stemWord(word)


def words(text: str) -> list[str]:
    """Lower-case word tokens; hyphens and punctuation separate words."""
    return _TOKEN.findall(clean(text).lower())


def stems(text: str) -> tuple[str, ...]:
    return tuple(stem(w) for w in words(text))


def sentences(text: str) -> list[Sentence]:
    """Split an answer into sentences, keeping each one's verbatim text for evidence."""
    out: list[Sentence] = []
    for raw in _SENTENCE_END.split(text):
        if raw is None:
            continue
        piece = BULLET.sub("", raw).strip()
        if not piece:
            continue
        ws: list[str] = []
        clause_ids: list[int] = []
        for number, clause in enumerate(_CLAUSE_BREAK.split(piece)):
            clause_words = words(clause)
            ws.extend(clause_words)
            clause_ids.extend([number] * len(clause_words))
        if ws:
            out.append(
                Sentence(
                    text=piece,
                    words=tuple(ws),
                    stems=tuple(stem(w) for w in ws),
                    clauses=tuple(clause_ids),
                )
            )
    return out


def find(needle: tuple[str, ...], haystack: tuple[str, ...]) -> int:
    """Index of the first occurrence of `needle` as a contiguous run in `haystack`, else -1."""
    n = len(needle)
    if n == 0:
        return -1
    first, end, i = needle[0], len(haystack) - n + 1, 0
    while i < end:
        try:
            i = haystack.index(first, i, end)  # the scan for the first word runs in C
        except ValueError:
            return -1
        if haystack[i : i + n] == needle:
            return i
        i += 1
    return -1


# Words a loose match never skips (as stems, since it runs over stems): "X is not Y" does not
# state "X is Y", nor do "X grows faster than linearly", "X is far from Y", "X is rarely Y",
# "X is almost always Y", "X and Y" (a list, not a relation) or "X can exceed Y".
_NEGATING = frozenset(
    stem(w)
    for w in (
        "not never no t without nor than far rarely seldom hardly barely and or can could may "
        "might must should would will near nearly almost often usually mostly largely typically "
        "roughly sometimes virtually practically generally"
    ).split()
)


def find_loose(needle: tuple[str, ...], haystack: tuple[str, ...], slack: int) -> int:
    """Like `find`, but up to `slack` other words may sit between the needle's words ("sets
    weights exactly to zero" for "exactly zero"); the index of its first word, else -1."""
    if len(needle) <= 1 or slack <= 0:
        return find(needle, haystack)
    first = needle[0]
    for i, word in enumerate(haystack):
        if word != first:
            continue
        pos, skipped = i + 1, 0
        for part in needle[1:]:
            while (
                pos < len(haystack)
                and haystack[pos] != part
                and skipped < slack
                and haystack[pos] not in _NEGATING
            ):
                pos += 1
                skipped += 1
            if pos >= len(haystack) or haystack[pos] != part:
                break
            pos += 1
        else:
            return i
    return -1

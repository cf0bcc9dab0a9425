"""The fuzzy matcher behind `fuzzyFileSearch`: scores and highlight indices as the reference's.

The reference ranks paths with the `nucleo` matcher configured for paths; clients (and the
protocol's tests) depend on its exact numbers, so this module reproduces its scoring rules:

* every matched character earns 16; a gap costs 3 for its first skipped character and 1 for
  each further one;
* a character earns a bonus for where it sits: 9 after a ``/`` or at the start (the start counts
  as a ``/``), 8 after whitespace or punctuation, 5 at a camelCase hump or the first digit of a
  number; the first matched character's bonus counts twice;
* consecutive matches carry the bonus of the run's first character (at least 4) forward;
* among all alignments the best score wins (a dynamic programme over needle × haystack), with
  the reference's shortcuts: a one-character needle takes its best position, and a needle that
  can only match as one contiguous run is scored directly.

Queries are split into atoms on whitespace and the atoms' scores add up. An atom may carry
fzf-style markers: ``'text`` substring, ``^text`` prefix, ``text$`` suffix, ``^text$`` exact,
``!text`` must not match. Matching ignores case. Non-ASCII text is compared by code point after
lower-casing (the reference also folds accents and grapheme clusters; Parley does not).

Pure functions only: no filesystem access (see `parley.services.fuzzy_search`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum, IntEnum

SCORE_MATCH = 16
PENALTY_GAP_START = 3
PENALTY_GAP_EXTENSION = 1
BONUS_BOUNDARY = SCORE_MATCH // 2
BONUS_CAMEL123 = BONUS_BOUNDARY - PENALTY_GAP_START
BONUS_NON_WORD = BONUS_BOUNDARY
BONUS_CONSECUTIVE = PENALTY_GAP_START + PENALTY_GAP_EXTENSION
BONUS_FIRST_CHAR_MULTIPLIER = 2
# The path configuration: a boundary after whitespace is worth the plain boundary bonus, one
# after the path delimiter one more.
BONUS_BOUNDARY_WHITE = BONUS_BOUNDARY
BONUS_BOUNDARY_DELIMITER = BONUS_BOUNDARY + 1
DELIMITERS = frozenset("/")
# Above this many needle × haystack cells the reference gives up optimality for speed.
MAX_MATRIX_CELLS = 100 * 1024


class CharClass(IntEnum):
    """Ordered as the reference orders them: everything above DELIMITER is a word character."""

    WHITESPACE = 0
    NON_WORD = 1
    DELIMITER = 2
    LOWER = 3
    UPPER = 4
    LETTER = 5
    NUMBER = 6


INITIAL_CLASS = CharClass.DELIMITER


def char_class(c: str) -> CharClass:
    if c.isascii():
        if "a" <= c <= "z":
            return CharClass.LOWER
        if "A" <= c <= "Z":
            return CharClass.UPPER
        if "0" <= c <= "9":
            return CharClass.NUMBER
        if c in " \t\n\r\x0c":
            return CharClass.WHITESPACE
        if c in DELIMITERS:
            return CharClass.DELIMITER
        return CharClass.NON_WORD
    if c.islower():
        return CharClass.LOWER
    if c.isupper():
        return CharClass.UPPER
    if c.isnumeric():
        return CharClass.NUMBER
    if c.isalpha():
        return CharClass.LETTER
    if c.isspace():
        return CharClass.WHITESPACE
    return CharClass.NON_WORD


def fold(c: str) -> str:
    lowered = c.lower()
    return lowered if len(lowered) == 1 else c


def bonus_for(prev: CharClass, cls: CharClass) -> int:
    if cls > CharClass.DELIMITER:
        if prev is CharClass.WHITESPACE:
            return BONUS_BOUNDARY_WHITE
        if prev is CharClass.DELIMITER:
            return BONUS_BOUNDARY_DELIMITER
        if prev is CharClass.NON_WORD:
            return BONUS_BOUNDARY
    if (prev is CharClass.LOWER and cls is CharClass.UPPER) or (
        prev is not CharClass.NUMBER and cls is CharClass.NUMBER
    ):
        return BONUS_CAMEL123
    if cls is CharClass.WHITESPACE:
        return BONUS_BOUNDARY_WHITE
    if cls is CharClass.NON_WORD:
        return BONUS_NON_WORD
    return 0


def _class_before(haystack: str, index: int) -> CharClass:
    return char_class(haystack[index - 1]) if index > 0 else INITIAL_CLASS


@dataclass(frozen=True)
class Match:
    score: int
    indices: tuple[int, ...]


def contiguous_score(haystack: str, needle: str, start: int, end: int) -> Match:
    """Scores the left-most alignment of `needle` inside haystack[start:end], which begins
    with a match at `start` (the reference's plain scorer, also used for exact runs)."""
    prev = _class_before(haystack, start)
    cls = char_class(haystack[start])
    first_bonus = bonus_for(prev, cls)
    score = SCORE_MATCH + first_bonus * BONUS_FIRST_CHAR_MULTIPLIER
    indices = [start]
    prev = cls
    wanted = 1 if len(needle) > 1 else 0
    in_gap = False
    consecutive = True
    for i in range(start + 1, end):
        c = haystack[i]
        cls = char_class(c)
        if wanted < len(needle) and fold(c) == needle[wanted]:
            indices.append(i)
            bonus = bonus_for(prev, cls)
            if consecutive:
                if bonus >= BONUS_BOUNDARY and bonus > first_bonus:
                    first_bonus = bonus
                bonus = max(bonus, first_bonus, BONUS_CONSECUTIVE)
            else:
                first_bonus = bonus
            score += SCORE_MATCH + bonus
            in_gap = False
            consecutive = True
            wanted += 1
        else:
            score = max(score - (PENALTY_GAP_EXTENSION if in_gap else PENALTY_GAP_START), 0)
            in_gap = True
            consecutive = False
        prev = cls
    return Match(score, tuple(indices))


def _single_char(haystack: str, needle: str, start: int) -> Match | None:
    """The best-placed occurrence of a one-character needle (the first of equal ones)."""
    best_score = 0
    best_pos = 0
    if haystack.isascii():
        for i in range(start, len(haystack)):
            if fold(haystack[i]) != needle:
                continue
            bonus = bonus_for(_class_before(haystack, i), char_class(haystack[i]))
            score = bonus * BONUS_FIRST_CHAR_MULTIPLIER + SCORE_MATCH
            if score > best_score:
                best_score, best_pos = score, i
                if bonus >= BONUS_BOUNDARY_WHITE:
                    break
    else:
        # As the reference does for non-ASCII text, the class before a candidate is that of
        # the previous *candidate*.
        prev = _class_before(haystack, start)
        for i in range(start, len(haystack)):
            if fold(haystack[i]) != needle:
                continue
            cls = char_class(haystack[i])
            bonus = bonus_for(prev, cls)
            prev = cls
            score = bonus * BONUS_FIRST_CHAR_MULTIPLIER + SCORE_MATCH
            if score > best_score:
                best_score, best_pos = score, i
                if bonus >= BONUS_BOUNDARY_WHITE:
                    break
    if best_score == 0:
        return None
    return Match(best_score, (best_pos,))


# One cell of the dynamic programme: the best score with the needle character matched here,
# whether that came from the previous character matched right before (a run), and the bonus
# the run carries.
_UNMATCHED = (0, True, 0)


def _extend(p_score: int, bonus: int, diagonal: tuple[int, bool, int]) -> tuple[int, bool, int]:
    if diagonal == _UNMATCHED:
        return (p_score + bonus + SCORE_MATCH, False, bonus)
    run_bonus = max(diagonal[2], BONUS_CONSECUTIVE)
    if bonus >= BONUS_BOUNDARY and bonus > run_bonus:
        run_bonus = bonus
    from_run = diagonal[0] + max(run_bonus, bonus)
    from_gap = p_score + bonus
    if from_run > from_gap:
        return (from_run + SCORE_MATCH, True, run_bonus)
    return (from_gap + SCORE_MATCH, False, bonus)


def optimal_match(haystack: str, needle: str, start: int, end: int) -> Match | None:
    """The best alignment of `needle` (≥ 2 characters) inside haystack[start:end]."""
    text = [fold(c) for c in haystack[start:end]]
    width = len(text)
    n = len(needle)
    prev = _class_before(haystack, start)
    bonus = []
    for c in haystack[start:end]:
        cls = char_class(c)
        bonus.append(bonus_for(prev, cls))
        prev = cls
    # First column where each needle character can sit, found greedily left to right.
    row_offs = [0] * n
    k = 0
    found_last = False
    for i, c in enumerate(text):
        if k < n - 1:
            if c == needle[k]:
                row_offs[k] = i
                k += 1
        elif not found_last and c == needle[k]:
            row_offs[k] = i
            found_last = True
    if not found_last:
        return None

    # cells[k][j]: needle[k] matched at column j; p_from_match[k][j]: the gap value at
    # column j of row k came from a match at j-1 (else from the gap at j-1).
    cells: list[dict[int, tuple[int, bool, int]]] = [{} for _ in range(n)]
    p_from_match: list[dict[int, bool]] = [{} for _ in range(n)]
    row0 = cells[0]
    for j in range(width):
        row0[j] = (
            (bonus[j] * BONUS_FIRST_CHAR_MULTIPLIER + SCORE_MATCH, False, bonus[j])
            if text[j] == needle[0]
            else _UNMATCHED
        )
    for k in range(n - 1):
        row = cells[k]
        nxt = cells[k + 1]
        gaps = p_from_match[k]
        next_char = needle[k + 1]
        first_next = row_offs[k + 1] - 1
        prev_p = 0
        prev_m = 0
        for j in range(row_offs[k], width - 1):
            from_match = prev_m - PENALTY_GAP_START
            from_gap = prev_p - PENALTY_GAP_EXTENSION
            if from_match < 0:
                from_match = 0
            if from_gap < 0:
                from_gap = 0
            if from_match > from_gap:
                p, gaps[j] = from_match, True
            else:
                p, gaps[j] = from_gap, False
            here = row.get(j, _UNMATCHED)
            if j >= first_next:
                matches = text[j + 1] == next_char
                nxt[j + 1] = _extend(p, bonus[j + 1], here) if matches else _UNMATCHED
            prev_p = p
            prev_m = here[0]
    last = cells[n - 1]
    best_col = -1
    best_score = -1
    for j in range(row_offs[n - 1], width):
        score = last.get(j, _UNMATCHED)[0]
        if score >= best_score:  # the last of equal scores, as the reference picks
            best_score, best_col = score, j
    indices = [0] * n
    indices[n - 1] = best_col
    matched = last[best_col][1]
    k = n - 2
    col = best_col - 1
    while k >= 0 and col >= 0:
        if matched:
            indices[k] = col
            matched = cells[k].get(col, _UNMATCHED)[1]
            k -= 1
        else:
            matched = p_from_match[k].get(col, False)
        col -= 1
    return Match(best_score, tuple(start + i for i in indices))


def fuzzy_match(haystack: str, needle: str) -> Match | None:
    """`needle` (already folded) as a fuzzy subsequence of `haystack`, or None."""
    n = len(needle)
    if n > len(haystack):
        return None
    if n == 0:
        return Match(0, ())
    if n == len(haystack):
        if "".join(fold(c) for c in haystack) != needle:
            return None
        return contiguous_score(haystack, needle, 0, n)
    folded = "".join(fold(c) for c in haystack)
    start = folded.find(needle[0], 0, len(folded) - n + 1)
    if start < 0:
        return None
    if n == 1:
        return _single_char(haystack, needle, start)
    if haystack.isascii() and needle.isascii():
        greedy_end = start + 1
        for c in needle[1:]:
            found = folded.find(c, greedy_end)
            if found < 0:
                return None
            greedy_end = found + 1
        end = max(folded.rfind(needle[-1], greedy_end) + 1, greedy_end)
        if end - start == n:
            return contiguous_score(haystack, needle, start, greedy_end)
    else:
        if not needle.isascii() and haystack.isascii():
            return None
        last = folded.rfind(needle[-1], start + 1)
        if last < 0:
            return None
        end = last + 1
        if end - start < n:
            return None
        if end - start == n:
            if folded[start:end] != needle:
                return None
            return contiguous_score(haystack, needle, start, end)
    if (end - start) * n > MAX_MATRIX_CELLS:
        return _greedy(haystack, needle, start)
    return optimal_match(haystack, needle, start, end)


def _greedy(haystack: str, needle: str, start: int) -> Match | None:
    """Left-most alignment, for inputs too large for the full programme."""
    folded = "".join(fold(c) for c in haystack)
    end = start + 1
    for c in needle[1:]:
        found = folded.find(c, end)
        if found < 0:
            return None
        end = found + 1
    return contiguous_score(haystack, needle, start, end)


class AtomKind(Enum):
    FUZZY = "fuzzy"
    SUBSTRING = "substring"
    PREFIX = "prefix"
    POSTFIX = "postfix"
    EXACT = "exact"


@dataclass(frozen=True)
class Atom:
    """One whitespace-separated part of a query."""

    needle: str
    kind: AtomKind = AtomKind.FUZZY
    negative: bool = False

    @classmethod
    def parse(cls, raw: str) -> Atom:
        text = raw
        negative = False
        if text.startswith("!"):
            text, negative = text[1:], True
        elif text.startswith("\\!"):
            text = text[1:]
        kind = AtomKind.FUZZY
        if text.startswith("^"):
            text, kind = text[1:], AtomKind.PREFIX
        elif text.startswith("'"):
            text, kind = text[1:], AtomKind.SUBSTRING
        elif text.startswith("\\^") or text.startswith("\\'"):
            text = text[1:]
        if text.endswith("\\$"):
            text = text[:-2] + "$"
        elif text.endswith("$"):
            text = text[:-1]
            kind = AtomKind.POSTFIX if kind is AtomKind.FUZZY else AtomKind.EXACT
        if negative and kind is AtomKind.FUZZY:
            kind = AtomKind.SUBSTRING
        text = text.replace("\\ ", " ")
        return cls("".join(fold(c) for c in text), kind, negative)

    def match(self, haystack: str) -> Match | None:
        found = self._positive(haystack)
        if self.negative:
            return None if found is not None else Match(0, ())
        return found

    def _positive(self, haystack: str) -> Match | None:
        if self.kind is AtomKind.FUZZY:
            return fuzzy_match(haystack, self.needle)
        folded = "".join(fold(c) for c in haystack)
        n = len(self.needle)
        if n == 0:
            return Match(0, ())
        if self.kind is AtomKind.SUBSTRING:
            return self._best_substring(haystack, folded)
        if self.kind is AtomKind.PREFIX:
            offset = len(folded) - len(folded.lstrip())
            if folded.startswith(self.needle, offset):
                return contiguous_score(haystack, self.needle, offset, offset + n)
            return None
        trimmed = len(folded.rstrip())
        if self.kind is AtomKind.POSTFIX:
            if folded[:trimmed].endswith(self.needle):
                return contiguous_score(haystack, self.needle, trimmed - n, trimmed)
            return None
        offset = len(folded) - len(folded.lstrip())
        if folded[offset:trimmed] == self.needle:
            return contiguous_score(haystack, self.needle, offset, trimmed)
        return None

    def _best_substring(self, haystack: str, folded: str) -> Match | None:
        best: tuple[int, int] | None = None
        for found in re.finditer(re.escape(self.needle), folded):
            i = found.start()
            bonus = bonus_for(_class_before(haystack, i), char_class(haystack[i]))
            score = bonus * BONUS_FIRST_CHAR_MULTIPLIER + SCORE_MATCH
            if best is None or score > best[0]:
                best = (score, i)
                if bonus >= BONUS_BOUNDARY_WHITE:
                    break
        if best is None:
            return None
        return contiguous_score(haystack, self.needle, best[1], best[1] + len(self.needle))


_ATOM_SEPARATOR = re.compile(r"(?<!\\)\s+")


@dataclass(frozen=True)
class Pattern:
    """A parsed query: its atoms all have to match, their scores add up."""

    atoms: tuple[Atom, ...]

    @classmethod
    def parse(cls, query: str) -> Pattern:
        atoms = (Atom.parse(part) for part in _ATOM_SEPARATOR.split(query) if part)
        return cls(tuple(atom for atom in atoms if atom.needle))

    @property
    def is_empty(self) -> bool:
        return not self.atoms

    def match(self, haystack: str) -> Match | None:
        """The summed score and the sorted, de-duplicated indices, or None."""
        score = 0
        indices: set[int] = set()
        for atom in self.atoms:
            found = atom.match(haystack)
            if found is None:
                return None
            score += found.score
            indices.update(found.indices)
        return Match(score, tuple(sorted(indices)))

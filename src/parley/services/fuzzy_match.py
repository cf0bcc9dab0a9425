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
from dataclasses import dataclass, field
from enum import Enum, IntEnum

SCORE_MATCH = 16
PENALTY_GAP_START = 3
PENALTY_GAP_EXTENSION = 1
BONUS_BOUNDARY = SCORE_MATCH // 2
BONUS_CAMEL123 = BONUS_BOUNDARY - PENALTY_GAP_START
BONUS_NON_WORD = BONUS_BOUNDARY
BONUS_CONSECUTIVE = PENALTY_GAP_START + PENALTY_GAP_EXTENSION
BONUS_FIRST_CHAR_MULTIPLIER = 2
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


_WHITESPACE = " \t\n\r\x0b\x0c"


@dataclass(frozen=True)
class MatchConfig:
    """Where bonuses go. `PATHS` (the default) is the reference's configuration for paths;
    `GENERAL` is its default configuration, kept for checking against its published cases."""

    delimiters: str = "/"
    bonus_boundary_white: int = BONUS_BOUNDARY
    bonus_boundary_delimiter: int = BONUS_BOUNDARY + 1
    initial_class: CharClass = CharClass.DELIMITER
    _ascii_classes: tuple[CharClass, ...] = field(init=False, repr=False, compare=False)
    _bonus: tuple[tuple[int, ...], ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        classes = tuple(self._class_of_ascii(chr(code)) for code in range(128))
        table = tuple(tuple(self._bonus_for(prev, cls) for cls in CharClass) for prev in CharClass)
        object.__setattr__(self, "_ascii_classes", classes)
        object.__setattr__(self, "_bonus", table)

    def _class_of_ascii(self, c: str) -> CharClass:
        if "a" <= c <= "z":
            return CharClass.LOWER
        if "A" <= c <= "Z":
            return CharClass.UPPER
        if "0" <= c <= "9":
            return CharClass.NUMBER
        if c in _WHITESPACE:
            return CharClass.WHITESPACE
        if c in self.delimiters:
            return CharClass.DELIMITER
        return CharClass.NON_WORD

    def _bonus_for(self, prev: CharClass, cls: CharClass) -> int:
        if cls > CharClass.DELIMITER:
            if prev is CharClass.WHITESPACE:
                return self.bonus_boundary_white
            if prev is CharClass.DELIMITER:
                return self.bonus_boundary_delimiter
            if prev is CharClass.NON_WORD:
                return BONUS_BOUNDARY
        if (prev is CharClass.LOWER and cls is CharClass.UPPER) or (
            prev is not CharClass.NUMBER and cls is CharClass.NUMBER
        ):
            return BONUS_CAMEL123
        if cls is CharClass.WHITESPACE:
            return self.bonus_boundary_white
        if cls is CharClass.NON_WORD:
            return BONUS_NON_WORD
        return 0

    def char_class(self, c: str) -> CharClass:
        code = ord(c)
        if code < 128:
            return self._ascii_classes[code]
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

    def bonus_for(self, prev: CharClass, cls: CharClass) -> int:
        return self._bonus[prev][cls]

    def class_before(self, haystack: str, index: int) -> CharClass:
        return self.char_class(haystack[index - 1]) if index > 0 else self.initial_class

    def bonuses(self, haystack: str, start: int, end: int) -> list[int]:
        """The bonus of each character of haystack[start:end]."""
        prev = self.class_before(haystack, start)
        table = self._bonus
        out = []
        for c in haystack[start:end]:
            cls = self.char_class(c)
            out.append(table[prev][cls])
            prev = cls
        return out


PATHS = MatchConfig()
GENERAL = MatchConfig(
    delimiters="/,:;|",
    bonus_boundary_white=BONUS_BOUNDARY + 2,
    initial_class=CharClass.WHITESPACE,
)


def fold(c: str) -> str:
    lowered = c.lower()
    return lowered if len(lowered) == 1 else c


def fold_text(text: str) -> str:
    """`text` lower-cased character by character (same length as `text`)."""
    return text.lower() if text.isascii() else "".join(fold(c) for c in text)


@dataclass(frozen=True)
class Match:
    score: int
    indices: tuple[int, ...]


def contiguous_score(
    haystack: str, needle: str, start: int, end: int, config: MatchConfig = PATHS
) -> Match:
    """Scores the left-most alignment of `needle` inside haystack[start:end], which begins
    with a match at `start` (the reference's plain scorer, also used for exact runs)."""
    prev = config.class_before(haystack, start)
    cls = config.char_class(haystack[start])
    first_bonus = config.bonus_for(prev, cls)
    score = SCORE_MATCH + first_bonus * BONUS_FIRST_CHAR_MULTIPLIER
    indices = [start]
    prev = cls
    wanted = 1 if len(needle) > 1 else 0
    in_gap = False
    consecutive = True
    for i in range(start + 1, end):
        c = haystack[i]
        cls = config.char_class(c)
        if wanted < len(needle) and fold(c) == needle[wanted]:
            indices.append(i)
            bonus = config.bonus_for(prev, cls)
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


def _single_char(haystack: str, needle: str, start: int, config: MatchConfig) -> Match | None:
    """The best-placed occurrence of a one-character needle (the first of equal ones)."""
    best_score = 0
    best_pos = 0
    ascii_text = haystack.isascii()
    # For non-ASCII text the reference takes the class before a candidate from the previous
    # *candidate*, not the previous character.
    prev = config.class_before(haystack, start)
    for i in range(start, len(haystack)):
        if fold(haystack[i]) != needle:
            continue
        cls = config.char_class(haystack[i])
        if ascii_text:
            prev = config.class_before(haystack, i)
        bonus = config.bonus_for(prev, cls)
        prev = cls
        score = bonus * BONUS_FIRST_CHAR_MULTIPLIER + SCORE_MATCH
        if score > best_score:
            best_score, best_pos = score, i
            if bonus >= config.bonus_boundary_white:
                break
    if best_score == 0:
        return None
    return Match(best_score, (best_pos,))


def optimal_match(
    haystack: str, needle: str, start: int, end: int, config: MatchConfig = PATHS
) -> Match | None:
    """The best alignment of `needle` (≥ 2 characters) inside haystack[start:end].

    A dynamic programme over needle rows × haystack columns. Per row k and column j:
    `score[j]` is the best score with needle[k] matched at j, `run[j]` whether that came from
    needle[k-1] matched at j-1 and `carry[j]` the bonus the run carries; `gap` is the best
    score with needle[..k] matched before j and j skipped. Cells whose needle character does
    not match hold the "unmatched" marker (score 0, run True, carry 0), as the reference's do.
    """
    text = fold_text(haystack[start:end])
    width = len(text)
    n = len(needle)
    bonus = config.bonuses(haystack, start, end)
    # First column where each needle character can sit, found greedily left to right.
    row_offs = [0] * n
    k = 0
    for i, c in enumerate(text):
        if c == needle[k]:
            row_offs[k] = i
            k += 1
            if k == n:
                break
    if k < n:
        return None

    first = needle[0]
    score = [0] * width
    run = [True] * width
    carry = [0] * width
    for j in range(width):
        if text[j] == first:
            b = bonus[j]
            score[j], run[j], carry[j] = b * BONUS_FIRST_CHAR_MULTIPLIER + SCORE_MATCH, False, b
    # For the path back: per row, the run flags and where each gap value came from.
    runs: list[list[bool]] = []
    gap_from_match: list[list[bool]] = []
    for k in range(n - 1):
        next_char = needle[k + 1]
        first_next = row_offs[k + 1] - 1
        new_score = [0] * width
        new_run = [True] * width
        new_carry = [0] * width
        from_match_row = [False] * width
        prev_gap = 0
        prev_score = 0
        # Columns past width - n + k cannot leave room for the rest of the needle.
        for j in range(row_offs[k], min(width - 1, width - n + k + 1)):
            from_match = prev_score - PENALTY_GAP_START
            from_gap = prev_gap - PENALTY_GAP_EXTENSION
            if from_match > from_gap and from_match > 0:
                gap = from_match
                from_match_row[j] = True
            else:
                gap = from_gap if from_gap > 0 else 0
            if j >= first_next and text[j + 1] == next_char:
                b = bonus[j + 1]
                here = score[j]
                if here == 0 and carry[j] == 0 and run[j]:  # unmatched: start after a gap
                    new_score[j + 1] = gap + b + SCORE_MATCH
                    new_run[j + 1] = False
                    new_carry[j + 1] = b
                else:
                    run_bonus = carry[j] if carry[j] > BONUS_CONSECUTIVE else BONUS_CONSECUTIVE
                    if b >= BONUS_BOUNDARY and b > run_bonus:
                        run_bonus = b
                    continued = here + (run_bonus if run_bonus > b else b)
                    skipped = gap + b
                    if continued > skipped:
                        new_score[j + 1] = continued + SCORE_MATCH
                        new_run[j + 1] = True
                        new_carry[j + 1] = run_bonus
                    else:
                        new_score[j + 1] = skipped + SCORE_MATCH
                        new_run[j + 1] = False
                        new_carry[j + 1] = b
            prev_gap = gap
            prev_score = score[j]
        runs.append(run)
        gap_from_match.append(from_match_row)
        score, run, carry = new_score, new_run, new_carry

    best_col = -1
    best_score = -1
    for j in range(row_offs[n - 1], width):
        if score[j] >= best_score:  # the last of equal scores, as the reference picks
            best_score, best_col = score[j], j
    indices = [0] * n
    indices[n - 1] = best_col
    matched = run[best_col]
    k = n - 2
    col = best_col - 1
    while k >= 0 and col >= 0:
        if matched:
            indices[k] = col
            matched = runs[k][col]
            k -= 1
        else:
            matched = gap_from_match[k][col]
        col -= 1
    return Match(best_score, tuple(start + i for i in indices))


def fuzzy_match(haystack: str, needle: str, config: MatchConfig = PATHS) -> Match | None:
    """`needle` (already folded) as a fuzzy subsequence of `haystack`, or None."""
    n = len(needle)
    if n > len(haystack):
        return None
    if n == 0:
        return Match(0, ())
    folded = fold_text(haystack)
    if n == len(haystack):
        if folded != needle:
            return None
        return contiguous_score(haystack, needle, 0, n, config)
    start = folded.find(needle[0], 0, len(folded) - n + 1)
    if start < 0:
        return None
    if n == 1:
        return _single_char(haystack, needle, start, config)
    if haystack.isascii() and needle.isascii():
        greedy_end = start + 1
        for c in needle[1:]:
            found = folded.find(c, greedy_end)
            if found < 0:
                return None
            greedy_end = found + 1
        end = max(folded.rfind(needle[-1], greedy_end) + 1, greedy_end)
        if end - start == n:
            return contiguous_score(haystack, needle, start, greedy_end, config)
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
            return contiguous_score(haystack, needle, start, end, config)
    if (end - start) * n > MAX_MATRIX_CELLS:
        return _greedy(haystack, needle, start, config)
    return optimal_match(haystack, needle, start, end, config)


def _greedy(haystack: str, needle: str, start: int, config: MatchConfig) -> Match | None:
    """Left-most alignment, for inputs too large for the full programme."""
    folded = fold_text(haystack)
    end = start + 1
    for c in needle[1:]:
        found = folded.find(c, end)
        if found < 0:
            return None
        end = found + 1
    return contiguous_score(haystack, needle, start, end, config)


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
        folded = fold_text(haystack)
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
            bonus = PATHS.bonus_for(PATHS.class_before(haystack, i), PATHS.char_class(haystack[i]))
            score = bonus * BONUS_FIRST_CHAR_MULTIPLIER + SCORE_MATCH
            if best is None or score > best[0]:
                best = (score, i)
                if bonus >= PATHS.bonus_boundary_white:
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

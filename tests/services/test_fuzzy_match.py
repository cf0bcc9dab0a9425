"""The fuzzy matcher reproduces the reference matcher's scores and highlight indices."""

from __future__ import annotations

import pytest

import parley.services.fuzzy_match as fm
from parley.services.fuzzy_match import Pattern, fuzzy_match

# The reference matcher's own expectations (its default, non-path configuration): haystack,
# needle, indices, and the score above 16 per matched character.
W, D, B, C, NW, CONS, G, E, F = 10, 9, 8, 5, 8, 4, 3, 1, 2
REFERENCE_CASES = [
    ("fooBarbaz1", "obr", [2, 3, 5], C - G),
    ("/usr/share/doc/at/ChangeLog", "changelog", list(range(18, 27)), (F + 8) * D),
    ("fooBarbaz1", "br", [3, 5], C * F - G),
    ("foo bar baz", "fbb", [0, 4, 8], W * F + W * 2 - 2 * G - 4 * E),
    ("/AutomatorDocument.icns", "rdoc", [9, 10, 11, 12], C + 2 * CONS),
    ("/man1/zshcompctl.1", "zshc", [6, 7, 8, 9], D * (F + 3)),
    ("/.oh-my-zsh/cache", "zshc", [8, 9, 10, 12], B * (F + 2) - G + D),
    ("ab0123 456", "12356", [3, 4, 5, 8, 9], CONS * 3 - G - E),
    ("abc123 456", "12356", [3, 4, 5, 8, 9], C * (F + 2) - G - E + CONS),
    ("foo/bar/baz", "fbb", [0, 4, 8], W * F + D * 2 - 2 * G - 4 * E),
    ("fooBarBaz", "fbb", [0, 3, 6], W * F + C * 2 - 2 * G - 2 * E),
    ("foo barbaz", "fbb", [0, 4, 7], W * F + W - G * 2 - E * 3),
    ("fooBar Baz", "foob", [0, 1, 2, 3], W * (F + 3)),
    ("xFoo-Bar Baz", "foo-b", [1, 2, 3, 4, 5], C * (F + 2) + 2 * NW),
    ("axxx xx ", "xx", [5, 6], W * (F + 1)),
    ("SS!H", "s!", [0, 2], W * F - G + NW),
    ("xf.foo", "xfoo", [0, 3, 4, 5], W * F - G - E + B * 3),
    ("xf fo", "xfo", [0, 3, 4], W * (F + 2) - G - E),
]


@pytest.mark.parametrize(("haystack", "needle", "indices", "bonus"), REFERENCE_CASES)
def test_reference_cases_in_the_default_configuration(
    haystack: str, needle: str, indices: list[int], bonus: int
) -> None:
    """With the reference's default bonuses, scores and indices are the reference's."""
    found = fuzzy_match(haystack, needle.lower(), fm.GENERAL)
    assert found is not None
    assert (found.score, list(found.indices)) == (bonus + 16 * len(needle), indices)


def test_path_configuration_scores_of_the_protocol_test() -> None:
    """The scores upstream's fuzzyFileSearch test expects, in the path configuration."""
    pattern = Pattern.parse("abe")
    assert pattern.match("abexy") == fm.Match(84, (0, 1, 2))
    assert pattern.match("sub/abce") == fm.Match(72, (4, 5, 7))
    assert pattern.match("abcde") == fm.Match(71, (0, 1, 4))
    assert pattern.match("abc") is None


def test_case_is_ignored_and_atoms_add_up() -> None:
    """Queries ignore case; space-separated atoms must all match and their scores add."""
    assert Pattern.parse("ALP").match("alpha.txt") == Pattern.parse("alp").match("alpha.txt")
    scores = [Pattern.parse(q).match("src/main.py") for q in ("src main", "src", "main")]
    both, src, main = (found.score if found is not None else None for found in scores)
    assert both is not None and src is not None and main is not None
    assert both == src + main
    assert Pattern.parse("src zzz").match("src/main.py") is None


def test_atom_markers() -> None:
    """fzf-style markers: 'substring, ^prefix, suffix$, !negation."""
    assert Pattern.parse("'main").match("src/main.py") is not None
    assert Pattern.parse("'mn").match("src/main.py") is None
    assert Pattern.parse("^src").match("src/main.py") is not None
    assert Pattern.parse("^main").match("src/main.py") is None
    assert Pattern.parse(".py$").match("src/main.py") is not None
    assert Pattern.parse("!test").match("src/main.py") is not None
    assert Pattern.parse("!main").match("src/main.py") is None


def test_empty_query_has_no_atoms() -> None:
    """A blank query matches nothing in particular (the server answers with no files)."""
    assert Pattern.parse("   ").is_empty

"""The shortcuts that make extraction fast find exactly what the plain searches find.

The name index remembers what it found and looked up, skips words that open no name and
tries long names only where the text's first two words open one; event words, candidate
organisations and lists of people are looked for only where they can stand. Each test
checks a shortcut against the plain search it replaces, on every paragraph of the bundled
samples and of the held-out and unseen releases, or shows that a remembered answer is
forgotten when the index changes.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from kg.extraction import events, groups, mentions
from kg.extraction import gazetteer as gazetteer_module
from kg.extraction.gazetteer import Entry, Form, Found, Gazetteer, Kind, fold_token
from kg.extraction.linking import default_gazetteer
from kg.ingest.formats import read_raw
from kg.ingest.inputs import bundled_samples_root, collect_release_files

DATA = Path(__file__).parent / "data"
FOLDERS = [bundled_samples_root(), DATA / "heldout", *sorted(DATA.glob("unseen*"))]


def _texts() -> list[str]:
    """The title and every paragraph of every release in FOLDERS."""
    texts: list[str] = []
    for found in collect_release_files([f for f in FOLDERS if f.is_dir()]):
        for raw in read_raw(found.path):
            texts += [raw.title] if raw.title else []
            texts += raw.paragraphs
    return texts


TEXTS = _texts()
_WORD_RE = re.compile(r"\w+(?:-\w+)*|[^\w\s]")


def test_the_texts_are_many_and_varied() -> None:
    assert len(TEXTS) > 500
    assert max(len(t) for t in TEXTS) > 500


def _plain_find(gazetteer: Gazetteer, text: str) -> list[tuple[str, int, int, Form]]:
    """Known names in ``text`` by trying every length at every word, longest first."""
    words = list(_WORD_RE.finditer(text))
    exact = [w.group().replace("’", "'") for w in words]
    folded = [fold_token(w.group()) for w in words]
    found: list[tuple[str, int, int, Form]] = []
    index = 0
    while index < len(words):
        hit = None
        for length in range(min(16, len(words) - index), 0, -1):
            window = slice(index, index + length)
            exact_hit = gazetteer._exact.get(tuple(exact[window]))
            if exact_hit is not None:
                hit = (exact_hit[0], exact_hit[1], length)
                break
            entry = gazetteer._folded.get(tuple(folded[window]))
            first = words[index].group()
            capital = first[:1].isupper() or not first[:1].isalpha()
            particle = length > 1 and first in gazetteer_module._NAME_PARTICLES
            if entry is not None and (capital or particle):
                hit = (entry, Form.NAME, length)
                break
        if hit is None:
            found += _plain_compound(gazetteer, words[index])
            index += 1
            continue
        start, end = words[index].start(), words[index + hit[2] - 1].end()
        found.append((hit[0].label, start, end, hit[1]))
        index += hit[2]
    return found


def _plain_compound(gazetteer: Gazetteer, word: re.Match[str]) -> list[tuple[str, int, int, Form]]:
    found: list[tuple[str, int, int, Form]] = []
    if "-" not in word.group():
        return found
    offset = word.start()
    for part in word.group().split("-"):
        exact_hit = gazetteer._exact.get((part.replace("’", "'"),))
        entry = gazetteer._folded.get((fold_token(part),))
        if exact_hit is not None:
            found.append((exact_hit[0].label, offset, offset + len(part), exact_hit[1]))
        elif entry is not None and (part[:1].isupper() or not part[:1].isalpha()):
            found.append((entry.label, offset, offset + len(part), Form.NAME))
        offset += len(part) + 1
    return found


def test_the_index_finds_what_trying_every_length_at_every_word_finds() -> None:
    gazetteer = default_gazetteer()
    for text in TEXTS:
        found = [(f.entry.label, f.start, f.end, f.form) for f in gazetteer.find(text)]
        assert found == _plain_find(gazetteer, text), text


def _index_with(name: str) -> tuple[Gazetteer, Entry]:
    gazetteer = Gazetteer()
    entry = Entry(Kind.ORGANISATION, name, "https://example.org/id/organisation/x")
    return gazetteer, entry


def test_a_name_added_after_a_search_is_found_and_looked_up() -> None:
    gazetteer, entry = _index_with("Caspian Water Forum")
    text = "Experts met at the Caspian Water Forum in Baku."
    assert gazetteer.find(text) == []  # remembered: nothing
    assert gazetteer.lookup("Caspian Water Forum") is None  # remembered: nothing
    gazetteer.add(entry, ["Caspian Water Forum"])
    assert [f.entry for f in gazetteer.find(text)] == [entry]
    assert gazetteer.lookup("Caspian Water Forum") == entry


def test_a_lookup_remembers_its_answer_for_its_categories_only() -> None:
    gazetteer, entry = _index_with("Caspian Water Forum")
    gazetteer.add(entry, ["Caspian Water Forum"])
    assert gazetteer.lookup("Caspian Water Forum", [Kind.STATE]) is None
    assert gazetteer.lookup("Caspian Water Forum", [Kind.ORGANISATION]) == entry
    assert gazetteer.lookup("Caspian Water Forum") == entry
    assert gazetteer.lookup("Caspian Water Forum", [Kind.STATE]) is None


def test_a_long_name_is_found_whatever_else_opens_with_its_first_word() -> None:
    gazetteer = Gazetteer()
    short = Entry(Kind.STRUCTURE, "Water", None)
    long = Entry(Kind.STRUCTURE, "Water Forum of the Caspian", None)
    gazetteer.add(short, ["Water"])
    gazetteer.add(long, ["Water Forum of the Caspian"])
    found = gazetteer.find("The Water Forum of the Caspian met; Water Forum members did not.")
    assert [(f.entry.label, f.text) for f in found] == [
        ("Water Forum of the Caspian", "Water Forum of the Caspian"),
        ("Water", "Water"),
    ]


def test_event_words_are_the_rows_matched_one_by_one() -> None:
    rows = [re.compile(rf"\b(?:{p})\b", re.IGNORECASE) for p, _ in events.EVENT_TYPES]
    for text in TEXTS:
        for match in events._TYPE_RE.finditer(text):
            row = int(str(match.lastgroup)[1:])
            earlier = [r for r in rows[:row] if r.match(text, match.start())]
            assert rows[row].match(text, match.start()).group() == match.group()  # type: ignore[union-attr]
            assert not earlier, (text, match.group())
        plain = re.compile(
            "|".join(f"(?P<t{i}>\\b(?:{p})\\b)" for i, (p, _) in enumerate(events.EVENT_TYPES)),
            re.IGNORECASE,
        )
        assert [(m.span(), m.lastgroup) for m in events._TYPE_RE.finditer(text)] == [
            (m.span(), m.lastgroup) for m in plain.finditer(text)
        ]


def test_candidate_organisations_are_those_of_the_full_scans() -> None:
    for text in TEXTS:
        introduced = [
            (m.start(1), m.end(1), True) for m in mentions._NON_GOVERNMENTAL_RE.finditer(text)
        ]
        headed = [(m.start(), m.end(), False) for m in mentions._RULE_ORG_RE.finditer(text)]
        assert mentions._candidate_organisations(text) == (*introduced, *headed)


@pytest.mark.parametrize("pattern", [groups._PLURAL_TITLE_RE, groups._COUPLE_RE])
def test_lists_and_couples_only_stand_where_an_and_precedes_a_capital(
    pattern: re.Pattern[str],
) -> None:
    for text in TEXTS:
        if groups._AND_NAME_RE.search(text) is None:
            assert pattern.search(text) is None, text


def test_remembered_finds_are_copies_a_caller_cannot_change() -> None:
    gazetteer = default_gazetteer()
    text = "The OSCE Mission to Serbia and Montenegro met in Belgrade."
    first = gazetteer.find(text)
    first.append(Found(first[0].entry, 0, 3, "The", Form.NAME))
    assert gazetteer.find(text) == first[:-1]


@pytest.mark.parametrize(
    ("pattern", "words"),
    [
        (events._ORGANISED_RE, events._ORGANISED_VERBS),
        (events._SUPPORT_RE, ("support",)),
        (mentions._SUMMIT_RE, ("Summit",)),
        (groups._SURNAME_RE, groups._HEAD_TITLES),
        (mentions._RULE_ORG_RE, ()),
    ],
)
def test_a_text_without_the_words_a_pattern_needs_is_not_searched_in_vain(
    pattern: re.Pattern[str], words: tuple[str, ...]
) -> None:
    needed = re.compile(rf"\b(?:{mentions._ORG_HEADS})\b") if not words else None
    for text in TEXTS:
        present = needed.search(text) if needed else any(w in text for w in words)
        if not present:
            assert pattern.search(text) is None, text


@pytest.mark.parametrize("pattern", [events._END_RE, events._START_RE])
def test_verbs_with_their_time_are_found_as_without_the_leading_word_boundary(
    pattern: re.Pattern[str],
) -> None:
    plain = re.compile(pattern.pattern.removeprefix(r"\b"), pattern.flags)
    for text in TEXTS:
        assert [(m.span(), m.groupdict()) for m in pattern.finditer(text)] == [
            (m.span(), m.groupdict()) for m in plain.finditer(text)
        ]


@pytest.mark.parametrize(
    ("pattern", "opens"),
    [
        ("meetings?", True),
        (r"(?:study\s+)?visits?|visited", True),
        (r"(?:plenary\s+|opening\s+)?sessions?", True),
        ("round[- ]?tables?", True),
        ("a?b", False),  # an optional letter: not read further (unsure is False)
        ("(?:a|b)?", False),  # may match nothing
        ("[a]b", False),  # a class: not read
        ("-day", False),
        ("x|-y", False),
        (r"\wfoo", False),  # a digit or "_" may open it
        ("(?:x)?(?:y)", True),
    ],
)
def test_only_patterns_that_surely_open_with_a_letter_are_said_to(
    pattern: str, opens: bool
) -> None:
    assert events.opens_with_letter(pattern) is opens

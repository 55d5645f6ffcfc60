"""The regular-expression fragments and closed word lists that several modules share."""

from __future__ import annotations

from collections.abc import Iterable

from kg.lexicon.wordlists import table_column

#: Month names and the abbreviations releases use, lower case, without the final dot.
_MONTH_NAMES: tuple[tuple[str, ...], ...] = (
    ("january", "jan"),
    ("february", "feb"),
    ("march", "mar"),
    ("april", "apr"),
    ("may",),
    ("june", "jun"),
    ("july", "jul"),
    ("august", "aug"),
    ("september", "sep", "sept"),
    ("october", "oct"),
    ("november", "nov"),
    ("december", "dec"),
)
#: Month names and abbreviations (lower case, no dot) -> 1-12.
MONTHS: dict[str, int] = {
    name: number for number, names in enumerate(_MONTH_NAMES, start=1) for name in names
}
#: The full month names, lower case, January first.
MONTH_NAMES: tuple[str, ...] = tuple(names[0] for names in _MONTH_NAMES)
#: A month name or abbreviation as written, an abbreviation's dot included ("Sept.").
MONTH_RE = (
    r"(?:Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?"
    r"|Sept?(?:ember)?|Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)\.?"
)
#: The weekdays, lower case, Monday first (the order of ``date.weekday()``).
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
#: A weekday name (match it in any case).
WEEKDAY_RE = f"(?:{'|'.join(WEEKDAYS)})"
#: The upper-case letters of Latin scripts up to U+024F, for a character class: "[{UPPER}]".
UPPER = "".join(chr(c) for c in range(0x41, 0x250) if chr(c).isupper())
#: The suffix of an ordinal number written in digits: "4th", "21st".
ORDINAL_SUFFIX = r"(?:st|nd|rd|th)"
#: A dash between two dates or after a dateline: hyphen, en dash or em dash.
DASH = "[-–—]"
#: Honorifics written short with a dot ("Dr.", "Mrs."), as alternatives: "Mr|Ms|...".
DOTTED_HONORIFICS = "|".join(table_column("honorifics", "honorific", where="dotted"))


def alternatives(entries: Iterable[str], *, any_space: bool = False) -> str:
    """Entries of a word list as regular-expression alternatives ("a|b|c").

    With ``any_space`` the words of a phrase may be separated by any white space in the text.
    """
    return "|".join(entry.replace(" ", r"\s+") if any_space else entry for entry in entries)

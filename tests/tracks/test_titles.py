"""Default titles made from prompts, and titles chosen by owners."""

from __future__ import annotations

import pytest

from beatbun.errors import InvalidInput
from beatbun.tracks.titles import MAX_TITLE_CHARS, SHORT_TITLE_CHARS, chosen_title, short_title


@pytest.mark.parametrize(
    ("prompt", "title"),
    [
        ("dreamy synthwave at night", "Dreamy synthwave at night"),
        # The first clause is the title; the rest of the prompt is detail.
        ("chill lo-fi piano at 80 bpm, with rain and a slow build", "Chill lo-fi piano at 80 bpm"),
        ("Epic trailer music. Big drums; choir", "Epic trailer music"),
        ("  lots   of\tspaces  ", "Lots of spaces"),
        # Cut on a word boundary, marked with an ellipsis.
        (
            "ambient textures for a rainy afternoon of reading",
            "Ambient textures for a rainy afternoon…",
        ),
        (
            "an extremely long description of a very specific mood without any commas at all",
            "An extremely long description of a very…",
        ),
        # A hyphen inside a word is not a clause break; a dash between spaces is.
        ("lo-fi - rainy afternoon", "Lo-fi"),
        # One word longer than the limit is cut inside it.
        ("x" * 60, "X" * 1 + "x" * (SHORT_TITLE_CHARS - 2) + "…"),
        # A prompt that starts with punctuation still gives words.
        (", piano", "Piano"),
        ("   ", "Untitled"),
        # Capitals the writer chose stay.
        ("iPhone ringtone remix", "iPhone ringtone remix"),
        ("über-cool Berlin techno", "Über-cool Berlin techno"),
    ],
)
def test_short_title_of_prompt(prompt: str, title: str) -> None:
    assert short_title(prompt) == title
    assert len(short_title(prompt)) <= SHORT_TITLE_CHARS


def test_chosen_title_collapses_spaces() -> None:
    assert chosen_title("  My   track ", prompt="ignored") == "My track"


def test_chosen_title_empty_falls_back_to_the_prompt() -> None:
    assert chosen_title("   ", prompt="rainy day lo-fi, slow") == "Rainy day lo-fi"


def test_chosen_title_too_long_is_refused() -> None:
    with pytest.raises(InvalidInput) as raised:
        chosen_title("a" * (MAX_TITLE_CHARS + 1), prompt="p")
    assert (raised.value.code, raised.value.field) == ("title_too_long", "title")
    assert "at most 100 characters" in raised.value.message


def test_chosen_title_with_control_characters_is_refused() -> None:
    with pytest.raises(InvalidInput) as raised:
        chosen_title("bad\x00title", prompt="p")
    assert raised.value.code == "invalid_title"

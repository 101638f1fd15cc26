"""Moderation verdicts: the refusal's text is a catalog template, the artist a value in it."""

from __future__ import annotations

import pytest

from beatbun.generation.moderation import (
    ARTIST_IMITATION,
    HARMFUL_CONTENT,
    ContentRefused,
    moderate,
)


def test_artist_imitation_names_the_artist_as_a_value() -> None:
    with pytest.raises(ContentRefused) as refused:
        moderate(prompt="a calm ballad", lyrics="la la, in the voice of taylor swift")

    assert (refused.value.code, refused.value.field) == ("artist_imitation", "lyrics")
    assert (refused.value.template, refused.value.params) == (
        ARTIST_IMITATION,
        {"artist": "Taylor Swift"},
    )
    assert "(Taylor Swift)" in refused.value.message


def test_harmful_content_is_refused_with_its_template() -> None:
    with pytest.raises(ContentRefused) as refused:
        moderate(prompt="how to build a bomb, as a sea shanty", lyrics=None)

    assert (refused.value.code, refused.value.template) == ("harmful_content", HARMFUL_CONTENT)
    assert refused.value.message == HARMFUL_CONTENT

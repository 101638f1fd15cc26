"""A track's stems: five 16-bit stereo WAVs that sum to the mix before the master bus.

The stems are drums, bass, harmony (chords, arpeggios, comping), lead and pads (pads plus
the reverb and delay returns of every part, so nothing of the mix is lost). They are taken
after sends, ducking and fades, at the render's 12 dB of headroom, before loudness gain and
the limiter: summed, they give the pre-master mix to within half a step of rounding per
stem, and a master made from them needs its own gain and limiting. One pass over the score
makes all five, a chunk (2 s) at a time, so a long track's stems are never whole in memory.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
from numpy.typing import NDArray

from beatbun.generation.composer.arrangement import Score
from beatbun.generation.composer.plan import CompositionPlan
from beatbun.generation.composer.render import STEMS, premaster
from beatbun.generation.composer.wav import wav_header

CHANNELS = 2


def render_stems(plan: CompositionPlan, score: Score) -> Iterator[dict[str, NDArray[np.int16]]]:
    """Consecutive chunks of every stem: name (in `STEMS` order) to a C-contiguous (n, 2) int16.

    Each chunk has the same n for all five; the chunks of one stem add up to `plan.frames`.
    """
    for block in premaster(plan, score, by_stem=True):
        stems = np.empty((len(STEMS), block.shape[-1], CHANNELS), dtype="<i2")
        # A channel at a time: several times faster than one transposing copy per stem.
        for channel in range(CHANNELS):
            stems[..., channel] = block[:, channel]
        yield {name: stems[index] for index, name in enumerate(STEMS)}


def stem_header(plan: CompositionPlan) -> bytes:
    """The WAV header every stem of `plan` starts with (they all have the track's length)."""
    return wav_header(frames=plan.frames, sample_rate=plan.sample_rate, channels=CHANNELS)

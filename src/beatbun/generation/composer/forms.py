"""Song forms: which sections a genre plays, in what order, and how long each is.

A form is a ladder of section sequences, shortest first. A track takes the rung nearest its
bars (at most a quarter longer; a short track the longest that squeezes in), then repeats the form's core (verse and
chorus, or build and drop) while a whole copy still fits. Lengths are phrases of 4 bars (2 or
1 for very short tracks); whatever is left over goes to the peak sections in whole phrases and
the last few bars to the ending, so the bars cover the duration exactly.

An extension keeps every section of the original except its closing outro, unchanged, and
continues the form after it (bridge or breakdown, the peak again, a new outro).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

from beatbun.generation.composer.plan import BEATS_PER_BAR, Section


@dataclass(frozen=True, slots=True)
class Shape:
    """A section's nominal bars, energy (which layers play, how hard), density and register.

    `density` is how busy the figuration (arpeggios) is (0..1); `register` moves the lead and
    the chords up (+1) or down (-1) from their home range.
    """

    bars: int
    energy: float
    density: float
    register: int


SHAPES: dict[str, Shape] = {
    "intro": Shape(4, 0.45, 0.3, 0),
    "verse": Shape(8, 0.55, 0.55, 0),
    "prechorus": Shape(4, 0.75, 0.7, 0),
    "chorus": Shape(8, 1.0, 1.0, 1),
    "bridge": Shape(8, 0.5, 0.5, -1),
    "breakdown": Shape(8, 0.25, 0.2, 1),
    "build": Shape(4, 0.7, 0.8, 0),
    "drop": Shape(8, 1.0, 1.0, 0),
    "outro": Shape(4, 0.45, 0.3, 0),
}
PEAKS = ("chorus", "drop")


@dataclass(frozen=True, slots=True)
class Form:
    """Rungs from shortest to longest; `core` is repeated at `insert_at` (from the end)."""

    rungs: tuple[tuple[str, ...], ...]
    core: tuple[str, ...]
    insert_at: int
    continuation: tuple[tuple[str, ...], ...]


# Hip-hop and ballads share a shape (hook or chorus); so do jazz (head, solo, head) and ambient.
_VERSE_CHORUS = Form(
    rungs=(
        ("chorus",),
        ("intro", "chorus", "outro"),
        ("intro", "verse", "chorus", "outro"),
        ("intro", "verse", "chorus", "verse", "chorus", "outro"),
        ("intro", "verse", "chorus", "verse", "chorus", "bridge", "chorus", "outro"),
    ),
    core=("verse", "chorus"),
    insert_at=3,
    continuation=(("outro",), ("chorus", "outro"), ("bridge", "chorus", "outro")),
)

_HEAD_SOLO_HEAD = Form(
    rungs=(
        ("verse",),
        ("intro", "verse", "outro"),
        ("intro", "verse", "bridge", "verse", "outro"),
    ),
    core=("bridge", "verse"),
    insert_at=1,
    continuation=(("outro",), ("verse", "outro"), ("bridge", "verse", "outro")),
)


FORMS: dict[str, Form] = {
    "song": Form(
        rungs=(
            ("chorus",),
            ("intro", "chorus", "outro"),
            ("intro", "verse", "chorus", "outro"),
            ("intro", "verse", "chorus", "verse", "chorus", "outro"),
            ("intro", "verse", "prechorus", "chorus", "verse", "prechorus", "chorus", "outro"),
            (
                "intro",
                "verse",
                "prechorus",
                "chorus",
                "verse",
                "prechorus",
                "chorus",
                "bridge",
                "chorus",
                "outro",
            ),
        ),
        core=("verse", "prechorus", "chorus"),
        insert_at=3,
        continuation=(("outro",), ("chorus", "outro"), ("bridge", "chorus", "outro")),
    ),
    "club": Form(
        rungs=(
            ("drop",),
            ("intro", "drop", "outro"),
            ("intro", "build", "drop", "outro"),
            ("intro", "build", "drop", "breakdown", "drop", "outro"),
            ("intro", "build", "drop", "breakdown", "build", "drop", "outro"),
        ),
        core=("breakdown", "build", "drop"),
        insert_at=1,
        continuation=(("outro",), ("drop", "outro"), ("breakdown", "build", "drop", "outro")),
    ),
    "hiphop": _VERSE_CHORUS,
    "jazz": _HEAD_SOLO_HEAD,
    "ambient": _HEAD_SOLO_HEAD,
    "ballad": _VERSE_CHORUS,
    "cinematic": Form(
        rungs=(
            ("chorus",),
            ("intro", "chorus", "outro"),
            ("intro", "verse", "chorus", "outro"),
            ("intro", "verse", "build", "chorus", "outro"),
            ("intro", "verse", "build", "chorus", "breakdown", "chorus", "outro"),
            ("intro", "verse", "build", "chorus", "breakdown", "build", "chorus", "outro"),
        ),
        core=("breakdown", "build", "chorus"),
        insert_at=1,
        continuation=(("outro",), ("chorus", "outro"), ("breakdown", "build", "chorus", "outro")),
    ),
}


def plan_sections(
    *, duration_seconds: float, bpm: float, form: str, extends_seconds: float | None = None
) -> tuple[Section, ...]:
    """Sections covering `duration_seconds` exactly (the last bar may run past the end).

    With `extends_seconds`, the sections of a track of that length come first, without their
    final outro and otherwise identical, and new ones continue the form. Raises ValueError for
    an unknown form or an extension that adds no bar.
    """
    shape = FORMS.get(form)
    if shape is None:
        raise ValueError(f"Form {form!r} is not one of {sorted(FORMS)}")
    total = _bars(duration_seconds, bpm)
    if extends_seconds is None:
        return _lay_out(_choose(shape.rungs, shape, total), total, start=0)
    kept = plan_sections(duration_seconds=extends_seconds, bpm=bpm, form=form)
    if len(kept) > 1 and kept[-1].name == "outro":
        kept = kept[:-1]
    start = kept[-1].start_bar + kept[-1].bars
    remaining = total - start
    if remaining < 1:
        raise ValueError(
            f"Extending {extends_seconds} s to {duration_seconds} s at {bpm} bpm adds no bar"
        )
    added = _lay_out(_choose(shape.continuation, shape, remaining), remaining, start=start)
    return (*kept, *added)


def _bars(duration_seconds: float, bpm: float) -> int:
    bar_seconds = BEATS_PER_BAR * 60.0 / bpm
    return max(1, math.ceil(duration_seconds / bar_seconds - 1e-9))


def _choose(rungs: tuple[tuple[str, ...], ...], form: Form, total: int) -> list[str]:
    """The rung nearest `total` bars (at most a quarter longer), the core repeated to fill.

    A short track (under 16 bars) takes the longest rung that squeezes in, so that even half a
    minute of a slow genre has an opening and an ending.
    """
    if total < 16:
        fitting = [rung for rung in rungs if _nominal(rung) <= total * 1.6] or [rungs[0]]
        return list(fitting[-1])
    fitting = [rung for rung in rungs if _nominal(rung) <= total * 1.25]
    # Ties go to the longer rung.
    names = list(min(fitting[::-1], key=lambda rung: abs(_nominal(rung) - total)))
    if names == list(rungs[-1]):
        while _nominal(names) + _nominal(form.core) <= total:
            at = len(names) - form.insert_at
            names[at:at] = form.core
    return names


def _nominal(names: Iterable[str]) -> int:
    return sum(SHAPES[name].bars for name in names)


def _lay_out(names: list[str], total: int, *, start: int) -> tuple[Section, ...]:
    unit = 4 if total >= 16 else 2 if total >= 8 else 1
    if len(names) == 1:
        lengths = [total]
    else:
        scale = total / _nominal(names)
        lengths = [max(unit, round(SHAPES[n].bars * scale / unit) * unit) for n in names]
        _fit(names, lengths, total, unit)
    sections = []
    for name, bars in zip(names, lengths, strict=True):
        shape = SHAPES[name]
        sections.append(Section(name, start, bars, shape.energy, shape.density, shape.register))
        start += bars
    return tuple(sections)


def _fit(names: list[str], lengths: list[int], total: int, unit: int) -> None:
    """Adjust `lengths` in place to sum to `total`, in whole phrases where it can."""
    # The ending takes up to `slack` bars more or less but keeps `least`: the last bar is
    # usually cut short by the end of the track, and the final chord needs room to ring.
    least = min(3, unit + 1)
    slack = max(0, min(unit - 1, lengths[-1] - least))
    # Too long: shorten the longest section before the ending, sparing the peaks while
    # another one can give.
    while sum(lengths) - total > slack:
        candidates = [i for i, n in enumerate(lengths[:-1]) if n > unit]
        if not candidates:
            break
        spare = [i for i in candidates if names[i] not in PEAKS] or candidates
        longest = max(spare, key=lambda i: (lengths[i], i))
        lengths[longest] -= unit
    # Too short: whole phrases to the peaks (the last first), or else to the other sections.
    growers = [i for i in reversed(range(len(names))) if names[i] in PEAKS] or list(
        reversed(range(len(names) - 1))
    )
    turn = 0
    while total - sum(lengths) >= unit - slack:
        lengths[growers[turn % len(growers)]] += unit
        turn += 1
    # The rest lands on the ending.
    lengths[-1] += total - sum(lengths)

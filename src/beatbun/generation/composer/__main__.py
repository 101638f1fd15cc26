"""Command line for the built-in composer: render a prompt to a WAV file and print the plan.

    python -m beatbun.generation.composer "chill lo-fi piano at 80 bpm" --seconds 30 -o out.wav

The request passes the same rules as the studio's and the API's (`GenerationRequest`). The
Worker never imports this module.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from beatbun.errors import InvalidInput
from beatbun.generation.composer.provider import Composer
from beatbun.generation.models import GenerationRequest
from beatbun.generation.provider import ProviderResult


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command; returns the process exit code (2 for an invalid request)."""
    args = _parser().parse_args(argv)
    fields: dict[str, object] = {"prompt": args.prompt, "duration_seconds": args.seconds}
    for name in ("seed", "bpm", "key", "mode", "mood"):
        if getattr(args, name) is not None:
            fields[name] = getattr(args, name)
    if args.genre:
        fields["genres"] = args.genre
    try:
        request = GenerationRequest.parse(fields).to_music_request()
    except InvalidInput as exc:
        print(f"error: {exc.message} ({exc.code})", file=sys.stderr)
        return 2
    started = time.process_time()
    with Path(args.output).open("wb") as file:
        result = Composer().compose(request, write=file.write, correlation_id="cli")
    elapsed = time.process_time() - started
    if args.json:
        print(json.dumps(result.plan, indent=2))
    else:
        print(_describe(result, output=args.output, elapsed=elapsed))
    return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m beatbun.generation.composer", description=__doc__.splitlines()[0]
    )
    parser.add_argument("prompt", help='what to play, e.g. "dark techno 130"')
    parser.add_argument(
        "--seconds", type=float, default=30.0, help="duration, 5 to 300 (default 30)"
    )
    parser.add_argument("--seed", type=int, help="same seed and prompt give the same file")
    parser.add_argument(
        "--genre", action="append", help="genre tag; wins over the prompt (repeatable)"
    )
    parser.add_argument("--bpm", type=float, help="tempo; wins over the prompt")
    parser.add_argument("--key", help='tonic, optionally with mode: "A", "F# minor", "Bbm"')
    parser.add_argument("--mode", help="major or minor")
    parser.add_argument("--mood", help="happy, sad, dark, chill, epic, energetic, dreamy, romantic")
    parser.add_argument(
        "-o", "--output", default="out.wav", help="WAV file to write (default out.wav)"
    )
    parser.add_argument("--json", action="store_true", help="print the plan as JSON")
    return parser


def _describe(result: ProviderResult, *, output: str, elapsed: float) -> str:
    plan = result.plan
    sections = plan.get("sections", [])
    form = (
        ", ".join(f"{s['name']} {s['bars']}" for s in sections)
        if isinstance(sections, list)
        else ""
    )
    instruments = plan.get("instruments", {})
    voices = (
        ", ".join(f"{k} {v}" for k, v in instruments.items())
        if isinstance(instruments, dict)
        else ""
    )
    progression = plan.get("progression", [])
    chords = " ".join(str(c) for c in progression) if isinstance(progression, list) else ""
    drums = plan.get("drums", [])
    kit = ", ".join(str(d) for d in drums) if isinstance(drums, list) else ""
    lines = [
        f"wrote {output}: {result.duration_seconds:.2f} s, {result.sample_rate} Hz, 16-bit stereo",
        f"genre       {plan.get('genre_label')} (from {_source(plan, 'genre')})",
        f"mood        {plan.get('mood')} (from {_source(plan, 'mood')})",
        f"tempo       {plan.get('bpm')} BPM (from {_source(plan, 'bpm')})",
        f"key         {plan.get('key')} (from {_source(plan, 'key')})",
        f"progression {chords}",
        f"form        {form} (bars)",
        f"instruments {voices}",
        f"drums       {kit or 'none'}",
        f"seed        {plan.get('seed')}",
        f"loudness    {plan.get('loudness_lufs')} LUFS, true peak {plan.get('true_peak_dbtp')} dBTP",
        f"rendered in {elapsed:.2f} s CPU ({result.duration_seconds / max(elapsed, 1e-9):.0f}x real time)",
    ]
    return "\n".join(lines)


def _source(plan: object, name: str) -> str:
    sources = plan.get("sources", {}) if isinstance(plan, dict) else {}
    return str(sources.get(name, "default")) if isinstance(sources, dict) else "default"


if __name__ == "__main__":
    raise SystemExit(main())

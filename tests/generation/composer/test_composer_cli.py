"""The command line, run as users run it: renders a file, prints the plan, refuses bad requests."""

from __future__ import annotations

import json
import subprocess
import sys
import wave
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[3]


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "beatbun.generation.composer", *args],
        capture_output=True,
        text=True,
        check=False,
        cwd=PROJECT_ROOT,
        timeout=120,
    )


def test_cli_writes_wav_and_prints_plan(tmp_path: Path) -> None:
    output = tmp_path / "out.wav"

    done = _run("dark techno 130 in F minor", "--seconds", "6", "--seed", "7", "-o", str(output))

    assert done.returncode == 0, done.stderr
    assert "Techno (from text)" in done.stdout
    assert "130.0 BPM" in done.stdout
    assert "F minor" in done.stdout
    with wave.open(str(output)) as reader:
        assert reader.getnframes() == 6 * 44100


def test_cli_json_fields_win(tmp_path: Path) -> None:
    output = tmp_path / "out.wav"

    done = _run(
        "techno", "--genre", "Jazz", "--bpm", "120", "--seconds", "5", "--json", "-o", str(output)
    )

    assert done.returncode == 0, done.stderr
    plan = json.loads(done.stdout)
    assert (plan["genre"], plan["bpm"], plan["sources"]["genre"]) == ("jazz", 120.0, "field")


def test_cli_invalid_request_exits_2_with_the_api_code(tmp_path: Path) -> None:
    output = tmp_path / "out.wav"

    done = _run("pop", "--seconds", "2", "-o", str(output))

    assert done.returncode == 2
    assert "duration_out_of_range" in done.stderr
    assert not output.exists()


def test_cli_key_with_mode_is_split_as_the_studio_splits_it(tmp_path: Path) -> None:
    output = tmp_path / "out.wav"

    done = _run("calm piano", "--key", "d minor", "--seconds", "5", "--json", "-o", str(output))

    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["key"] == "D minor"

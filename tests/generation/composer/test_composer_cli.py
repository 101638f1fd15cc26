"""The command line: renders a file and prints the resolved plan; refuses bad requests."""

from __future__ import annotations

import json
import wave
from pathlib import Path

import pytest

from beatbun_local.compose import main


def test_cli_writes_wav_and_prints_plan(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    output = tmp_path / "out.wav"

    code = main(["dark techno 130 in F minor", "--seconds", "6", "--seed", "7", "-o", str(output)])

    assert code == 0
    printed = capsys.readouterr().out
    assert "Techno (from text)" in printed
    assert "130.0 BPM" in printed
    assert "F minor" in printed
    with wave.open(str(output)) as reader:
        assert reader.getnframes() == 6 * 44100


def test_cli_json_fields_win(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    output = tmp_path / "out.wav"

    code = main(
        ["techno", "--genre", "jazz", "--bpm", "120", "--seconds", "5", "--json", "-o", str(output)]
    )

    plan = json.loads(capsys.readouterr().out)
    assert code == 0
    assert (plan["genre"], plan["bpm"], plan["sources"]["genre"]) == ("jazz", 120.0, "field")


def test_cli_invalid_request_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    output = tmp_path / "out.wav"

    code = main(["pop", "--seconds", "2", "-o", str(output)])

    assert code == 2
    assert "duration_out_of_range" in capsys.readouterr().err
    assert not output.exists()

"""CCW_LOCALE and CCW_LABELS_FILE: the settings build the catalogue and refuse a bad label file."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import typer
from pydantic import ValidationError

from agent.cli import handled
from agent.runner import Target
from agent.settings import Settings
from agent.targets import load_settings


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "labels.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_settings_accept_french_and_apply_the_label_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CCW_LOCALE", "fr")
    monkeypatch.setenv("CCW_LABELS_FILE", str(write(tmp_path, 'yes = "Confirmer"\n')))
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    assert settings.labels.yes == "Confirmer"
    assert settings.labels.submit == "Envoyer"
    # and the agent's workers look for those words
    assert Target.from_settings(settings).labels.yes == "Confirmer"


def test_settings_refuse_a_bad_label_file_naming_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write(tmp_path, 'serach = "Find"\n')
    monkeypatch.setenv("CCW_LABELS_FILE", str(path))
    with pytest.raises(ValidationError, match=re.escape(f"{path}: 'serach' is not a label")):
        Settings(_env_file=None)  # type: ignore[call-arg]


def test_the_command_line_exits_2_on_a_bad_label_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("CCW_LABELS_FILE", str(write(tmp_path, "search = 3\n")))
    with pytest.raises(typer.Exit) as exited, handled():
        load_settings()
    assert exited.value.exit_code == 2
    assert "CCW_LABELS_FILE" in capsys.readouterr().err

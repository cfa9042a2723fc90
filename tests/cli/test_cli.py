"""The `scanner` command through click's CliRunner, and `scanner run` end to end."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from scanner.cli import cli
from tests.support.paths import REPO


def _commands(group: click.Group, prefix: str = "") -> list[tuple[str, click.Command]]:
    found = []
    for name, command in group.commands.items():
        found.append((f"{prefix}{name}", command))
        if isinstance(command, click.Group):
            found.extend(_commands(command, f"{prefix}{name} "))
    return found


def test_every_command_has_help() -> None:
    runner = CliRunner()
    for name, command in _commands(cli):
        assert command.help, f"`scanner {name}` has no help text"
        result = runner.invoke(cli, [*name.split(), "--help"])
        assert result.exit_code == 0 and "Usage:" in result.output, name




def test_bad_config_is_one_clear_line(tmp_path: Path) -> None:
    config = tmp_path / "scanner.toml"
    config.write_text("[fetch]\ntimeout_s = 'x'\n")
    result = CliRunner().invoke(cli, ["--config", str(config), "db", "stats"])
    assert result.exit_code == 1
    assert f"Error: config file {config}, line 2, key 'timeout_s': expected a number" \
        in result.output
    assert "Traceback" not in result.output




















@pytest.mark.parametrize("module", ["scanner", "scanner.cli"])
def test_python_dash_m_has_every_command(module: str) -> None:
    """The commands kept in their own modules (db check, report, topics) are there too."""
    result = subprocess.run([sys.executable, "-m", module, "db", "--help"], cwd=REPO,
                            capture_output=True, text=True, check=True)
    assert "check" in result.stdout and "backup" in result.stdout

"""README.md stays true: every CLI command and every layer is documented there."""
from pathlib import Path

import click

from gisdesk.cli import main
from gisdesk.layers import load

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")


def _commands(group: click.Group, prefix: str = "gisdesk"):
    for name, command in group.commands.items():
        path = f"{prefix} {name}"
        if isinstance(command, click.Group):
            yield from _commands(command, path)
        else:
            yield path


def test_every_cli_command_appears_in_the_readme():
    missing = []
    for path in _commands(main):
        *parents, leaf = path.split()
        # documented either literally or in an a|b|c list after its group
        group = " ".join(parents)
        if path not in README and not any(
                line.strip().startswith(group + " ") and leaf in line.split(group, 1)[1]
                for line in README.splitlines()):
            missing.append(path)
    assert not missing, f"document these commands in README.md: {missing}"


def test_every_layer_appears_in_the_readme():
    layers = load(ROOT / "layers")
    missing = [lid for lid in layers if f"`{lid}`" not in README]
    assert not missing, f"document these layers in README.md: {missing}"


def test_the_two_commands_come_first():
    first_code = README.split("```", 2)[1]
    assert "make run" in first_code and "make test" in first_code

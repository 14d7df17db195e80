"""The commands' flags that set a setting come from the settings table (issue 20): name, type, metavar
and help are declared once, in archiver/config.py, and no command writes them again."""

from __future__ import annotations

import click
import pytest
from click.testing import CliRunner

from archiver.cli import cli, setting_option
from archiver.config import SETTINGS, env_name, flag_name, flag_of, help_text

COMMANDS = sorted(cli.commands)


def setting_params(command: click.Command) -> list[click.Option]:
    """The command's options that set a setting (their parameter name is the setting's)."""
    return [p for p in command.params if isinstance(p, click.Option) and p.name in SETTINGS]


@pytest.mark.parametrize("name", COMMANDS)
def test_every_setting_flag_gets_its_help_from_the_table(name: str) -> None:
    for param in setting_params(cli.commands[name]):
        setting = param.name or ""
        assert flag_of(setting) is not None, f"{name}: --{setting} is not declared with flag= in the table"
        assert param.opts == [flag_name(setting)], f"{name}: {param.opts} is not the setting's flag"
        assert param.help == help_text(setting), f"{name} {flag_name(setting)}: help written by hand"
        assert SETTINGS[setting].metadata["doc"] in (param.help or "") and env_name(setting) in (param.help or "")
        assert param.default is None, f"{name} {flag_name(setting)}: a flag not given leaves the setting alone"


@pytest.mark.parametrize("name", COMMANDS)
def test_help_lists_the_setting_flags(name: str) -> None:
    result = CliRunner().invoke(cli, [name, "--help"], terminal_width=200)
    assert result.exit_code == 0, result.output
    for param in setting_params(cli.commands[name]):
        assert flag_name(param.name or "") in result.output
        assert env_name(param.name or "") in result.output


def test_every_flag_the_table_declares_is_offered_by_a_command() -> None:
    offered = {p.name for command in cli.commands.values() for p in setting_params(command)}
    declared = {name for name in SETTINGS if flag_of(name) is not None}
    assert offered == declared


def test_the_flags_keep_their_names_and_types() -> None:
    """The flags the docs and the workflows use, as they were before they were generated."""
    run = {p.name: p for p in cli.commands["run"].params}
    assert run["soft404_probe"].opts == ["--soft404-probe"]
    assert run["soft404_probe"].secondary_opts == ["--no-soft404-probe"]
    assert run["max_lookups"].type == click.STRING and run["max_lookups"].metavar == "N|none"
    assert run["max_links"].type == click.INT and run["time_budget"].type == click.FLOAT
    assert run["allow_networks"].metavar == "CIDRS"
    assert isinstance(run["snapshots"].type, click.Path)
    assert {p.name: p for p in cli.commands["pack"].params}["warc_dir"].type == click.STRING


def test_a_setting_without_a_flag_cannot_be_offered() -> None:
    with pytest.raises(ValueError, match="not offered on the command line"):
        setting_option("parse_processes")

"""Command lines shown in workflows and docs, checked against archiver's real CLI (click)."""

from __future__ import annotations

import re
import shlex

import click

from archiver.cli import cli

#: a GitHub Actions expression, ${{ ... }}
EXPRESSION = re.compile(r"\$\{\{.*?\}\}", re.S)


def check_command_line(line: str) -> None:
    """The line names a real archiver subcommand, with options it has and valid choice values."""
    words = shlex.split(EXPRESSION.sub("EXPR", line))
    assert words[0] == "archiver" and len(words) > 1, line
    command = cli.commands.get(words[1])
    assert command is not None, f"{line}: archiver has no command {words[1]!r}"
    options: dict[str, click.Option] = {}
    arguments = [p for p in command.params if isinstance(p, click.Argument)]
    for param in command.params:
        if isinstance(param, click.Option):
            for name in (*param.opts, *param.secondary_opts):
                options[name] = param
    positional = 0
    rest = iter(words[2:])
    for word in rest:
        if not word.startswith("-"):
            positional += 1
            continue
        name, has_value, value = word.partition("=")
        assert name in options, f"{line}: archiver {words[1]} has no option {name}"
        option = options[name]
        if option.is_flag or option.count:
            continue
        if not has_value:
            value = next(rest, "")
            assert value and not value.startswith("--"), f"{line}: {name} needs a value"
        if isinstance(option.type, click.Choice) and "$" not in value and "EXPR" not in value:
            assert value in option.type.choices, f"{line}: {name} {value} is not one of {option.type.choices}"
        if option.type in (click.INT, click.FLOAT) and "$" not in value and "EXPR" not in value:
            option.type.convert(value, option, None)
    if positional:
        assert arguments, f"{line}: archiver {words[1]} takes no arguments"
        assert arguments[0].nargs == -1 or positional <= len(arguments), line

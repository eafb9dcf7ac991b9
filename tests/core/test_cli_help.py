"""The ``brim`` command line documents itself."""

from __future__ import annotations

import argparse

import pytest

from brim.cli import build_parser, main


def test_every_cli_argument_and_subcommand_has_help():
    """``brim ... -h`` documents every option, positional and subcommand."""
    missing = []

    def walk(parser, path):
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                documented = {c.dest for c in action._choices_actions if c.help}
                for name, sub in action.choices.items():
                    if name not in documented:
                        missing.append(" ".join([*path, name]))
                    walk(sub, [*path, name])
            elif not action.help:
                missing.append(" ".join([*path, action.dest]))

    walk(build_parser(), ["brim"])
    assert not missing, missing


def test_help_shows_defaults_including_zero(capsys):
    """Options with a default print it; a default of 0 is shown too (0 == False in Python)."""
    import pytest

    with pytest.raises(SystemExit):
        build_parser().parse_args(["thermo", "simulate", "-h"])
    out = " ".join(capsys.readouterr().out.split())
    assert "random seed (default: 0)" in out
    assert "number of subjects (default 4)" in out and "(default 4) (default" not in out


@pytest.mark.parametrize("group", ["thermo", "microwave", "elasto", "fusion"])
def test_each_modality_group_says_its_units(group, capsys):
    """A new user met --zmax in mm beside --pitch in m without a word: every modality's group
    help states which options are in which units."""
    assert main([group, "--help"]) == 0
    text = " ".join(capsys.readouterr().out.split())
    assert "Units:" in text, text[:300]

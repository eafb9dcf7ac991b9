"""Every modality group names its subcommands the same way in ``--help`` (``COMMAND``): thermo
and learn said ``SUBCOMMAND`` where microwave, elasto and fusion said ``COMMAND``."""

from __future__ import annotations

import pytest

from brim.cli import main

GROUPS = ["thermo", "microwave", "elasto", "fusion", "learn"]


@pytest.mark.parametrize("group", GROUPS)
def test_group_usage_says_command(group, capsys):
    assert main([group, "--help"]) == 0
    usage = capsys.readouterr().out.splitlines()[0]
    assert usage == f"usage: brim {group} [-h] COMMAND ...", usage

"""A brim file of another modality given to an elastography command is refused in one line that
names the file, its kind and the kind the command needs (it said "<full path> does not hold an
rf_frames Dataset")."""

from __future__ import annotations

import pytest

from brim.cli import main
from brim.data import sample_path


@pytest.mark.parametrize(
    ("command", "needs"), [("strain", "rf_frames"), ("beamform", "channel_data")]
)
def test_a_thermogram_is_refused_naming_both_kinds(tmp_path, capsys, command, needs):
    out = tmp_path / "out.nc"
    src = sample_path("thermo_phantom_tumour")
    assert main(["elasto", command, str(src), "-o", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("brim: error: thermo_phantom_tumour.nc is a brim 'thermogram' file")
    assert f"give a file of kind {needs}" in err
    assert str(src.parent) not in err and "\n" not in err
    assert not out.exists()

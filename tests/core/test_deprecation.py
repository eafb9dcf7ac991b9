"""brim.deprecation: old positional calls (positional_options) and old module paths of moved
names (moved_names) keep working, with a warning."""

import inspect
import os.path

import pytest

from brim.deprecation import moved_names, positional_options


@positional_options
def _f(data, required, *, alpha=1.0, beta=2.0):
    return data, required, alpha, beta


def test_keyword_calls_do_not_warn(recwarn):
    assert _f(1, 2, beta=5) == (1, 2, 1.0, 5)
    assert not [w for w in recwarn if issubclass(w.category, DeprecationWarning)]


def test_positional_options_warn_and_map_in_order():
    with pytest.warns(DeprecationWarning, match=r"alpha, beta by position.*alpha=\.\.\., beta="):
        assert _f(1, 2, 3, 4) == (1, 2, 3, 4)
    with pytest.warns(DeprecationWarning, match="alpha by position"):
        assert _f(1, 2, 3, beta=9) == (1, 2, 3, 9)


def test_too_many_or_duplicated_arguments_raise_type_error():
    with pytest.raises(TypeError):
        _f(1, 2, 3, 4, 5)
    with pytest.raises(TypeError, match="multiple values for 'alpha'"):
        _f(1, 2, 3, alpha=4)


def test_the_signature_shown_is_keyword_only():
    kinds = {p.name: p.kind for p in inspect.signature(_f).parameters.values()}
    assert kinds["alpha"] is inspect.Parameter.KEYWORD_ONLY
    assert _f.__doc__ is None or "alpha" not in (_f.__doc__ or "")


def test_moved_names_forward_with_a_warning_at_the_caller():
    getattr_ = moved_names(
        "old.place", {"join": "os.path"}, message="{old}.{name} now lives in {module}"
    )
    with pytest.warns(DeprecationWarning, match=r"^old\.place\.join now lives in os\.path$") as rec:
        obj = getattr_("join")
    assert obj is os.path.join
    assert rec[0].filename == __file__


def test_moved_names_refuse_other_names_like_a_module():
    getattr_ = moved_names("old.place", {"join": "os.path"}, message="{name}")
    with pytest.raises(AttributeError, match="module 'old.place' has no attribute 'split'"):
        getattr_("split")


# Every deprecated spelling brim keeps for one release, as a user's script would write it. Python
# shows a DeprecationWarning by default only when it is attributed to ``__main__``: one attributed
# to brim's own frames (a lazy package __getattr__, the provenance wrapper) is silently dropped.
# Lines 1-3 import; every later line uses one old spelling.
_OLD_SPELLINGS = """\
import numpy as np, xarray as xr, brim, brim.fusion, brim.elasto, brim.microwave
from brim.microwave.tissue import debye; from brim.thermo import simulate_thermogram as sim
from brim.evaluate import sensitivity_at_specificity as sens_at_spec
brim.fusion.Roi
from brim.fusion import Roi
brim.elasto.Roi
brim.elasto.strain.Roi
brim.microwave.calibrate
import brim.evaluate.protocol as protocol; protocol.confound_audit
import brim.microwave.forward
debye(freq_hz=1e9, eps_inf=4.0, delta_eps=10.0, tau_s=1e-11, sigma_s=0.1)
from brim.elasto.beamforming import envelope; envelope(np.ones((64, 8)))
sim(seed=0, voxel=6e-3, return_volume=True)
sens_at_spec([0, 1], [0.1, 0.9], 0.5)
brim.record_provenance(xr.Dataset(), "user.step", {"k": 1})
import brim.fusion.readers as readers; readers.read_measurement
from brim.thermo.bioheat import solve_steady
from brim.thermo.relative_features import relative_features
"""


def test_every_deprecation_is_shown_to_a_users_script(tmp_path):
    import subprocess
    import sys

    script = tmp_path / "old_code.py"
    script.write_text(_OLD_SPELLINGS)
    env = {k: v for k, v in os.environ.items() if k != "PYTHONWARNINGS"}
    run = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, env=env, cwd=tmp_path
    )
    assert run.returncode == 0, run.stderr
    shown = {
        int(line.split(":")[1])
        for line in run.stderr.splitlines()
        if line.startswith(str(script)) and "DeprecationWarning" in line
    }
    lines = _OLD_SPELLINGS.splitlines()
    missing = [f"line {n}: {lines[n - 1]}" for n in range(4, len(lines) + 1) if n not in shown]
    assert not missing, "no DeprecationWarning shown for\n" + "\n".join(missing)

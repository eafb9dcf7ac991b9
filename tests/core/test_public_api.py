"""A walk over brim's public API (the names in ``__all__``): docstrings, spellings, keyword-only
options, type hints. Measured on 2026-12-07 after issue 18: 243 public callables in brim,
brim.thermo, brim.microwave, brim.elasto, brim.fusion, brim.learn and brim.evaluate; every one
has a docstring and, where it takes parameters, a numpydoc ``Parameters`` section; no public
function takes an option positionally; 1 of 201 lacks full type hints. The ratchets below keep
these numbers from getting worse."""

from __future__ import annotations

import importlib
import inspect
import re
import warnings

import numpy as np
import pytest

NAMESPACES = (
    "brim",
    "brim.thermo",
    "brim.microwave",
    "brim.elasto",
    "brim.fusion",
    "brim.learn",
    "brim.evaluate",
)
MAX_WITHOUT_PARAMETERS = 0  # ratchet: public callables without a Parameters section
MAX_POSITIONAL_OPTIONS = 0  # ratchet: public functions with an option not keyword-only
MAX_UNANNOTATED = 1  # ratchet: public functions without full type hints
SECTION = re.compile(r"^(Parameters|Attributes)\n-{3,}$", re.M)


def _public():
    """(namespace, name, object) for every public callable."""
    out = []
    for ns in NAMESPACES:
        module = importlib.import_module(ns)
        for name in module.__all__:
            try:
                obj = getattr(module, name)
            except ImportError as exc:  # an optional extra that is not installed
                pytest.skip(f"{ns}.{name} needs a missing extra: {exc}")
            if callable(obj) and not inspect.ismodule(obj):
                out.append((ns, name, obj))
    return out


@pytest.fixture(scope="module")
def public():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        return _public()


def _takes_parameters(obj) -> bool:
    try:
        sig = inspect.signature(obj)
    except (TypeError, ValueError):  # a builtin or extension type without a signature
        return False
    return any(p.name not in ("self", "cls") for p in sig.parameters.values())


def test_every_public_callable_has_a_docstring(public):
    missing = [f"{ns}.{name}" for ns, name, obj in public if not (inspect.getdoc(obj) or "")]
    print(f"{len(public)} public callables, {len(missing)} without a docstring")
    assert len(public) > 150  # the walk found the API (lazy exports resolved)
    assert not missing, missing


def test_parameters_sections_do_not_get_rarer(public):
    """A numpydoc ``Parameters`` section (``Attributes`` for a dataclass) wherever a public
    callable takes parameters: a ratchet on the count that lack one."""
    lacking = sorted(
        f"{ns}.{name}"
        for ns, name, obj in public
        if _takes_parameters(obj) and not SECTION.search(inspect.getdoc(obj) or "")
    )
    print(f"{len(lacking)} of {len(public)} public callables lack a Parameters section:")
    print("\n".join(lacking))
    assert len(lacking) <= MAX_WITHOUT_PARAMETERS, (
        f"{len(lacking)} public callables lack a numpydoc Parameters section, more than the "
        f"{MAX_WITHOUT_PARAMETERS} of the ratchet: document the new ones"
    )


def test_the_section_detector_can_fail():
    def documented(x):
        """Do.

        Parameters
        ----------
        x : int
        """

    def undocumented(x):
        """Do x."""

    assert SECTION.search(inspect.getdoc(documented))
    assert not SECTION.search(inspect.getdoc(undocumented))


_SPELLING = (("centre", "center"), ("tumor", "tumour"), ("colour", "color"), ("_hz", ""))


def _canonical(name: str) -> str:
    out = name.lower()
    for a, b in _SPELLING:
        out = out.replace(a, b)
    return re.sub(r"is(e|ed|ing|ation)\b", r"iz\1", out)


def test_no_public_name_is_exported_twice(public):
    """No namespace exports one object under two names, or two names that are one name spelt
    two ways (centre/center, tumour/tumor, -ise/-ize, freq_hz/freq); old spellings are reachable
    only as deprecated aliases outside ``__all__``."""
    problems = []
    for ns in NAMESPACES:
        items = [(name, obj) for n, name, obj in public if n == ns]
        seen: dict[int, str] = {}
        spelt: dict[str, str] = {}
        for name, obj in items:
            if id(obj) in seen and not inspect.isbuiltin(obj):
                problems.append(f"{ns}: {name} is {seen[id(obj)]}")
            seen.setdefault(id(obj), name)
            key = _canonical(name)
            if key in spelt:
                problems.append(f"{ns}: {name} and {spelt[key]} are one name spelt two ways")
            spelt.setdefault(key, name)
    assert not problems, problems


def test_deprecated_spellings_warn_and_reach_the_new_name():
    from brim.microwave import TomographyGrid, breast_phantom

    ph = breast_phantom(TomographyGrid.centered(20, 0.16))
    with pytest.warns(DeprecationWarning, match="tumour_centre"):
        assert ph.tumour_center == ph.tumour_centre
    # freq_hz= (the minority spelling) -> freq= (brim's schemas and most of brim.microwave)
    with pytest.warns(DeprecationWarning, match="renamed freq="):
        old = ph.permittivity(freq_hz=2e9)
    np.testing.assert_array_equal(old, ph.permittivity(freq=2e9))
    from brim.microwave import lazebnik_permittivity

    with pytest.warns(DeprecationWarning, match="renamed freq="):
        old = lazebnik_permittivity("adipose", freq_hz=[1e9, 3e9])
    np.testing.assert_array_equal(old, lazebnik_permittivity("adipose", [1e9, 3e9]))
    assert abs(old[0].real - complex(lazebnik_permittivity("fibroglandular", 1e9)).real) > 10
    from brim.errors import ConfigError

    with pytest.raises(ConfigError, match="freq= only"):
        lazebnik_permittivity("adipose", freq=1e9, freq_hz=1e9)
    from brim.microwave.tomography import score

    true = np.ones((4, 4), complex)
    rec = true.copy()
    rec[1, 1] = 3.0
    masks = {"tumour": np.eye(4, dtype=bool), "background": ~np.eye(4, dtype=bool)}
    with pytest.warns(DeprecationWarning, match="tumour_centre"):
        a = score(rec, true, masks, np.arange(4.0), np.arange(4.0), tumour_center=(1.0, 1.0))
    b = score(rec, true, masks, np.arange(4.0), np.arange(4.0), tumour_centre=(1.0, 1.0))
    assert a.localisation_error_m == b.localisation_error_m is not None


# Functions touched in issue 18: options (parameters with a default) after the data arguments
# are keyword-only. (The deprecated positional generator of add_noise is a *args catch.)
TOUCHED = (
    "brim.microwave:add_noise",
    "brim.microwave:ring_positions",
    "brim.microwave.tomography:score",
    "brim.microwave:simulate",
    "brim.microwave:beamform",
    "brim.microwave:to_time_domain",
    "brim.microwave:average_subtraction",
    "brim.microwave:calibrate_gain",
    "brim.microwave:read_merit",
    "brim.microwave:read_touchstone",
    "brim.microwave:read_umbmid",
    "brim.microwave.tomography.fieldtable:read_field_table",
    "brim.elasto:beamform",
    "brim.elasto:estimate_displacement",
    "brim.elasto:strain_image",
    "brim.elasto:read_rf",
    "brim.elasto:read_channel_pybf",
    "brim.fusion:fit_background",
    "brim.fusion:reconstruct",
    "brim.fusion:hemoglobin",
    "brim.fusion:segment",
    "brim.fusion:read_measurement",
    "brim.thermo:read_dmr",
    "brim.thermo:read_frames",
    "brim.thermo:segment_classical",
    "brim.thermo.detectability:detectability_study",
    "brim.thermo.body_relative:relative_features",
    "brim.thermo.recovery:recovery_features",
    "brim.evaluate.strata:stratified_auroc",
    "brim.evaluate.strata:matched_indices",
)


# optional *data* arguments, positional by design: estimate_displacement(pre, post=None),
# the patient ids beside labels and scores: auroc_ci(y, scores, groups=None), the lesion a
# simulator images: simulate_measurement(lesion=None), the mask beside an image:
# read_busi(image, mask=None), a table file: read_extinction(path=None)
OPTIONAL_DATA = {"post", "groups", "lesion", "mask", "path"}


@pytest.mark.parametrize("qualname", TOUCHED)
def test_options_are_keyword_only_in_touched_functions(qualname):
    module, _, name = qualname.partition(":")
    fn = getattr(importlib.import_module(module), name)  # the public path, no deprecated shim
    positional_options = [
        p.name
        for p in inspect.signature(fn).parameters.values()
        if p.default is not inspect.Parameter.empty
        and p.name not in OPTIONAL_DATA
        and p.kind in (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    ]
    assert not positional_options, f"{qualname}: options {positional_options} not keyword-only"


def test_positional_options_do_not_get_more_common(public):
    """Options after the data arguments are keyword-only: a ratchet over all public functions."""
    found = []
    for ns, name, obj in public:
        if not inspect.isfunction(obj):
            continue
        params = inspect.signature(obj).parameters.values()
        positional = [
            p.name
            for p in params
            if p.default is not inspect.Parameter.empty
            and p.name not in OPTIONAL_DATA
            and p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
        ]
        if positional:
            found.append(f"{ns}.{name}: {positional}")
    print(f"{len(found)} public functions take options positionally:")
    print("\n".join(found))
    assert len(found) <= MAX_POSITIONAL_OPTIONS, found


def _annotated(fn) -> bool:
    """True when every parameter (but self/cls and *args/**kwargs) and the return are annotated."""
    sig = inspect.signature(fn)
    params = [
        p
        for p in sig.parameters.values()
        if p.name not in ("self", "cls") and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)
    ]
    return sig.return_annotation is not inspect.Signature.empty and all(
        p.annotation is not inspect.Parameter.empty for p in params
    )


def test_type_annotations_do_not_get_rarer(public):
    """Public functions carry type hints (mypy checks them in CI): a ratchet on those without."""
    lacking = sorted(f"{ns}.{name}" for ns, name, obj in public
                     if inspect.isfunction(obj) and not _annotated(obj))  # fmt: skip
    n_functions = sum(inspect.isfunction(obj) for _, _, obj in public)
    print(f"{len(lacking)} of {n_functions} public functions lack full annotations:")
    print("\n".join(lacking))
    assert len(lacking) <= MAX_UNANNOTATED, lacking


def test_the_annotation_detector_can_fail():
    def typed(x: int, *args, y: float = 1.0, **kw) -> int:
        return x

    def untyped(x, y: float = 1.0) -> int:
        return x

    assert _annotated(typed)
    assert not _annotated(untyped)


def test_import_brim_then_a_subpackage_by_attribute():
    """``import brim`` then ``brim.thermo.read(...)`` (a notebook's first cell) used to raise
    "module 'brim' has no attribute 'thermo'"; the subpackages load on first use, not before."""
    import subprocess
    import sys

    code = (
        "import sys, brim\n"
        "assert 'brim.thermo' not in sys.modules\n"
        "names = ['thermo', 'microwave', 'elasto', 'fusion', 'learn', 'evaluate', 'io']\n"
        "assert all(n in dir(brim) for n in names)\n"
        "assert callable(brim.thermo.read) and callable(brim.fusion.reconstruct)\n"
        "assert callable(brim.elasto.beamform) and callable(brim.microwave.open_scan)\n"
        "assert brim.learn.__name__ == 'brim.learn' and brim.evaluate.__name__ == 'brim.evaluate'\n"
    )
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr

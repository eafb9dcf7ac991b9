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

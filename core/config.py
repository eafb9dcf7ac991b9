"""Parameter files (YAML or JSON) for the CLI and batch runs."""

from __future__ import annotations

import functools
import inspect
import json
import os
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

from brim.errors import ConfigError, FormatError

#: At most this many values (after YAML aliases are expanded) in a parameter file: a real one
#: holds tens; an alias bomb ("billion laughs") expands a few lines into billions.
MAX_PARAM_NODES = 100_000
#: At most this nesting depth of lists and mappings in a parameter file.
MAX_PARAM_DEPTH = 50


def _check_tree(data: Any, path: Path) -> None:
    """Refuse recursive (self-referencing) structures, alias bombs and very deep nesting.

    YAML anchors and aliases (``&a``, ``*a``) build shared or self-containing objects; a
    self-containing one recursed without end in every consumer (dask hashing, JSON provenance).
    """
    count = 0
    stack: list[tuple[Any, int, tuple[int, ...]]] = [(data, 0, ())]
    while stack:
        obj, depth, ancestors = stack.pop()
        count += 1
        if count > MAX_PARAM_NODES:
            raise ConfigError(
                f"{path}: more than {MAX_PARAM_NODES} values once YAML aliases are expanded; "
                f"a parameter file holds a few settings (an alias bomb?)"
            )
        if not isinstance(obj, (dict, list)):
            continue
        if id(obj) in ancestors:
            raise ConfigError(
                f"{path}: a YAML alias refers to a value that contains it (a recursive "
                f"structure); write the value out instead of the alias"
            )
        if depth >= MAX_PARAM_DEPTH:
            raise ConfigError(f"{path}: values nested more than {MAX_PARAM_DEPTH} levels deep")
        inner = (*ancestors, id(obj))
        children = obj.values() if isinstance(obj, dict) else obj
        stack.extend((c, depth + 1, inner) for c in children)


class _DuplicateKey(ValueError):
    """A mapping in a parameter file that writes one key twice."""


def _json_mapping(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """A JSON object, refusing a key written twice (``json`` keeps the last one silently)."""
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise _DuplicateKey(f"the key {key!r} is written twice")
        out[key] = value
    return out


@functools.cache
def _unique_key_loader() -> type:
    """A yaml SafeLoader that refuses a key written twice in one mapping.

    PyYAML keeps the last of two equal keys silently, so a parameter edited by adding a line
    below the old one ran with whichever came last. Keys merged in from an alias (``<<: *base``)
    may still be overridden, as YAML intends.
    """
    import yaml

    class Loader(yaml.SafeLoader):
        def construct_mapping(self, node, deep=False):
            seen = set()
            for key_node, _ in node.value:
                if key_node.tag == "tag:yaml.org,2002:merge":
                    continue
                key = self.construct_object(key_node, deep=deep)
                try:
                    again = key in seen
                    seen.add(key)
                except TypeError:  # an unhashable key: the base class reports it
                    continue
                if again:
                    line = key_node.start_mark.line + 1
                    raise _DuplicateKey(f"the key {key!r} is written twice (again on line {line})")
            return super().construct_mapping(node, deep=deep)

    return Loader


def load_params(path: str | os.PathLike, *, allowed: Iterable[str] | None = None) -> dict[str, Any]:
    """Read a YAML or JSON mapping of parameters and check its keys.

    Parameters
    ----------
    path : path-like
        ``.yaml``/``.yml`` or ``.json`` file holding one mapping, in UTF-8.
    allowed : iterable of str, optional
        Accepted keys; any other key raises (catches typos before a long run).

    Returns
    -------
    dict
        The parameters, by name.

    Raises
    ------
    ConfigError
        Not UTF-8 text (the message names the line), not a mapping, unparseable, keys that are
        not strings, a recursive or alias-bomb YAML structure, or an unknown key.
    MissingFileError
        No such file.
    """
    import yaml

    from brim.io import display_path, read_text

    try:
        text = read_text(path, what="parameter")
    except FormatError as exc:  # not UTF-8, a folder, a FIFO...
        raise ConfigError(str(exc)) from None
    path = Path(path)
    name = display_path(path)
    kind = "JSON" if path.suffix.lower() == ".json" else "YAML"
    try:
        if kind == "JSON":
            data = json.loads(text, object_pairs_hook=_json_mapping)
        else:
            data = yaml.load(text, Loader=_unique_key_loader())  # noqa: S506 - a SafeLoader
    except _DuplicateKey as exc:
        raise ConfigError(f"{name}: {exc}; keep one") from None
    except (json.JSONDecodeError, yaml.YAMLError) as exc:
        detail = " ".join(str(exc).split())
        raise ConfigError(f"{name} is not valid {kind}: {detail}") from None
    except RecursionError:
        raise ConfigError(f"{name}: values nested too deeply to read") from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(
            f"{name} must hold a mapping of parameter: value, not {type(data).__name__}"
        )
    bad_keys = [k for k in data if not isinstance(k, str)]
    if bad_keys:
        raise ConfigError(f"{name}: parameter names must be text, got {bad_keys[:5]!r}")
    _check_tree(data, Path(name))
    if allowed is not None:
        allowed = set(allowed)
        unknown = sorted(set(data) - allowed)
        if unknown:
            raise ConfigError(f"{name}: unknown parameter(s) {unknown}; allowed: {sorted(allowed)}")
    return data


def check_params(func: Callable, params: Mapping[str, Any], *, what: str = "the pipeline") -> None:
    """Check that ``func(path, **params)`` accepts every key of ``params``, before any work.

    A batch would otherwise find an unknown or misspelt key only when the call fails, once per
    file. Functions that take ``**kwargs`` accept any key and are not checked.

    Parameters
    ----------
    func : callable
        The per-file function; its first parameter takes the path.
    params : mapping
        The keyword arguments it will get.
    what : str
        The function's name in the message.

    Raises
    ------
    ConfigError
        An unknown key, or a required parameter that ``params`` does not give.
    """
    try:
        sig = inspect.signature(func)
    except (TypeError, ValueError):  # pragma: no cover - builtins without a signature
        return
    names = list(sig.parameters)
    kinds = {p.kind for p in sig.parameters.values()}
    accepted = {
        n
        for n, p in list(sig.parameters.items())[1:]
        if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)
    }
    if inspect.Parameter.VAR_KEYWORD not in kinds:
        unknown = sorted(set(params) - accepted)
        if unknown:
            raise ConfigError(
                f"unknown parameter(s) {unknown} for {what}; it accepts: "
                f"{', '.join(sorted(accepted)) or 'no parameters'}"
            )
    missing = [
        n
        for n, p in list(sig.parameters.items())[1:]
        if p.default is p.empty
        and p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)
        and n not in params
    ]
    if names and missing:
        raise ConfigError(f"{what} needs the parameter(s) {missing}; add them to the params")

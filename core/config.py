"""Parameter files (YAML or JSON) for the CLI and batch runs."""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from brim.errors import ConfigError, MissingFileError


def load_params(path: str | os.PathLike, *, allowed: Iterable[str] | None = None) -> dict[str, Any]:
    """Read a YAML or JSON mapping of parameters and check its keys.

    Parameters
    ----------
    path : path-like
        ``.yaml``/``.yml`` or ``.json`` file holding one mapping.
    allowed : iterable of str, optional
        Accepted keys; any other key raises (catches typos before a long run).

    Raises
    ------
    ConfigError
        Not a mapping, unparseable, or an unknown key.
    """
    import yaml

    path = Path(path)
    if not path.is_file():
        raise MissingFileError(f"parameter file not found: {path}")
    text = path.read_text()
    try:
        data = json.loads(text) if path.suffix.lower() == ".json" else yaml.safe_load(text)
    except (json.JSONDecodeError, yaml.YAMLError) as exc:
        raise ConfigError(
            f"{path} is not valid {path.suffix[1:].upper() or 'YAML'}: {exc}"
        ) from exc
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(
            f"{path} must hold a mapping of parameter: value, not {type(data).__name__}"
        )
    if allowed is not None:
        allowed = set(allowed)
        unknown = sorted(set(data) - allowed)
        if unknown:
            raise ConfigError(f"{path}: unknown parameter(s) {unknown}; allowed: {sorted(allowed)}")
    return data

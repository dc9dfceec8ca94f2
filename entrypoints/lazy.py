"""Adapters named by their import path and imported on first use, so a command that needs no
scikit-learn, MLflow, pandas or PyMongo does not pay for importing them (seconds each)."""

from __future__ import annotations

import importlib
from typing import Any, Callable


def lazy(path: str) -> Callable[..., Any]:
    """`module:Name` or `module:Name.attribute`: a callable that imports it on its first call and
    calls it with the arguments given."""
    module, _, attribute = path.partition(":")
    target: list[Any] = []

    def call(*args: Any, **kwargs: Any) -> Any:
        if not target:
            found: Any = importlib.import_module(module)
            for part in attribute.split("."):
                found = getattr(found, part)
            target.append(found)
        return target[0](*args, **kwargs)

    call.__name__ = call.__qualname__ = attribute
    call.__doc__ = f"{path}, imported on first use"
    return call

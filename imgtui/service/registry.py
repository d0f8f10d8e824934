"""Which backend serves which library scheme, without the service importing any backend.

`imgtui.backends` registers its factories (`local`, `cloudflare`) when imported. The service
finds it through the `imgtui.backends` entry-point group (how an installed plugin adds a
scheme), and, in a source checkout without installed metadata, by importing the package by
name. Either way the contract never names an implementation in an import statement.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from .backend import Backend

if TYPE_CHECKING:
    from importlib.metadata import EntryPoint

ENTRY_POINT_GROUP = "imgtui.backends"
_BUILTIN_PACKAGE = "imgtui.backends"  # registers `local` and `cloudflare` on import

BackendFactory = Callable[..., Backend]

_factories: dict[str, BackendFactory] = {}
_plugins_loaded = False


def register(scheme: str, factory: BackendFactory) -> None:
    """Make `factory(**options)` the backend for `scheme`; a later registration replaces it."""
    if not scheme or not scheme.isidentifier():
        raise ValueError(f"a backend scheme must be a plain name, not {scheme!r}")
    _factories[scheme] = factory


def schemes() -> list[str]:
    """Every scheme registered so far (after loading the plugins), sorted."""
    _load_plugins()
    return sorted(_factories)


def entry_points(group: str) -> Iterable[EntryPoint]:
    """The installed entry points of `group`. importlib.metadata is imported here: it costs
    ~20 ms, and a launch whose backend is already registered (imgtui.cli registers the
    built-in ones) never needs it."""
    from importlib.metadata import entry_points as installed

    return installed(group=group)


def _load_plugins() -> None:
    global _plugins_loaded
    if _plugins_loaded:
        return
    _plugins_loaded = True
    for entry in entry_points(group=ENTRY_POINT_GROUP):
        hook = entry.load()  # importing the module registers; a callable may register more
        if callable(hook):
            hook()
    if _BUILTIN_PACKAGE not in sys.modules:  # a source checkout: no installed entry points
        importlib.import_module(_BUILTIN_PACKAGE)


def factory(scheme: str) -> BackendFactory:
    """The factory registered for `scheme`; LookupError names the known ones."""
    if scheme not in _factories:
        _load_plugins()
    try:
        return _factories[scheme]
    except KeyError:
        known = ", ".join(sorted(_factories)) or "none"
        raise LookupError(f"no imgtui backend is registered for {scheme!r} (known: {known})") from None


def create(scheme: str, **options: Any) -> Backend:
    return factory(scheme)(**options)

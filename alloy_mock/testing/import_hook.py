"""Run a callback right after a module is first imported, without importing it before anyone asks for it.

The interception patches `requests` and `httpx`; importing them up front would cost a test session
that uses neither 0.1-0.4 s (httpx brings its command line along: click, rich, pygments). A module that
is not imported yet gets patched the moment something imports it, through this finder.
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import sys
from collections.abc import Callable, Mapping, Sequence
from types import ModuleType
from typing import Any


class AfterImport(importlib.abc.MetaPathFinder):
    """While installed (first on sys.meta_path), calls `callbacks[name]()` once module `name` has executed."""

    def __init__(self, callbacks: Mapping[str, Callable[[], None]]) -> None:
        self._callbacks = dict(callbacks)

    def install(self) -> None:
        sys.meta_path.insert(0, self)

    def remove(self) -> None:
        if self in sys.meta_path:
            sys.meta_path.remove(self)

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        callback = self._callbacks.get(fullname)
        if callback is None:
            return None
        for finder in sys.meta_path:
            find = getattr(finder, "find_spec", None)
            if finder is self or find is None:
                continue
            spec: importlib.machinery.ModuleSpec | None = find(fullname, path, target)
            if spec is not None:
                break
        else:
            return None
        if isinstance(spec.loader, importlib.abc.Loader) and hasattr(spec.loader, "exec_module"):
            spec.loader = _ThenCall(spec.loader, lambda: self._fire(fullname))
        return spec

    def _fire(self, fullname: str) -> None:
        callback = self._callbacks.pop(fullname, None)
        if callback is not None:
            callback()


class _ThenCall(importlib.abc.Loader):
    """`loader`, calling `then()` after it has executed a module; anything else is the loader's own."""

    def __init__(self, loader: importlib.abc.Loader, then: Callable[[], None]) -> None:
        self._loader = loader
        self._then = then

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType | None:
        return self._loader.create_module(spec)

    def exec_module(self, module: ModuleType) -> None:
        self._loader.exec_module(module)
        self._then()

    def __getattr__(self, name: str) -> Any:  # get_resource_reader, is_package, get_source, ...
        return getattr(self._loader, name)

"""Route tables with several methods per path, and a segment tree that finds a path's route in one walk."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import NamedTuple

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ..config import API_VERSIONS

Endpoint = Callable[[Request], Awaitable[Response]]
NO_PARAMS: Mapping[str, str] = MappingProxyType({})


class MethodRoute(Route):
    """A Starlette route for one path with a handler per method, which keeps the handlers at hand
    (`handlers`) so that the vendor API's route tree can call them without Starlette's routing, and
    the API versions it is served under (`versions`; only the vendor API looks at them)."""

    handlers: dict[str, Endpoint]
    versions: tuple[str, ...]


def route(path: str, versions: Iterable[str] = API_VERSIONS, **handlers: Endpoint) -> MethodRoute:
    """One route for `path` with a handler per method (route("/users", GET=list_users, POST=create_user)).

    One route per path and version, not one per method, so that a 405 lists every allowed method in
    `Allow`. A vendor path whose methods differ between versions gets one route per group of versions.
    """
    table = dict(handlers)
    if "GET" in table:
        table.setdefault("HEAD", table["GET"])

    async def dispatch(request: Request) -> Response:
        return await table[request.method](request)

    dispatch.__name__ = "_".join(handler.__name__ for handler in handlers.values())
    built = MethodRoute(path, dispatch, methods=list(handlers))
    built.handlers = table
    built.versions = tuple(versions)
    unknown = set(built.versions) - set(API_VERSIONS)
    if unknown:
        raise ValueError(f"{path}: unknown API versions {sorted(unknown)}")
    return built


@dataclass
class _Node:
    literals: dict[str, _Node] = field(default_factory=dict)
    parameter: tuple[str, _Node] | None = None
    route: MethodRoute | None = None


class Match(NamedTuple):
    """What a path matched: the route, the handler for the method (None: 405), and the path parameters.

    (A NamedTuple: a frozen dataclass costs a Python-level __setattr__ per field, on every request.)
    """

    route: MethodRoute
    handler: Endpoint | None
    params: Mapping[str, str]  # read-only where a Match is shared (a path without parameters)

    @property
    def allow(self) -> str:
        return ", ".join(sorted(self.route.methods or ()))


class RouteTree:
    """Finds the route of a path by walking its segments: a dict lookup per segment, whatever the
    number of routes, where Starlette tries every route's regex in turn.

    Same outcome as Starlette's routing for these tables: a literal segment ("/users/batch") is
    tried before a parameter ("/users/{user}"), and a route that has the method wins over an
    earlier one that only has the path (which gives the 405 when no route has the method).
    """

    def __init__(self, routes: Iterable[MethodRoute]) -> None:
        self._root = _Node()
        # Paths without parameters ("/run/event"), found by one dict lookup: the walk below would give the
        # same answer (a literal segment wins at every step). Their Match is shared by every request, so its
        # (empty) parameters are read-only.
        self._static: dict[str, dict[str, Match]] = {}
        for entry in routes:
            node = self._root
            for segment in _segments(entry.path):
                if segment.startswith("{") and segment.endswith("}"):
                    name = segment[1:-1].split(":", 1)[0]
                    if node.parameter is None:
                        node.parameter = (name, _Node())
                    elif node.parameter[0] != name:
                        raise ValueError(f"{entry.path}: parameter {name} clashes with {node.parameter[0]}")
                    node = node.parameter[1]
                else:
                    node = node.literals.setdefault(segment, _Node())
            if node.route is not None:
                raise ValueError(f"{entry.path}: two routes for one path")
            node.route = entry
            if "{" not in entry.path:
                matches = {method: Match(entry, handler, NO_PARAMS) for method, handler in entry.handlers.items()}
                self._static["/" + "/".join(_segments(entry.path))] = matches

    def match(self, path: str, method: str) -> Match | None:
        """The route for `path` ("/users/abc/token", already normalized) and `method`, or None (a 404)."""
        static = self._static.get(path)
        if static is not None:
            hit = static.get(method)
            if hit is not None:
                return hit
        segments = _segments(path)
        found = self._greedy(segments, method)
        if found is not None:
            return found
        first: Match | None = None
        # Depth first, literal before parameter: the parameter branch is pushed first, popped last.
        pending: list[tuple[_Node, int, tuple[tuple[str, str], ...]]] = [(self._root, 0, ())]
        while pending:
            node, index, params = pending.pop()
            if index == len(segments):
                if node.route is not None:
                    handler = node.route.handlers.get(method)
                    if handler is not None:
                        return Match(node.route, handler, dict(params))
                    first = first or Match(node.route, None, dict(params))
                continue
            segment = segments[index]
            if node.parameter is not None:
                name, child = node.parameter
                pending.append((child, index + 1, (*params, (name, segment))))
            literal = node.literals.get(segment)
            if literal is not None:
                pending.append((literal, index + 1, params))
        return first

    def _greedy(self, segments: list[str], method: str) -> Match | None:
        """The common case in one descent (a literal where there is one, else the parameter), if it
        reaches a route with the method; None sends the caller to the full search."""
        node = self._root
        params: dict[str, str] = {}
        for segment in segments:
            literal = node.literals.get(segment)
            if literal is not None:
                node = literal
            elif node.parameter is not None:
                params[node.parameter[0]] = segment
                node = node.parameter[1]
            else:
                return None
        route = node.route
        handler = None if route is None else route.handlers.get(method)
        # tuple.__new__: Match(...) without the Python-level __new__ NamedTuple generates
        return None if route is None or handler is None else tuple.__new__(Match, (route, handler, params))


def _segments(path: str) -> list[str]:
    return [part for part in path.split("/") if part]

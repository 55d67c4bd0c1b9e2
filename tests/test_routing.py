"""The vendor API's route tree: the same answers as Starlette's routing, found in one walk."""

from __future__ import annotations

import pytest
from starlette.requests import Request
from starlette.responses import Response

from alloy_mock.app import VENDOR_ROUTES
from alloy_mock.config import API_VERSIONS
from alloy_mock.http.routing import MethodRoute, RouteTree, route


async def get_user(request: Request) -> Response:
    return Response("get_user")


async def create_user(request: Request) -> Response:
    return Response("create_user")


async def create_users(request: Request) -> Response:
    return Response("create_users")


async def user_token(request: Request) -> Response:
    return Response("user_token")


TREE = RouteTree(
    [
        route("/users", POST=create_user),
        route("/users/batch", POST=create_users),
        route("/users/{user}", GET=get_user),
        route("/users/{user}/token", GET=user_token),
    ]
)


@pytest.mark.parametrize(
    ("method", "path", "handler", "params"),
    [
        ("POST", "/users", create_user, {}),
        ("POST", "/users/batch", create_users, {}),
        ("GET", "/users/abc", get_user, {"user": "abc"}),
        ("HEAD", "/users/abc", get_user, {"user": "abc"}),
        # The literal route has no GET: the parameter route that has one wins, as with Starlette.
        ("GET", "/users/batch", get_user, {"user": "batch"}),
        ("GET", "/users/batch/token", user_token, {"user": "batch"}),
        ("GET", "/users/a%2Fb/token", user_token, {"user": "a%2Fb"}),
    ],
)
def test_a_path_finds_its_handler_and_parameters(method: str, path: str, handler: object, params: object) -> None:
    found = TREE.match(path, method)
    assert found is not None
    assert found.handler is handler
    assert found.params == params


def test_a_known_path_without_the_method_is_a_405_listing_the_allowed_methods() -> None:
    found = TREE.match("/users/abc", "DELETE")
    assert found is not None and found.handler is None
    assert found.allow == "GET, HEAD"
    literal_first = TREE.match("/users/batch", "PUT")
    assert literal_first is not None and literal_first.allow == "POST"


def test_a_path_without_parameters_shares_one_match_whose_parameters_cannot_change() -> None:
    first, second = TREE.match("/users/batch", "POST"), TREE.match("/users/batch", "POST")
    assert first is not None and first is second  # built once, not per request
    with pytest.raises(TypeError):
        first.params["user"] = "leaked"  # type: ignore[index]
    with_parameter = TREE.match("/users/abc", "GET")
    assert with_parameter is not None and with_parameter is not TREE.match("/users/abc", "GET")


@pytest.mark.parametrize("path", ["/", "/nothing", "/users/abc/token/more", "/users/abc/other"])
def test_an_unknown_path_is_none(path: str) -> None:
    assert TREE.match(path, "GET") is None


def test_two_routes_for_one_path_are_refused() -> None:
    with pytest.raises(ValueError, match="two routes"):
        RouteTree([route("/users", GET=get_user), route("/users", POST=create_user)])


@pytest.mark.parametrize("version", API_VERSIONS)
def test_every_vendor_route_is_found_by_its_own_path(version: str) -> None:
    served = [entry for entry in VENDOR_ROUTES if version in entry.versions]
    tree = RouteTree(served)
    for entry in served:
        assert isinstance(entry, MethodRoute)
        path = entry.path.replace("{", "").replace("}", "")  # "/users/{user}" -> "/users/user"
        for method in entry.methods or ():
            found = tree.match(path, method)
            assert found is not None and found.route is entry, (method, entry.path)


def test_each_version_has_at_most_one_route_per_path() -> None:
    for version in API_VERSIONS:
        paths = [entry.path for entry in VENDOR_ROUTES if version in entry.versions]
        assert len(paths) == len(set(paths)), version


def test_a_route_refuses_an_unknown_version() -> None:
    with pytest.raises(ValueError, match="unknown API versions"):
        route("/users", versions=("2022-01",), GET=get_user)

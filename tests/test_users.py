"""Users: create, get, list, update, delete (by id and by username), validation, batch, namespaces."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

import pytest
from starlette.testclient import TestClient

from alloy_mock.config import DEFAULT_DEV_KEY, DEFAULT_PROD_KEY, Account, Settings

from .conftest import API, DEV, PROD
from .helpers import assert_error, assert_ok

OBJECT_ID = re.compile(r"^[0-9a-f]{24}$")
MakeUser = Callable[..., str]


# -- helpers --------------------------------------------------------------------------------------


def enc(segment: str) -> str:
    """Percent-encode one path segment completely ('/', '?', '#', '%', and all-dot segments too)."""
    encoded = quote(segment, safe="")
    if set(encoded) <= {"."}:  # "." and ".." would be removed as dot segments by the client
        encoded = encoded.replace(".", "%2E")
    return encoded


def list_users(client: TestClient, headers: dict[str, str] = DEV) -> list[dict[str, Any]]:
    data = assert_ok(client.get(f"{API}/users", headers=headers))
    assert set(data) == {"data"}, data
    assert isinstance(data["data"], list), data
    return data["data"]  # type: ignore[no-any-return]


def by_username(client: TestClient, headers: dict[str, str] = DEV) -> dict[str, dict[str, Any]]:
    return {user["username"]: user for user in list_users(client, headers)}


# -- create ---------------------------------------------------------------------------------------


def test_create_returns_only_a_24_hex_user_id(client: TestClient) -> None:
    body = assert_ok(client.post(f"{API}/users", json={"username": "gregg", "fullName": "Gregg Mojica"}, headers=DEV))
    assert set(body) == {"userId"}, body
    assert OBJECT_ID.match(body["userId"]), body


def test_created_ids_are_distinct(make_user: MakeUser) -> None:
    ids = [make_user(f"user{i}") for i in range(50)]
    assert len(set(ids)) == 50, ids
    assert all(OBJECT_ID.match(user_id) for user_id in ids), ids


def test_create_with_full_name_then_get(client: TestClient, make_user: MakeUser) -> None:
    user_id = make_user("support@runalloy.com", "Gregg Mojica")
    expected = {"userId": user_id, "username": "support@runalloy.com", "fullName": "Gregg Mojica"}
    assert_ok(client.get(f"{API}/users/{user_id}", headers=DEV), expected)
    assert_ok(client.get(f"{API}/users/{enc('support@runalloy.com')}", headers=DEV), expected)


def test_user_without_full_name_has_exactly_user_id_and_username(client: TestClient, make_user: MakeUser) -> None:
    user_id = make_user("sara")
    assert_ok(client.get(f"{API}/users/{user_id}", headers=DEV), {"userId": user_id, "username": "sara"})
    assert list_users(client) == [{"userId": user_id, "username": "sara"}]


def test_null_full_name_is_the_same_as_none(client: TestClient) -> None:
    user_id = assert_ok(client.post(f"{API}/users", json={"username": "n", "fullName": None}, headers=DEV))["userId"]
    assert_ok(client.get(f"{API}/users/{user_id}", headers=DEV), {"userId": user_id, "username": "n"})


def test_unknown_body_fields_are_ignored(client: TestClient) -> None:
    body = {"username": "extra", "fullName": "E", "email": "e@example.com", "userId": "0" * 24}
    user_id = assert_ok(client.post(f"{API}/users", json=body, headers=DEV))["userId"]
    assert user_id != "0" * 24
    assert_ok(client.get(f"{API}/users/extra", headers=DEV), {"userId": user_id, "username": "extra", "fullName": "E"})


def test_duplicate_username_is_rejected_and_creates_nothing(client: TestClient, make_user: MakeUser) -> None:
    user_id = make_user("dup", "First")
    response = client.post(f"{API}/users", json={"username": "dup", "fullName": "Second"}, headers=DEV)
    assert_error(response, 400, "User already exists")
    assert list_users(client) == [{"userId": user_id, "username": "dup", "fullName": "First"}]


def test_usernames_are_compared_exactly(client: TestClient, make_user: MakeUser) -> None:
    """No normalization: NFC and NFD spellings of the same text are different usernames."""
    nfc, nfd = "caf\u00e9", "cafe\u0301"
    nfc_id, nfd_id = make_user(nfc), make_user(nfd)
    assert nfc_id != nfd_id
    assert assert_ok(client.get(f"{API}/users/{enc(nfc)}", headers=DEV))["userId"] == nfc_id
    assert assert_ok(client.get(f"{API}/users/{enc(nfd)}", headers=DEV))["userId"] == nfd_id


@pytest.mark.parametrize(
    ("body", "message"),
    [
        pytest.param({}, "username is required", id="missing"),
        pytest.param({"fullName": "No Username"}, "username is required", id="only-full-name"),
        pytest.param({"username": None}, "username is required", id="null"),
        pytest.param({"username": ""}, "username must not be empty", id="empty"),
        pytest.param({"username": " "}, "username must not be empty", id="space"),
        pytest.param({"username": " \t\n\r "}, "username must not be empty", id="whitespace"),
        pytest.param({"username": "\u00a0\u2003"}, "username must not be empty", id="unicode-whitespace"),
        pytest.param({"username": 0}, "username must be a string", id="zero"),
        pytest.param({"username": 42}, "username must be a string", id="int"),
        pytest.param({"username": 1.5}, "username must be a string", id="float"),
        pytest.param({"username": 10**30}, "username must be a string", id="big-int"),
        pytest.param({"username": True}, "username must be a string", id="true"),
        pytest.param({"username": False}, "username must be a string", id="false"),
        pytest.param({"username": []}, "username must be a string", id="empty-list"),
        pytest.param({"username": ["alice"]}, "username must be a string", id="list"),
        pytest.param({"username": {}}, "username must be a string", id="empty-dict"),
        pytest.param({"username": {"name": "alice"}}, "username must be a string", id="dict"),
        pytest.param({"username": "x" * 1025}, "username must be at most 1024 characters", id="1025-chars"),
        pytest.param({"username": "ok", "fullName": 5}, "fullName must be a string", id="full-name-int"),
        pytest.param({"username": "ok", "fullName": True}, "fullName must be a string", id="full-name-bool"),
        pytest.param({"username": "ok", "fullName": ["A"]}, "fullName must be a string", id="full-name-list"),
        pytest.param({"username": "ok", "fullName": {"a": 1}}, "fullName must be a string", id="full-name-dict"),
        pytest.param(
            {"username": "ok", "fullName": "y" * 1025}, "fullName must be at most 1024 characters", id="full-name-1025"
        ),
    ],
)
def test_create_validation(client: TestClient, body: dict[str, Any], message: str) -> None:
    assert_error(client.post(f"{API}/users", json=body, headers=DEV), 400, message)
    assert list_users(client) == [], "a rejected create must not create anything"


def test_exactly_1024_characters_is_accepted(client: TestClient) -> None:
    username, full_name = "u" * 1024, "F" * 1024
    response = client.post(f"{API}/users", json={"username": username, "fullName": full_name}, headers=DEV)
    user_id = assert_ok(response)["userId"]
    expected = {"userId": user_id, "username": username, "fullName": full_name}
    assert_ok(client.get(f"{API}/users/{username}", headers=DEV), expected)
    assert_ok(client.get(f"{API}/users/{username}/token", headers=DEV))


# -- usernames that need care in a URL --------------------------------------------------------------

TRICKY_USERNAMES = [
    pytest.param("user+tag@example.com", id="email-plus"),
    pytest.param("\U0001f642", id="emoji"),
    pytest.param("\U0001f469\u200d\U0001f469\u200d\U0001f467\u200d\U0001f466", id="emoji-zwj-family"),
    pytest.param("\U0001f1eb\U0001f1f7 flag", id="emoji-flag"),
    pytest.param("\u05e9\u05dc\u05d5\u05dd \u05e2\u05d5\u05dc\u05dd", id="hebrew-rtl"),
    pytest.param("\u0645\u0631\u062d\u0628\u0627", id="arabic-rtl"),
    pytest.param("\u202eevil\u202c", id="rtl-override"),
    pytest.param("e\u0301\u0301\u0327", id="combining-marks"),
    pytest.param("Z\u0351\u036b\u0343\u036a\u0302\u036b\u033d\u034f\u0334\u0319", id="zalgo"),
    pytest.param("\u65e5\u672c\u8a9e\u306e\u30e6\u30fc\u30b6\u30fc", id="cjk"),
    pytest.param("a/b", id="slash"),
    pytest.param("a//b", id="double-slash"),
    pytest.param("/leading", id="leading-slash"),
    pytest.param("trailing/", id="trailing-slash"),
    pytest.param("100%", id="percent"),
    pytest.param("%2F", id="encoded-slash-literal"),
    pytest.param("%", id="lone-percent"),
    pytest.param("what?", id="question-mark"),
    pytest.param("a?b=c&d=e", id="query-like"),
    pytest.param("#hash", id="hash"),
    pytest.param("with space", id="space"),
    pytest.param(" padded ", id="padded"),
    pytest.param("..", id="dot-dot"),
    pytest.param(".", id="dot"),
    pytest.param("back\\slash", id="backslash"),
    pytest.param("quote\"'`", id="quotes"),
    pytest.param("<script>alert(1)</script>", id="html"),
    pytest.param("tab\there", id="tab"),
    pytest.param("semi;colon,comma", id="semicolon"),
    pytest.param("batch", id="batch-word"),
    pytest.param("token", id="token-word"),
]


@pytest.mark.parametrize("username", TRICKY_USERNAMES)
def test_tricky_username_round_trips_through_the_path(client: TestClient, username: str) -> None:
    response = client.post(f"{API}/users", json={"username": username, "fullName": "Tricky"}, headers=DEV)
    user_id = assert_ok(response)["userId"]
    expected = {"userId": user_id, "username": username, "fullName": "Tricky"}
    path = f"{API}/users/{enc(username)}"

    assert_ok(client.get(path, headers=DEV), expected)
    assert by_username(client)[username] == expected
    token = assert_ok(client.get(f"{path}/token", headers=DEV))
    assert set(token) == {"token"}, token
    updated = {**expected, "fullName": "Renamed"}
    assert_ok(client.put(path, json={"fullName": "Renamed"}, headers=DEV), updated)
    assert_ok(client.get(f"{API}/users/{user_id}", headers=DEV), updated)
    assert_ok(client.delete(path, headers=DEV), {"success": True})
    assert_error(client.get(f"{API}/users/{user_id}", headers=DEV), 404, "User not found")


def test_raw_email_with_plus_and_at_in_path(client: TestClient, make_user: MakeUser) -> None:
    """The SDKs interpolate usernames into paths without encoding them."""
    user_id = make_user("user+tag@example.com")
    expected = {"userId": user_id, "username": "user+tag@example.com"}
    assert_ok(client.get(f"{API}/users/user+tag@example.com", headers=DEV), expected)


def test_id_is_tried_before_username(client: TestClient, make_user: MakeUser) -> None:
    first = make_user("first")
    second = make_user(first)  # a username that happens to equal another user's id
    assert_ok(client.get(f"{API}/users/{first}", headers=DEV), {"userId": first, "username": "first"})
    assert_ok(client.get(f"{API}/users/{second}", headers=DEV), {"userId": second, "username": first})


# -- get / list -------------------------------------------------------------------------------------


def test_list_is_empty_at_first(client: TestClient) -> None:
    assert_ok(client.get(f"{API}/users", headers=DEV), {"data": []})


def test_list_returns_every_user_with_exact_keys(client: TestClient, make_user: MakeUser) -> None:
    expected = {}
    for i in range(5):
        full_name = f"User {i}" if i % 2 else None
        user_id = make_user(f"user{i}", full_name)
        expected[user_id] = {"userId": user_id, "username": f"user{i}"}
        if full_name is not None:
            expected[user_id]["fullName"] = full_name
    listed = list_users(client)
    assert len(listed) == 5, listed
    assert {user["userId"]: user for user in listed} == expected


@pytest.mark.parametrize("ident", ["000000000000000000000000", "ffffffffffffffffffffffff", "nobody", "None", "null"])
@pytest.mark.parametrize(
    ("method", "suffix"),
    [("GET", ""), ("PUT", ""), ("DELETE", ""), ("GET", "/token")],
    ids=["get", "put", "del", "tok"],
)
def test_unknown_user_is_404(client: TestClient, make_user: MakeUser, ident: str, method: str, suffix: str) -> None:
    make_user("somebody")
    kwargs: dict[str, Any] = {"json": {"fullName": "X"}} if method == "PUT" else {}
    response = client.request(method, f"{API}/users/{ident}{suffix}", headers=DEV, **kwargs)
    assert_error(response, 404, "User not found")


# -- update ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("by", ["id", "username"])
def test_update_full_name(client: TestClient, make_user: MakeUser, by: str) -> None:
    user_id = make_user("gregg", "Gregg")
    ident = user_id if by == "id" else "gregg"
    expected = {"userId": user_id, "username": "gregg", "fullName": "Gregg Mojica"}
    assert_ok(client.put(f"{API}/users/{ident}", json={"fullName": "Gregg Mojica"}, headers=DEV), expected)
    assert_ok(client.get(f"{API}/users/{user_id}", headers=DEV), expected)


def test_update_adds_a_full_name(client: TestClient, make_user: MakeUser) -> None:
    user_id = make_user("nofull")
    expected = {"userId": user_id, "username": "nofull", "fullName": "Now Full"}
    assert_ok(client.put(f"{API}/users/{user_id}", json={"fullName": "Now Full"}, headers=DEV), expected)


@pytest.mark.parametrize("by", ["id", "username"])
def test_update_username(client: TestClient, make_user: MakeUser, by: str) -> None:
    user_id = make_user("gregg", "Gregg")
    ident = user_id if by == "id" else "gregg"
    body = {"username": "greggmojica", "fullName": "Gregg Mojica"}
    expected = {"userId": user_id, "username": "greggmojica", "fullName": "Gregg Mojica"}
    assert_ok(client.put(f"{API}/users/{ident}", json=body, headers=DEV), expected)
    assert_ok(client.get(f"{API}/users/greggmojica", headers=DEV), expected)
    assert_error(client.get(f"{API}/users/gregg", headers=DEV), 404, "User not found")
    # The old name is free again.
    assert make_user("gregg") != user_id


@pytest.mark.parametrize(
    "body",
    [{}, {"username": None}, {"fullName": None}, {"username": None, "fullName": None}, {"other": 1}],
    ids=["empty", "null-username", "null-full-name", "both-null", "unknown-field"],
)
def test_update_without_changes_returns_the_user(client: TestClient, make_user: MakeUser, body: dict[str, Any]) -> None:
    user_id = make_user("same", "Same")
    expected = {"userId": user_id, "username": "same", "fullName": "Same"}
    assert_ok(client.put(f"{API}/users/{user_id}", json=body, headers=DEV), expected)
    assert_ok(client.get(f"{API}/users/{user_id}", headers=DEV), expected)


def test_update_with_empty_body_returns_the_user(client: TestClient, make_user: MakeUser) -> None:
    user_id = make_user("bodyless")
    assert_ok(client.put(f"{API}/users/{user_id}", headers=DEV), {"userId": user_id, "username": "bodyless"})


def test_update_to_own_username_is_fine(client: TestClient, make_user: MakeUser) -> None:
    user_id = make_user("me")
    assert_ok(
        client.put(f"{API}/users/me", json={"username": "me"}, headers=DEV), {"userId": user_id, "username": "me"}
    )


def test_update_to_a_taken_username_is_rejected_and_changes_nothing(client: TestClient, make_user: MakeUser) -> None:
    taken_id = make_user("taken", "Taken")
    mine_id = make_user("mine", "Mine")
    response = client.put(f"{API}/users/{mine_id}", json={"username": "taken", "fullName": "Changed"}, headers=DEV)
    assert_error(response, 400, "User already exists")
    assert_ok(
        client.get(f"{API}/users/{mine_id}", headers=DEV), {"userId": mine_id, "username": "mine", "fullName": "Mine"}
    )
    assert_ok(
        client.get(f"{API}/users/{taken_id}", headers=DEV),
        {"userId": taken_id, "username": "taken", "fullName": "Taken"},
    )


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"username": ""}, "username must not be empty"),
        ({"username": "   "}, "username must not be empty"),
        ({"username": 5}, "username must be a string"),
        ({"username": ["a"]}, "username must be a string"),
        ({"username": {"a": 1}}, "username must be a string"),
        ({"username": True}, "username must be a string"),
        ({"username": "x" * 1025}, "username must be at most 1024 characters"),
        ({"fullName": 5}, "fullName must be a string"),
        ({"fullName": "y" * 1025}, "fullName must be at most 1024 characters"),
        ({"username": "valid", "fullName": 5}, "fullName must be a string"),
    ],
    ids=lambda value: None if isinstance(value, str) else json.dumps(value)[:40],
)
def test_update_validation_changes_nothing(
    client: TestClient, make_user: MakeUser, body: dict[str, Any], message: str
) -> None:
    user_id = make_user("orig", "Original")
    assert_error(client.put(f"{API}/users/{user_id}", json=body, headers=DEV), 400, message)
    expected = {"userId": user_id, "username": "orig", "fullName": "Original"}
    assert_ok(client.get(f"{API}/users/{user_id}", headers=DEV), expected)


# -- delete ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("by", ["id", "username"])
def test_delete(client: TestClient, make_user: MakeUser, by: str) -> None:
    user_id = make_user("doomed@example.com", "Doomed")
    keep_id = make_user("keeper")
    ident = user_id if by == "id" else enc("doomed@example.com")
    assert_ok(client.delete(f"{API}/users/{ident}", headers=DEV), {"success": True})
    assert_error(client.get(f"{API}/users/{user_id}", headers=DEV), 404, "User not found")
    assert_error(client.get(f"{API}/users/doomed@example.com", headers=DEV), 404, "User not found")
    assert_error(client.delete(f"{API}/users/{ident}", headers=DEV), 404, "User not found")
    assert_error(client.get(f"{API}/users/{user_id}/token", headers=DEV), 404, "User not found")
    assert list_users(client) == [{"userId": keep_id, "username": "keeper"}]


def test_username_is_free_after_delete(client: TestClient, make_user: MakeUser) -> None:
    old_id = make_user("reused")
    assert_ok(client.delete(f"{API}/users/{old_id}", headers=DEV), {"success": True})
    new_id = make_user("reused")
    assert new_id != old_id
    assert_ok(client.get(f"{API}/users/reused", headers=DEV), {"userId": new_id, "username": "reused"})


def test_delete_ignores_a_body(client: TestClient, make_user: MakeUser) -> None:
    user_id = make_user("body-on-delete")
    response = client.request("DELETE", f"{API}/users/{user_id}", json={"username": "x"}, headers=DEV)
    assert_ok(response, {"success": True})


# -- batch ----------------------------------------------------------------------------------------

TWO_USERS = [{"username": "user123", "fullName": "Joe Smoe"}, {"username": "user456"}]


def shape_object(users: Any) -> Any:
    return {"users": users}


def shape_string(users: Any) -> Any:
    return {"users": json.dumps(users)}


def shape_bare(users: Any) -> Any:
    return users


def shape_wrapped(users: Any) -> Any:
    return [{"users": users}]


def shape_wrapped_string(users: Any) -> Any:
    return [{"users": json.dumps(users)}]


SHAPES = [shape_object, shape_string, shape_bare, shape_wrapped, shape_wrapped_string]


@pytest.mark.parametrize("shape", SHAPES, ids=lambda f: f.__name__.removeprefix("shape_"))
def test_batch_body_shapes(client: TestClient, shape: Callable[[Any], Any]) -> None:
    response = client.post(f"{API}/users/batch", json=shape(TWO_USERS), headers=DEV)
    assert_ok(response, {"message": "success", "invalidUsers": []})
    users = by_username(client)
    assert set(users) == {"user123", "user456"}, users
    assert OBJECT_ID.match(users["user123"]["userId"]), users
    assert users["user123"] == {"userId": users["user123"]["userId"], "username": "user123", "fullName": "Joe Smoe"}
    assert users["user456"] == {"userId": users["user456"]["userId"], "username": "user456"}
    assert_ok(client.get(f"{API}/users/user456", headers=DEV), users["user456"])


def test_batch_partial_success_echoes_invalid_items(client: TestClient, make_user: MakeUser) -> None:
    """The documented example: a missing username and an existing one are echoed; the rest is created."""
    make_user("alreadyexists123")
    items = [
        {"username": "user123", "fullName": "Joe Smoe"},
        {"fullName": "Missing Username"},
        {"username": "alreadyexists123"},
    ]
    response = client.post(f"{API}/users/batch", json={"users": items}, headers=DEV)
    assert_ok(response, {"message": "success", "invalidUsers": [items[1], items[2]]})
    assert set(by_username(client)) == {"alreadyexists123", "user123"}


def test_batch_echoes_every_kind_of_invalid_item_as_given(client: TestClient) -> None:
    invalid = [
        "just a string",
        5,
        None,
        True,
        [],
        [{"username": "nested"}],
        {},
        {"username": None},
        {"username": ""},
        {"username": "   "},
        {"username": 5},
        {"username": ["a"]},
        {"username": "x" * 1025},
        {"username": "bad-full-name", "fullName": 7},
        {"username": "long-full-name", "fullName": "y" * 1025},
    ]
    items = [{"username": "good"}, *invalid, {"username": "also-good", "fullName": "Also"}]
    response = client.post(f"{API}/users/batch", json={"users": items}, headers=DEV)
    assert_ok(response, {"message": "success", "invalidUsers": invalid})
    assert set(by_username(client)) == {"good", "also-good"}


def test_batch_duplicates_inside_one_batch(client: TestClient) -> None:
    items = [
        {"username": "twice", "fullName": "First"},
        {"username": "once"},
        {"username": "twice", "fullName": "Second"},
        {"username": "twice"},
    ]
    response = client.post(f"{API}/users/batch", json={"users": items}, headers=DEV)
    assert_ok(response, {"message": "success", "invalidUsers": [items[2], items[3]]})
    users = by_username(client)
    assert set(users) == {"twice", "once"}, users
    assert users["twice"]["fullName"] == "First", users


def test_batch_all_existing(client: TestClient, make_user: MakeUser) -> None:
    make_user("a")
    make_user("b")
    response = client.post(f"{API}/users/batch", json={"users": [{"username": "a"}, {"username": "b"}]}, headers=DEV)
    assert_error(response, 400, "All users already exist")
    assert set(by_username(client)) == {"a", "b"}


def test_batch_all_existing_including_in_batch_duplicates(client: TestClient, make_user: MakeUser) -> None:
    make_user("a")
    response = client.post(f"{API}/users/batch", json={"users": [{"username": "a"}, {"username": "a"}]}, headers=DEV)
    assert_error(response, 400, "All users already exist")


@pytest.mark.parametrize(
    "users",
    [[], [{}], [{"fullName": "Missing Username"}], ["user"], [None], [{"username": ""}], [{"username": 1}]],
    ids=["empty", "empty-object", "no-username", "string-item", "null-item", "empty-username", "number-username"],
)
def test_batch_no_valid_users(client: TestClient, users: list[Any]) -> None:
    assert_error(client.post(f"{API}/users/batch", json={"users": users}, headers=DEV), 400, "No valid users provided")
    assert list_users(client) == []


def test_batch_of_1000_is_accepted(client: TestClient) -> None:
    users = [{"username": f"bulk{i:04d}", "fullName": f"Bulk {i}"} for i in range(1000)]
    assert_ok(
        client.post(f"{API}/users/batch", json={"users": users}, headers=DEV),
        {"message": "success", "invalidUsers": []},
    )
    listed = by_username(client)
    assert len(listed) == 1000
    assert listed["bulk0999"]["fullName"] == "Bulk 999"


@pytest.mark.parametrize("shape", SHAPES, ids=lambda f: f.__name__.removeprefix("shape_"))
def test_batch_of_1001_is_rejected_and_creates_nothing(client: TestClient, shape: Callable[[Any], Any]) -> None:
    users = [{"username": f"bulk{i:04d}"} for i in range(1001)]
    response = client.post(f"{API}/users/batch", json=shape(users), headers=DEV)
    assert_error(response, 400, "A batch can create at most 1000 users, not 1001")
    assert list_users(client) == []


@pytest.mark.parametrize(
    "users",
    [
        "[{ \tusername: 'user123', \tfullName: 'Joe Smoe' }, { \tusername: 'user456' }]",  # the spec's default
        "",
        "not json",
        "[",
        '[{"username": "a"},]',
        "[{'username': 'a'}]",
        '[{"username": "\\ud800"}]',
        "[" * 5000 + "]" * 5000,
    ],
    ids=["spec-default", "empty", "text", "open-bracket", "trailing-comma", "single-quotes", "surrogate", "deep"],
)
def test_batch_json_string_that_is_not_json(client: TestClient, users: str) -> None:
    response = client.post(f"{API}/users/batch", json={"users": users}, headers=DEV)
    assert response.status_code == 400, response.text
    assert response.headers["content-type"].startswith("application/json"), response.headers
    body = response.json()
    assert set(body) == {"message"}, body
    assert body["message"].startswith("users must be an array, or a string holding a JSON array"), body
    assert list_users(client) == []


@pytest.mark.parametrize(
    "body",
    [
        {"users": {"username": "a"}},
        {"users": 5},
        {"users": True},
        {"users": '{"username": "a"}'},
        {"users": "5"},
        {"users": '"[]"'},
        5,
        True,
        [{"users": {"username": "a"}}],
    ],
    ids=[
        "object",
        "number",
        "bool",
        "string-object",
        "string-number",
        "string-string",
        "body-number",
        "body-bool",
        "wrapped-object",
    ],
)
def test_batch_users_must_be_an_array(client: TestClient, body: Any) -> None:
    assert_error(client.post(f"{API}/users/batch", json=body, headers=DEV), 400, "users must be an array")
    assert list_users(client) == []


@pytest.mark.parametrize(
    "body", [{}, {"users": None}, {"user": []}, [{"users": None}]], ids=["empty", "null", "misspelt", "wrapped-null"]
)
def test_batch_users_is_required(client: TestClient, body: Any) -> None:
    assert_error(client.post(f"{API}/users/batch", json=body, headers=DEV), 400, "users is required")


def test_batch_empty_body(client: TestClient) -> None:
    assert_error(client.post(f"{API}/users/batch", content=b"", headers=DEV), 400, "users is required")


# -- namespaces -----------------------------------------------------------------------------------


@pytest.mark.parametrize(("owner", "other"), [(DEV, PROD), (PROD, DEV)], ids=["dev-user", "prod-user"])
def test_users_are_invisible_to_the_other_key(
    client: TestClient, make_user: MakeUser, owner: dict[str, str], other: dict[str, str]
) -> None:
    user_id = make_user("isolated@example.com", "Isolated", headers=owner)
    expected = {"userId": user_id, "username": "isolated@example.com", "fullName": "Isolated"}
    for ident in (user_id, "isolated@example.com"):
        assert_error(client.get(f"{API}/users/{ident}", headers=other), 404, "User not found")
        assert_error(client.get(f"{API}/users/{ident}/token", headers=other), 404, "User not found")
        assert_error(
            client.put(f"{API}/users/{ident}", json={"fullName": "Hacked"}, headers=other), 404, "User not found"
        )
        assert_error(client.delete(f"{API}/users/{ident}", headers=other), 404, "User not found")
        response = client.get(f"{API}/integrations", params={"userId": ident}, headers=other)
        assert_error(response, 404, "User not found")
    assert list_users(client, other) == []
    assert list_users(client, owner) == [expected]
    assert_ok(client.get(f"{API}/users/{user_id}", headers=owner), expected)


def test_same_username_in_both_namespaces(client: TestClient, make_user: MakeUser) -> None:
    dev_id = make_user("shared", "Dev", headers=DEV)
    prod_id = make_user("shared", "Prod", headers=PROD)
    assert dev_id != prod_id
    assert_ok(
        client.get(f"{API}/users/shared", headers=DEV), {"userId": dev_id, "username": "shared", "fullName": "Dev"}
    )
    assert_ok(
        client.get(f"{API}/users/shared", headers=PROD), {"userId": prod_id, "username": "shared", "fullName": "Prod"}
    )
    # A rename in one namespace does not clash with, or touch, the other.
    assert_ok(client.put(f"{API}/users/shared", json={"username": "renamed"}, headers=PROD))
    assert_ok(client.get(f"{API}/users/shared", headers=DEV))


def test_batch_is_scoped_to_the_key(client: TestClient, make_user: MakeUser) -> None:
    make_user("exists-in-dev", headers=DEV)
    response = client.post(f"{API}/users/batch", json={"users": [{"username": "exists-in-dev"}]}, headers=PROD)
    assert_ok(response, {"message": "success", "invalidUsers": []})
    assert [user["username"] for user in list_users(client, PROD)] == ["exists-in-dev"]
    assert len(list_users(client, DEV)) == 1


TWO_ACCOUNTS = Settings(
    accounts=(Account("default", DEFAULT_DEV_KEY, DEFAULT_PROD_KEY), Account("acme", "acme-dev", "acme-prod"))
)


@pytest.mark.parametrize("settings", [TWO_ACCOUNTS], ids=["two-accounts"])
def test_accounts_are_isolated(client: TestClient, make_user: MakeUser) -> None:
    acme = {"Authorization": "Bearer acme-dev"}
    user_id = make_user("same-name", headers=DEV)
    assert_error(client.get(f"{API}/users/{user_id}", headers=acme), 404, "User not found")
    assert list_users(client, acme) == []
    acme_id = make_user("same-name", headers=acme)
    assert acme_id != user_id
    assert_ok(client.get(f"{API}/users/same-name", headers=acme), {"userId": acme_id, "username": "same-name"})
    assert list_users(client, {"Authorization": "Bearer acme-prod"}) == []

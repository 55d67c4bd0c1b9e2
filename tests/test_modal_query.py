"""The modal pages' query strings as alloy-frontend 2.1.1 builds them: nothing encoded (reference §7.2, §7.4)."""

from __future__ import annotations

from alloy_mock.http.modal_query import MAX_QUERY_PARTS, parse_query

JWT = "eyJhbGciOiJFUzI1NiJ9.eyJ1c2VySWQiOiJ4In0.c2ln-_"


def test_repeated_ids_and_versions_keep_their_order() -> None:
    query = parse_query(b"id=a&id=b&versionId=v1&versionId=v2&token=" + JWT.encode() + b"&forgeMode=engaged")
    assert (query.all("id"), query.all("versionId"), query.first("token")) == (["a", "b"], ["v1", "v2"], JWT)


def test_json_values_holding_ampersands_and_equals_signs() -> None:
    raw = '[{"name":"q","value":"a&b=c&token=fake"}]'
    query = parse_query(f"integrationId=i&preFilledValues={raw}&token={JWT}&forgeMode=engaged".encode())
    assert query.json("preFilledValues") == ([{"name": "q", "value": "a&b=c&token=fake"}], None)
    assert query.first("token") == JWT  # the "token=" inside the JSON string is not a parameter


def test_a_title_with_ampersands_spaces_and_plus_signs() -> None:
    query = parse_query(b"integrationId=i&token=t&forgeMode=engaged&title=Tom & Jerry=1+1 ?&hide=true")
    assert query.first("title") == "Tom & Jerry=1+1 ?" and query.flag("hide")


def test_percent_escapes_and_broken_utf8_are_decoded_without_failing() -> None:
    query = parse_query(b"title=caf%C3%A9 %E2%82&app=\xff\xfe")
    assert query.first("title") == "café \ufffd" and query.first("app") == "\ufffd\ufffd"


def test_invalid_json_is_a_notice_not_an_error() -> None:
    query = parse_query(b"preFilledValues=[{oops&token=t")
    assert query.json("preFilledValues") == (None, "preFilledValues is not valid JSON: ignored")
    assert query.first("token") == "t"


def test_authenticates_callback_source_text_is_one_value() -> None:
    """alloy-frontend interpolates the callback function's source into the URL (a bug): it stays one value."""
    query = parse_query(b"token=t&forgeMode=engaged&app=klaviyo&callback=(r) => { if (a && b) x = 1; }")
    assert query.first("callback") == "(r) => { if (a && b) x = 1; }" and query.first("app") == "klaviyo"


def test_a_huge_query_is_cut_not_slow() -> None:
    query = parse_query(b"&".join([b"id=x"] * (MAX_QUERY_PARTS * 3)))
    assert len(query.all("id")) <= MAX_QUERY_PARTS + 1

"""The SDK's calls land in the emulator in-process (alloy_mock_intercept): no port, no network, no SDK change."""

import pytest
import requests
from onboarding import onboard


def test_onboarding_through_the_unmodified_sdk(alloy_mock_intercept):
    result = onboard(alloy_mock_intercept.dev_key, "alice@example.com", "Alice")

    assert "Shopify" in result["integrations"]
    assert result["token"].count(".") == 2
    assert alloy_mock_intercept.requests()[0]["path"] == "/2023-12/users"


def test_the_production_key_is_another_namespace(alloy_mock_intercept):
    onboard(alloy_mock_intercept.dev_key, "bob@example.com", "Bob")

    # the same username is free in production
    assert onboard(alloy_mock_intercept.prod_key, "bob@example.com", "Bob")["userId"]


def test_a_rate_limit_surfaces_as_the_sdks_error(alloy_mock_intercept):
    alloy_mock_intercept.fault(429, method="POST", path="/users")

    with pytest.raises(requests.HTTPError):
        onboard(alloy_mock_intercept.dev_key, "carol@example.com", "Carol")

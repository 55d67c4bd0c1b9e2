"""pytest plugin (registered through the `pytest11` entry point): fixtures `alloy_mock` and `alloy_mock_intercept`."""

"""The emulator's domain: what users, tokens and integrations do, with no knowledge of HTTP."""

"""The emulator's state and services, wired together; the HTTP app and the pytest plugin share it."""

from __future__ import annotations

from dataclasses import dataclass

from .auth import ApiKeys, TokenIssuer, load_signing_keys
from .catalogue import Catalogue, default_fixtures_path, load_catalogue
from .clock import Clock
from .config import Settings
from .domain.integrations import Integrations
from .domain.users import COLLECTION as USERS
from .domain.users import UNIQUE_FIELDS as USER_UNIQUE_FIELDS
from .domain.users import Users
from .store import Store


@dataclass
class Emulator:
    settings: Settings
    clock: Clock
    catalogue: Catalogue
    store: Store
    keys: ApiKeys
    tokens: TokenIssuer
    users: Users
    integrations: Integrations

    @classmethod
    def open(cls, settings: Settings) -> Emulator:
        """Load the fixtures, open the database and the signing keys. Raises StartupError."""
        catalogue = load_catalogue(settings.fixtures or default_fixtures_path())
        store = Store(settings.db, unique_fields={USERS: USER_UNIQUE_FIELDS})
        try:
            active, keys = load_signing_keys(store, settings.jwt_algorithm, settings.signing_key)
            store.flush()
        except BaseException:
            store.close()
            raise
        clock = Clock()
        return cls(
            settings=settings,
            clock=clock,
            catalogue=catalogue,
            store=store,
            keys=ApiKeys(settings.accounts),
            tokens=TokenIssuer(active, keys, settings.issuer, settings.token_ttl, clock),
            users=Users(store, clock),
            integrations=Integrations(catalogue),
        )

    def close(self) -> None:
        self.store.close()

"""The emulator's state and services, wired together; the HTTP app and the pytest plugin share it."""

from __future__ import annotations

from dataclasses import dataclass, field

from .auth import ApiKeys, Namespace, TokenIssuer, load_signing_keys
from .catalogue import Catalogue, default_fixtures_path, load_catalogue
from .clock import Clock
from .config import DEFAULT_ACCOUNT, Settings
from .control.faults import Faults
from .control.journal import RequestJournal
from .domain.errors import InvalidInput, NotFound
from .domain.integrations import Integrations
from .domain.users import COLLECTION as USERS
from .domain.users import UNIQUE_FIELDS as USER_UNIQUE_FIELDS
from .domain.users import Users
from .store import Store
from .store.tinydb_ext import Tables


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
    journal: RequestJournal
    faults: Faults = field(default_factory=Faults)
    snapshots: dict[str, Tables] = field(default_factory=dict)

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
        api_keys = ApiKeys(settings.accounts)
        return cls(
            settings=settings,
            clock=clock,
            catalogue=catalogue,
            store=store,
            keys=api_keys,
            tokens=TokenIssuer(active, keys, settings.issuer, settings.token_ttl, clock, api_keys.namespaces),
            users=Users(store, clock),
            integrations=Integrations(catalogue),
            journal=RequestJournal(settings.journal_size),
        )

    def namespace_named(self, name: str) -> Namespace:
        """A namespace by name: "dev" or "prod" (the default account), or "<account>.dev|prod"."""
        account, _, env = name.rpartition(".")
        wanted = Namespace(account or DEFAULT_ACCOUNT, env)  # type: ignore[arg-type]
        if wanted not in self.keys.namespaces:
            known = ", ".join(sorted(ns.id for ns in self.keys.namespaces))
            raise NotFound(f"Unknown namespace {name!r} (known: dev, prod, {known})")
        return wanted

    def reset(self, namespace: Namespace | None = None) -> None:
        """Back to the seed state: no users (the catalogue is read-only and stays)."""
        self.store.reset(None if namespace is None else namespace.id)

    def save_snapshot(self, name: str) -> None:
        if not name or len(name) > 200:
            raise InvalidInput("a snapshot needs a name of 1 to 200 characters")
        self.snapshots[name] = self.store.export()

    def restore_snapshot(self, name: str) -> None:
        tables = self.snapshots.get(name)
        if tables is None:
            raise NotFound(f"No snapshot named {name!r}")
        self.store.restore(tables)

    def close(self) -> None:
        self.store.close()

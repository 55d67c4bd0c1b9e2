"""The emulator's state and services, wired together; the HTTP app and the pytest plugin share it."""

from __future__ import annotations

from dataclasses import dataclass, field

from .auth import ApiKeys, Namespace, TokenIssuer, load_signing_keys
from .catalogue import Catalogue, default_fixtures_path, load_catalogue
from .clock import Clock
from .config import DEFAULT_ACCOUNT, Settings
from .control.faults import Faults
from .control.journal import RequestJournal
from .control.run_rules import RunControls
from .control.snapshots import Snapshots
from .domain import credentials as credential_docs
from .domain import executions as execution_docs
from .domain import headless as headless_docs
from .domain import installs as install_docs
from .domain import users as user_docs
from .domain.credentials import Credentials
from .domain.errors import NotFound, brief
from .domain.executions import Executions
from .domain.headless import HeadlessInstalls
from .domain.installs import Installs
from .domain.integrations import Integrations
from .domain.log_entries import Plans
from .domain.modal import Modal
from .domain.runner import Runner
from .domain.users import Users
from .domain.workflows import Workflows
from .store import Indexes, Store

# Every collection of a namespace, with its indexes.
COLLECTIONS: dict[str, Indexes] = {
    user_docs.COLLECTION: user_docs.INDEXES,
    credential_docs.COLLECTION: credential_docs.INDEXES,
    install_docs.COLLECTION: install_docs.INDEXES,
    install_docs.INTEGRATION_COLLECTION: install_docs.INTEGRATION_INDEXES,
    headless_docs.COLLECTION: headless_docs.INDEXES,
    execution_docs.COLLECTION: execution_docs.INDEXES,
    execution_docs.TRIMMED_COLLECTION: execution_docs.TRIMMED_INDEXES,
}
# The collections whose documents belong to one user, and go when that user is deleted.
OWNED_BY_USER = (
    credential_docs.COLLECTION,
    install_docs.COLLECTION,
    install_docs.INTEGRATION_COLLECTION,
    headless_docs.COLLECTION,
)


@dataclass
class Emulator:
    settings: Settings
    clock: Clock
    catalogue: Catalogue
    store: Store
    keys: ApiKeys
    tokens: TokenIssuer
    users: Users
    credentials: Credentials
    installs: Installs
    integrations: Integrations
    workflows: Workflows
    headless: HeadlessInstalls
    modal: Modal
    executions: Executions
    runner: Runner
    run_controls: RunControls
    journal: RequestJournal
    faults: Faults = field(default_factory=Faults)
    snapshots: Snapshots = field(default_factory=Snapshots)

    @classmethod
    def open(cls, settings: Settings) -> Emulator:
        """Load the fixtures, open the database and the signing keys. Raises StartupError."""
        catalogue = load_catalogue(settings.fixtures or default_fixtures_path())
        store = Store(settings.db, indexes=COLLECTIONS)
        try:
            active, keys = load_signing_keys(store, settings.jwt_algorithm, settings.signing_key)
            store.flush()
        except BaseException:
            store.close()
            raise
        clock = Clock()
        api_keys = ApiKeys(settings.accounts)
        user_directory = Users(store, clock, owned=OWNED_BY_USER)
        credential_store = Credentials(store, catalogue, clock)
        install_store = Installs(store, catalogue, credential_store, clock)
        run_plans = Plans(catalogue)
        execution_store = Executions(store, clock, run_plans, settings.execution_retention)
        run_controls = RunControls()
        runner = Runner(
            catalogue,
            run_plans,
            install_store,
            credential_store,
            execution_store,
            clock,
            run_controls,
            latency_ms=settings.run_latency_ms,
            strict=settings.strict_runs,
        )
        return cls(
            settings=settings,
            clock=clock,
            catalogue=catalogue,
            store=store,
            keys=api_keys,
            tokens=TokenIssuer(active, keys, settings.issuer, settings.token_ttl, clock, api_keys.namespaces),
            users=user_directory,
            credentials=credential_store,
            installs=install_store,
            integrations=Integrations(catalogue, install_store),
            workflows=Workflows(catalogue, install_store, user_directory),
            headless=HeadlessInstalls(store, install_store, clock),
            modal=Modal(catalogue, install_store, credential_store),
            executions=execution_store,
            runner=runner,
            run_controls=run_controls,
            journal=RequestJournal(settings.journal_size),
        )

    def namespace_named(self, name: str) -> Namespace:
        """A namespace by name: "dev" or "prod" (the default account), or "<account>.dev|prod"."""
        account, _, env = name.rpartition(".")
        wanted = Namespace(account or DEFAULT_ACCOUNT, env)  # type: ignore[arg-type]
        if wanted not in self.keys.namespaces:
            known = ", ".join(sorted(ns.id for ns in self.keys.namespaces))
            raise NotFound(f"Unknown namespace {brief(name)!r} (known: dev, prod, {known})")
        return wanted

    def reset(self, namespace: Namespace | None = None) -> None:
        """Back to the seed state: no users (the catalogue is read-only and stays)."""
        self.store.reset(None if namespace is None else namespace.id)

    def reset_all(self) -> None:
        """POST /_mock/reset without a namespace: every namespace's data, and the test controls too."""
        self.reset()
        self.faults.clear()
        self.run_controls.clear()
        self.journal.clear()
        self.clock.reset()

    def save_snapshot(self, name: str) -> None:
        self.snapshots.save(name, self.store)

    def restore_snapshot(self, name: str) -> None:
        self.snapshots.restore(name, self.store)

    def close(self) -> None:
        self.store.close()

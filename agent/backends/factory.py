"""Builds the configured backend: embedded by default, Ollama (with the embedded router beside it) in production.

The router is trained from prompts/examples. A trained copy ships in ``agent/backends/embedded/model/`` (built by
``switchboard router train``); it is used when its fingerprint matches the current examples, so a fresh install
starts in about a second. When the examples change, the router is retrained on first use and cached under
``var/router/<fingerprint>``; a test fails until the shipped copy is rebuilt, so it never silently goes stale.
Beside the fingerprint, ``ENCODER`` records the sha256 of the int8 encoder model the router was trained with;
loading it beside another model logs a warning, and a test fails.

A promoted candidate router (``switchboard router promote``) overrides all this: ``var/routers/LIVE.json`` names
the live router, kept under ``var/routers/<fingerprint>``. A running service re-reads the pointer when its mtime
changes (``RouterSource``), so a promotion, a rollback or a new shadow candidate applies from the next message.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlmodel import Session, col

from agent.backends.base import Backend
from agent.backends.embedded.backend import EmbeddedBackend
from agent.backends.embedded.calibration import JointCalibration
from agent.backends.embedded.encoder import Encoder
from agent.backends.embedded.extract.slots import KnownEntities
from agent.backends.embedded.router import IntentRouter
from agent.backends.embedded.router_examples import EXAMPLES_DIR, OOS_LABEL, VOICES, load_training_set
from agent.backends.embedded.router_models import RouterConfig
from agent.backends.embedded.routing import Routing
from agent.config import AgentSettings
from agent.modelops.candidate_store import (
    CALIBRATION_NAME,
    is_kept,
    pointer_path,
    read_pointer,
    router_folder,
)
from agent.modelops.shadow import ShadowRecorder
from core.errors import SwitchboardError
from core.store.audit import AuditLog
from core.store.models import Customer, Product
from tools.registry import Registry

logger = logging.getLogger(__name__)
_lock = threading.Lock()
SHIPPED_DIR = Path(__file__).resolve().parent / "embedded" / "model"
ENCODER_FILE = "ENCODER"  # beside FINGERPRINT: the sha256 of the encoder model the router was trained with


def examples_fingerprint(directory: Path = EXAMPLES_DIR) -> str:
    """Hash of every example file, the router's default config and the encoder's recipe: new means retrain."""
    from agent.backends.embedded.encoder import MODEL_ID
    from agent.backends.embedded.quantize import RECIPE
    from agent.backends.embedded.router_store import FORMAT_VERSION

    head = f"{FORMAT_VERSION}\0{RouterConfig().model_dump_json()}\0{MODEL_ID}\0{RECIPE}"
    digest = hashlib.sha256(head.encode())
    for path in sorted([*directory.glob("*.yaml"), *(directory / VOICES).glob("*.yaml")]):
        digest.update(path.relative_to(directory).as_posix().encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:16]


@lru_cache(maxsize=4)
def load_encoder(threads: int = 1) -> Encoder:
    """One encoder per process and thread setting (loading takes ~0.6 s)."""
    return Encoder.load(threads=threads)


def shipped_fingerprint() -> str | None:
    """Fingerprint of the router that ships with the package, if any."""
    marker = SHIPPED_DIR / "FINGERPRINT"
    return marker.read_text(encoding="utf-8").strip() if marker.exists() else None


def trained_encoder_sha(folder: Path = SHIPPED_DIR) -> str | None:
    """sha256 of the encoder model the router in ``folder`` was trained with, if recorded."""
    marker = folder / ENCODER_FILE
    return marker.read_text(encoding="utf-8").strip() if marker.exists() else None


def train_router(destination: Path, *, threads: int = 1) -> tuple[IntentRouter, int, float]:
    """Train on prompts/examples and save to ``destination``; returns the router, example count and seconds."""
    started = time.perf_counter()
    texts, labels, writers = load_training_set()
    encoder = load_encoder(threads)
    router = IntentRouter.fit(texts, labels, encoder=encoder, oos_label=OOS_LABEL, writers=writers)
    destination.mkdir(parents=True, exist_ok=True)
    router.save(destination)
    (destination / "FINGERPRINT").write_text(examples_fingerprint() + "\n", encoding="utf-8")
    (destination / ENCODER_FILE).write_text(encoder.model_sha + "\n", encoding="utf-8")
    return router, len(texts), time.perf_counter() - started


def _same_encoder(folder: Path, encoder: Encoder) -> None:
    trained = trained_encoder_sha(folder)
    if trained != encoder.model_sha:
        # Another onnxruntime or onnx version made a different int8 model: vectors, and so decisions, may
        # differ slightly from what the evaluation measured. pyproject pins both to keep this from happening.
        logger.warning(
            "the router in %s was trained with encoder model %s, but this install made %s; "
            "retrain with 'switchboard router train' and 'switchboard router calibrate'",
            folder,
            (trained or "unknown")[:12],
            encoder.model_sha[:12],
        )


@lru_cache(maxsize=4)
def _cached_router(cache_dir: Path, fingerprint: str, threads: int) -> IntentRouter:
    encoder = load_encoder(threads)
    if shipped_fingerprint() == fingerprint:
        _same_encoder(SHIPPED_DIR, encoder)
        return IntentRouter.load(SHIPPED_DIR, encoder=encoder)
    folder = cache_dir / fingerprint
    if (folder / "router.json").exists() and trained_encoder_sha(folder) == encoder.model_sha:
        try:
            return IntentRouter.load(folder, encoder=encoder)
        except Exception:  # a corrupt cache is rebuilt, never fatal
            logger.warning("router cache at %s is unreadable; retraining", folder)
    router, count, seconds = train_router(folder, threads=threads)
    logger.info("router trained on %d examples in %.1f s", count, seconds)
    return router


@dataclass(frozen=True)
class LiveRouter:
    """Which router is live: its fingerprint, its folder, and whether ``LIVE.json`` pinned it there."""

    fingerprint: str
    folder: Path
    pinned: bool


def base_router_folder(settings: AgentSettings, fingerprint: str) -> Path:
    """Where the base router for ``fingerprint`` is (or will be, once trained): the shipped copy or the cache."""
    if shipped_fingerprint() == fingerprint:
        return SHIPPED_DIR
    return settings.var_dir.resolve() / "router" / fingerprint


def live_router(settings: AgentSettings) -> LiveRouter:
    """The router ``LIVE.json`` names, else the base router for the current examples (as without the file)."""
    pointer = read_pointer(settings.var_dir)
    if pointer is not None and pointer.live is not None:
        if is_kept(settings.var_dir, pointer.live):
            return LiveRouter(pointer.live, router_folder(settings.var_dir, pointer.live), pinned=True)
        logger.error(
            "LIVE.json names router %s, which is not kept under %s; using the base router",
            pointer.live,
            router_folder(settings.var_dir, pointer.live).parent,
        )
    fingerprint = examples_fingerprint()
    return LiveRouter(fingerprint, base_router_folder(settings, fingerprint), pinned=False)


@lru_cache(maxsize=8)
def _kept_router(folder: Path, threads: int) -> IntentRouter:
    # A kept router's folder never changes after it is written, so its path is a safe cache key.
    encoder = load_encoder(threads)
    _same_encoder(folder, encoder)
    return IntentRouter.load(folder, encoder=encoder)


def load_kept_router(folder: Path, *, threads: int = 1) -> IntentRouter:
    """A router kept under ``var/routers`` (a candidate or a copy of an earlier live router)."""
    with _lock:
        return _kept_router(folder.resolve(), threads)


def load_router(settings: AgentSettings) -> IntentRouter:
    """The live router: the one ``LIVE.json`` names, else the one for the current examples (cached on disk)."""
    live = live_router(settings)
    if live.pinned:
        return load_kept_router(live.folder, threads=settings.agent.encoder_threads)
    with _lock:
        return _cached_router(
            settings.var_dir.resolve() / "router", live.fingerprint, settings.agent.encoder_threads
        )


def known_entities(engine: Engine, *, ttl_s: float = 60.0) -> Callable[[], KnownEntities]:
    """SKUs, product and customer names from the database, refreshed at most every ``ttl_s`` seconds."""
    cache: dict[str, object] = {"at": 0.0, "value": KnownEntities()}

    def load() -> KnownEntities:
        now = time.monotonic()
        if now - float(cache["at"]) > ttl_s:  # type: ignore[arg-type]
            with Session(engine) as session:
                products = {
                    str(row[0]): str(row[1])
                    for row in session.execute(select(col(Product.sku), col(Product.name)))
                }
                skus = tuple(products)
                customers = {
                    int(row[0]): str(row[1])
                    for row in session.execute(select(col(Customer.id), col(Customer.name)))
                }
            cache["value"], cache["at"] = (
                KnownEntities(skus=skus, customers=customers, products=products),
                now,
            )
        return cache["value"]  # type: ignore[return-value]

    return load


CALIBRATION_FILE = SHIPPED_DIR / "calibration.json"


def load_calibration(settings: AgentSettings | None = None) -> JointCalibration | None:
    """The joint calibration fitted on the dev split, if it belongs to the live router.

    Without ``settings``: the shipped calibration, if it belongs to the current examples' router.
    """
    live = live_router(settings) if settings is not None else None
    if live is not None and live.pinned:
        path, fingerprint = live.folder / CALIBRATION_NAME, live.fingerprint
    else:
        path, fingerprint = CALIBRATION_FILE, examples_fingerprint()
    calibration = JointCalibration.load(path)
    if calibration is None or calibration.fingerprint != fingerprint:
        return None
    return calibration


class RouterSource:
    """The live router, its calibration and the shadow candidate, re-read whenever ``LIVE.json`` changes.

    Each decision stats the pointer (a few microseconds); only a changed mtime or size reloads, so a promotion,
    rollback or shadow change in one process applies from the next message in every process.
    """

    def __init__(self, settings: AgentSettings, *, engine: Engine | None, calibrated: bool) -> None:
        """Read the pointer of ``settings.var_dir``; shadow records go to ``engine``'s audit log (none: no shadow)."""
        self.settings = settings
        self.audit = AuditLog(engine) if engine is not None else None
        self.calibrated = calibrated
        self._path = pointer_path(settings.var_dir)
        self._stamp: tuple[int, int] | None = None
        self._routing: Routing | None = None
        self._reload = threading.Lock()

    def __call__(self) -> Routing:
        """The routing for this message."""
        stamp = self._pointer_stamp()
        routing = self._routing
        if routing is None or stamp != self._stamp:
            with self._reload:
                if self._routing is None or stamp != self._stamp:
                    self._routing, self._stamp = self._load(), stamp
                routing = self._routing
        return routing

    def _pointer_stamp(self) -> tuple[int, int] | None:
        try:
            found = self._path.stat()
        except FileNotFoundError:
            return None
        return found.st_mtime_ns, found.st_size

    def _load(self) -> Routing:
        settings = self.settings
        router = load_router(settings)
        calibration = load_calibration(settings) if self.calibrated else None
        return Routing(router=router, calibration=calibration, shadow=self._shadow(router))

    def _shadow(self, live: IntentRouter) -> ShadowRecorder | None:
        if self.audit is None:
            return None
        try:
            pointer = read_pointer(self.settings.var_dir)
        except SwitchboardError as exc:  # a broken pointer must not stop the live router
            logger.error("shadow candidate not loaded: %s", exc.message)
            return None
        if pointer is None or pointer.shadow is None:
            return None
        folder = router_folder(self.settings.var_dir, pointer.shadow)
        if not is_kept(self.settings.var_dir, pointer.shadow):
            logger.error("shadow candidate %s is not kept under %s", pointer.shadow, folder.parent)
            return None
        candidate = load_kept_router(folder, threads=self.settings.agent.encoder_threads)
        if candidate.encoder is not live.encoder:
            logger.error("shadow candidate %s uses another encoder; not shadowing", pointer.shadow)
            return None
        return ShadowRecorder(
            candidate=candidate,
            candidate_fingerprint=pointer.shadow,
            live_fingerprint=live_router(self.settings).fingerprint,
            audit=self.audit,
        )


def build_embedded(
    settings: AgentSettings, *, registry: Registry, engine: Engine | None = None, calibrated: bool = True
) -> EmbeddedBackend:
    """The offline backend on the live router (``calibrated=False`` gives raw confidences, for fitting).

    With an ``engine``, a shadow candidate named in ``LIVE.json`` also decides on each message and its choice is
    audited as ``router.shadow``; it never changes the decision.
    """
    source = RouterSource(settings, engine=engine, calibrated=calibrated)
    first = source()
    return EmbeddedBackend(
        router=first.router,
        registry=registry,
        known=known_entities(engine) if engine is not None else None,
        calibration=first.calibration,
        routing=source,
    )


def build_backend(settings: AgentSettings, *, registry: Registry, engine: Engine | None = None) -> Backend:
    """The backend named by ``settings.agent.backend``."""
    embedded = build_embedded(settings, registry=registry, engine=engine)
    if settings.agent.backend == "embedded":
        return embedded
    from agent.backends.ollama import OllamaBackend
    from agent.examples_store import ExampleStore
    from agent.prompts import load_prompts

    store = ExampleStore(settings.var_dir / "chroma", encoder=load_encoder(settings.agent.encoder_threads))
    store.sync_examples(registry.examples)
    backend = OllamaBackend(
        settings=settings,
        registry=registry,
        prompts=load_prompts(),
        fallback=embedded,
        examples=store.nearest,
    )
    backend.check()  # a failure is logged with its fix; turns then fall back at once until a re-check passes
    return backend

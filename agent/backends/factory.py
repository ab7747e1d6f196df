"""Builds the configured backend: embedded by default, Ollama (with the embedded router beside it) in production.

The router is trained from prompts/examples. A trained copy ships in ``agent/backends/embedded/model/`` (built by
``switchboard router train``); it is used when its fingerprint matches the current examples, so a fresh install
starts in about a second. When the examples change, the router is retrained on first use and cached under
``var/router/<fingerprint>``; a test fails until the shipped copy is rebuilt, so it never silently goes stale.
Beside the fingerprint, ``ENCODER`` records the sha256 of the int8 encoder model the router was trained with;
loading it beside another model logs a warning, and a test fails.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from collections.abc import Callable
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
from agent.backends.embedded.router_examples import EXAMPLES_DIR, OOS_LABEL, VOICES, load_training_examples
from agent.backends.embedded.router_models import RouterConfig
from agent.config import AgentSettings
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
    texts, labels = load_training_examples()
    encoder = load_encoder(threads)
    router = IntentRouter.fit(texts, labels, encoder=encoder, oos_label=OOS_LABEL)
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


def load_router(settings: AgentSettings) -> IntentRouter:
    """The trained router for the current examples (from the disk cache when possible)."""
    with _lock:
        return _cached_router(
            settings.var_dir.resolve() / "router", examples_fingerprint(), settings.agent.encoder_threads
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


def load_calibration() -> JointCalibration | None:
    """The joint calibration fitted on the dev split, if it belongs to the current router."""
    calibration = JointCalibration.load(CALIBRATION_FILE)
    if calibration is None or calibration.fingerprint != examples_fingerprint():
        return None
    return calibration


def build_embedded(
    settings: AgentSettings, *, registry: Registry, engine: Engine | None = None, calibrated: bool = True
) -> EmbeddedBackend:
    """The offline backend (``calibrated=False`` gives raw confidences, for fitting the calibration)."""
    return EmbeddedBackend(
        router=load_router(settings),
        registry=registry,
        known=known_entities(engine) if engine is not None else None,
        calibration=load_calibration() if calibrated else None,
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

"""The chromadb example store: records written with an earlier encoder model are embedded again on opening."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import chromadb
import numpy as np
from chromadb.config import Settings as ChromaSettings

from agent.backends.embedded.chroma import MiniLMEmbeddingFunction
from agent.backends.embedded.encoder import MODEL_ID, Encoder
from agent.backends.factory import load_encoder
from agent.examples_store import COLLECTION, ExampleStore


def test_an_older_models_vectors_are_replaced_and_every_record_kept(tmp_path: Path) -> None:
    encoder: Encoder = load_encoder()
    settings = ChromaSettings(anonymized_telemetry=False, allow_reset=False)  # the store's own
    old = chromadb.PersistentClient(path=str(tmp_path), settings=settings).create_collection(
        COLLECTION,
        embedding_function=MiniLMEmbeddingFunction(encoder),  # type: ignore[arg-type]
        metadata={"hnsw:space": "cosine"},  # as the store made it before it named its model
    )
    stale = np.ones((2, 384), dtype=np.float32) / np.sqrt(384)
    old.add(
        ids=["ok:1", "ok:2"],
        documents=["sales by region for emea", "retry run 118"],
        metadatas=[{"tool": "run_report", "args": '{"region": "emea"}', "source": "accepted"}]
        + [{"tool": "retry_run", "args": '{"run_id": 118}', "source": "accepted"}],
        embeddings=list(stale),
    )

    store = ExampleStore(tmp_path, encoder=encoder)

    assert store.collection.metadata["embedding_model"] == MODEL_ID
    got = store.collection.get(ids=["ok:1", "ok:2"], include=["embeddings", "metadatas"])
    np.testing.assert_allclose(
        np.asarray(got["embeddings"]),
        encoder.encode(["sales by region for emea", "retry run 118"]),
        atol=1e-6,
    )
    assert [m["tool"] for m in got["metadatas"]] == ["run_report", "retry_run"]
    assert [n["text"] for n in store.nearest("rerun 118 please", 1)] == ["retry run 118"]
    reopened = ExampleStore(tmp_path, encoder=encoder)  # already current: nothing to do
    assert reopened.collection.count() == 2


_OTHER_PROCESS = """
import sys
from pathlib import Path
from agent.backends.factory import load_encoder
from agent.examples_store import ExampleStore
store = ExampleStore(Path(sys.argv[1]), encoder=load_encoder())
store.remember(text="bounce the bank's nightly export", tool="retry_run", args={"run_id": 77})
"""


def test_a_record_another_process_saved_is_found_by_an_open_store(tmp_path: Path) -> None:
    encoder: Encoder = load_encoder()
    store = ExampleStore(tmp_path, encoder=encoder)
    store.sync_examples({"list_runs": ["show the runs", "what ran today"], "run_report": ["sales by region"]})
    assert store.nearest("show the runs", k=1)[0]["tool"] == "list_runs"  # its index is loaded now

    subprocess.run(
        [sys.executable, "-c", _OTHER_PROCESS, str(tmp_path)],
        cwd=Path(__file__).resolve().parents[2],
        check=True,
        capture_output=True,
        timeout=120,
    )

    found = store.nearest("bounce the bank's nightly export", k=1)
    assert [(f["text"], f["tool"], f["args"]) for f in found] == [
        ("bounce the bank's nightly export", "retry_run", {"run_id": 77})
    ]

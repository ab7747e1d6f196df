"""The MiniLM ONNX encoder and its chromadb embedding function, run for real."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import chromadb
import numpy as np
import pytest

from agent.backends.embedded.chroma import MiniLMEmbeddingFunction
from agent.backends.embedded.encoder import (
    EMBEDDING_DIM,
    TOKENIZER_PATH,
    Encoder,
    EncoderError,
    _Coalescer,
)


@pytest.fixture(scope="module")
def encoder() -> Encoder:
    return Encoder.load()


def test_encode_returns_unit_float32_rows(encoder: Encoder) -> None:
    vectors = encoder.encode(["show me last month's sales by region", "hi"])

    assert vectors.shape == (2, EMBEDDING_DIM)
    assert vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), [1.0, 1.0], atol=1e-5)


def test_encode_empty_input(encoder: Encoder) -> None:
    assert encoder.encode([]).shape == (0, EMBEDDING_DIM)


def test_batching_and_length_sorting_keep_input_order(encoder: Encoder) -> None:
    texts = [
        "a rather long message about loading the orders file from the inbox into the orders dataset",
        "hi",
        "export customers to csv",
    ]
    together = encoder.encode(texts, batch_size=2)
    one_by_one = np.vstack([encoder.encode([t]) for t in texts])

    np.testing.assert_allclose(together, one_by_one, atol=1e-5)


def test_concurrent_single_texts_share_onnx_runs_and_get_bit_identical_vectors(encoder: Encoder) -> None:
    texts = [f"list the failed runs of the last {n} days" for n in range(1, 25)] + [
        "hi",
        "export orders as xml",
    ]
    alone = np.stack([encoder.encode([t])[0] for t in texts])
    batches: list[int] = []
    real = encoder._coalescer._run

    def counted(batch: list[str]) -> np.ndarray:
        batches.append(len(batch))
        return real(batch)

    encoder._coalescer._run = counted
    try:
        with ThreadPoolExecutor(8) as pool:
            together = np.stack([row[0] for row in pool.map(lambda t: encoder.encode([t]), texts)])
    finally:
        encoder._coalescer._run = real
    assert sum(batches) == len(texts)
    assert max(batches) > 1, batches  # some requests did share a run
    assert np.array_equal(alone, together)  # and sharing changed no bit of any vector


def test_a_failed_shared_run_reaches_every_waiter_and_the_next_caller_runs() -> None:
    gate = threading.Event()
    calls: list[list[str]] = []

    def run(batch: list[str]) -> np.ndarray:
        calls.append(batch)
        if len(calls) == 1:
            gate.wait(5)  # hold the first run so the others queue behind it
            return np.zeros((len(batch), 2), dtype=np.float32)
        if len(calls) == 2:
            raise RuntimeError("onnx broke")
        return np.ones((len(batch), 2), dtype=np.float32)

    coalescer = _Coalescer(run)
    with ThreadPoolExecutor(4) as pool:
        first = pool.submit(coalescer.encode, "a")
        while not calls:
            time.sleep(0.001)
        queued = [pool.submit(coalescer.encode, t) for t in ("b", "c", "d")]
        time.sleep(0.05)
        gate.set()
        assert first.result(5).tolist() == [0.0, 0.0]
        for future in queued:
            with pytest.raises(RuntimeError, match="onnx broke"):
                future.result(5)
    assert calls == [["a"], ["b", "c", "d"]]
    assert coalescer.encode("e").tolist() == [1.0, 1.0]  # nobody is left holding the lead


def test_paraphrase_is_closer_than_unrelated_text(encoder: Encoder) -> None:
    anchor, paraphrase, unrelated = encoder.encode(
        [
            "show me last month's sales by region",
            "sales per region for last month",
            "what's the weather in Lisbon",
        ]
    )

    assert anchor @ paraphrase > 0.8
    assert anchor @ unrelated < 0.3


def test_missing_model_file_is_a_clear_error(tmp_path: Path) -> None:
    missing = tmp_path / "model.onnx"
    with pytest.raises(EncoderError, match=f"Embedding model file not found: {missing}"):
        Encoder.load(model_path=missing, tokenizer_path=TOKENIZER_PATH)


def test_chromadb_persistent_collection_uses_the_local_function(encoder: Encoder, tmp_path: Path) -> None:
    client = chromadb.PersistentClient(path=str(tmp_path / "chroma"))
    collection = client.create_collection("examples", embedding_function=MiniLMEmbeddingFunction(encoder))
    collection.add(
        ids=["a", "b", "c"],
        documents=[
            "load orders_today.csv into orders",
            "what's the weather in Lisbon",
            "export customers to csv",
        ],
    )

    found = collection.query(query_texts=["import the orders file"], n_results=1)

    assert found["ids"] == [["a"]]
    stored = np.asarray(collection.get(ids=["c"], include=["embeddings"])["embeddings"][0])
    np.testing.assert_allclose(stored, encoder.encode(["export customers to csv"])[0], atol=1e-5)


def test_reopened_collection_rebuilds_the_registered_function(encoder: Encoder, tmp_path: Path) -> None:
    path = str(tmp_path / "chroma")
    first = chromadb.PersistentClient(path=path)
    first.create_collection("examples", embedding_function=MiniLMEmbeddingFunction(encoder)).add(
        ids=["a", "b"], documents=["retry run 118", "tell me a joke"]
    )

    # No embedding function passed: chromadb must rebuild ours from its config, not the downloading default.
    reopened = chromadb.PersistentClient(path=path).get_collection("examples")
    found = reopened.query(query_texts=["rerun 118 please"], n_results=1)

    assert found["ids"] == [["a"]]
    assert reopened.configuration_json["embedding_function"]["name"] == MiniLMEmbeddingFunction.name()


def test_embedding_function_config_round_trip() -> None:
    function = MiniLMEmbeddingFunction(threads=2)

    rebuilt = MiniLMEmbeddingFunction.build_from_config(function.get_config())

    assert rebuilt.get_config() == {"model": "all-MiniLM-L6-v2-onnx-int8", "threads": 2}
    with pytest.raises(ValueError, match="Collection was embedded with 'other-model'"):
        MiniLMEmbeddingFunction.validate_config({"model": "other-model"})

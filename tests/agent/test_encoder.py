"""The MiniLM ONNX encoder and its chromadb embedding function, run for real."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import chromadb
import numpy as np
import pytest

from agent.backends.embedded.chroma import MiniLMEmbeddingFunction
from agent.backends.embedded.encoder import EMBEDDING_DIM, TOKENIZER_PATH, Encoder, EncoderError
from core.files import file_sha256


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


def test_a_text_gets_the_same_vector_alone_in_a_list_or_in_concurrent_calls(encoder: Encoder) -> None:
    # The int8 model quantizes activations per tensor: in a shared padded batch a text's vector would depend on
    # its neighbours, so every text runs alone and nothing about its company may change a bit of its vector.
    texts = [f"list the failed runs of the last {n} days" for n in range(1, 17)] + [
        "a rather long message about loading the orders file from the inbox into the orders dataset",
        "hi",
    ]
    together = encoder.encode(texts)
    alone = np.vstack([encoder.encode([t]) for t in texts])
    with ThreadPoolExecutor(8) as pool:
        concurrent = np.vstack(list(pool.map(lambda t: encoder.encode([t]), texts)))
    assert np.array_equal(together, alone) and np.array_equal(alone, concurrent)


def test_the_encoder_computes_in_int8(encoder: Encoder) -> None:
    import onnx

    from agent.backends.embedded.quantize import cache_dir

    made = next(p for p in cache_dir().glob("minilm-*.onnx") if file_sha256(p)[0] == encoder.model_sha)
    graph = onnx.load(str(made)).graph
    weights = {init.name for init in graph.initializer}
    float_products = [n.name for n in graph.node if n.op_type == "MatMul" and set(n.input) & weights]
    integer = [n for n in graph.node if n.op_type == "MatMulInteger"]
    # every product with a weight matrix is an integer one; only attention's activation products stay float
    assert float_products == [] and len(integer) == 36  # 6 layers x (Q, K, V, output, 2 feed-forward)


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

    assert rebuilt.get_config() == {"model": "all-MiniLM-L6-v2-int8-dynamic", "threads": 2}
    with pytest.raises(ValueError, match="Collection was embedded with 'other-model'"):
        MiniLMEmbeddingFunction.validate_config({"model": "other-model"})

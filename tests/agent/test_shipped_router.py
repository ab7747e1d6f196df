"""The router and calibration that ship with the package must belong to the current training examples."""

from __future__ import annotations

from agent.backends.embedded.calibration import JointCalibration
from agent.backends.factory import (
    CALIBRATION_FILE,
    examples_fingerprint,
    load_encoder,
    shipped_fingerprint,
    trained_encoder_sha,
)


def test_shipped_router_matches_the_examples() -> None:
    assert shipped_fingerprint() == examples_fingerprint(), (
        "prompts/examples or the router config changed: run 'switchboard router train' and "
        "'switchboard router calibrate', and commit agent/backends/embedded/model/"
    )


def test_shipped_calibration_belongs_to_the_shipped_router() -> None:
    calibration = JointCalibration.load(CALIBRATION_FILE)
    assert calibration is not None and calibration.fingerprint == examples_fingerprint()
    assert calibration.n >= 400
    assert calibration.apply(0.99, has_tool=True) > calibration.apply(0.2, has_tool=True)


def test_shipped_router_was_trained_on_the_int8_model_this_install_makes() -> None:
    assert trained_encoder_sha() == load_encoder().model_sha, (
        "onnxruntime or onnx made a different int8 encoder model than the router was trained with: pin them "
        "back, or run 'switchboard router train' and 'switchboard router calibrate' and measure the eval again"
    )

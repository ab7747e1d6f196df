"""The router and calibration that ship with the package must belong to the current training examples."""

from __future__ import annotations

from agent.backends.embedded.calibration import JointCalibration
from agent.backends.factory import CALIBRATION_FILE, examples_fingerprint, shipped_fingerprint


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

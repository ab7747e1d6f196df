"""The groups ``switchboard --help`` lists its commands in: what a person wants to do, in words."""

from __future__ import annotations

RUN = "Run your flows and see what happened"
DECIDE = "Approve and audit"
SET_UP = "Set up and look after Switchboard"
DEVELOP = "Measure and train the assistant"
ORDER = (RUN, DECIDE, SET_UP, DEVELOP)

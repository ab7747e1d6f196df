"""BoundCall: one tool call whose arguments were validated once, bound to their canonical form and hash.

The planner makes it from a decision; the policy gate, the approval service and the runner carry it and never
validate it again. Its ``binding`` is the sha256 an approval request is bound to (``binding_of``), so the call an
approver sees, the call that is stored and the call that runs are provably the same.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict, SerializeAsAny

from core.store.approvals import binding_of
from tools.base import ToolArgs, ToolSpec


class BoundCall(BaseModel):
    """A tool and its validated arguments, with their canonical JSON form and binding.

    Build one with ``bind`` (raw arguments, validated here) or ``BoundCall.of`` (arguments that are already a
    validated model, e.g. after ``ToolSpec.pin``); never with the constructor.

    Attributes:
        tool: The tool's name.
        args: The validated arguments, an instance of the tool's own args model.
        canonical: ``args`` as JSON without unset optionals: what is shown, stored and approved.
        binding: sha256 over the tool name and ``canonical``.
    """

    model_config = ConfigDict(frozen=True)

    tool: str
    args: SerializeAsAny[ToolArgs]
    canonical: dict[str, Any]
    binding: str

    @classmethod
    def of(cls, tool: str, args: ToolArgs) -> BoundCall:
        """Bind arguments that are already a validated model (no validation happens here)."""
        canonical = args.model_dump(mode="json", exclude_none=True)
        # model_construct: the fields are computed right here, and validating them would copy the args model.
        return cls.model_construct(
            tool=tool, args=args, canonical=canonical, binding=binding_of(tool, canonical)
        )


def bind(spec: ToolSpec[Any], raw: Mapping[str, Any]) -> BoundCall:
    """Validate raw arguments against the tool's model, once, and bind them.

    Raises:
        pydantic.ValidationError: the arguments do not fit the model (the caller decides how to say so).
    """
    return BoundCall.of(spec.name, spec.args_model.model_validate(dict(raw)))

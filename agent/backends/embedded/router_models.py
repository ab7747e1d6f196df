"""The router's data: its hyperparameters, its saved state and what it predicts for a message."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class RouterConfig(BaseModel):
    """Hyperparameters of the router (defaults measured on CLINC150, see the module docstring)."""

    model_config = ConfigDict(extra="forbid")

    c_embedding: float = Field(10.0, gt=0, description="Inverse L2 strength of the embedding classifier.")
    c_lexical: float = Field(10.0, gt=0, description="Inverse L2 strength of the n-gram classifier.")
    min_df: int = Field(2, ge=1, description="Minimum document frequency of an n-gram feature.")
    knn_k: int = Field(5, ge=1, description="Neighbours averaged for the similarity factor.")
    max_in_scope_drop: float = Field(
        0.005, ge=0, le=1, description="In-scope accuracy the threshold may cost."
    )
    oos_refusal: float = Field(
        0.9,
        gt=0,
        le=1,
        description=(
            "Refuse when the out-of-scope class alone is at least this probable, whatever the confidence: a "
            "near-miss ('remind me every monday to call mom') can sit close to tool examples yet be plainly "
            "out of scope to the classifiers. 1.0 turns it off."
        ),
    )
    folds: int = Field(5, ge=2, description="Folds for out-of-fold calibration when no dev split is given.")
    fold_by_writer: bool = Field(
        True,
        description=(
            "Out-of-fold calibration holds out whole writers (ours, each voice) when they are known, so the "
            "confidence is what the router earns on phrasing it never saw."
        ),
    )
    top_k: int = Field(3, ge=1, description="Alternatives reported per prediction.")


class Alternative(BaseModel):
    """One candidate label with its class probability."""

    model_config = ConfigDict(frozen=True)

    label: str
    probability: float


class Prediction(BaseModel):
    """The router's decision for one message."""

    model_config = ConfigDict(frozen=True)

    label: str | None = Field(description="Chosen label, or None when refused as out of scope.")
    probability: float = Field(description="Calibrated probability that top_label is the right label.")
    top_label: str = Field(description="Best in-scope label, also when refused (for 'did you mean').")
    alternatives: list[Alternative] = Field(description="Top in-scope labels by class probability.")
    oos_probability: float = Field(description="Class probability of the out-of-scope class (0 without one).")

    def probability_of(self, label: str | None) -> float:
        """The probability of ``label``: the calibrated one for the top label, else its class probability."""
        if label == self.top_label:
            return self.probability
        return next((a.probability for a in self.alternatives if a.label == label), 0.0)


class RouterState(BaseModel):
    """Everything but the weight arrays; saved as JSON next to an .npz."""

    model_config = ConfigDict(extra="forbid")

    labels: list[str]
    oos_label: str | None
    config: RouterConfig
    mix_weight: float = 0.0
    temperature: float = 1.0
    platt_a: float = 1.0
    platt_b: float = 0.0
    threshold: float = 0.0

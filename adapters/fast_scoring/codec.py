"""The ModelCodec of scikit-learn models: what a registry stores of a SklearnChurnModel (the fitted
pipeline and its probe rows), and the model rebuilt from that (the fast path compiled again and
proven against scikit-learn on the probe rows, so `serving_path` and `parity` are the load's own)."""

from __future__ import annotations

from churn.errors import ModelArtifactError
from churn.features import FeatureSchema
from churn.ports import ChurnModel, ModelArtifact, ModelCodec

from adapters.fast_scoring.model import SklearnChurnModel


class SklearnModelCodec(ModelCodec):
    def dump(self, model: ChurnModel) -> ModelArtifact:
        if not isinstance(model, SklearnChurnModel):
            raise ModelArtifactError(f"{type(model).__name__} is not a scikit-learn model this service built; it cannot be registered")
        return ModelArtifact(model.pipeline, tuple(dict(row) for row in model.probe_rows))

    def load(self, artifact: ModelArtifact, schema: FeatureSchema, threshold: float) -> ChurnModel:
        return SklearnChurnModel.from_pipeline(artifact.estimator, schema, list(artifact.probe_rows), threshold)

"""Fast scoring of fitted scikit-learn pipelines without a DataFrame per request (issue 4)."""

from adapters.fast_scoring.codec import SklearnModelCodec
from adapters.fast_scoring.model import PARITY_TOLERANCE, SklearnChurnModel, to_frame

__all__ = ["PARITY_TOLERANCE", "SklearnChurnModel", "SklearnModelCodec", "to_frame"]

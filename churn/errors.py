"""Domain errors. The HTTP edge maps each class to a status in one table."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping


class ChurnError(Exception):
    """Base class: `message` is written for the person who made the call."""

    def __init__(self, message: str, **details: Any) -> None:
        super().__init__(message)
        self.message = message
        self.details = details


# 400: the caller can fix the request.
class InvalidRequestError(ChurnError):
    """A request that breaks a domain rule (bad name, bad page, bad band...)."""


@dataclass(frozen=True, slots=True)
class FeatureProblem:
    feature: str
    problem: str

    def to_dict(self) -> dict[str, str]:
        return {"feature": self.feature, "problem": self.problem}


class InvalidFeaturesError(InvalidRequestError):
    """Features do not match the active model's schema; carries every problem and a valid example body."""

    def __init__(self, problems: list[FeatureProblem], expected_example: Mapping[str, Any]) -> None:
        names = ", ".join(sorted({p.feature for p in problems}))
        super().__init__(f"{len(problems)} problem(s) with the features: {names}")
        self.problems = list(problems)
        self.expected_example = dict(expected_example)


class InvalidDatasetError(InvalidRequestError):
    """The uploaded file cannot be used as a training data set."""


class UnknownModelTypeError(InvalidRequestError):
    """The model type is not in the catalogue."""


class InvalidHyperparametersError(InvalidRequestError):
    """A hyperparameter is unknown or out of its allowed range."""


class InvalidBandError(InvalidRequestError):
    """A probability band label or interval that does not exist."""


class InvalidPageError(InvalidRequestError):
    """limit/offset/cursor outside what the listing accepts."""


class InvalidCustomerFileError(InvalidRequestError):
    """A customer file that cannot be read at all (no header, no id column)."""


# 404
class NotFoundError(ChurnError):
    """Something named by the caller does not exist."""


class DatasetNotFoundError(NotFoundError):
    pass


class ModelNotFoundError(NotFoundError):
    pass


class JobNotFoundError(NotFoundError):
    pass


class CustomerNotFoundError(NotFoundError):
    pass


# 409
class ConflictError(ChurnError):
    """The request clashes with what is stored."""


class DatasetExistsError(ConflictError):
    pass


class ModelArtifactError(ConflictError):
    """A registered model version whose artifact cannot be loaded (missing, corrupt, tampered)."""


class StoreConflictError(ConflictError):
    """The store already holds a record with this key (a write that raced another)."""


# 500, logged
class StoreRejectedError(ChurnError):
    """The store refused an operation for a reason retrying will not fix (authentication, a document
    it will not take): an operator must look at the logs."""


# 503
class UnavailableError(ChurnError):
    """A dependency is down; the call may succeed later unchanged."""


class NoActiveModelError(UnavailableError):
    pass


class StoreUnavailableError(UnavailableError):
    pass


class RegistryUnavailableError(UnavailableError):
    pass


class TrainingFailedError(ChurnError):
    """Training could not produce a model (raised inside a job, recorded as the job's error)."""


class ScoringRunNotFoundError(NotFoundError):
    pass


class ScoringRunNotResumableError(ConflictError):
    """The run finished, or its process is still alive."""


class JobQueueUnavailableError(UnavailableError):
    """The job broker (Redis) cannot be reached: nothing was queued."""


class DriftReferenceMissingError(ConflictError):
    """The version was trained before drift references were kept: it has none to measure against."""

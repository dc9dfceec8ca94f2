"""Schemathesis against the service's own OpenAPI document: no 5xx, every status declared, every
response as documented.

Bounded: EXAMPLES_PER_OPERATION generated cases per operation, a few hundred in all. Driven through
Hypothesis directly (schemathesis' pytest plugin does not support pytest 9 yet)."""

from hypothesis import HealthCheck, given, settings
import schemathesis
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import content_type_conformance, response_schema_conformance, status_code_conformance

from adapters.memory import DeferredJobRunner
from entrypoints.api.app import create_app
from entrypoints.bootstrap import bootstrap
from tests.api.conftest import make_container

EXAMPLES_PER_OPERATION = 20
CHECKS = [not_a_server_error, status_code_conformance, response_schema_conformance, content_type_conformance]


def test_no_server_error_and_every_response_matches_the_documented_schema(tmp_path):
    container = make_container(tmp_path, load_sample=True)
    app = create_app(container, run_bootstrap=False)
    bootstrap(container)
    job = container.start_training().execute("sample", "logistic_regression")
    assert container.job_store().get(job.job_id).status.value == "succeeded"
    container.job_runner.override(DeferredJobRunner())  # fuzzed trainings are queued, not run: their answers are what is checked
    container.start_training.reset()
    container.get_training_job.reset()
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)

    cases = {"count": 0}
    failures: dict[str, str] = {}
    operations = [result.ok() for result in schema.get_all_operations()]
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(max_examples=EXAMPLES_PER_OPERATION, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True, database=None)
        def run(case):
            cases["count"] += 1
            response = case.call()
            case.validate_response(response, checks=CHECKS)

        try:
            run()
        except Exception as exc:  # collect every operation's failure, then report them together
            failures[operation.label] = f"{type(exc).__name__}: {exc}"[:2000]

    print(f"schemathesis: {cases['count']} cases over {len(operations)} operations")
    assert len(operations) >= 18 and cases["count"] >= 200
    assert failures == {}

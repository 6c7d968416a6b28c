"""Publishing a handler's metrics: only after an invocation that emitted some, with nothing of one invocation
left for the next."""

import json

import pytest
from aws_lambda_powertools import Metrics

from batchops.emf import publish_metrics


# An error here, whatever pyproject.toml filters: Powertools' own decorator warns on an invocation without metrics.
@pytest.mark.filterwarnings("error::UserWarning")
def test_an_invocation_without_metrics_prints_nothing_and_leaves_nothing_to_the_next(
    capsys: pytest.CaptureFixture[str],
) -> None:
    metrics = Metrics(namespace="batchops", service="batchops")
    metrics.clear_metrics()  # Powertools' instances share their metrics: none from another test

    @publish_metrics(metrics)
    def handler(operation: str, emit: bool) -> str:
        metrics.add_dimensions(operation=operation)
        metrics.add_metadata(key="batchId", value=operation)
        if emit:
            metrics.add_metric(name="ChunkSize", unit="Count", value=4)
        return operation

    assert handler("first", False) == "first"
    assert capsys.readouterr().out == ""
    handler("second", True)
    (line,) = capsys.readouterr().out.splitlines()
    emf = json.loads(line)
    assert emf["_aws"]["CloudWatchMetrics"][0]["Dimensions"] == [["service"], ["operation"]]
    assert (emf["operation"], emf["batchId"], emf["ChunkSize"]) == ("second", "second", [4.0])

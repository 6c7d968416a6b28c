"""Which failed AWS calls are worth a retry: throttling, 5xx and the network, and nothing else."""

import pytest
from botocore.exceptions import ClientError, EndpointConnectionError, ParamValidationError, ReadTimeoutError

from batchops.adapters.aws_errors import translated
from batchops.domain.errors import InfrastructureError, StoreUnavailableError


def _client_error(code: str, status: int) -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": "x"}, "ResponseMetadata": {"HTTPStatusCode": status}}, "Op")


@pytest.mark.parametrize(
    "error",
    [
        _client_error("ProvisionedThroughputExceededException", 400),
        _client_error("ThrottlingException", 400),
        _client_error("RequestLimitExceeded", 400),
        _client_error("InternalServerError", 500),
        _client_error("SomethingNew", 503),
        EndpointConnectionError(endpoint_url="http://x"),
        ReadTimeoutError(endpoint_url="http://x"),
    ],
)
def test_throttling_5xx_and_network_errors_are_transient(error: ClientError) -> None:
    assert isinstance(translated("reading", error), StoreUnavailableError)


@pytest.mark.parametrize(
    "error",
    [
        _client_error("AccessDeniedException", 400),
        _client_error("ValidationException", 400),
        _client_error("ResourceNotFoundException", 400),
        _client_error("StateMachineDoesNotExist", 400),
        ParamValidationError(report="bad"),
    ],
)
def test_refusals_and_bad_requests_fail_at_once_as_internal_errors(error: ClientError) -> None:
    failure = translated("reading", error)
    assert isinstance(failure, InfrastructureError) and failure.code == "internal_error"

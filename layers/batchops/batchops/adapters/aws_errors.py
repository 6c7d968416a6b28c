"""How every adapter reports a failed AWS call: transient or not, as the domain's errors say.

Only throttling, 5xx and network errors are worth retrying; the state machine retries exactly those
(StoreUnavailableError). AccessDenied, validation and missing-resource errors are bugs or misconfiguration:
they fail at once (InfrastructureError) instead of being retried into the same answer.
"""

from collections.abc import Iterator
from contextlib import contextmanager

from botocore.exceptions import BotoCoreError, ClientError, HTTPClientError
from botocore.exceptions import ConnectionError as EndpointUnreachable

from batchops.domain.errors import BatchOpsError, InfrastructureError, StoreUnavailableError

_TRANSIENT_CODES = frozenset(
    {
        "ProvisionedThroughputExceededException",
        "RequestLimitExceeded",
        "ThrottlingException",
        "Throttling",
        "ThrottledException",
        "TooManyRequestsException",
        "SlowDown",
        "InternalServerError",
        "InternalFailure",
        "InternalError",
        "ServiceUnavailable",
        "ServiceUnavailableException",
        "RequestTimeout",
        "RequestTimeoutException",
    }
)


def error_code(error: ClientError) -> str:
    code: str = error.response.get("Error", {}).get("Code", "Unknown")
    return code


def is_transient(error: ClientError | BotoCoreError) -> bool:
    if isinstance(error, ClientError):
        status = int(error.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0)
        return error_code(error) in _TRANSIENT_CODES or status >= 500
    # Connection refused or reset, timeouts: the network, not the request.
    return isinstance(error, (HTTPClientError, EndpointUnreachable))


def translated(action: str, error: ClientError | BotoCoreError) -> BatchOpsError:
    """The domain error for a failed call: StoreUnavailableError if a retry may help, else InfrastructureError."""
    reason = error_code(error) if isinstance(error, ClientError) else type(error).__name__
    kind = StoreUnavailableError if is_transient(error) else InfrastructureError
    return kind(f"{action} failed: {reason}")


@contextmanager
def aws_errors(action: str) -> Iterator[None]:
    """Any failed AWS call inside becomes the domain error `translated` names."""
    try:
        yield
    except (ClientError, BotoCoreError) as e:
        raise translated(action, e) from e

"""The users family: its operations, what they need when items run, and its routes."""

from batchops.adapters.aws_clients import AwsClients
from batchops.adapters.system import SystemClock, UuidGenerator
from batchops.operations.family import Family
from batchops.settings import Settings
from batchops.users.dynamo import DynamoUserRepository
from batchops.users.operations import USERS_OPERATIONS, UsersResources
from batchops.users.passwords import ScryptHasher, memory_per_hash
from batchops.users.routes import router
from batchops.users.service import UserService


def _repository(settings: Settings, clients: AwsClients) -> DynamoUserRepository:
    return DynamoUserRepository(settings.required("USERS_TABLE"), clients.dynamodb)


def _hasher(settings: Settings) -> ScryptHasher:
    # The template's PasswordHashCost; hashes made at any cost verify (each carries its parameters).
    log2_n = settings.parsed("PASSWORD_HASH_COST", int, "an integer (log2 of scrypt's n)").or_default(15)
    # Half the function's memory (Lambda tells it) for hashes in flight; the rest for the runtime and the chunk.
    memory_mb = settings.parsed("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", int, "megabytes").or_default(512)
    return ScryptHasher(log2_n, max(1, memory_mb * 1024 * 1024 // 2 // memory_per_hash(log2_n)))


def _resources(settings: Settings, clients: AwsClients) -> UsersResources:
    return UsersResources(_repository(settings, clients), _hasher(settings))


def _services(settings: Settings, clients: AwsClients) -> UserService:
    return UserService(_repository(settings, clients), _hasher(settings), SystemClock(), UuidGenerator())


USERS = Family(name="users", operations=USERS_OPERATIONS, resources=_resources, router=router, services=_services)

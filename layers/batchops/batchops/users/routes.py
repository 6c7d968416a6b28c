"""The users routes: POST /users, GET /users/{userId}, and the lookup of many users at once (GET /users?ids=
for lists that fit a URL, POST /users/lookup for up to 1,000 ids: API Gateway takes at most 10 KB of request
line and headers, about 270 user ids)."""

from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError
from aws_lambda_powertools.event_handler.openapi.params import Body, Path, Query
from pydantic import Field

from batchops.api.errors import documented
from batchops.api.routing import family_services, json_reply, new_router, owner
from batchops.domain.errors import FieldProblem, InvalidRequestError, NotFoundError
from batchops.operations.camel import CamelModel
from batchops.users.fields import UserId
from batchops.users.models import EmailInUseError, User
from batchops.users.operations import NewUser
from batchops.users.service import MAX_LOOKUP_IDS, Lookup, UserService, as_json

router = new_router()


class UserOut(CamelModel):
    user_id: str
    email: str
    name: str
    created_at: str
    updated_at: str
    last_login_at: str | None
    is_deleted: bool
    deleted_at: str | None

    @classmethod
    def of(cls, u: User) -> "UserOut":
        return cls.model_validate(as_json(u))


class LookupStats(CamelModel):
    requested: int
    found: int
    missing: int


class LookupOut(CamelModel):
    users: list[UserOut]
    # Requested ids with no user of the caller's (deleted ones too, unless includeDeleted).
    missing: list[str]
    stats: LookupStats

    @classmethod
    def of(cls, found: Lookup) -> "LookupOut":
        n, missing = len(found.users), len(found.missing)
        stats = LookupStats(requested=n + missing, found=n, missing=missing)
        return cls(users=[UserOut.of(u) for u in found.users], missing=found.missing, stats=stats)


class LookupRequest(CamelModel):
    ids: Annotated[list[UserId], Field(min_length=1, max_length=MAX_LOOKUP_IDS)]
    include_deleted: bool = False


def _users() -> UserService:
    return family_services(router, UserService)


@router.post(
    "/users",
    responses=documented(201, "The created user (never its password)", UserOut, EmailInUseError, body=True),
)
def create_user(fields: Annotated[NewUser, Body()]) -> Response[UserOut]:
    # No Idempotency-Key here: its record keeps a digest of the body, and a fast digest of a password is what
    # scrypt is there to prevent. A repeated create is answered 409 email_in_use, and creates nothing.
    user = _users().create(owner(router), fields.email, fields.name, fields.password)
    return json_reply(201, UserOut.of(user), {"Location": f"/users/{user.user_id}"})


@router.get("/users/<userId>", responses=documented(200, "The user", UserOut, NotFoundError))
def get_user(user_id: Annotated[str, Path(alias="userId")]) -> Response[UserOut]:
    return json_reply(200, UserOut.of(_users().get(owner(router), user_id)))


@router.get(
    "/users",
    responses=documented(
        200, "The caller's users of these ids", LookupOut, RequestValidationError, InvalidRequestError
    ),
)
def lookup_users(
    ids: Annotated[str, Query(min_length=1, description="Comma-separated user ids (1..1,000)")],
    include_deleted: Annotated[bool, Query(alias="includeDeleted")] = False,
) -> Response[LookupOut]:
    wanted = [i.strip() for i in ids.split(",")]
    try:
        request = LookupRequest.model_validate({"ids": wanted, "includeDeleted": include_deleted})
    except ValueError:
        problem = f"1 to {MAX_LOOKUP_IDS:,} user ids, separated by commas (letters, digits, - and _)"
        raise InvalidRequestError([FieldProblem("ids", problem)]) from None
    return json_reply(200, LookupOut.of(_users().lookup(owner(router), request.ids, request.include_deleted)))


@router.post(
    "/users/lookup",
    responses=documented(200, "The caller's users of these ids", LookupOut, body=True),
)
def lookup_users_in_body(request: Annotated[LookupRequest, Body()]) -> Response[LookupOut]:
    return json_reply(200, LookupOut.of(_users().lookup(owner(router), request.ids, request.include_deleted)))

"""UserRepository over DynamoDB: one table, two kinds of record.

- `user#<userId>`: the user.
- `email#<len(owner)>#<owner>#<email>`: the owner's reservation of an address, holding the user's id. Created,
  moved and kept in the same transaction as the user record, so two requests racing for one address cannot
  both win: DynamoDB's condition on the reservation decides. The owner's length makes the key unambiguous
  (an owner or an address may contain `#`). A soft-deleted user keeps its address.
"""

from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import Any

from botocore.exceptions import ClientError

from batchops.adapters.aws_errors import aws_errors, error_code
from batchops.adapters.dynamo_codec import (
    from_item,
    is_condition_failure,
    parse_time,
    set_attributes,
    to_attr,
    to_item,
)
from batchops.domain.errors import StoreUnavailableError
from batchops.users.models import (
    EmailInUseError,
    User,
    UserChange,
    UserChangeReplayedError,
    UserDeletedError,
    UserExistsError,
    UserNotFoundError,
)

# BatchGetItem takes 100 keys; what it leaves unprocessed (throttling) is asked again this many times.
_GET_GROUP = 100
_UNPROCESSED_ATTEMPTS = 5


def user_key(user_id: str) -> dict[str, Any]:
    return {"pk": to_attr(f"user#{user_id}")}


def email_key(owner: str, email: str) -> dict[str, Any]:
    return {"pk": to_attr(f"email#{len(owner)}#{owner}#{email}")}


def _refusal(change: UserChange, current: User | None) -> Exception | None:
    """Why the user as it is refuses the change, if it does."""
    if current is None or current.owner != change.owner:
        return UserNotFoundError(change.user_id)
    if current.last_change_id == change.change_id:
        return UserChangeReplayedError(current)
    if change.require_active and current.is_deleted:
        return UserDeletedError(change.user_id)
    return None


def _cancelled_by(error: ClientError) -> list[str | None]:
    """Per part of a cancelled transaction, the code that cancelled it (None: that part was fine)."""
    if error_code(error) != "TransactionCanceledException":
        raise error
    return [r.get("Code") if r.get("Code") != "None" else None for r in error.response.get("CancellationReasons", [])]


class DynamoUserRepository:
    def __init__(self, table_name: str, client: Any) -> None:
        self._table = table_name
        self._db = client

    def create(self, user: User) -> None:
        reservation = {**email_key(user.owner, user.email), **to_item({"userId": user.user_id})}
        parts = [
            {
                "Put": {
                    "TableName": self._table,
                    "Item": self._record(user),
                    "ConditionExpression": "attribute_not_exists(pk)",
                }
            },
            {"Put": {"TableName": self._table, "Item": reservation, "ConditionExpression": "attribute_not_exists(pk)"}},
        ]
        with aws_errors("storing a user"):
            try:
                self._db.transact_write_items(TransactItems=parts)
            except ClientError as e:
                user_taken, email_taken = [*_cancelled_by(e), None, None][:2]
                if user_taken == "ConditionalCheckFailed":
                    raise UserExistsError(user.user_id) from e
                if email_taken == "ConditionalCheckFailed":
                    raise EmailInUseError() from e
                raise

    def get(self, user_id: str) -> User | None:
        with aws_errors("reading a user"):
            reply = self._db.get_item(TableName=self._table, Key=user_key(user_id), ConsistentRead=True)
        return self._to_user(from_item(reply["Item"])) if "Item" in reply else None

    def get_many(self, user_ids: Sequence[str]) -> list[User]:
        users: list[User] = []
        # BatchGetItem refuses a key named twice in one request.
        unique = list(dict.fromkeys(user_ids))
        for first in range(0, len(unique), _GET_GROUP):
            keys = [user_key(i) for i in unique[first : first + _GET_GROUP]]
            users += [self._to_user(from_item(r)) for r in self._read_all(keys)]
        return users

    def _read_all(self, keys: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
        request: dict[str, Any] = {self._table: {"Keys": keys, "ConsistentRead": True}}
        for _ in range(_UNPROCESSED_ATTEMPTS):
            with aws_errors("reading users"):
                reply = self._db.batch_get_item(RequestItems=request)
            yield from reply.get("Responses", {}).get(self._table, [])
            request = reply.get("UnprocessedKeys") or {}
            if not request:
                return
        raise StoreUnavailableError("reading users failed: keys left unprocessed (throttled)")

    def apply(self, change: UserChange) -> User:
        current = self.get(change.user_id)
        refusal = _refusal(change, current)
        if refusal is not None:
            raise refusal
        assert current is not None, "no refusal: the caller's user"
        update = self._update(change, current)
        new_email = change.new_email
        with aws_errors("changing a user"):
            try:
                if new_email is None or new_email == current.email:
                    reply = self._db.update_item(**update, ReturnValues="ALL_NEW")
                    return self._to_user(from_item(reply["Attributes"]))
                self._move_email(update, current, new_email)
            except ClientError as e:
                if is_condition_failure(e):
                    raise self._why_refused(change) from e
                if _cancelled_by(e)[2:3] == ["ConditionalCheckFailed"]:
                    raise EmailInUseError() from e
                raise self._why_refused(change) from e
        moved = self.get(change.user_id)
        assert moved is not None, "a user is never removed"
        return moved

    def _update(self, change: UserChange, current: User) -> dict[str, Any]:
        attributes = {**change.attributes, "updatedAt": change.at, "lastChangeId": change.change_id}
        expression, names, values = set_attributes(attributes)
        # Unchanged since it was read (the address whose reservation moves), and not this item's change again.
        condition = (
            "#owner = :owner AND email = :email AND (attribute_not_exists(lastChangeId) OR lastChangeId <> :change)"
        )
        values |= {
            ":owner": to_attr(change.owner),
            ":email": to_attr(current.email),
            ":change": to_attr(change.change_id),
        }
        if change.require_active:
            condition += " AND isDeleted = :false"
            values[":false"] = to_attr(False)
        return {
            "TableName": self._table,
            "Key": user_key(change.user_id),
            "UpdateExpression": expression,
            "ConditionExpression": condition,
            "ExpressionAttributeNames": {**names, "#owner": "owner"},
            "ExpressionAttributeValues": values,
        }

    def _move_email(self, update: dict[str, Any], current: User, new_email: str) -> None:
        reservation = {**email_key(current.owner, new_email), **to_item({"userId": current.user_id})}
        self._db.transact_write_items(
            TransactItems=[
                {"Update": update},
                {
                    "Delete": {
                        "TableName": self._table,
                        "Key": email_key(current.owner, current.email),
                        "ConditionExpression": "userId = :user",
                        "ExpressionAttributeValues": {":user": to_attr(current.user_id)},
                    }
                },
                {
                    "Put": {
                        "TableName": self._table,
                        "Item": reservation,
                        "ConditionExpression": "attribute_not_exists(pk)",
                    }
                },
            ]
        )

    def _why_refused(self, change: UserChange) -> Exception:
        """Another request changed the user between our read and our write: what it is now decides."""
        refusal = _refusal(change, self.get(change.user_id))
        return refusal or StoreUnavailableError(f"user {change.user_id} changed meanwhile; try again")

    @staticmethod
    def _record(u: User) -> dict[str, Any]:
        return {
            **user_key(u.user_id),
            **to_item(
                {
                    "userId": u.user_id,
                    "owner": u.owner,
                    "email": u.email,
                    "name": u.name,
                    "passwordHash": u.password_hash,
                    "createdAt": u.created_at,
                    "updatedAt": u.updated_at,
                    "lastLoginAt": u.last_login_at,
                    "isDeleted": u.is_deleted,
                    "deletedAt": u.deleted_at,
                    "lastChangeId": u.last_change_id,
                }
            ),
        }

    @staticmethod
    def _to_user(r: dict[str, Any]) -> User:
        return User(
            user_id=r["userId"],
            owner=r["owner"],
            email=r["email"],
            name=r["name"],
            password_hash=r["passwordHash"],
            created_at=datetime.fromisoformat(r["createdAt"]),
            updated_at=datetime.fromisoformat(r["updatedAt"]),
            last_login_at=parse_time(r.get("lastLoginAt")),
            is_deleted=r.get("isDeleted", False),
            deleted_at=parse_time(r.get("deletedAt")),
            last_change_id=r.get("lastChangeId"),
        )

"""The users family through the real path: HTTP -> Lambda -> DynamoDB/S3 -> Step Functions -> Lambda."""

import json
import uuid
import zlib
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from local.stack import OfflineStack
from tests.integration.client import Api, assert_counts_add_up

PASSWORD = "Correct-Horse-9f3a"


def _email(tag: str = "") -> str:
    return f"{tag or 'user'}.{uuid.uuid4().hex[:10]}@Example.COM"


def _create(api: Api, email: str | None = None, **fields: Any) -> dict[str, Any]:
    reply = api.request("POST", "/users", {"email": email or _email(), "name": "Ann", "password": PASSWORD, **fields})
    assert reply.status == 201, reply
    user: dict[str, Any] = reply.body
    return user


def test_a_created_user_is_shown_without_its_password_and_only_to_its_owner(user: Api, other_user: Api) -> None:
    email = _email("ann")
    created = _create(user, email)
    assert created["email"] == email.lower()
    assert set(created) == {
        "userId", "email", "name", "createdAt", "updatedAt", "lastLoginAt", "isDeleted", "deletedAt"
    }  # fmt: skip
    assert (created["isDeleted"], created["lastLoginAt"], created["deletedAt"]) == (False, None, None)
    assert user.request("GET", f"/users/{created['userId']}").body == created
    assert other_user.request("GET", f"/users/{created['userId']}").status == 404
    # Unique per owner, whatever the case: another owner may use the same address.
    taken = user.request("POST", "/users", {"email": email.upper(), "name": "B", "password": PASSWORD})
    assert (taken.status, taken.body["error"]["code"]) == (409, "email_in_use")
    assert _create(other_user, email)["email"] == email.lower()


def test_bad_user_fields_are_named_and_the_password_is_never_echoed(user: Api, count_records: Any) -> None:
    before = count_records("UsersTableName")
    reply = user.request("POST", "/users", {"email": "not-an-email", "name": "", "password": "short-1"})
    assert reply.status == 400
    fields = {d["field"] for d in reply.body["error"]["details"]}
    assert fields == {"email", "name", "password"}
    assert "short-1" not in json.dumps(reply.body)
    assert count_records("UsersTableName") == before


def test_concurrent_creates_of_one_email_make_exactly_one_user(user: Api) -> None:
    email = _email("race")
    with ThreadPoolExecutor(8) as pool:
        replies = list(
            pool.map(
                lambda n: user.request("POST", "/users", {"email": email, "name": f"N{n}", "password": PASSWORD}),
                range(8),
            )
        )
    assert sorted(r.status for r in replies) == [201] + [409] * 7


def test_lookup_lists_found_and_missing_ids_and_hides_deleted_users_unless_asked(user: Api, other_user: Api) -> None:
    mine = [_create(user)["userId"] for _ in range(3)]
    foreign = _create(other_user)["userId"]
    deleted = user.wait_final(user.submit("users.soft-delete", [mine[2]], {})["batchId"])
    assert deleted["succeededItems"] == 1
    ids = ",".join([mine[0], "nobody", foreign, mine[1], mine[2], mine[0]])
    found = user.request("GET", f"/users?ids={ids}").body
    assert [u["userId"] for u in found["users"]] == mine[:2]
    assert found["missing"] == ["nobody", foreign, mine[2]]
    assert found["stats"] == {"requested": 5, "found": 2, "missing": 3}
    with_deleted = user.request("GET", f"/users?ids={ids}&includeDeleted=true").body
    assert [u["userId"] for u in with_deleted["users"]] == mine
    assert with_deleted["users"][2]["isDeleted"] is True
    too_many = user.request("GET", "/users?ids=" + ",".join(f"u{n}" for n in range(1001)))
    assert (too_many.status, too_many.body["error"]["details"][0]["field"]) == (400, "ids")
    assert user.request("GET", "/users?ids=").status == 400


def test_users_create_batch_fails_taken_emails_and_refuses_one_email_twice(user: Api) -> None:
    taken = _create(user)["email"]
    emails = [_email(f"b{n}") for n in range(20)]
    twice = user.request(
        "POST",
        "/batches",
        {
            "operation": "users.create",
            "items": [
                {"email": e, "name": "X", "password": PASSWORD} for e in [emails[0], emails[1], emails[0].upper()]
            ],
        },
    )
    assert twice.status == 400
    details = [(d["field"], d["message"]) for d in twice.body["error"]["details"]]
    assert details == [("items[2]", f"duplicate of items[0] (item id {emails[0].lower()!r})")]
    items = [{"email": e, "name": f"User {n}", "password": PASSWORD} for n, e in enumerate([*emails, taken])]
    batch = user.wait_final(user.submit("users.create", items, {}, chunkSize=5, maxConcurrency=4)["batchId"])
    assert (batch["status"], batch["succeededItems"], batch["failedItems"]) == ("completed", 20, 1)
    assert_counts_add_up(batch)
    listed = user.items(batch["batchId"])
    assert listed[20]["error"]["code"] == "email_in_use"
    assert listed[0]["input"] == {"email": emails[0].lower(), "name": "User 0"}
    created = [i["output"]["userId"] for i in listed[:20]]
    looked_up = user.request("GET", "/users?ids=" + ",".join(created)).body
    assert [u["email"] for u in looked_up["users"]] == [e.lower() for e in emails]


def test_users_update_changes_names_and_emails_and_fails_by_reason(user: Api) -> None:
    ann, bea, gone = (_create(user) for _ in range(3))
    user.wait_final(user.submit("users.soft-delete", [gone["userId"]], {})["batchId"])
    unknown = user.request(
        "POST", "/batches", {"operation": "users.update", "items": [{"id": ann["userId"], "data": {"role": "admin"}}]}
    )
    assert unknown.status == 400 and "allowed: name, email" in unknown.body["error"]["details"][0]["message"]
    empty = user.request(
        "POST", "/batches", {"operation": "users.update", "items": [{"id": ann["userId"], "data": {}}]}
    )
    assert empty.status == 400
    new_email = _email("ann2")
    items = [
        {"id": ann["userId"], "data": {"name": "Ann B", "email": new_email}},
        {"id": bea["userId"], "data": {"email": new_email}},
        {"id": gone["userId"], "data": {"name": "Z"}},
        {"id": "nobody", "data": {"name": "Z"}},
    ]
    batch = user.wait_final(user.submit("users.update", items, {}, maxConcurrency=1)["batchId"])
    codes = [(i["status"], (i["error"] or {}).get("code")) for i in user.items(batch["batchId"])]
    assert codes == [
        ("succeeded", None),
        ("failed", "email_in_use"),
        ("failed", "user_deleted"),
        ("failed", "not_found"),
    ]
    assert user.request("GET", f"/users/{ann['userId']}").body["email"] == new_email.lower()
    # The old address is free again.
    assert _create(user, ann["email"])["email"] == ann["email"]


def test_logins_are_recorded_and_a_second_delete_says_it_was_deleted(user: Api) -> None:
    ann = _create(user)["userId"]
    login = user.wait_final(user.submit("users.record-login", [ann], {"at": "2026-01-02T03:04:05Z"})["batchId"])
    assert login["succeededItems"] == 1
    assert user.request("GET", f"/users/{ann}").body["lastLoginAt"] == "2026-01-02T03:04:05.000Z"
    first = user.wait_final(user.submit("users.soft-delete", [ann], {})["batchId"])
    second = user.wait_final(user.submit("users.soft-delete", [ann], {})["batchId"])
    assert (first["succeededItems"], second["succeededItems"]) == (1, 1)
    assert user.items(second["batchId"])[0]["message"] == "User was already deleted"
    assert user.request("GET", f"/users/{ann}").body["isDeleted"] is True


def _raw_table(stack: OfflineStack, output: str) -> str:
    """Every record of a table as text, result rows decompressed: what a reader of the table could see."""
    db, text = stack.client("dynamodb"), []
    for page in db.get_paginator("scan").paginate(TableName=stack.output(output)):
        for record in page["Items"]:
            rows = record.get("rows", {}).get("B")
            text.append(zlib.decompress(rows).decode() if rows else "")
            text.append(json.dumps(record, default=str))
    return "\n".join(text)


def _bucket(stack: OfflineStack) -> dict[str, bytes]:
    s3, bucket = stack.client("s3"), stack.output("ItemsBucketName")
    keys = [
        o["Key"]
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket)
        for o in page.get("Contents", [])
    ]
    return {key: s3.get_object(Bucket=bucket, Key=key)["Body"].read() for key in keys}


def test_passwords_never_leak_into_tables_bucket_listings_reports_or_logs(
    user: Api, stack: OfflineStack, capfd: pytest.CaptureFixture[str]
) -> None:
    secret = f"Secret-{uuid.uuid4().hex}"
    lines = [json.dumps({"email": _email(f"s{n}"), "name": f"S {n}", "password": f"{secret}-{n}"}) for n in range(30)]
    upload_id = user.upload(("\n".join(lines) + "\n").encode())
    reply = user.submit_upload("users.create", upload_id, {}, chunkSize=10, maxConcurrency=2)
    assert reply.status == 202, reply
    batch = user.wait_final(reply.body["batchId"])
    assert (batch["status"], batch["succeededItems"]) == ("completed", 30)
    retry = user.request("POST", f"/batches/{batch['batchId']}/retry")
    assert retry.status == 409
    listed = json.dumps(user.items(batch["batchId"]))
    report = user.report(batch["batchId"], "?format=jsonl") + user.report(batch["batchId"])
    objects = _bucket(stack)
    assert not any(key.startswith(f"uploads/{upload_id}") for key in objects), "the upload holding secrets is gone"
    assert not any("/secrets/" in key for key in objects if batch["batchId"] in key)
    history = stack.client("stepfunctions").get_execution_history(executionArn=batch["executionArn"], maxResults=1000)
    seen = {
        "execution history": json.dumps(history["events"], default=str),
        "users table": _raw_table(stack, "UsersTableName"),
        "batches table": _raw_table(stack, "BatchesTableName"),
        "items bucket": b"\n".join(objects.values()).decode(errors="replace"),
        "listing": listed,
        "reports": report.decode(),
        "logs": "".join(capfd.readouterr()),
    }
    assert "scrypt$10$" in seen["users table"]
    for where, text in seen.items():
        assert secret not in text, f"a password in the {where}"


def _users_of(stack: OfflineStack, owner: str) -> int:
    db = stack.client("dynamodb")
    pages = db.get_paginator("scan").paginate(
        TableName=stack.output("UsersTableName"),
        FilterExpression="#o = :o AND begins_with(pk, :u)",
        ExpressionAttributeNames={"#o": "owner"},
        ExpressionAttributeValues={":o": {"S": owner}, ":u": {"S": "user#"}},
    )
    return sum(page["Count"] for page in pages)


def test_a_users_create_chunk_run_again_after_a_crash_creates_no_user_twice(stack: OfflineStack) -> None:
    owner = f"crash-{uuid.uuid4().hex[:8]}"
    api = Api(stack.api_url, stack.issuer.issue(owner), owner)  # type: ignore[union-attr]
    items = [{"email": f"c{n}@crash.example", "name": f"C {n}", "password": PASSWORD} for n in range(300)]
    # One chunk on one thread: results are written every second, the crash comes at 1.5 s, mid-chunk.
    stack.invoker.crash_during("ProcessChunkFunction", 1.5)
    stack.invoker.reset_stats()
    batch = api.wait_final(api.submit("users.create", items, {}, chunkSize=300, maxConcurrency=1)["batchId"], 300)
    assert (batch["status"], batch["succeededItems"]) == ("completed", 300), batch
    assert stack.invoker.calls("ProcessChunkFunction") == 2
    listed = api.items(batch["batchId"])
    assert any("restart" in i["message"] for i in listed), "the crash came after the chunk's last write"
    assert len({i["output"]["userId"] for i in listed}) == 300
    assert _users_of(stack, owner) == 300


@pytest.mark.timeout(1260)  # the batch's own wait is 1,200 s
def test_ten_thousand_users_are_created_in_one_batch_of_chunks_of_500_three_at_a_time(user: Api) -> None:
    tag = uuid.uuid4().hex[:8]
    items = [{"email": f"bulk{n}.{tag}@example.com", "name": f"Bulk {n}", "password": PASSWORD} for n in range(10_000)]
    batch = user.wait_final(user.submit("users.create", items, {}, chunkSize=500, maxConcurrency=3)["batchId"], 1200)
    assert (batch["status"], batch["succeededItems"], batch["failedItems"]) == ("completed", 10_000, 0), batch
    assert_counts_add_up(batch)
    report = [json.loads(line) for line in user.report(batch["batchId"], "?format=jsonl").splitlines()]
    ids = [row["output"]["userId"] for row in report]
    assert len(set(ids)) == 10_000
    found = user.request("POST", "/users/lookup", {"ids": ids[-1000:]}).body
    assert found["stats"] == {"requested": 1000, "found": 1000, "missing": 0}

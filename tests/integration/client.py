"""An HTTP client of the local stack's API, as a user with a token would use it."""

import json
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from typing import Any

# The replies and the no-redirect handler of the project's own client (the CLI): one piece for both.
from batchops.cli.http import NoRedirect, Reply

Batch = dict[str, Any]

FINAL = ("completed", "failed", "cancelled")


def assert_counts_add_up(batch: Batch) -> None:
    """processed = succeeded + failed, and at the end total = processed + skipped + cancelled."""
    assert batch["processedItems"] == batch["succeededItems"] + batch["failedItems"]
    assert batch["totalItems"] == batch["processedItems"] + batch["skippedItems"] + batch["cancelledItems"]


class Api:
    def __init__(self, base_url: str, token: str | None, owner: str | None = None) -> None:
        self.base_url = base_url
        self.token = token
        self.owner = owner

    def request(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        raw: bytes | None = None,
        headers: dict[str, str] | None = None,
    ) -> Reply:
        data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
        all_headers = {"content-type": "application/json", **(headers or {})}
        if self.token is not None:
            all_headers["authorization"] = f"Bearer {self.token}"
        url = self.base_url + path
        request = urllib.request.Request(url, data=data, method=method, headers=all_headers)  # noqa: S310 - local stack
        try:
            with urllib.request.urlopen(request, timeout=30) as reply:  # noqa: S310 - local stack
                return Reply(reply.status, dict(reply.headers.items()), _json(reply.read()))
        except urllib.error.HTTPError as e:
            return Reply(e.code, dict(e.headers.items()), _json(e.read()))

    def create_content(self, **fields: Any) -> dict[str, Any]:
        body = {"title": "An item", "contentType": "article", "price": 100, **fields}
        reply = self.request("POST", "/content", body)
        assert reply.status == 201, reply
        created: dict[str, Any] = reply.body
        return created

    def create_contents(self, count: int, **fields: Any) -> list[str]:
        return [self.create_content(title=f"Item {i}", **fields)["contentId"] for i in range(count)]

    def submit(self, operation: str, items: list[Any], params: dict[str, Any], **options: Any) -> dict[str, Any]:
        reply = self.request(
            "POST", "/batches", {"operation": operation, "items": items, "params": params, "options": options}
        )
        assert reply.status == 202, reply
        batch: dict[str, Any] = reply.body
        return batch

    def upload(self, data: bytes, fmt: str = "jsonl") -> str:
        """A manifest uploaded as a client does: POST /uploads, then PUT to its presigned URL."""
        ticket = self.request("POST", "/uploads", {"format": fmt})
        assert ticket.status == 201, ticket
        assert ticket.body["method"] == "PUT"
        url, headers = ticket.body["url"], ticket.body["headers"]
        put = urllib.request.Request(url, data=data, method="PUT", headers=headers)  # noqa: S310 - local stack
        with urllib.request.urlopen(put, timeout=60) as reply:  # noqa: S310 - the local stack's endpoint
            assert reply.status == 200
        upload_id: str = ticket.body["uploadId"]
        return upload_id

    def submit_upload(self, operation: str, upload_id: str, params: dict[str, Any], **options: Any) -> Reply:
        body = {"operation": operation, "source": {"uploadId": upload_id}, "params": params, "options": options}
        return self.request("POST", "/batches", body)

    def report_redirect(self, batch_id: str, query: str = "") -> Reply:
        """The API's answer to a report request itself (a 303), not the download it points to."""
        opener = urllib.request.build_opener(NoRedirect)
        request = urllib.request.Request(  # noqa: S310 - local stack
            f"{self.base_url}/batches/{batch_id}/report{query}", headers={"authorization": f"Bearer {self.token}"}
        )
        try:
            with opener.open(request, timeout=30) as reply:
                return Reply(reply.status, dict(reply.headers.items()), reply.read())
        except urllib.error.HTTPError as e:
            return Reply(e.code, dict(e.headers.items()), json.loads(e.read() or b"null"))

    def report(self, batch_id: str, query: str = "") -> bytes:
        """A final batch's report, downloaded through its presigned link."""
        reply = self.report_redirect(batch_id, query)
        assert reply.status == 303, reply
        with urllib.request.urlopen(reply.headers["location"], timeout=60) as download:  # noqa: S310 - local stack
            data: bytes = download.read()
        return data

    def batch(self, batch_id: str) -> dict[str, Any]:
        reply = self.request("GET", f"/batches/{batch_id}")
        assert reply.status == 200, reply
        batch: dict[str, Any] = reply.body
        return batch

    def wait_for(
        self, batch_id: str, condition: Callable[[dict[str, Any]], bool], timeout: float = 90
    ) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            batch = self.batch(batch_id)
            if condition(batch):
                return batch
            time.sleep(0.1)
        raise AssertionError(f"batch {batch_id}: condition not met after {timeout}s: {self.batch(batch_id)}")

    def wait_final(self, batch_id: str, timeout: float = 90) -> Batch:
        return self.wait_for(batch_id, lambda batch: batch["status"] in FINAL, timeout)

    def items(self, batch_id: str, **query: Any) -> list[dict[str, Any]]:
        """Every item of a batch, following nextToken."""
        collected: list[dict[str, Any]] = []
        token = None
        for _ in range(1000):
            params = {**query, **({"nextToken": token} if token else {})}
            qs = "&".join(f"{k}={v}" for k, v in params.items())
            reply = self.request("GET", f"/batches/{batch_id}/items" + (f"?{qs}" if qs else ""))
            assert reply.status == 200, reply
            collected += reply.body["items"]
            token = reply.body["nextToken"]
            if not token:
                return collected
        raise AssertionError("nextToken never ran out")


def _json(data: bytes) -> Any:
    return json.loads(data) if data else None

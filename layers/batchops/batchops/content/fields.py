"""Content fields and their rules, shared by content creation and the metadata-update operation."""

from typing import Annotated

from pydantic import Field, StringConstraints

from batchops.operations.camel import CamelModel

ContentId = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")]
Title = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Description = Annotated[str, StringConstraints(max_length=5000)]
ContentType = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=50)]
# The largest integer every JSON client reads exactly (JavaScript's Number.MAX_SAFE_INTEGER); it also keeps
# prices far inside what DynamoDB stores (38 digits).
MAX_PRICE = 2**53 - 1
Price = Annotated[int, Field(ge=0, le=MAX_PRICE, strict=True)]
RefundWindowDays = Annotated[int, Field(ge=0, le=365, strict=True)]
Flag = Annotated[bool, Field(strict=True)]

# Every field a metadata update may change, in the order the API lists them.
METADATA_FIELDS = ("title", "description", "contentType", "tokenGating", "refundable", "refundWindowDays")


class ContentFields(CamelModel):
    title: Title
    description: Description = ""
    content_type: ContentType
    price: Price
    token_gating: Flag = False
    refundable: Flag = False
    refund_window_days: RefundWindowDays = 0

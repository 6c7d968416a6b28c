"""The users family: accounts owned by the caller, and the batch operations over them."""

"""Content items and the batch operations on them."""

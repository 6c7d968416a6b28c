"""The `batchops` command-line client: submit batches, watch them, read their items and reports over the HTTP API."""

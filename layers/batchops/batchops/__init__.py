"""batchops shared package: domain, operations (plug-ins), adapters and API edge models."""

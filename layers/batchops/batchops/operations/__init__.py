"""Operations are plug-ins: a name, a params model, an item model and an apply function."""

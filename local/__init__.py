"""The offline stack: template.yaml deployed into an embedded moto, our handlers run in Lambda-like worker processes."""

"""Adapters: the ports implemented over AWS services and HTTP. The only place botocore appears."""

"""The batch engine: plain Python over typed models and ports. No boto3, no environment."""

"""The HTTP edge: request and response models, and error bodies."""

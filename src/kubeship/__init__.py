"""kubeship: from a Python ASGI service to a production Kubernetes deployment."""

__version__ = "0.1.0"

"""Built-in policies, written against :mod:`gateway.api` like any third-party policy."""

"""tokuden: a compliance gateway for commercial e-mail under Japan's 特定電子メール法."""

__version__ = "0.1.0"

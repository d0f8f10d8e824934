"""Cloudflare Images over its REST API: `CloudflareBackend` (use it through `Images.cloudflare`)."""

from .backend import CloudflareBackend

__all__ = ["CloudflareBackend"]

"""The store's one error type, shared by the store and its import/export."""

from __future__ import annotations


class StoreError(Exception):
    """A database that cannot be used or a request it cannot honour; the message is one line for the user."""

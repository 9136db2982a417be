"""Encryption of special-category health data at rest.

FIELD_ENCRYPTION_KEY may hold several comma-separated Fernet keys: the first encrypts, and all
of them decrypt, so a key can be rotated without losing older records.
"""

from __future__ import annotations

import json
from functools import lru_cache
from typing import Any

from cryptography.fernet import Fernet, MultiFernet

from coprod.config import get_settings


@lru_cache(maxsize=4)
def _fernet(key_material: bytes) -> MultiFernet:
    return MultiFernet([Fernet(k.strip()) for k in key_material.split(b",") if k.strip()])


def _current() -> MultiFernet:
    return _fernet(get_settings().fernet_key)


def encrypt_json(data: dict[str, Any]) -> str:
    return _current().encrypt(json.dumps(data, sort_keys=True).encode()).decode()


def decrypt_json(token: str) -> dict[str, Any]:
    value: dict[str, Any] = json.loads(_current().decrypt(token.encode()))
    return value

"""Metadata tests assert messages in English unless a test says otherwise (the project's default
language is zh-Hans; tests of Chinese messages override it inside the test)."""

import pytest
from django.utils import translation


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield

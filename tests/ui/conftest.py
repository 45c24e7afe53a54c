from __future__ import annotations

import pytest


@pytest.fixture
def owner_client(client, owner):
    client.force_login(owner)
    return client


@pytest.fixture(autouse=True)
def uploads_in_tmp(settings, tmp_path):
    """Uploaded import files go to a throwaway folder, not the checkout's var/."""
    settings.MEDIA_ROOT = tmp_path / "media"

from __future__ import annotations

import hashlib

import pytest

from forecasting.engine.digest import BLOCK, file_digest


@pytest.mark.parametrize("sync", [False, True])
def test_it_hashes_a_file_of_several_blocks_and_counts_its_bytes(tmp_path, sync):
    payload = bytes(range(256)) * (BLOCK // 256 * 2 + 3)
    path = tmp_path / "checkpoint.pt"
    path.write_bytes(payload)

    digest, size = file_digest(path, sync=sync)

    assert digest == hashlib.sha256(payload).hexdigest()
    assert size == len(payload) == 2 * BLOCK + 768


def test_an_empty_file_has_the_digest_of_no_bytes(tmp_path):
    path = tmp_path / "empty.parquet"
    path.write_bytes(b"")

    assert file_digest(str(path)) == (hashlib.sha256(b"").hexdigest(), 0)

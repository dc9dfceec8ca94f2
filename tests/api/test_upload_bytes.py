"""An uploaded file reaches the use case byte for byte, whether Starlette held it in memory or on disk,
and the size limit holds either way."""

from __future__ import annotations

import hashlib
import random
from tempfile import SpooledTemporaryFile

import pytest
from fastapi import HTTPException, UploadFile

from entrypoints.api.routes.datasets import read_upload


def csv_of(rows: int) -> bytes:
    rng = random.Random(3)
    lines = ["account,tenure,plan,left"] + [
        f"a{i},{rng.randint(0, 72)},{rng.choice(['basic', 'pro'])},{rng.choice(['yes', 'no'])}" for i in range(rows)
    ]
    return ("\n".join(lines) + "\n").encode()


def spooled(content: bytes, max_size: int) -> UploadFile:
    spool = SpooledTemporaryFile(max_size=max_size)
    for start in range(0, len(content), 65536):
        spool.write(content[start : start + 65536])
    spool.seek(0)
    return UploadFile(file=spool, size=len(content))  # type: ignore[arg-type]


@pytest.mark.parametrize("max_size", [1024 * 1024, 64 * 1024 * 1024], ids=["on disk", "in memory"])
def test_the_bytes_come_back_whole_and_the_limit_is_kept(max_size):
    content = csv_of(120_000)
    assert len(content) > 1024 * 1024
    assert read_upload(spooled(content, max_size), max_mb=10) == content
    with pytest.raises(HTTPException) as refused:
        read_upload(spooled(content, max_size), max_mb=1)
    assert refused.value.status_code == 413


def test_a_file_of_several_megabytes_uploads_with_the_hash_of_its_bytes(client):
    content = csv_of(300_000)
    files = {"file": ("big.csv", content, "text/csv")}
    answer = client.post("/datasets", files=files, data={"name": "big", "target": "left", "id_column": "account"})
    assert answer.status_code == 201, answer.text
    assert answer.json()["rows"] == 300_000
    assert answer.json()["content_hash"] == hashlib.sha256(content).hexdigest()

"""Input that changes between validation and use: a file swapped for a named pipe after the
sweep checked it must fail the read that meets it, never hang the build."""

import os

import pytest

from erjian.site import keys


def test_a_named_pipe_met_while_hashing_fails_instead_of_hanging(tmp_path):
    pipe = tmp_path / "regions" / "anhui" / "province.yaml"
    pipe.parent.mkdir(parents=True)
    os.mkfifo(pipe)   # nobody writes to it: a blocking open would wait forever
    with pytest.raises(OSError, match="special file"):
        keys._regular_file_digest(pipe)


def test_a_regular_file_hashes_as_its_bytes(tmp_path):
    import hashlib

    path = tmp_path / "a.yaml"
    path.write_bytes(b"name: x\n")
    assert keys._regular_file_digest(path) == hashlib.sha256(b"name: x\n").digest()

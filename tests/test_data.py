import hashlib
import os
from pathlib import Path

import pytest

from helpers import data
from helpers.data import DataError, load_text

CONTENT = b"to be or not to be\n"


@pytest.fixture
def fake_dataset(tmp_path, monkeypatch):
    """A registry entry served from a local file:// address, cached in an empty folder."""
    source = tmp_path / "source.txt"
    source.write_bytes(CONTENT)
    cache = tmp_path / "cache"
    monkeypatch.setenv(data.DATA_DIR_ENV, str(cache))
    monkeypatch.setitem(data.DATASETS, "fake", ("fake.txt", source.as_uri(), hashlib.sha256(CONTENT).hexdigest()))
    return source, cache


def test_downloads_verifies_and_caches(fake_dataset):
    source, cache = fake_dataset
    assert load_text("fake") == CONTENT.decode()
    assert (cache / "fake.txt").read_bytes() == CONTENT
    assert [p.name for p in cache.iterdir()] == ["fake.txt"], "no temporary file left behind"
    source.unlink()  # the source is gone: the cache serves
    assert load_text("fake") == CONTENT.decode()


def test_unknown_dataset_names_the_known_ones():
    with pytest.raises(ValueError, match="unknown dataset 'shakespear'.*names, tinyshakespeare"):
        load_text("shakespear")


def test_checksum_mismatch_discards_the_download(fake_dataset, monkeypatch):
    source, cache = fake_dataset
    monkeypatch.setitem(data.DATASETS, "fake", ("fake.txt", source.as_uri(), "0" * 64))
    with pytest.raises(DataError, match="SHA-256 is not the one the course expects, so it was not kept"):
        load_text("fake")
    assert not cache.exists() or not any(cache.iterdir()), "the bad file must not be kept"


def test_offline_without_cache_says_where_to_put_the_file(fake_dataset, monkeypatch):
    _, cache = fake_dataset
    monkeypatch.setitem(data.DATASETS, "fake", ("fake.txt", "http://127.0.0.1:9/fake.txt", "0" * 64))
    with pytest.raises(DataError, match=r"could not download fake.txt.*save .* as .*cache/fake.txt"):
        load_text("fake")
    assert not cache.exists()


def test_a_damaged_cached_file_is_reported_not_silently_used(fake_dataset):
    _, cache = fake_dataset
    cache.mkdir()
    (cache / "fake.txt").write_bytes(b"to be or not")
    with pytest.raises(DataError, match="damaged.*delete it"):
        load_text("fake")
    assert (cache / "fake.txt").read_bytes() == b"to be or not", "a user's file is never deleted"


def test_unwritable_data_folder_gives_a_clear_message(fake_dataset, monkeypatch, tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    monkeypatch.setenv(data.DATA_DIR_ENV, str(blocker / "sub"))
    with pytest.raises(DataError, match="cannot write to .*a-file/sub .*set COURSE_DATA_DIR"):
        load_text("fake")


@pytest.mark.parametrize("name, size, chars", [("tinyshakespeare", 1_115_394, 65), ("names", 228_145, 27)])
def test_real_datasets_when_available(name, size, chars):
    try:
        text = load_text(name)
    except DataError:
        pytest.skip(f"{name} not cached here; set COURSE_DATA_DIR to a folder that has it")
    assert len(text.encode()) == size and len(set(text)) == chars


def test_a_folder_where_the_file_should_be_is_explained(fake_dataset):
    _, cache = fake_dataset
    (cache / "fake.txt").mkdir(parents=True)
    with pytest.raises(DataError, match=r"cannot read .*fake.txt .*if it is a folder, move it away"):
        load_text("fake")
    assert (cache / "fake.txt").is_dir(), "the user's folder is left alone"


def test_an_unreadable_cached_file_is_explained(fake_dataset, monkeypatch):
    _, cache = fake_dataset
    cache.mkdir()
    (cache / "fake.txt").write_bytes(CONTENT)

    def denied(self):
        raise PermissionError(13, "Permission denied", str(self))

    monkeypatch.setattr(Path, "read_bytes", denied)  # running as root, chmod would not stop us
    with pytest.raises(DataError, match=r"cannot read .*fake.txt \(Permission denied\).*chmod"):
        load_text("fake")


@pytest.mark.parametrize("umask, mode", [(0o022, 0o644), (0o002, 0o664), (0o077, 0o600)])
def test_a_download_is_created_with_the_umask(fake_dataset, umask, mode):
    _, cache = fake_dataset
    old = os.umask(umask)
    try:
        load_text("fake")
    finally:
        os.umask(old)
    assert (cache / "fake.txt").stat().st_mode & 0o777 == mode

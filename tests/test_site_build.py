"""The site builder's refusals, without a browser: each failure keeps the last good site and
says which file or folder is wrong and what to do.

The builds here use one tiny lesson notebook and the pinned tarballs from ``build/vendor/``
(linked into a temporary cache, so a test may damage its copy).
"""

from __future__ import annotations

import json

import nbformat
import pytest
from chromium_support import skip_or_fail

from tools import vendor
from tools.build_site import SiteError, _lesson_links, build, main
from tools.site_output import MARKER
from tools.vendor import VENDORED, fetch_vendored


def _lesson(number: int = 1, cells: list | None = None) -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell(f"# Lesson {number} · A tiny lesson\n\n**The question:** does it build?"),
                nbformat.v4.new_code_cell("print('hi')", execution_count=1,
                                          outputs=[nbformat.v4.new_output("stream", text="hi\n")])]
    nb.cells += cells or []
    return nb


@pytest.fixture
def cache(tmp_path):
    """A cache holding links to the pinned tarballs (downloaded first if need be)."""
    folder = tmp_path / "cache"
    folder.mkdir()
    for package in VENDORED:
        try:
            real = fetch_vendored(package)
        except SiteError as err:
            skip_or_fail(str(err))
        (folder / package.filename).symlink_to(real)
    return folder


@pytest.fixture
def notebooks(tmp_path):
    folder = tmp_path / "notebooks"
    folder.mkdir()
    nbformat.write(_lesson(), folder / "01_tiny.ipynb")
    return folder


def test_a_refused_build_keeps_the_last_good_site(tmp_path, notebooks, cache):
    out = tmp_path / "site"
    build(out, notebooks, cache=cache)
    before = {p.relative_to(out): p.read_bytes() for p in out.rglob("*") if p.is_file()}
    damaged = cache / VENDORED[1].filename
    damaged.unlink()
    damaged.write_bytes(b"not require.js")
    with pytest.raises(SiteError, match="has SHA-256"):
        build(out, notebooks, cache=cache)
    after = {p.relative_to(out): p.read_bytes() for p in out.rglob("*") if p.is_file()}
    assert after == before, "the last good site is still there, as it was"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cache", "notebooks", "site"], "no half-built folder left"


def test_a_rebuild_replaces_its_own_site(tmp_path, notebooks, cache):
    out = tmp_path / "site"
    build(out, notebooks, cache=cache)
    (out / "01_tiny.html").write_text("stale")
    build(out, notebooks, cache=cache)
    assert "stale" not in (out / "01_tiny.html").read_text()


def test_a_folder_the_builder_did_not_make_is_refused(tmp_path, notebooks, cache):
    out = tmp_path / "mine"
    (out / "assets").mkdir(parents=True)
    (out / "index.html").write_text("my own page")
    (out / "notes.txt").write_text("my notes")
    with pytest.raises(SiteError, match=rf"{out} was not made by the site builder.*another --out"):
        build(out, notebooks, cache=cache)
    assert (out / "notes.txt").read_text() == "my notes" and (out / "index.html").read_text() == "my own page"


def test_a_site_from_before_the_marker_is_replaced(tmp_path, notebooks, cache):
    out = tmp_path / "site"
    for name in ("assets/mathjax/x.js", "assets/site.css", "index.html", "01_tiny.html"):
        (out / name).parent.mkdir(parents=True, exist_ok=True)
        (out / name).write_text("old")
    build(out, notebooks, cache=cache)
    assert (out / MARKER).exists() and (out / "index.html").read_text() != "old"


def test_files_put_into_a_built_site_are_not_deleted(tmp_path, notebooks, cache):
    out = tmp_path / "site"
    build(out, notebooks, cache=cache)
    (out / "notes.txt").write_text("my notes")
    with pytest.raises(SiteError, match=rf"{out} holds files the site builder did not write: notes.txt.*move them"):
        build(out, notebooks, cache=cache)
    assert (out / "notes.txt").read_text() == "my notes"


def test_a_notebook_with_an_error_output_is_refused(tmp_path, notebooks, cache):
    error = nbformat.v4.new_output("error", ename="ValueError", evalue="bad", traceback=["Traceback ...", "bad"])
    nb = _lesson(2, [nbformat.v4.new_code_cell("raise ValueError('bad')", execution_count=7, outputs=[error])])
    nbformat.write(nb, notebooks / "02_broken.ipynb")
    with pytest.raises(SiteError, match=r"02_broken.ipynb: cell index 2 \(In \[7\]\) holds an error output "
                                        r"\(ValueError: bad\).*run the notebook again"):
        build(tmp_path / "site", notebooks, cache=cache)
    assert not (tmp_path / "site").exists()


def test_a_notebook_that_is_not_json_is_named(tmp_path, notebooks, cache, capsys):
    (notebooks / "02_broken.ipynb").write_text('{"cells": [')
    code = main(["--notebooks", str(notebooks), "--out", str(tmp_path / "site")])
    err = capsys.readouterr().err
    assert code == 1
    assert f"{notebooks / '02_broken.ipynb'} is not a notebook" in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1, err


def test_an_out_that_is_a_file_is_named(tmp_path, notebooks, cache, capsys):
    out = tmp_path / "site.html"
    out.write_text("a file")
    code = main(["--notebooks", str(notebooks), "--out", str(out)])
    err = capsys.readouterr().err
    assert code == 1
    assert f"{out} is a file, not a folder" in err and "Traceback" not in err, err
    assert out.read_text() == "a file"


def test_the_marker_names_every_file_written(tmp_path, notebooks, cache):
    out = tmp_path / "site"
    build(out, notebooks, cache=cache)
    listed = set(json.loads((out / MARKER).read_text())["files"])
    on_disk = {str(p.relative_to(out)) for p in out.rglob("*") if p.is_file() and p.name != MARKER}
    assert listed == on_disk


def test_links_between_lessons_become_links_between_pages():
    body = '<a href="02_learning_rates.ipynb#9-·-Your-turn">x</a> <a href="../notebooks/07_shakespeare.ipynb">y</a>'
    expected = '<a href="02_learning_rates.html#9-·-Your-turn">x</a> <a href="07_shakespeare.html">y</a>'
    assert _lesson_links(body) == expected
    assert _lesson_links(body, "../").count('href="../') == 2, "from the slides, one folder up"
    download = '<a download="" href="notebooks/01_count_to_3.ipynb">'
    assert _lesson_links(download) == download, "a notebook to download stays a notebook"


def test_a_damaged_download_is_refused(tmp_path):
    package = VENDORED[1]
    (tmp_path / package.filename).write_bytes(b"not require.js")
    with pytest.raises(SiteError, match=r"has SHA-256 \w+, not the pinned \w+ of requirejs 2.3.8.*Delete it"):
        fetch_vendored(package, tmp_path)


def test_a_failed_download_says_where_to_put_the_file(tmp_path, monkeypatch):
    def offline(*args, **kwargs):
        raise OSError("network is unreachable")

    monkeypatch.setattr(vendor.urllib.request, "urlopen", offline)
    with pytest.raises(SiteError, match=r"could not download requirejs 2.3.8 from https://registry"
                                        r".*unreachable.*Save that file as .*requirejs-2.3.8.tgz"):
        fetch_vendored(VENDORED[1], tmp_path)
    assert not any(tmp_path.iterdir()), "no partial file is left behind"

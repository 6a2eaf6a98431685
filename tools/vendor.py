"""The scripts the course site serves, and the one its tests inject: npm tarballs pinned by SHA-256.

Each comes from the npm registry once, is checked against its pinned SHA-256, and is kept in
``build/vendor/``; the site copies the files it needs into ``assets/``. Offline, put the
tarballs (``Vendored.filename``) in that folder by hand.
"""

from __future__ import annotations

import functools
import hashlib
import shutil
import sys
import tarfile
import urllib.request
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CACHE = ROOT / "build" / "vendor"


class SiteError(RuntimeError):
    """The site cannot be built (a download failed, a checksum differs, a notebook is refused)."""


@dataclass(frozen=True)
class Vendored:
    """An npm tarball, pinned, and the files the site takes from it (globs under ``package/``),
    copied to ``assets/<dest>/`` with the leading folder ``root`` taken off their paths."""

    name: str
    version: str
    sha256: str
    files: tuple[str, ...]
    dest: str
    root: str = ""

    @property
    def url(self) -> str:
        return f"https://registry.npmjs.org/{self.name}/-/{self.name.split('/')[-1]}-{self.version}.tgz"

    @property
    def filename(self) -> str:
        return f"{self.name.replace('@', '').replace('/', '-')}-{self.version}.tgz"


# @jupyter-widgets/html-manager 1.0.15 renders the models of ipywidgets 8.1.9 (controls 2.0.0, base 2.0.0)
VENDORED = (
    Vendored("@jupyter-widgets/html-manager", "1.0.15",
             "2b9d65cb7913e1c7d671757a10008b32c9c2448d4429513371e55c07d6107638",
             ("dist/embed-amd.js", "dist/*.woff2", "dist/*.woff", "dist/*.ttf", "dist/*.eot"), "html-manager", "dist/"),
    Vendored("requirejs", "2.3.8", "777158e89275e16bd51aec3ef714fbcb5dc45789e7078659933bc814916d7dec",
             ("require.js",), "requirejs"),
    # MathJax finds its fonts relative to itself: the layout below es5/ is kept
    Vendored("mathjax", "3.2.2", "1b9c0a1c44df864e915690558e72adb9cc5203360daefd385084ced3b6c64c09",
             ("es5/tex-chtml-full.js", "es5/output/chtml/fonts/woff-v2/*.woff"), "mathjax", "es5/"),
    # the slides: reveal.js with its white theme (fonts served from beside it) and the speaker-notes view
    Vendored("reveal.js", "5.2.1", "359b575dd51bbda32f89b2fd4c7dc46ad7389a805572158916c29252f7a27333",
             ("dist/reveal.js", "dist/reveal.css", "dist/theme/white.css", "dist/theme/fonts/source-sans-pro/*.css",
              "dist/theme/fonts/source-sans-pro/*.woff", "plugin/notes/notes.js"), "reveal"),
)
# the accessibility checker the site's tests run in each page; not part of the site
AXE = Vendored("axe-core", "4.14.1", "e6b0ce02b84d892e2e33e403485e7f3d6c29e2be6df65daf44d89ba564139745",
               ("axe.min.js",), "axe")


def fetch_vendored(package: Vendored, cache: Path = CACHE) -> Path:
    """The package's tarball from the cache, downloaded and verified first if it is not there."""
    cache.mkdir(parents=True, exist_ok=True)
    target = cache / package.filename
    if not target.exists():
        print(f"downloading {package.name} {package.version} from the npm registry", file=sys.stderr)
        tmp = target.with_suffix(".part")
        try:
            with urllib.request.urlopen(package.url, timeout=60) as response, open(tmp, "wb") as out:
                shutil.copyfileobj(response, out)
        except OSError as err:
            tmp.unlink(missing_ok=True)
            raise SiteError(f"could not download {package.name} {package.version} from {package.url}: {err}. "
                            f"Offline? Save that file as {target} and build again.") from err
        digest = hashlib.sha256(tmp.read_bytes()).hexdigest()
        if digest != package.sha256:
            tmp.unlink()
            raise SiteError(f"the download from {package.url} has SHA-256 {digest}, not the pinned "
                            f"{package.sha256} of {package.name} {package.version}; nothing was kept.")
        tmp.replace(target)
    digest = hashlib.sha256(target.read_bytes()).hexdigest()
    if digest != package.sha256:
        raise SiteError(f"{target} has SHA-256 {digest}, not the pinned {package.sha256} of {package.name} "
                        f"{package.version}: the file is damaged or not that release. Delete it and build again.")
    return target


def vendored_files(package: Vendored, cache: Path = CACHE) -> dict[str, bytes]:
    """The package's chosen files, by their path below ``root`` (unpacked once per process)."""
    return _unpack(package, fetch_vendored(package, cache).resolve())


@functools.cache
def _unpack(package: Vendored, tarball: Path) -> dict[str, bytes]:  # tarball: verified against the pin
    files = {}
    with tarfile.open(tarball) as tar:
        for member in tar.getmembers():
            inner = member.name.removeprefix("package/")
            if member.isfile() and any(Path(inner).match(pattern) for pattern in package.files):
                files[inner.removeprefix(package.root)] = tar.extractfile(member).read()
    return files


def install_assets(site: Path, cache: Path = CACHE) -> None:
    """Copy the pinned scripts (and their fonts and styles) into ``site/assets/``."""
    for package in VENDORED:
        for relative, content in vendored_files(package, cache).items():
            target = site / "assets" / package.dest / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(content)

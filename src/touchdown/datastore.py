"""Where touchdown keeps downloaded data, what it knows how to download, and the download itself.

Data directory, first match wins: the explicit argument (``--data-dir``) > env ``TOUCHDOWN_DATA`` >
``$XDG_CACHE_HOME/touchdown`` > ``~/.cache/touchdown``. Layout: ``<data_dir>/terrain/<FILE>``, so
``TOUCHDOWN_DATA=/work/shared/data`` finds the shared LOLA grid.

Downloads come from the PDS Geosciences Node (REFERENCE §2.1), or from a mirror given by ``base_url`` or
env ``TOUCHDOWN_DATA_URL`` that serves the same file names (lower case, as the PDS does; an upper-case
name is tried after a 404). This module is the only place in touchdown that touches the network.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile
import urllib.error
import urllib.request
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from touchdown.errors import InputError

__all__ = [
    "DEFAULT_BASE_URL",
    "PRODUCTS",
    "FetchEvent",
    "Product",
    "data_dir",
    "fetch",
    "file_sha256",
    "find_dem",
    "get_product",
    "info",
]

#: LOLA gridded data records, cylindrical (REFERENCE §2.1).
DEFAULT_BASE_URL = (
    "https://pds-geosciences.wustl.edu/lro/lro-l-lola-3-rdr-v1/lrolol_1xxx/data/lola_gdr/cylindrical/img"
)
ENV_DATA = "TOUCHDOWN_DATA"
ENV_URL = "TOUCHDOWN_DATA_URL"
CHUNK_BYTES = 1 << 20
TIMEOUT_S = 60.0


@dataclass(frozen=True)
class Product:
    """A downloadable DEM: its image and label, as stored under ``<data_dir>/<subdir>/``."""

    name: str
    title: str
    image: str
    label: str
    #: sha256 per file name; None where nobody has pinned one yet.
    sha256: dict[str, str | None]
    #: Expected image size [bytes] (720 × 1440 × 2 for LDEM_4, and so on).
    image_bytes: int
    subdir: str = "terrain"

    @property
    def files(self) -> tuple[str, str]:
        """Label first (small), then image."""
        return (self.label, self.image)


def _lola(
    name: str, title: str, lines: int, samples: int, sha: dict[str, str | None] | None = None
) -> Product:
    stem = name.upper()
    image, label = f"{stem}.IMG", f"{stem}.LBL"
    return Product(name, title, image, label, sha or {image: None, label: None}, lines * samples * 2)


PRODUCTS: dict[str, Product] = {
    p.name: p
    for p in (
        # sha256 from shared/data/terrain/SOURCE.md (LDEM_4 V3.0, REFERENCE §2.1).
        _lola(
            "ldem_4",
            "LOLA global, 4 px/deg (7.6 km/px)",
            720,
            1440,
            {
                "LDEM_4.IMG": "972d66d7f330abca62abc21aae270661516c00dd1a881ec102b94df9563656b5",
                "LDEM_4.LBL": "b5a197b4d417e3b5e0e84f8fe15f9a1d2203b8eb5d7213236c0ffbc86e940cc6",
            },
        ),
        _lola("ldem_16", "LOLA global, 16 px/deg (1.9 km/px)", 2880, 5760),
        _lola("ldem_64", "LOLA global, 64 px/deg (474 m/px)", 11520, 23040),
        _lola(
            "ldem_512_45n_90n_000_090", "LOLA tile 45–90°N 0–90°E, 512 px/deg (59 m/px): Atlas", 23040, 46080
        ),
        _lola(
            "ldem_512_45n_90n_270_360",
            "LOLA tile 45–90°N 270–360°E, 512 px/deg (59 m/px): Mare Frigoris",
            23040,
            46080,
        ),
    )
}


def get_product(name: str) -> Product:
    """The registered product called ``name`` (case-insensitive); unknown → InputError listing them."""
    product = PRODUCTS.get(name.strip().lower())
    if product is None:
        raise InputError(f"unknown data product {name!r} (known: {', '.join(PRODUCTS)})")
    return product


def data_dir(override: str | os.PathLike[str] | None = None) -> Path:
    """The data directory: ``override`` > $TOUCHDOWN_DATA > $XDG_CACHE_HOME/touchdown > ~/.cache/touchdown."""
    if override is not None and str(override) != "":
        path = Path(override)
    elif os.environ.get(ENV_DATA):
        path = Path(os.environ[ENV_DATA])
    elif os.environ.get("XDG_CACHE_HOME"):
        path = Path(os.environ["XDG_CACHE_HOME"]) / "touchdown"
    else:
        path = Path.home() / ".cache" / "touchdown"
    path = path.expanduser()
    if path.exists() and not path.is_dir():
        raise InputError("data directory is a file, not a directory", where=str(path))
    return path


def _case_insensitive(directory: Path, name: str) -> Path | None:
    exact = directory / name
    if exact.is_file():
        return exact
    if not directory.is_dir():
        return None
    lower = name.lower()
    for entry in sorted(os.listdir(directory)):
        if entry.lower() == lower and (directory / entry).is_file():
            return directory / entry
    return None


def find_dem(
    name_or_path: str | os.PathLike[str], data_dir: str | os.PathLike[str] | None = None
) -> Path | None:
    """The label of a DEM given a product name (``ldem_4``, any case), a file name in the data directory
    (``LDEM_4.LBL``) or a path (a ``.LBL``, or an ``.IMG`` whose sibling label is then returned).

    None when nothing is there. An existing image without a label is returned as is, so that
    :func:`touchdown.moon.terrain.dem.read_dem` can say what is wrong with it.
    """
    text = str(name_or_path)
    root = _data_dir(data_dir)
    product = PRODUCTS.get(text.strip().lower())
    if product is not None:
        return _case_insensitive(root / product.subdir, product.label)
    path = Path(text).expanduser()
    if not path.is_file():
        found = _case_insensitive(root / "terrain", path.name) if path.parent == Path() else None
        if found is None:
            return None
        path = found
    if path.suffix.lower() == ".lbl":
        return path
    label = _case_insensitive(path.parent, path.stem + ".lbl")
    return label if label is not None else path


def _data_dir(override: str | os.PathLike[str] | None) -> Path:
    return data_dir(override)


def file_sha256(path: str | os.PathLike[str]) -> str:
    """Hex sha256 of a file, read in 1 MiB chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(CHUNK_BYTES):
            digest.update(chunk)
    return digest.hexdigest()


@dataclass(frozen=True)
class FetchEvent:
    """What :func:`fetch` is doing, for a progress display.

    ``kind``: "skip" (present and verified, or present and not pinned), "start" (``total`` bytes, None if
    the server does not say), "advance" (``done`` bytes so far), "done" (``sha256`` computed; ``pinned``
    says whether it was checked against a pinned hash).
    """

    kind: str
    product: str
    file: str
    path: Path
    done: int = 0
    total: int | None = None
    sha256: str | None = None
    pinned: bool = False


def fetch(
    products: Iterable[str] | str = ("ldem_4",),
    data_dir: str | os.PathLike[str] | None = None,
    base_url: str | None = None,
    force: bool = False,
    progress: Callable[[FetchEvent], None] | None = None,
) -> list[Path]:
    """Download products into ``<data_dir>/terrain`` and return the paths of their files.

    Each file goes to a temporary file in the target directory, its sha256 is checked against the pinned
    value (if any), then it is moved into place atomically; nothing partial is left behind. A file already
    present with the pinned hash (or, unpinned, present at all) is skipped unless ``force``. Failures
    (HTTP error, no connection, hash mismatch) raise a one-line InputError.
    """
    names = [products] if isinstance(products, str) else list(products)
    chosen = [get_product(n) for n in names]
    root = _data_dir(data_dir)
    base = (base_url or os.environ.get(ENV_URL) or DEFAULT_BASE_URL).rstrip("/")
    notify = progress or (lambda event: None)
    out: list[Path] = []
    for product in chosen:
        target_dir = root / product.subdir
        try:
            target_dir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise InputError(
                f"cannot create data directory ({exc.strerror})", where=str(target_dir)
            ) from None
        for name in product.files:
            target = target_dir / name
            pinned = product.sha256.get(name)
            if target.is_file() and not force:
                if pinned is None:
                    notify(FetchEvent("skip", product.name, name, target, pinned=False))
                    out.append(target)
                    continue
                if file_sha256(target) == pinned:
                    notify(FetchEvent("skip", product.name, name, target, sha256=pinned, pinned=True))
                    out.append(target)
                    continue
            sha = _download(base, name, target, pinned, product.name, notify)
            notify(FetchEvent("done", product.name, name, target, sha256=sha, pinned=pinned is not None))
            out.append(target)
    return out


def _one_line(text: object) -> str:
    return " ".join(str(text).split())


def _download(
    base: str, name: str, target: Path, pinned: str | None, product: str, notify: Callable[[FetchEvent], None]
) -> str:
    """Stream one file into ``target`` via a temporary file; returns its sha256."""
    urls = [f"{base}/{name.lower()}", f"{base}/{name}"]
    response: Any = None
    url = urls[0]
    for url in urls:
        request = urllib.request.Request(url, headers={"User-Agent": "touchdown (LOLA data fetch)"})
        try:
            response = urllib.request.urlopen(request, timeout=TIMEOUT_S)
            break
        except urllib.error.HTTPError as exc:
            if exc.code == 404 and url != urls[-1]:
                continue
            raise InputError(f"download failed: HTTP {exc.code} {_one_line(exc.reason)}", where=url) from None
        except (urllib.error.URLError, OSError) as exc:
            reason = exc.reason if isinstance(exc, urllib.error.URLError) else exc
            raise InputError(f"download failed: cannot connect ({_one_line(reason)})", where=url) from None
    fd, tmp_name = tempfile.mkstemp(dir=target.parent, prefix=f".{name}.", suffix=".part")
    tmp = Path(tmp_name)
    try:
        with response, os.fdopen(fd, "wb") as out:
            length = response.headers.get("Content-Length")
            total = int(length) if length and length.isdigit() else None
            notify(FetchEvent("start", product, name, target, total=total))
            digest = hashlib.sha256()
            done = 0
            try:
                while chunk := response.read(CHUNK_BYTES):
                    out.write(chunk)
                    digest.update(chunk)
                    done += len(chunk)
                    notify(FetchEvent("advance", product, name, target, done=done, total=total))
            except OSError as exc:
                raise InputError(
                    f"download interrupted after {done:,} bytes ({_one_line(exc)})", where=url
                ) from None
            if total is not None and done != total:
                raise InputError(f"download incomplete: {done:,} of {total:,} bytes", where=url)
        sha = digest.hexdigest()
        if pinned is not None and sha != pinned:
            raise InputError(
                f"sha256 mismatch for {name}: got {sha}, expected {pinned}; nothing was saved", where=url
            )
        os.replace(tmp, target)
        return sha
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()


def info(data_dir: str | os.PathLike[str] | None = None) -> list[dict[str, Any]]:
    """One dict per registered product: presence, size, sha256 verification, paths (JSON-ready).

    ``verified`` is True/False against the pinned sha256, or None when no hash is pinned or a file is missing.
    """
    root = _data_dir(data_dir)
    rows: list[dict[str, Any]] = []
    for product in PRODUCTS.values():
        files = []
        for name in product.files:
            path = _case_insensitive(root / product.subdir, name)
            pinned = product.sha256.get(name)
            entry: dict[str, Any] = {
                "name": name,
                "path": str(path if path is not None else root / product.subdir / name),
                "present": path is not None,
                "bytes": path.stat().st_size if path is not None else 0,
                "sha256_pinned": pinned,
                "verified": None,
            }
            if path is not None and pinned is not None:
                entry["verified"] = file_sha256(path) == pinned
            files.append(entry)
        present = all(f["present"] for f in files)
        checks = [f["verified"] for f in files]
        verified = None if not present or any(v is None for v in checks) else all(checks)
        rows.append(
            {
                "product": product.name,
                "title": product.title,
                "present": present,
                "bytes": sum(f["bytes"] for f in files),
                "verified": verified,
                "pinned": all(product.sha256.get(n) for n in product.files),
                "path": files[0]["path"],
                "files": files,
            }
        )
    return rows

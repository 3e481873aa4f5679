"""The pinned Datastar runtime: fetched once, checked against its sha256, cached, copied."""

from __future__ import annotations

import hashlib
import io
import os
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

from dsgen._errors import AssetError

DATASTAR_VERSION = "1.0.4"
DATASTAR_SHA256 = "727844adfc825ee651fb93c544a2a739986f9a21820a94524b35f0cac470cf91"
DATASTAR_PATH = "app/static/datastar.js"
DATASTAR_CDN = (f"https://cdn.jsdelivr.net/gh/starfederation/datastar@{DATASTAR_VERSION}"
                "/bundles/datastar.js")
# The same file, shipped unmodified inside a wheel on PyPI (the fallback when the CDN is
# out of reach); the wheel declares Python >= 3.14, so it is downloaded, never installed.
DATASTAR_WHEEL = ("stario-create", "5.2.0", "stario_create/vendor/datastar.js")
ENV_OVERRIDE = "DSGEN_DATASTAR_JS"


def cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "dsgen"


def _verified(data: bytes, origin: str) -> bytes:
    digest = hashlib.sha256(data).hexdigest()
    if digest != DATASTAR_SHA256:
        raise AssetError(f"Datastar bundle from {origin} has sha256 {digest}, expected "
                         f"{DATASTAR_SHA256}; refusing to use it")
    return data


def _from_cdn() -> bytes:
    import urllib.request  # only on a cache miss: it costs ~40 ms to import

    with urllib.request.urlopen(DATASTAR_CDN, timeout=5) as response:  # noqa: S310
        return response.read()


def _from_wheel() -> bytes:
    name, version, member = DATASTAR_WHEEL
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run(
            [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps",
             "--only-binary=:all:", "--python-version", "3.14", "--dest", tmp,
             f"{name}=={version}"],
            check=True, capture_output=True, timeout=120,
        )
        wheel = next(Path(tmp).glob("*.whl"))
        with zipfile.ZipFile(io.BytesIO(wheel.read_bytes())) as archive:
            return archive.read(member)


def datastar_bundle() -> bytes:
    """The Datastar v1.0.4 browser bundle, verified; network only on the first call."""
    override = os.environ.get(ENV_OVERRIDE)
    if override:
        return _verified(Path(override).read_bytes(), override)
    cached = cache_dir() / f"datastar-{DATASTAR_VERSION}.js"
    if cached.is_file():
        try:
            return _verified(cached.read_bytes(), str(cached))
        except AssetError:
            cached.unlink()
    errors = []
    for origin, fetch in (("the Datastar CDN", _from_cdn),
                          (f"PyPI ({DATASTAR_WHEEL[0]} {DATASTAR_WHEEL[1]})", _from_wheel)):
        try:
            data = _verified(fetch(), origin)
        except AssetError:
            raise
        except Exception as exc:  # network, pip, zip: try the next origin
            errors.append(f"{origin}: {exc.__class__.__name__}: {exc}")
            continue
        cached.parent.mkdir(parents=True, exist_ok=True)
        tmp = cached.with_suffix(".tmp")
        tmp.write_bytes(data)
        tmp.replace(cached)
        return data
    raise AssetError("could not fetch the Datastar bundle:\n  " + "\n  ".join(errors) +
                     f"\nDownload datastar.js v{DATASTAR_VERSION} yourself and set "
                     f"{ENV_OVERRIDE}=/path/to/datastar.js")

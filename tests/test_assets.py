"""The checksummed asset store, for real: a loopback HTTP server stands in for the official download."""

from __future__ import annotations

import hashlib
import http.server
import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from vision import assets
from vision.assets import FACE_LANDMARKER, Asset, AssetError, ensure, sha256_of, verify

PAYLOAD = b"a small stand-in for a model file\n" * 100


class _Server(http.server.ThreadingHTTPServer):
    """Serves ``files`` (URL path -> bytes) on 127.0.0.1 and counts the requests."""

    files: dict[str, bytes]
    requests: int


class _Handler(http.server.BaseHTTPRequestHandler):
    server: _Server

    def do_GET(self) -> None:
        self.server.requests += 1
        body = self.server.files.get(self.path)
        if body is None:
            self.send_error(404)
            return
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:  # keep the test output quiet
        del format, args


@pytest.fixture
def server() -> Iterator[_Server]:
    httpd = _Server(("127.0.0.1", 0), _Handler)
    httpd.files = {"/good.bin": PAYLOAD, "/bad.bin": PAYLOAD[:-1] + b"?"}
    httpd.requests = 0
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield httpd
    httpd.shutdown()
    httpd.server_close()
    thread.join(timeout=5)


def _url(server: _Server, path: str) -> str:
    return f"http://127.0.0.1:{server.server_address[1]}{path}"


@pytest.fixture
def asset(monkeypatch: pytest.MonkeyPatch) -> Asset:
    """A small fake asset whose sha256 is that of ``PAYLOAD``; its env var is unset."""
    fake = Asset(
        filename="fake_model.bin",
        sha256=hashlib.sha256(PAYLOAD).hexdigest(),
        size=len(PAYLOAD),
        env_var="FACEZONES_TEST_FAKE_MODEL",
        wheel="no-such-package==0.0.0",
        member="fake_model.bin",
    )
    monkeypatch.delenv(fake.env_var, raising=False)
    return fake


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]  # nothing listens here once the socket is closed


def test_download_is_verified_and_cached(server: _Server, asset: Asset, tmp_path: Path) -> None:
    path = ensure(asset, cache=tmp_path, url=_url(server, "/good.bin"), use_wheel=False)
    assert path == tmp_path / asset.filename
    assert path.read_bytes() == PAYLOAD
    assert server.requests == 1
    again = ensure(asset, cache=tmp_path, url=_url(server, "/good.bin"), use_wheel=False)
    assert again == path and server.requests == 1  # the cache answers, no second download
    assert [p.name for p in tmp_path.iterdir()] == [asset.filename]  # no partial files left behind


def test_wrong_bytes_from_the_server_are_rejected(server: _Server, asset: Asset, tmp_path: Path) -> None:
    with pytest.raises(AssetError, match=r"sha256") as caught:
        ensure(asset, cache=tmp_path, url=_url(server, "/bad.bin"), use_wheel=False)
    assert asset.env_var in str(caught.value)  # says what to do
    assert not (tmp_path / asset.filename).exists()  # nothing unverified is placed


def test_corrupt_cache_file_is_replaced(server: _Server, asset: Asset, tmp_path: Path) -> None:
    cached = tmp_path / asset.filename
    cached.write_bytes(PAYLOAD[: len(PAYLOAD) // 2])  # a truncated earlier download
    path = ensure(asset, cache=tmp_path, url=_url(server, "/good.bin"), use_wheel=False)
    assert path == cached and sha256_of(cached) == asset.sha256
    assert server.requests == 1


def test_explicit_path_from_the_environment(
    asset: Asset, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    own_copy = tmp_path / "somewhere" / "my_model.bin"
    own_copy.parent.mkdir()
    own_copy.write_bytes(PAYLOAD)
    monkeypatch.setenv(asset.env_var, str(own_copy))
    unreachable = f"http://127.0.0.1:{_closed_port()}/x"
    assert ensure(asset, cache=tmp_path / "cache", url=unreachable, use_wheel=False) == own_copy
    assert not (tmp_path / "cache").exists()  # nothing fetched, nothing cached


def test_explicit_path_must_exist_and_match(
    asset: Asset, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(asset.env_var, str(tmp_path / "missing.bin"))
    with pytest.raises(AssetError, match="no file at"):
        ensure(asset, cache=tmp_path)
    wrong = tmp_path / "wrong.bin"
    wrong.write_bytes(b"not the model")
    with pytest.raises(AssetError, match="not the expected"):
        ensure(asset, wrong, cache=tmp_path)  # the argument wins over the environment, and is checked too


def test_clear_error_when_every_source_fails(asset: Asset, tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{_closed_port()}/fake_model.bin"
    with pytest.raises(AssetError) as caught:
        ensure(asset, cache=tmp_path, url=url, use_wheel=False, timeout_s=2.0)
    message = str(caught.value)
    assert message.startswith(f"Could not obtain {asset.filename}")
    assert "download:" in message and asset.env_var in message and "make setup" in message


def test_shipped_model_in_the_cache_verifies() -> None:
    """The real model resolves offline from the cache and matches its pinned checksum and size."""
    path = ensure(FACE_LANDMARKER, use_wheel=False, url="http://127.0.0.1:9/unused")
    verify(FACE_LANDMARKER, path)
    assert path.stat().st_size == FACE_LANDMARKER.size


def test_cache_dir_follows_the_environment(
    server: _Server, asset: Asset, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(assets.CACHE_ENV, str(tmp_path / "elsewhere"))
    assert assets.cache_dir() == tmp_path / "elsewhere"
    path = ensure(asset, url=_url(server, "/good.bin"), use_wheel=False)
    assert path == tmp_path / "elsewhere" / asset.filename

"""The backend registry: the service finds `local` and `cloudflare` without importing them,
through the entry point or, in a bare source checkout, by importing `imgtui.backends`."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from importlib.metadata import entry_points
from pathlib import Path

import pytest

from imgtui.backends.cloudflare import CloudflareBackend
from imgtui.backends.local import LocalBackend
from imgtui.service import Images, registry
from imgtui.service.backend import Backend

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def scratch_registry(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """An empty registry for one test (the real one is restored after)."""
    monkeypatch.setattr(registry, "_factories", {})
    monkeypatch.setattr(registry, "_plugins_loaded", False)
    yield


def test_the_built_in_schemes_are_registered() -> None:
    assert {"local", "cloudflare"} <= set(registry.schemes())


def test_the_entry_point_names_the_backends_package() -> None:
    found = [entry.value for entry in entry_points(group=registry.ENTRY_POINT_GROUP)]
    assert "imgtui.backends:register_backends" in found


def test_factories_build_the_backends(tmp_path: Path) -> None:
    local = registry.create("local", root=tmp_path, delivery_base=None)
    assert isinstance(local, LocalBackend) and local.root == tmp_path
    remote = registry.create("cloudflare", account_id="acct", api_token="t", base_url="http://127.0.0.1:9")
    assert isinstance(remote, CloudflareBackend)


def test_an_unknown_scheme_names_the_known_ones() -> None:
    with pytest.raises(LookupError, match=r"'s3'.*cloudflare, local"):
        registry.factory("s3")


@pytest.mark.parametrize("scheme", ["", "a b", "x:y", "../z"])
def test_a_scheme_must_be_a_plain_name(scheme: str) -> None:
    with pytest.raises(ValueError):
        registry.register(scheme, lambda **_: None)  # type: ignore[arg-type,return-value]


class _Recorder:
    """Enough of a backend to prove which factory ran."""

    label = "recorder"

    def __init__(self, **options: object) -> None:
        self.options = options

    async def aclose(self) -> None:
        pass


def test_a_registration_replaces_the_factory(scratch_registry: None, tmp_path: Path) -> None:
    def factory(**options: object) -> Backend:
        return _Recorder(**options)  # type: ignore[return-value]

    registry.register("local", factory)
    images = Images.local(tmp_path, clock=lambda: 1)
    backend = images.backend
    assert isinstance(backend, _Recorder) and backend.options["root"] == tmp_path
    assert backend.options["clock"]() == 1


def test_without_entry_points_the_package_is_imported_by_name(
    scratch_registry: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(registry, "entry_points", lambda group: [])
    monkeypatch.delitem(sys.modules, "imgtui.backends")
    assert {"local", "cloudflare"} <= set(registry.schemes())
    assert "imgtui.backends" in sys.modules


def test_importing_the_service_imports_no_backend() -> None:
    code = (
        "import sys; from imgtui.service import Images; "
        "print(sorted(m for m in sys.modules if m.startswith(('imgtui.backends', 'imgtui.common', 'textual'))))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True)
    assert out.stdout.strip() == "[]"

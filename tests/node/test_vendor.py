"""The browser libraries the pages load are the pinned files their README names (version,
sha256, licence beside them), the pages import exactly those, and the package ships them."""

import hashlib
import re
import tomllib
from pathlib import Path

import aigora.node

ROOT = Path(__file__).parents[2]
STATIC = Path(aigora.node.__file__).parent / "static"
VENDOR = STATIC / "vendor"


def test_every_vendored_file_has_its_pinned_sha256_and_licence():
    readme = (VENDOR / "README.md").read_text(encoding="utf-8")
    rows = re.findall(r"^\| `([^`]+)` \|.*\| `([0-9a-f]{64})` \| [^|]*`([^`]+)` \|$", readme, re.M)
    assert rows, "the vendor README lists no file"
    listed = set()
    for name, sha256, licence in rows:
        assert hashlib.sha256((VENDOR / name).read_bytes()).hexdigest() == sha256, name
        assert (VENDOR / licence).read_text(encoding="utf-8").startswith("MIT License")
        listed |= {name, licence}
    assert {p.name for p in VENDOR.iterdir()} == listed | {"README.md"}


def test_sign_js_imports_the_pinned_ethers_build():
    source = (STATIC / "sign.js").read_text(encoding="utf-8")
    imports = re.findall(r'from "([^"]+)"', source)
    assert imports == ["./vendor/ethers-6.17.0.min.js"]
    assert 'const version="6.17.0"' in (VENDOR / "ethers-6.17.0.min.js").read_text()[:400]


def test_the_package_data_ships_every_static_file_and_template():
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    globs = pyproject["tool"]["setuptools"]["package-data"]["aigora.node"]
    package = STATIC.parent
    shipped = {p for pattern in globs for p in package.glob(pattern) if p.is_file()}
    wanted = {p for p in (package / "static").rglob("*") if p.is_file()}
    wanted |= set((package / "templates").glob("*.html"))
    assert wanted - shipped == set()

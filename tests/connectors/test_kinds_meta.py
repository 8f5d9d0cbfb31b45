"""Meta-test: adding a REST CRM is one connector package, one emulator package, one harness.

No list of kind names may grow anywhere else in ``bridge/``: the kinds are found on disk
(:mod:`bridge.kinds`), capabilities are declared on the connector, and this test reads
every string literal in ``bridge/`` (with :mod:`tokenize`, so comments and prose do not
count) and fails on a kind name outside that kind's own packages, unless the file is in
:data:`KIND_SPECIFIC` with the reason it is about that one system.
"""

from __future__ import annotations

import ast
import tokenize
from pathlib import Path

import pytest

import bridge
from bridge import kinds
from bridge.config import load_config
from bridge.connectors.base import Capability
from bridge.connectors.registry import capabilities_of, connector_kinds
from bridge.errors import ConfigError

BRIDGE = Path(bridge.__file__).resolve().parent
TESTS = Path(__file__).resolve().parents[1]

#: Files outside a kind's packages that may name it, and why. Each is about one system (or
#: the demo, which shows each one); none is a list a new connector would have to join.
KIND_SPECIFIC: dict[str, str] = {
    "demo.py": "the demo's own story, told with named systems",
    "soap/contract/record.py": "the legacy contract's own system name (its ids are legacy's)",
}


def _own(kind: str, relative: Path) -> bool:
    parts = relative.parts
    return len(parts) >= 2 and parts[0] in ("connectors", "emulators") and parts[1] == kind


def _kind_literals(path: Path, names: set[str]) -> list[tuple[int, str]]:
    found = []
    with path.open("rb") as handle:
        for token in tokenize.tokenize(handle.readline):
            if token.type != tokenize.STRING:
                continue
            try:
                value = ast.literal_eval(token.string)
            except (ValueError, SyntaxError):
                continue  # an f-string part: not a plain literal
            if isinstance(value, str) and value in names:
                found.append((token.start[0], value))
    return found


def test_kind_names_appear_only_in_their_own_packages() -> None:
    names = set(kinds.builtin_kinds())
    offenders = []
    for path in sorted(BRIDGE.rglob("*.py")):
        relative = path.relative_to(BRIDGE)
        if relative.as_posix() in KIND_SPECIFIC:
            continue
        for line, kind in _kind_literals(path, names):
            if not _own(kind, relative):
                offenders.append(f"bridge/{relative.as_posix()}:{line}: {kind!r}")
    assert not offenders, (
        "kind names written outside their own packages (declare a Capability on the "
        "connector instead of switching on a kind):\n" + "\n".join(offenders)
    )


def test_the_allowed_files_still_exist_and_still_need_it() -> None:
    names = set(kinds.builtin_kinds())
    for relative in KIND_SPECIFIC:
        path = BRIDGE / relative
        assert path.is_file(), f"{relative} is gone: drop it from KIND_SPECIFIC"
        assert _kind_literals(path, names), f"{relative} names no kind: drop it"


def test_the_scanner_sees_a_kind_literal_and_ignores_prose(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text('"""About bigin."""\n# "bigin"\nKIND = "bigin"\nOTHER = f"{1}bigin"\n')
    assert _kind_literals(sample, {"bigin"}) == [(3, "bigin")]


@pytest.mark.parametrize("kind", kinds.builtin_kinds())
def test_every_kind_has_its_three_parts(kind: str) -> None:
    assert (BRIDGE / "connectors" / kind / "connector.py").is_file()
    assert (BRIDGE / "emulators" / kind / "__init__.py").is_file(), f"no emulator for {kind}"
    assert (TESTS / "connectors" / "harnesses" / f"{kind}.py").is_file(), f"no harness: {kind}"


def test_a_new_connector_package_is_a_kind_without_editing_a_list(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    connectors = tmp_path / "connectors"
    for kind in [*kinds.builtin_kinds(), "acme"]:
        (connectors / kind).mkdir(parents=True)
        (connectors / kind / "__init__.py").write_text("")
        (connectors / kind / "connector.py").write_text("")
    (connectors / "kit").mkdir()
    (connectors / "kit" / "__init__.py").write_text("")  # a package without a connector
    monkeypatch.setattr(kinds, "_CONNECTORS", connectors)

    assert "acme" in connector_kinds() and "kit" not in connector_kinds()
    config = tmp_path / "bridge.toml"
    config.write_text('[connections.crm]\nkind = "acme"\nbase_url = "http://127.0.0.1:1"\n')
    assert load_config(config).connection("crm").kind == "acme"
    config.write_text('[connections.crm]\nkind = "nobody"\n')
    with pytest.raises(ConfigError, match="nobody"):
        load_config(config)


def test_capabilities_are_read_from_the_connector_class() -> None:
    # What the control plane decides install steps and partitioned runs from.
    assert Capability.OFFSET_SLICES in capabilities_of("legacy")
    assert Capability.WATCH_CHANNELS in capabilities_of("bigin")
    assert Capability.CUSTOM_PROPERTIES in capabilities_of("hubspot")
    for kind in connector_kinds():
        assert Capability.EXTERNAL_ID_LOOKUP in capabilities_of(kind)


def test_no_module_reads_a_capability_by_getattr() -> None:
    methods = {"find_by_external_id", "watch", "pacer", "budget", "watch_channels"}
    offenders = []
    for path in sorted(BRIDGE.rglob("*.py")):
        tree = ast.parse(path.read_text(), str(path))
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Name)
                and node.func.id in ("getattr", "hasattr")
                and len(node.args) >= 2
                and isinstance(node.args[1], ast.Constant)
                and node.args[1].value in methods
            ):
                offenders.append(f"{path.relative_to(BRIDGE)}:{node.lineno}")
    assert not offenders, f"capabilities guessed with getattr: {offenders}"

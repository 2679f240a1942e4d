"""Dependencies point inward: the imports of every module, read from its syntax tree, obey the
layering of the design.

- `cadence` (the domain) imports no connector, app, manifest, emulator, Flask or provider SDK.
- `connectors` never imports the app (`addin`), the manifests, the emulators or Flask.
- `templates` (conversation templates as data) imports only the domain of all our packages.
- `emulators` is imported only by the demo (`addin/demo/`), the `emulate` command, bench/ and tests.
- The demo (`addin.demo`) is imported only by itself, the `demo` command, bench/ and tests.
- `manifest` imports neither the demo nor the emulators.

Every import counts, also one inside a function or under ``TYPE_CHECKING``, and a module named
as a literal to ``importlib.import_module`` or ``__import__``.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PRODUCT = ("cadence", "connectors", "addin", "templates", "manifest")
SDKS = (
    "google",
    "googleapiclient",
    "google_auth_httplib2",
    "httplib2",
    "msgraph",
    "msgraph_core",
    "kiota_abstractions",
    "kiota_http",
    "kiota_authentication_azure",
    "kiota_serialization_json",
    "azure",
    "msal",
    "httpx",
    "requests",
    "sqlalchemy",
)
WEB = ("flask", "werkzeug", "jinja2")


def imports(path: Path) -> Iterator[tuple[int, str]]:
    """(line, module) for every import in `path`; ``from a import b`` gives ``a.b`` too."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and _dynamic_import(node.func):
            first = node.args[0] if node.args else None
            if isinstance(first, ast.Constant) and isinstance(first.value, str):
                yield node.lineno, first.value
        elif isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: resolve against the module's package
                parts = path.relative_to(ROOT).with_suffix("").parts[: -node.level]
                base = ".".join([*parts, *([node.module] if node.module else [])])
            else:
                base = node.module or ""
            yield node.lineno, base
            for alias in node.names:
                yield node.lineno, f"{base}.{alias.name}"


def _dynamic_import(func: ast.expr) -> bool:
    """``importlib.import_module``, ``import_module`` or ``__import__``."""
    name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
    return name in ("import_module", "__import__")


def _matches(module: str, prefixes: tuple[str, ...]) -> bool:
    return any(module == p or module.startswith(p + ".") for p in prefixes)


def modules(*packages: str) -> list[Path]:
    """Every Python file of `packages` (top-level folders of the repository)."""
    return sorted(p for package in packages for p in (ROOT / package).rglob("*.py"))


def violations(files: list[Path], forbidden: tuple[str, ...]) -> list[str]:
    """``file:line module`` for each import of a forbidden module in `files`."""
    return [
        f"{path.relative_to(ROOT)}:{line} imports {module}"
        for path in files
        for line, module in imports(path)
        if _matches(module, forbidden)
    ]


def _rel(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


def test_the_domain_imports_no_io_layer_or_sdk() -> None:
    """cadence stays pure: no connector, app, manifest, emulator, web framework or SDK."""
    forbidden = ("connectors", "addin", "manifest", "emulators", *WEB, *SDKS)
    assert violations(modules("cadence"), forbidden) == []


def test_connectors_never_import_the_app() -> None:
    """The ports and adapters know nothing of the Flask app, the manifests or the emulators."""
    assert violations(modules("connectors"), ("addin", "manifest", "emulators", *WEB)) == []


def test_the_templates_import_only_the_domain() -> None:
    """Templates are data the domain reads: no app, connector, manifest, emulator or Flask."""
    forbidden = ("addin", "connectors", "manifest", "emulators", *WEB)
    assert violations(modules("templates"), forbidden) == []


def test_only_the_demo_the_emulate_command_bench_and_tests_import_the_emulators() -> None:
    """A production install, which has no goedgesprek-emulators, never needs the emulators."""
    allowed = ("addin/demo/", "addin/cli/emulate.py")
    files = [p for p in modules(*PRODUCT, "scripts") if not _rel(p).startswith(allowed)]
    assert violations(files, ("emulators",)) == []


def test_only_the_demo_command_bench_and_tests_import_the_demo() -> None:
    """The product (`create_app` and all it registers) is built without the demo package."""
    allowed = ("addin/demo/", "addin/cli/demo.py")
    files = [p for p in modules(*PRODUCT, "scripts") if not _rel(p).startswith(allowed)]
    assert violations(files, ("addin.demo",)) == []


def test_the_manifests_do_not_import_the_demo() -> None:
    """The manifests point at the product's routes and are built without the demo."""
    assert violations(modules("manifest"), ("addin.demo", "emulators")) == []


@pytest.mark.parametrize(
    ("source", "found"),
    [
        ("import emulators.graph\n", "emulators.graph"),
        ("from emulators import serve\n", "emulators.serve"),
        ("def f():\n    from addin.demo.seed import seed\n", "addin.demo.seed"),
        ("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import flask\n", "flask"),
        ("import importlib\nimportlib.import_module('emulators.graph')\n", "emulators.graph"),
        ("def f():\n    return __import__('addin.demo')\n", "addin.demo"),
    ],
)
def test_every_kind_of_import_is_seen(tmp_path: Path, source: str, found: str) -> None:
    """Plain, from, nested, type-only and dynamic imports are all read."""
    path = tmp_path / "m.py"
    path.write_text(source)
    assert found in {module for _, module in imports(path)}

"""Add every translatable text the sources use to the nl and en catalogs.

    python scripts/update_catalogs.py [DOMAIN ...]     # all domains when none is named
    python scripts/update_catalogs.py --check          # exit 1 if a catalog misses a text

New entries get an empty msgstr: fill in the Dutch in `nl/LC_MESSAGES/<domain>.po`; the English
catalog may stay empty (the msgid is the English). Entries no longer in the sources are listed,
not removed (`--prune` removes them). Existing entries, translations and headers are kept.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.pofile import write_po

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
# The repository root goes on the path first, so the script runs from a checkout.
from addin.i18n import (
    DOMAINS,
    SUPPORTED,
    UnknownCatalog,
    catalog_path,
    extract,
    read_catalog,
)

_Key = str | tuple[str, str]


def _new_catalog(locale: str, domain: str) -> Catalog:
    catalog = Catalog(
        locale=locale,
        domain=domain,
        project="Goed Gesprek",
        version="1",
        last_translator="Goed Gesprek",
        language_team=f"Goed Gesprek ({locale})",
        fuzzy=False,
    )
    catalog.revision_date = catalog.creation_date
    catalog.header_comment = f"# Goed Gesprek: the {domain} texts ({locale})."
    return catalog


def _load(locale: str, domain: str) -> Catalog:
    try:
        return read_catalog(locale, domain)
    except UnknownCatalog:
        return _new_catalog(locale, domain)


def _ids(catalog: Catalog) -> dict[str, _Key]:
    """The catalog's entries keyed by their singular msgid."""
    found: dict[str, _Key] = {}
    for message in catalog:
        if not message.id:
            continue
        if isinstance(message.id, tuple | list):
            found[message.id[0]] = (message.id[0], message.id[1])
        else:
            found[message.id] = message.id
    return found


def _add(catalog: Catalog, key: _Key) -> None:
    flags = ["python-format"] if "%(" in (key if isinstance(key, str) else "".join(key)) else []
    string: str | tuple[str, str] = "" if isinstance(key, str) else ("", "")
    catalog.add(key, string, flags=flags)


def update(domain: str, *, write: bool, prune: bool, root: Path | None = None) -> list[str]:
    """Bring both catalogs of `domain` up to date; returns what was (or would be) changed.

    `root` is the `addin` package directory whose sources are read (default: this checkout's).
    """
    used: dict[str, _Key] = {}
    for found in extract(domain, root):
        used.setdefault(found.msgid, (found.msgid, found.plural) if found.plural else found.msgid)
    catalogs = {locale: _load(locale, domain) for locale in SUPPORTED}
    # The locales share one set of msgids: what one catalog has, the other gets too.
    known: dict[str, _Key] = {}
    for catalog in catalogs.values():
        known.update(_ids(catalog))
    wanted = {**known, **used}
    if not prune:
        for msgid in sorted(set(known) - set(used)):
            print(f"{domain}: not used in the sources: {msgid!r}")
    changes: list[str] = []
    for locale, catalog in catalogs.items():
        path = catalog_path(locale, domain)
        have = _ids(catalog)
        mine: list[str] = []
        for msgid, key in wanted.items():
            if msgid not in have:
                _add(catalog, key)
                mine.append(f"{path}: added {msgid!r}")
        if prune:
            for msgid in sorted(set(have) - set(used)):
                catalog.delete(msgid)
                mine.append(f"{path}: removed {msgid!r}")
        changes += mine
        if write and (mine or not path.exists()):
            path.parent.mkdir(parents=True, exist_ok=True)
            with path.open("wb") as fp:
                write_po(fp, catalog, width=100, no_location=True, omit_header=False)
    return changes


def main(argv: list[str] | None = None) -> int:
    """Update (or with --check, only inspect) the catalogs of the named domains."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("domains", nargs="*", metavar="DOMAIN", help=", ".join(DOMAINS))
    parser.add_argument("--check", action="store_true", help="change nothing; exit 1 if behind")
    parser.add_argument("--prune", action="store_true", help="remove entries no source uses")
    args = parser.parse_args(argv)
    unknown = sorted(set(args.domains) - set(DOMAINS))
    if unknown:
        parser.error(f"unknown domain {', '.join(unknown)}: use {', '.join(DOMAINS)}")
    changes: list[str] = []
    for domain in args.domains or DOMAINS:
        changes += update(domain, write=not args.check, prune=args.prune)
    for change in changes:
        print(change)
    if args.check and changes:
        print("catalogs are behind the sources: run scripts/update_catalogs.py", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

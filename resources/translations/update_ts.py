#!/usr/bin/env python3
"""Refresh memberdesk_zh_CN.ts from the sources and build memberdesk_zh_CN.qm.

    python resources/translations/update_ts.py            # update the .ts (translations kept), then build the .qm
    python resources/translations/update_ts.py --qm-only  # only build the .qm from the .ts
    python resources/translations/update_ts.py --keep-from OTHER.ts [OTHER.ts ...]
        # after a merge: refresh from the sources, then fill every untranslated message from the other .ts files

pyside6-lupdate reads `self.tr()`, `QCoreApplication.translate()` and `QT_TRANSLATE_NOOP()` in ui/, but app/ marks its
messages through an alias (`from app.i18n import QT_TRANSLATE_NOOP as S`) that lupdate cannot follow. So the app/
strings are collected here from the Python AST, written as plain QT_TRANSLATE_NOOP calls into a scratch file, and
that file is given to lupdate with ui/: one lupdate run keeps, adds and drops messages for both.
"""

from __future__ import annotations

import argparse
import ast
import json
import shutil
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET
from collections.abc import Iterable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
TS_FILE = ROOT / "resources" / "translations" / "memberdesk_zh_CN.ts"
QM_FILE = TS_FILE.with_suffix(".qm")
NOOP = "QT_TRANSLATE_NOOP"


def _tool(name: str) -> str:
    """A PySide6 tool from the running interpreter's environment (bin/ or Scripts/), else from PATH."""
    folder = Path(sys.executable).parent
    for candidate in (folder / name, folder / f"{name}.exe"):
        if candidate.exists():
            return str(candidate)
    found = shutil.which(name)
    if found is None:
        raise SystemExit(f"{name} not found: install PySide6 in this environment")
    return found


def _noop_names(tree: ast.Module) -> set[str]:
    """The names QT_TRANSLATE_NOOP goes by in one module (`import … as S`, `S = QT_TRANSLATE_NOOP`)."""
    names = {NOOP}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            names.update(alias.asname or alias.name for alias in node.names if alias.name == NOOP)
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Name) and node.value.id in names:
            names.update(target.id for target in node.targets if isinstance(target, ast.Name))
    return names


def app_strings(files: Iterable[Path]) -> list[tuple[str, str]]:
    """(context, text) of every QT_TRANSLATE_NOOP call with two literal arguments, in source order, once each."""
    found: dict[tuple[str, str], None] = {}
    for path in files:
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        names = _noop_names(tree)
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Name)
                and node.func.id in names
                and len(node.args) == 2
                and all(isinstance(arg, ast.Constant) and isinstance(arg.value, str) for arg in node.args)
            ):
                context, text = (arg.value for arg in node.args)  # type: ignore[attr-defined]
                found[(context, text)] = None
    return list(found)


def python_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*.py") if "__pycache__" not in p.parts)


def update_ts(ts_file: Path, root: Path = ROOT) -> str:
    """Run lupdate over ui/ and the app/ strings into `ts_file`; returns lupdate's summary."""
    with tempfile.TemporaryDirectory() as scratch:
        noop_file = Path(scratch) / "app_strings.py"
        lines = [
            f"{NOOP}({json.dumps(context, ensure_ascii=False)}, {json.dumps(text, ensure_ascii=False)})"
            for context, text in app_strings(python_files(root / "app"))
        ]
        noop_file.write_text(f"from PySide6.QtCore import {NOOP}\n" + "\n".join(lines) + "\n", encoding="utf-8")
        sources = [str(p) for p in python_files(root / "ui")] + [str(noop_file)]
        result = subprocess.run(
            [
                _tool("pyside6-lupdate"),
                *sources,
                "-locations",
                "none",
                "-no-obsolete",
                "-target-language",
                "zh_CN",
                "-ts",
                str(ts_file),
            ],
            check=True,
            capture_output=True,
            text=True,
        )
    return result.stdout + result.stderr


def keep_translations(ts_file: Path, others: Iterable[Path]) -> int:
    """Fill the untranslated messages of `ts_file` from `others` by (context, source); returns how many were filled.

    Two branches that both added strings each carry half the translations; after taking one side of a conflicted .ts
    and running lupdate, this brings back the other half.
    """
    known: dict[tuple[str, str], str] = {}
    for other in others:
        for context in ET.parse(other).getroot().iter("context"):
            name = context.findtext("name", "")
            for message in context.iter("message"):
                translation = message.find("translation")
                if translation is not None and translation.text and translation.get("type") != "unfinished":
                    known.setdefault((name, message.findtext("source", "")), translation.text)
    tree = ET.parse(ts_file)
    filled = 0
    for context in tree.getroot().iter("context"):
        name = context.findtext("name", "")
        for message in context.iter("message"):
            translation = message.find("translation")
            text = known.get((name, message.findtext("source", "")))
            if translation is not None and text and (not translation.text or translation.get("type") == "unfinished"):
                translation.text = text
                translation.attrib.pop("type", None)
                filled += 1
    tree.write(ts_file, encoding="utf-8", xml_declaration=True)
    return filled


def release(ts_file: Path, qm_file: Path) -> str:
    result = subprocess.run(
        [_tool("pyside6-lrelease"), str(ts_file), "-qm", str(qm_file)], check=True, capture_output=True, text=True
    )
    return result.stdout + result.stderr


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--qm-only", action="store_true", help="only compile the .qm from the .ts")
    parser.add_argument("--keep-from", nargs="+", type=Path, default=[], help="fill untranslated messages from these")
    args = parser.parse_args(argv)
    if not args.qm_only:
        print(update_ts(TS_FILE), end="")
    if args.keep_from:
        print(f"{keep_translations(TS_FILE, args.keep_from)} translations kept from {len(args.keep_from)} file(s)")
        print(update_ts(TS_FILE), end="")
    print(release(TS_FILE, QM_FILE), end="")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Reading a PDF back the way a person or a scanner would: poppler for text, fonts and pixels, zbar for barcodes."""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

from reportlab.lib.units import mm

INSTALL_HINT = "the printing tests need poppler-utils and zbar-tools (`python3 dev.py test` installs them)"


def _run(*args: str | Path) -> str:
    # Fail, not skip: a suite that skips without the tools would pass a build whose PDFs nobody read back.
    assert shutil.which(str(args[0])), f"{args[0]} not found: {INSTALL_HINT}"
    result = subprocess.run([str(arg) for arg in args], capture_output=True, check=True)
    return result.stdout.decode("utf-8")


def squeeze(text: str) -> str:
    """Wrapped text comes back with line breaks where the layout broke it; compare without any whitespace."""
    return re.sub(r"\s+", "", text)


def text(path: Path) -> str:
    return _run("pdftotext", "-enc", "UTF-8", path, "-")


@dataclass(frozen=True)
class Font:
    name: str
    embedded: bool


def fonts(path: Path) -> list[Font]:
    rows = _run("pdffonts", path).splitlines()[2:]
    # Columns from the right are fixed: ... emb sub uni object-number generation.
    return [Font(row.split()[0], row.split()[-5] == "yes") for row in rows if row.strip()]


def page_size_mm(path: Path) -> tuple[float, float]:
    match = re.search(r"Page size:\s+([\d.]+) x ([\d.]+) pts", _run("pdfinfo", path))
    assert match, "pdfinfo printed no page size"
    return float(match[1]) / mm, float(match[2]) / mm


def page_count(path: Path) -> int:
    match = re.search(r"Pages:\s+(\d+)", _run("pdfinfo", path))
    assert match
    return int(match[1])


@dataclass(frozen=True)
class Word:
    text: str
    left: float  # points, from the page's left edge
    top: float  # points, from the page's top edge
    right: float
    bottom: float


def words(path: Path) -> tuple[list[Word], float, float]:
    """Every word's box on page 1, with the page width and height in points."""
    xhtml = _run("pdftotext", "-bbox", "-f", "1", "-l", "1", "-enc", "UTF-8", path, "-")
    ns = {"x": "http://www.w3.org/1999/xhtml"}
    page = ET.fromstring(xhtml).find(".//x:page", ns)
    assert page is not None
    found = [
        Word(
            word.text or "",
            float(word.attrib["xMin"]),
            float(word.attrib["yMin"]),
            float(word.attrib["xMax"]),
            float(word.attrib["yMax"]),
        )
        for word in page.iterfind("x:word", ns)
    ]
    return found, float(page.attrib["width"]), float(page.attrib["height"])


def barcodes(path: Path, dpi: int = 200) -> list[tuple[str, str]]:
    """(symbology, value) of every symbol zbar finds on every page rendered at `dpi`, sorted."""
    with tempfile.TemporaryDirectory() as folder:
        _run("pdftoppm", "-r", str(dpi), "-png", path, Path(folder) / "page")
        images = sorted(Path(folder).glob("page*.png"))
        assert shutil.which("zbarimg"), f"zbarimg not found: {INSTALL_HINT}"
        result = subprocess.run(["zbarimg", "-q", *map(str, images)], capture_output=True, check=False)
    # zbarimg exits 4 when it finds nothing, which the caller's comparison reports better than an exception.
    assert result.returncode in (0, 4), result.stderr.decode()
    found = []
    for line in result.stdout.decode("utf-8").splitlines():
        symbology, _, value = line.partition(":")
        found.append((symbology, value))
    return sorted(found)


def overlapping(found: list[Word], tolerance: float = 0.5) -> list[tuple[Word, Word]]:
    """Pairs of words whose boxes overlap by more than `tolerance` points both ways."""
    pairs = []
    for index, first in enumerate(found):
        for second in found[index + 1 :]:
            if (
                min(first.right, second.right) - max(first.left, second.left) > tolerance
                and min(first.bottom, second.bottom) - max(first.top, second.top) > tolerance
            ):
                pairs.append((first, second))
    return pairs

"""QR matrices made fast enough to print a thousand different codes in well under a second.

ReportLab's encoder (like segno's) rebuilds the whole symbol for each of the eight masks and scores each module by
module: ~2.3 ms a code here, which alone would spend the two seconds docs/ARCHITECTURE.md §7 allows for a sheet of a
thousand coupons. Here everything that does not depend on the data — finder, timing and alignment patterns, format
and version information, each mask's pattern, where each data bit goes — is taken once per version from ReportLab's
own encoder and kept as Python integers holding the whole symbol (one bit a module, row after row, with a zero guard
bit after each row so that no run or block crosses rows). A code then costs its Reed-Solomon bytes, a few hundred bit
placements and, per mask, an XOR and a couple of dozen whole-symbol shifts to score it (ISO/IEC 18004 §7.8.3):
~0.1 ms.

ReportLab still chooses the mode (numeric, alphanumeric, bytes) and the version, and writes the data bits; only the
mechanical parts are redone. tests/printing/test_barcodes.py checks every symbol module for module against
ReportLab's own output for the same mask.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from itertools import zip_longest

from reportlab.graphics.barcode import qrencoder

LEVEL_M = qrencoder.QRErrorCorrectLevel.M
_FINDER_LIKE = ("10111010000", "00001011101")
_PAD_BYTES = (0xEC, 0x11)
_DARK_RUN = re.compile("1+")


def _galois_tables() -> tuple[list[int], list[int]]:
    exp = [0] * 512
    log = [0] * 256
    value = 1
    for power in range(255):
        exp[power] = value
        log[value] = power
        value <<= 1
        if value & 0x100:
            value ^= 0x11D
    for power in range(255, 512):
        exp[power] = exp[power - 255]
    return exp, log


_EXP, _LOG = _galois_tables()


@functools.cache
def _generator_logs(ec_count: int) -> tuple[int, ...]:
    """The Reed-Solomon generator polynomial's coefficients after the leading 1, as logarithms."""
    poly = [1]
    for power in range(ec_count):
        factor = _EXP[power]
        poly = [
            high ^ (_EXP[_LOG[low] + _LOG[factor]] if low else 0)
            for high, low in zip([*poly, 0], [0, *poly], strict=True)
        ]
    return tuple(_LOG[coefficient] for coefficient in poly[1:])


def _error_correction(data: list[int], ec_count: int) -> list[int]:
    generator = _generator_logs(ec_count)
    remainder = [0] * ec_count
    for byte in data:
        factor = byte ^ remainder[0]
        del remainder[0]
        remainder.append(0)
        if factor:
            factor_log = _LOG[factor]
            for index, coefficient in enumerate(generator):
                remainder[index] ^= _EXP[factor_log + coefficient]
    return remainder


@dataclass(frozen=True)
class _Template:
    """What every symbol of one version and error-correction level shares."""

    size: int
    stride: int
    blocks: tuple[tuple[int, int], ...]  # (total, data) codewords of each Reed-Solomon block
    rows: tuple[int, ...]  # per mask: function patterns, format/version information and the mask over empty data
    columns: tuple[int, ...]  # the same, transposed
    nibble_rows: tuple[tuple[int, ...], ...]  # per half codeword in placement order, per value: its dark modules
    nibble_columns: tuple[tuple[int, ...], ...]
    valid: int  # every module (no guard bits)


def _pack(modules: list[list[bool]], stride: int, transpose: bool) -> int:
    packed = 0
    for row, line in enumerate(modules):
        for column, dark in enumerate(line):
            if dark:
                packed |= 1 << (column * stride + row if transpose else row * stride + column)
    return packed


def _nibble_table(modules: list[int]) -> tuple[tuple[int, ...], ...]:
    """For each four data bits in placement order, the modules each of the 16 values darkens (first bit = 8)."""
    table = []
    for start in range(0, len(modules), 4):
        group = modules[start : start + 4]
        table.append(
            tuple(sum(module for bit, module in enumerate(group) if value & (8 >> bit)) for value in range(16))
        )
    return tuple(table)


@functools.cache
def _template(version: int, level: int) -> _Template:
    size = version * 4 + 17
    stride = size + 1
    blocks = tuple((block.totalCount, block.dataCount) for block in qrencoder.QRRSBlock.getRSBlocks(version, level))
    probe = qrencoder.QRCode(version, level)
    probe.dataCache = [0] * sum(total for total, _data in blocks)
    rows, columns = [], []
    for mask in range(8):
        probe.makeImpl(False, mask)
        rows.append(_pack(probe.modules, stride, transpose=False))
        columns.append(_pack(probe.modules, stride, transpose=True))
    positions = probe.dataPosIterator()[: 8 * len(probe.dataCache)]  # the rest are remainder bits, always 0
    valid = sum(((1 << size) - 1) << (row * stride) for row in range(size))
    return _Template(
        size,
        stride,
        blocks,
        tuple(rows),
        tuple(columns),
        _nibble_table([1 << (row * stride + column) for column, row in positions]),
        _nibble_table([1 << (column * stride + row) for column, row in positions]),
        valid,
    )


def _codewords(code: qrencoder.QRCode, blocks: tuple[tuple[int, int], ...]) -> list[int]:
    """Data and error-correction codewords interleaved as ISO/IEC 18004 §7.6 places them."""
    buffer = qrencoder.QRBitBuffer()
    for segment in code.dataList:
        segment.write(buffer, code.version)
    capacity = 8 * sum(data for _total, data in blocks)
    if buffer.getLengthInBits() + 4 <= capacity:
        buffer.put(0, 4)
    while buffer.getLengthInBits() % 8:
        buffer.putBit(False)
    data = list(buffer.buffer)
    data.extend(_PAD_BYTES[index % 2] for index in range(capacity // 8 - len(data)))
    data_blocks, ec_blocks = [], []
    offset = 0
    for total, count in blocks:
        data_blocks.append(data[offset : offset + count])
        ec_blocks.append(_error_correction(data_blocks[-1], total - count))
        offset += count
    return [
        byte
        for group in (data_blocks, ec_blocks)
        for column in zip_longest(*group)
        for byte in column
        if byte is not None
    ]


def penalty(rows: int, columns: int, size: int, stride: int, valid: int) -> int:
    """ISO/IEC 18004 §7.8.3 penalty (N1=3, N2=3, N3=40, N4=10) of a packed symbol and its transpose."""
    score = 0
    light_rows, light_columns = ~rows & valid, ~columns & valid
    for dark, light in ((rows, light_rows), (columns, light_columns)):
        for line in (dark, light):
            fives = line & line >> 1 & line >> 2 & line >> 3 & line >> 4
            score += fives.bit_count() + 2 * (fives & ~(fives << 1)).bit_count()  # a run of n ≥ 5 scores n - 2
        for pattern in _FINDER_LIKE:
            starts = valid
            for shift, char in enumerate(pattern):
                starts &= (dark if char == "1" else light) >> shift
            score += 40 * starts.bit_count()
    for line in (rows, light_rows):
        score += 3 * (line & line >> 1 & line >> stride & line >> (stride + 1)).bit_count()
    cells = size * size
    return score + 10 * (abs(20 * rows.bit_count() - 10 * cells) // cells)  # 10 per whole 5 % away from half dark


@dataclass(frozen=True)
class QrMatrix:
    size: int
    mask: int
    dark_runs: tuple[tuple[int, int, int], ...]  # (row, column, length) of each horizontal run of dark modules


def qr_matrix(data: str | qrencoder.QR) -> QrMatrix:
    """The symbol at error correction M, with the mask of lowest penalty (the first on a tie). A `str` gets the
    densest of ReportLab's modes that holds it; pass a segment to choose the mode."""
    code = qrencoder.QRCode(None, LEVEL_M)
    code.addData(data)
    code.version = code.calculate_version()
    template = _template(code.version, LEVEL_M)
    data_rows = data_columns = 0
    nibble = 0
    for byte in _codewords(code, template.blocks):
        data_rows |= template.nibble_rows[nibble][byte >> 4] | template.nibble_rows[nibble + 1][byte & 15]
        data_columns |= template.nibble_columns[nibble][byte >> 4] | template.nibble_columns[nibble + 1][byte & 15]
        nibble += 2
    best_rows, best_mask, best_penalty = 0, 0, -1
    for mask in range(8):
        rows = template.rows[mask] ^ data_rows
        score = penalty(rows, template.columns[mask] ^ data_columns, template.size, template.stride, template.valid)
        if best_penalty < 0 or score < best_penalty:
            best_rows, best_mask, best_penalty = rows, mask, score
    bits = format(best_rows, "b")[::-1]  # character i is module bit i
    runs = tuple(
        (row, match.start() - start, match.end() - match.start())
        for row, start in enumerate(range(0, template.size * template.stride, template.stride))
        for match in _DARK_RUN.finditer(bits, start, start + template.size)
    )
    return QrMatrix(template.size, best_mask, runs)

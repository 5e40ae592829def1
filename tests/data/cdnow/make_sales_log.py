"""Makes cdnow_sample_sales.csv from CDNOW_sample.txt (see README.md): python tests/data/cdnow/make_sales_log.py SRC"""

from __future__ import annotations

import csv
import sys
from pathlib import Path


def main(source: Path) -> None:
    out = Path(__file__).with_name("cdnow_sample_sales.csv")
    with source.open() as fh, out.open("w", newline="") as target:
        writer = csv.writer(target)
        writer.writerow(["member_no", "time", "amount", "receipt_no"])
        for number, line in enumerate(fh, start=1):
            master, _sample, date, _cds, amount = line.split()
            writer.writerow([f"CD{int(master):05d}", f"{date[:4]}-{date[4:6]}-{date[6:]}", amount, f"CDN{number:05d}"])


if __name__ == "__main__":
    main(Path(sys.argv[1]))

#!/usr/bin/env python3
"""Opens gridgov's tables.xlsx with openpyxl, as an analyst's Python would, and checks it.

    python tools/check-xlsx.py GRIDGOV_BINARY [RUN_DIR]

1. Runs GRIDGOV_BINARY on a small made-up city whose categories and departments are citizen
   text that Excel would take for formulas (=HYPERLINK(...), +1, -2, @SUM, a leading tab), then
   checks by_category.csv / by_department.csv and tables.xlsx: every such cell starts with an
   apostrophe, nothing is a formula.
2. On RUN_DIR (default: that small run) and on the small run: one sheet per level, the city,
   the dimensions and the dictionary; two header rows (English key, Chinese label) frozen above
   the data, filters on; codes are strings (a 15-digit code stays text); shares are numbers
   with a percent format; counts are numbers.
Exit 1 on the first failure, with what was found.
"""
import csv
import json
import subprocess
import sys
import tempfile
from pathlib import Path

import openpyxl

EVIL = ["=HYPERLINK(\"http://evil.example\",\"点我\")", "+1+1", "-2", "@SUM(A1)"]  # (a leading tab is trimmed on reading)


def fail(msg):
    sys.exit(f"check-xlsx: {msg}")


def square(code, w, s, d=0.01):
    e, n = w + d, s + d
    return {"type": "Feature", "properties": {"code": code, "comm": "110101001001", "pop": 1000},
            "geometry": {"type": "Polygon", "coordinates": [[[w, s], [e, s], [e, n], [w, n], [w, s]]]}}


def small_run(binary, tmp):
    grids = {"type": "FeatureCollection",
             "features": [square("110101001001001", 116.30, 39.90), square("110101001001002", 116.31, 39.90)]}
    (tmp / "grids.geojson").write_text(json.dumps(grids))
    with open(tmp / "cases.csv", "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["id", "received", "closed", "lon", "lat", "category", "department", "resolved", "satisfaction"])
        for i, text in enumerate(EVIL + ["道路", "绿化"]):
            w.writerow([i + 1, "2026-10-02 09:00:00", "2026-10-02 19:00:00", 116.305 + (i % 2) * 0.01, 39.905,
                        text, text, "是", "满意"])
    (tmp / "p.toml").write_text("""
name = "xlsx"
output_dir = "out"
[period]
month = "2026-10"
as_of = "2026-10-31"
[grids]
path = "grids.geojson"
[grids.properties]
code = "code"
community_code = "comm"
population = "pop"
[[cases]]
name = "cases"
path = "cases.csv"
[cases.columns]
case_id = "id"
received_at = "received"
closed_at = "closed"
lon = "lon"
lat = "lat"
category = "category"
department = "department"
resolved = "resolved"
satisfaction = "satisfaction"
[indicators]
min_n = 1
""")
    r = subprocess.run([binary, "run", str(tmp / "p.toml")], capture_output=True, text=True)
    if r.returncode != 0:
        fail(f"gridgov exited {r.returncode}: {r.stderr}")
    return tmp / "out" / "latest"


def check_injection(run):
    for table, col in [("by_category.csv", "category"), ("by_department.csv", "department")]:
        with open(run / table, encoding="utf-8-sig", newline="") as f:
            values = {row[col] for row in csv.DictReader(f)}
        for text in EVIL:
            if text in values or f"'{text}" not in values:
                fail(f"{table}: {text!r} is not neutralised (values: {sorted(values)})")
    wb = openpyxl.load_workbook(run / "tables.xlsx")
    for sheet in ["类别 category", "部门 department"]:
        ws = wb[sheet]
        cells = [c for row in ws.iter_rows(min_row=3) for c in row]
        texts = {c.value for c in cells if isinstance(c.value, str)}
        for text in EVIL:
            if f"'{text}" not in texts:
                fail(f"tables.xlsx {sheet}: {text!r} is not neutralised ({sorted(texts)})")
        formulas = [c.coordinate for c in cells if c.data_type == "f"]
        if formulas:
            fail(f"tables.xlsx {sheet}: formula cells {formulas}")
    print("check-xlsx: formula-like text neutralised in CSV and XLSX")


def check_workbook(run):
    wb = openpyxl.load_workbook(run / "tables.xlsx")
    names = wb.sheetnames
    for want in ["网格 grid", "全市 city", "指标说明 dictionary"]:
        if want not in names:
            fail(f"{run}/tables.xlsx: no sheet {want!r} ({names})")
    ws = wb["网格 grid"]
    keys = [c.value for c in ws[1]]
    labels = [c.value for c in ws[2]]
    if ws.freeze_panes != "A3":
        fail(f"grid sheet: frozen at {ws.freeze_panes}, expected A3")
    if not ws.auto_filter.ref or not ws.auto_filter.ref.startswith("A2"):
        fail(f"grid sheet: filter {ws.auto_filter.ref!r}, expected from A2")
    col = {k: i for i, k in enumerate(keys)}
    for k in ["grid_code", "cases", "resolution_rate"]:
        if k not in col:
            fail(f"grid sheet: no column {k} ({keys})")
    if labels[col["grid_code"]] != "网格编码" or labels[col["resolution_rate"]] != "解决率":
        fail(f"grid sheet: Chinese labels {labels[:5]}")
    with open(run / "grid.csv", encoding="utf-8-sig", newline="") as f:
        csv_rows = list(csv.DictReader(f))
    rows = list(ws.iter_rows(min_row=3, values_only=False))
    if len(rows) != len(csv_rows):
        fail(f"grid sheet has {len(rows)} rows, grid.csv {len(csv_rows)}")
    for row, c in zip(rows, csv_rows):
        code = row[col["grid_code"]]
        if not isinstance(code.value, str) or code.value != c["grid_code"]:
            fail(f"grid_code {code.value!r} ({type(code.value).__name__}) is not the text {c['grid_code']!r}")
        n = row[col["cases"]]
        if not isinstance(n.value, (int, float)) or n.value != float(c["cases"]):
            fail(f"cases {n.value!r} is not the number {c['cases']}")
        r = row[col["resolution_rate"]]
        if c["resolution_rate"]:
            if not isinstance(r.value, (int, float)) or abs(r.value - float(c["resolution_rate"])) > 1e-12:
                fail(f"resolution_rate {r.value!r} is not the number {c['resolution_rate']}")
            if "%" not in r.number_format:
                fail(f"resolution_rate format {r.number_format!r} is not a percentage")
        elif r.value is not None:
            fail(f"resolution_rate {r.value!r} where grid.csv has none")
    print(f"check-xlsx: {run}/tables.xlsx: {len(names)} sheets, {len(rows)} grids; codes text, shares percent")


def main():
    if len(sys.argv) < 2:
        fail("usage: check-xlsx.py GRIDGOV_BINARY [RUN_DIR]")
    with tempfile.TemporaryDirectory() as d:
        run = small_run(sys.argv[1], Path(d))
        check_injection(run)
        check_workbook(run)
        if len(sys.argv) > 2:
            check_workbook(Path(sys.argv[2]))


if __name__ == "__main__":
    main()

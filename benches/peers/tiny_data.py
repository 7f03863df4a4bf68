#!/usr/bin/env python3
"""A tiny data set with the schema of `gridgov synth bench`, for checking peers.py by hand.

    python benches/peers/tiny_data.py /tmp/peers-tiny/T     # then: peers.py --data /tmp/peers-tiny --size T

It has what makes the boundary rule matter: 8 × 6 cells that share edges and vertices (some
corners jittered, so some edges are slanted), a cell with a square hole filled by an enclave
grid, a MultiPolygon of two diagonal cells, grid codes that do not follow the lattice order
(so "smallest code wins" picks left, right, up or down neighbours alike), and case points
placed exactly on shared vertices, on axis-parallel shared edges, on the hole's ring, on the
outer border, outside every grid, and without coordinates. It also writes pipeline_csv.toml and
pipeline_parquet.toml like the bench generator, so gridgov can run on it.
"""
import csv
import json
import random
import sys
from datetime import datetime, timedelta
from pathlib import Path

COLS, ROWS = 8, 6
X0, Y0, DX, DY = 116.3, 39.9, 0.01, 0.008


def r6(v):
    return round(v * 1e6) / 1e6


def corner(i, j):
    x, y = X0 + i * DX, Y0 + j * DY
    # Jitter a few inner corners so that some shared edges are slanted.
    if 0 < i < COLS and 0 < j < ROWS and (i * 7 + j * 3) % 5 == 0:
        x += 0.0013 * (1 if (i + j) % 2 else -1)
        y += 0.0011 * (1 if i % 2 else -1)
    return (r6(x), r6(y))


def ring(i, j):
    # Counter-clockwise; each edge gets its midpoint on axis-parallel edges only (so a point
    # placed there is exactly on the edge in floating point too).
    pts = [corner(i, j), corner(i + 1, j), corner(i + 1, j + 1), corner(i, j + 1)]
    out = []
    for k in range(4):
        a, b = pts[k], pts[(k + 1) % 4]
        out.append(a)
        if a[0] == b[0] or a[1] == b[1]:
            out.append((r6((a[0] + b[0]) / 2), r6((a[1] + b[1]) / 2)))
    out.append(out[0])
    return out


def main(out):
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    rnd = random.Random(7)
    codes = {}
    perm = list(range(COLS * ROWS))
    rnd.shuffle(perm)
    for j in range(ROWS):
        for i in range(COLS):
            codes[(i, j)] = f"110105{perm[j * COLS + i]:03d}001001"
    hole_cell, multi = (2, 3), ((5, 1), (6, 2))
    feats = []
    vertices = []
    edge_mids = []
    for j in range(ROWS):
        for i in range(COLS):
            if (i, j) == multi[1]:
                continue
            c = codes[(i, j)]
            if (i, j) == hole_cell:
                cx, cy = X0 + (i + 0.5) * DX, Y0 + (j + 0.5) * DY
                h = [(r6(cx - 0.002), r6(cy - 0.002)), (r6(cx - 0.002), r6(cy + 0.002)), (r6(cx + 0.002), r6(cy + 0.002)),
                     (r6(cx + 0.002), r6(cy - 0.002)), (r6(cx - 0.002), r6(cy - 0.002))]
                geom = {"type": "Polygon", "coordinates": [ring(i, j), h]}
                enclave_code = "110105999001001" if rnd.random() < 0.5 else "110105000000001"
                feats.append((enclave_code, {"type": "Polygon", "coordinates": [list(reversed(h))]}))
                vertices += h[:4]
                edge_mids += [(h[0][0], r6(cy)), (r6(cx), h[1][1])]
            elif (i, j) == multi[0]:
                geom = {"type": "MultiPolygon", "coordinates": [[ring(*multi[0])], [ring(*multi[1])]]}
            else:
                geom = {"type": "Polygon", "coordinates": [ring(i, j)]}
            feats.append((c, geom))
    for j in range(ROWS + 1):
        for i in range(COLS + 1):
            vertices.append(corner(i, j))
            if i < COLS:
                a, b = corner(i, j), corner(i + 1, j)
                if a[1] == b[1]:
                    edge_mids.append((r6((a[0] + b[0]) / 2), a[1]))
            if j < ROWS:
                a, b = corner(i, j), corner(i, j + 1)
                if a[0] == b[0]:
                    edge_mids.append((a[0], r6((a[1] + b[1]) / 2)))
    feats.sort()
    fc = {"type": "FeatureCollection", "name": "tiny_grids", "features": []}
    for c, g in feats:
        pop = rnd.randrange(200, 3000)
        fc["features"].append({"type": "Feature", "properties": {
            "grid_code": c, "community_code": c[:12], "street_code": c[:9], "district_code": c[:6],
            "population": pop, "households": pop * 10 // 26}, "geometry": g})
    (out / "grids.geojson").write_text(json.dumps(fc, ensure_ascii=False))

    start, as_of = datetime(2026, 10, 1), datetime(2026, 11, 6)
    fmt = lambda t: t.strftime("%Y-%m-%d %H:%M:%S")
    rows = []
    for n in range(600):
        u = rnd.random()
        if u < 0.04:
            x = y = None
        elif u < 0.20:
            x, y = rnd.choice(vertices)
        elif u < 0.35:
            x, y = rnd.choice(edge_mids)
        elif u < 0.38:  # on the outer border or outside the box
            x, y = rnd.choice([(X0, r6(Y0 + 0.013)), (r6(X0 + 0.021), Y0), (r6(X0 - 0.01), Y0), (116.0, 39.0)])
        else:
            x, y = r6(rnd.uniform(X0, X0 + COLS * DX)), r6(rnd.uniform(Y0, Y0 + ROWS * DY))
        received = start + timedelta(days=rnd.randrange(31), seconds=rnd.randrange(86400))
        due = received + timedelta(hours=rnd.choice([24, 72, 168, 360]))
        closed = None
        if rnd.random() < 0.8:
            c = received + timedelta(seconds=int(rnd.lognormvariate(11, 1.3)))
            # Closings after the as-of moment stay: they count as open (docs/indicators.md).
            closed = c
        valid = closed is not None and rnd.random() < 0.7
        resolved = ("1" if rnd.random() < 0.75 else "0") if valid else ""
        s = rnd.random()
        sat = ("满意" if s < 0.6 else "基本满意" if s < 0.8 else "不满意" if s < 0.95 else "") if valid else ""
        rows.append([f"T{n:09d}", fmt(received), fmt(closed) if closed else "", fmt(due),
                     x, y, "1" if valid else "0", resolved, sat])
    header = ["case_id", "received_at", "closed_at", "due_at", "lon", "lat", "followup_valid", "resolved", "satisfaction"]
    with open(out / "cases.csv", "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(header)
        for r in rows:
            w.writerow(["" if v is None else repr(v) if isinstance(v, float) else v for v in r])
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
        cols = {h: [r[k] for r in rows] for k, h in enumerate(header)}
        arrays = {h: (pa.array(v, pa.float64()) if h in ("lon", "lat") else pa.array([x if x != "" else None for x in v], pa.string()))
                  for h, v in cols.items()}
        pq.write_table(pa.table(arrays), out / "cases.parquet", compression="zstd")
    except ImportError:
        print("pyarrow missing: no cases.parquet", file=sys.stderr)
    for name, path in (("csv", "cases.csv"), ("parquet", "cases.parquet")):
        (out / f"pipeline_{name}.toml").write_text(PIPELINE.format(name=name, path=path), encoding="utf-8")
    print(f"{out}: {len(feats)} grids, {len(rows)} cases")


PIPELINE = """# Tiny peers test pipeline (benches/peers/tiny_data.py), like gridgov synth bench writes.
name = "tiny_{name}"
output_dir = "out_{name}"

[period]
month = "2026-10"
as_of = "2026-11-05"
trend_months = 1
time_zone = "Asia/Shanghai"

[grids]
path = "grids.geojson"
[grids.properties]
code = "grid_code"
community_code = "community_code"
street_code = "street_code"
district_code = "district_code"
population = "population"
households = "households"

[[cases]]
name = "cases"
path = "{path}"
timestamp_formats = ["%Y-%m-%d %H:%M:%S"]
[cases.columns]
case_id = "case_id"
received_at = "received_at"
closed_at = "closed_at"
due_at = "due_at"
lon = "lon"
lat = "lat"
followup_valid = "followup_valid"
resolved = "resolved"
satisfaction = "satisfaction"

[indicators]
min_n = 1
"""

if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "/tmp/peers-tiny/T")

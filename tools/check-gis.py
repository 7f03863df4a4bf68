"""The GIS outputs of a run as GIS users open them, and gridgov's projections against PROJ.

Usage: check-gis.py GRIDGOV RUN_DIR

1. Every GeoPackage and FlatGeobuf layer opens in GDAL (`ogrinfo`, every feature read) with no
   warning or error, in EPSG:4326, with the GeoJSON layer's fields, field types and feature
   count; GeoParquet has no driver in this GDAL, so geopandas and DuckDB (spatial) read it.
2. The values round-trip: geopandas reads each format and gets the GeoJSON layer's table
   (the same columns, dtypes of the same kind, equal values) and the same geometries.
3. `gridgov crs` against pyproj (PROJ): 2,000 points over Beijing converted to and from
   CGCS2000 Gauss-Kruger zones (3- and 6-degree, with and without the zone number), Web
   Mercator, UTM 50N and a PROJ string; within 1e-9 degrees and 1 mm.
"""

import glob
import os
import random
import subprocess
import sys

import duckdb
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import Transformer

gridgov, run = sys.argv[1], sys.argv[2]
failures = []


def fail(msg):
    failures.append(msg)
    print("FAIL", msg)


def fields(path):
    """GDAL's view of a layer: (feature count, {field: type}, srs line), and its stderr."""
    p = subprocess.run(["ogrinfo", "-ro", "-al", "-so", path], capture_output=True, text=True)
    types, count = {}, None
    for line in p.stdout.splitlines():
        if line.startswith("Feature Count:"):
            count = int(line.split(":")[1])
        elif ": " in line and "(" in line and not line.startswith(("Layer", "Extent", "Geometry", "FID", "INFO")):
            name, rest = line.split(": ", 1)
            types[name.strip()] = rest.split(" ")[0]
    return count, types, p.stdout, p.stderr


_empty = {}


def empty_columns(geojson):
    """The properties no feature of a GeoJSON layer has a value for."""
    if geojson not in _empty:
        g = gpd.read_file(geojson)
        _empty[geojson] = [c for c in g.columns if c != "geometry" and g[c].isna().all()]
    return _empty[geojson]


# 1. GDAL opens every layer without a warning, with the GeoJSON layer's fields and types.
layers = sorted(glob.glob(os.path.join(run, "*.gpkg")) + glob.glob(os.path.join(run, "*.fgb"))
                + glob.glob(os.path.join(run, "networks", "*", "*.gpkg")) + glob.glob(os.path.join(run, "networks", "*", "*.fgb")))
if not layers:
    fail(f"no GeoPackage or FlatGeobuf layer in {run}")
for path in layers:
    full = subprocess.run(["ogrinfo", "-ro", "-al", "-q", path], capture_output=True, text=True)
    if full.returncode != 0 or full.stderr.strip():
        fail(f"{path}: ogrinfo reading every feature: rc {full.returncode}: {full.stderr.strip()[:500]}")
    count, types, out, err = fields(path)
    if 'ID["EPSG",4326]' not in out:
        fail(f"{path}: not EPSG:4326")
    base = path.rsplit(".", 1)[0]
    ref = base + ".geojson"
    if os.path.exists(ref):
        rcount, rtypes, _, _ = fields(ref)
        if count != rcount:
            fail(f"{path}: {count} features, the GeoJSON {rcount}")
        # GeoJSON has no declared types: GDAL guesses them from the values (Integer for small
        # integers, String for a column with no value at all). Compare the kinds, and skip the
        # columns the GeoJSON has no value in.
        empty = set(empty_columns(ref))
        fam = {"Integer": "int", "Integer64": "int", "Real": "real", "String": "text", "Date": "date", "DateTime": "datetime"}
        if path.endswith(".fgb"):
            fam["Date"] = "datetime"  # FlatGeobuf has no date type
        if path.endswith(".gpkg"):
            fam["DateTime"] = "text"  # naive local times: GeoPackage's DATETIME would be UTC
        diff = {k: (rtypes.get(k), types.get(k)) for k in set(types) | set(rtypes)
                if k not in empty and fam.get(types.get(k), types.get(k)) != fam.get(rtypes.get(k), rtypes.get(k))}
        if diff:
            fail(f"{path}: field types differ from the GeoJSON's (geojson, this): {diff}")
print(f"GDAL: {len(layers)} GeoPackage / FlatGeobuf layers open without a warning, fields and types as the GeoJSON's")


# 2. The values round-trip, in every format, GeoParquet through geopandas and DuckDB.
def plain(v):
    """A value as text for comparison: dates and midnight timestamps as YYYY-MM-DD (a naive
    timestamp GeoPackage keeps as text compares as the timestamp it is)."""
    if isinstance(v, str) and len(v) == 19 and v[10] == "T" and v[4] == "-":
        v = pd.Timestamp(v)
    if isinstance(v, pd.Timestamp):
        return v.date().isoformat() if v == v.normalize() else v.isoformat()
    if hasattr(v, "isoformat"):
        return v.isoformat()
    return str(v)


def same_frames(a, b, what):
    a, b = a.reset_index(drop=True), b.reset_index(drop=True)
    if list(a.columns) != list(b.columns):
        fail(f"{what}: columns {list(b.columns)} != {list(a.columns)}")
        return
    for c in a.columns:
        if c == "geometry":
            # OGC:CRS84 (GeoParquet's default) and EPSG:4326 are the same lon/lat here.
            if not shapely.equals_exact(np.asarray(a.geometry.values), np.asarray(b.geometry.values), tolerance=1e-9).all():
                fail(f"{what}: geometries differ")
            continue
        x, y = a[c], b[c]
        kind = lambda s: "b" if pd.api.types.is_bool_dtype(s) else "i" if pd.api.types.is_integer_dtype(s) else "f" if pd.api.types.is_float_dtype(s) else "o"
        # A column of integers with nulls reads as float from GeoJSON in some readers: compare values.
        # A column the GeoJSON has no value in reads as text there: nothing to compare.
        if x.isna().all() and y.isna().all():
            continue
        if kind(x) != kind(y) and not ({kind(x), kind(y)} <= {"i", "f"} and (x.isna().any() or y.isna().any())):
            fail(f"{what}: column {c} is {y.dtype}, the GeoJSON's {x.dtype}")
        xs = x.astype(object).where(x.notna(), None).tolist()
        ys = y.astype(object).where(y.notna(), None).tolist()
        for i, (u, v) in enumerate(zip(xs, ys)):
            if u is None and v is None:
                continue
            if isinstance(u, float) or isinstance(v, float):
                if u is None or v is None or abs(float(u) - float(v)) > 1e-9 * max(1.0, abs(float(u))):
                    fail(f"{what}: {c}[{i}] {v!r} != {u!r}")
                    break
            elif plain(u) != plain(v):
                fail(f"{what}: {c}[{i}] {v!r} != {u!r}")
                break


checked = 0
for ref in sorted(glob.glob(os.path.join(run, "*.geojson")) + glob.glob(os.path.join(run, "networks", "*", "*.geojson"))):
    base = ref[: -len(".geojson")]
    g = gpd.read_file(ref)
    for ext in ["gpkg", "fgb", "geo.parquet"]:
        other = f"{base}.{ext}"
        if not os.path.exists(other):
            continue
        o = gpd.read_parquet(other) if ext == "geo.parquet" else gpd.read_file(other)
        if o.crs is None or not (o.crs.to_epsg() == 4326 or o.crs.to_string() == "OGC:CRS84"):
            fail(f"{other}: crs {o.crs}")
        if "fid" in o.columns:
            o = o.drop(columns="fid")
        same_frames(g, o[g.columns], other)
        checked += 1
print(f"geopandas: {checked} layers in GeoPackage / FlatGeobuf / GeoParquet equal their GeoJSON (columns, types, values, geometries)")

con = duckdb.connect(config={"allow_unsigned_extensions": "true"})
import duckdb_extension_spatial  # noqa: E402

ext = sorted(p for p in glob.glob(os.path.join(os.path.dirname(duckdb_extension_spatial.__file__), "**", "*.duckdb_extension"), recursive=True)
             if f"v{duckdb.__version__}" in p)
if not ext:
    fail("no DuckDB spatial extension for this duckdb")
else:
    con.execute(f"LOAD '{ext[0]}'")
for path in sorted(glob.glob(os.path.join(run, "*.geo.parquet"))):
    n, bad, types = con.execute(
        f"SELECT count(*), count(*) FILTER (WHERE NOT ST_IsValid(geometry)), list(DISTINCT ST_GeometryType(geometry)) FROM read_parquet('{path}')").fetchone()
    want = pd.read_parquet(path).shape[0]
    if n != want or bad:
        fail(f"{path}: DuckDB reads {n} rows ({want} expected), {bad} invalid geometries")
    print(f"DuckDB: {os.path.basename(path)}: {n} features, {types}")
pts = gpd.read_parquet(os.path.join(run, "case_points.geo.parquet")) if os.path.exists(os.path.join(run, "case_points.geo.parquet")) else None
if pts is not None:
    fgb = gpd.read_file(os.path.join(run, "case_points.fgb"))
    same_frames(pts, fgb[pts.columns], "case_points.fgb against case_points.geo.parquet")
    inside = pts.geometry.x.between(115.4, 117.6).all() and pts.geometry.y.between(39.4, 41.1).all()
    if not inside:
        fail("case_points: points outside Beijing (not converted to WGS84?)")
    print(f"case points: {len(pts)} cases, GeoParquet and FlatGeobuf equal, all in Beijing, assigned_by {sorted(pts.assigned_by.unique())}")


# 3. gridgov's projections against PROJ.
rng = random.Random(7)
lon = np.array([rng.uniform(115.4, 117.6) for _ in range(2000)])
lat = np.array([rng.uniform(39.4, 41.1) for _ in range(2000)])
systems = ["EPSG:4527", "EPSG:4548", "EPSG:4498", "EPSG:4509", "EPSG:3857", "EPSG:32650",
           "+proj=tmerc +lat_0=0 +lon_0=116.35 +k=1 +x_0=500000 +y_0=300000 +ellps=GRS80 +units=m +no_defs"]


def gridgov_crs(system, pairs, to):
    args = [gridgov, "crs", system] + (["--to"] if to else [])
    text = "\n".join(f"{float(a):.12f},{float(b):.12f}" for a, b in pairs) + "\n"
    p = subprocess.run(args, input=text, capture_output=True, text=True, check=True)
    return np.array([[float(v) for v in line.split(",")] for line in p.stdout.split()])


for system in systems:
    t = Transformer.from_crs("EPSG:4326", system, always_xy=True)
    x, y = t.transform(lon, lat)
    back = gridgov_crs(system, zip(x, y), to=False)
    deg = max(np.abs(back[:, 0] - lon).max(), np.abs(back[:, 1] - lat).max())
    fwd = gridgov_crs(system, zip(lon, lat), to=True)
    metres = max(np.abs(fwd[:, 0] - x).max(), np.abs(fwd[:, 1] - y).max())
    ok = deg < 1e-9 and metres < 1e-3
    print(f"PROJ vs gridgov {system[:40]:40}  inverse max {deg:.1e} deg, forward max {metres:.1e} m  {'ok' if ok else 'FAIL'}")
    if not ok:
        fail(f"{system}: {deg} deg / {metres} m")

if failures:
    sys.exit(f"{len(failures)} GIS check(s) failed")
print("GIS outputs and projections: all checks passed")

#!/usr/bin/env python3
"""The "peers" benchmark: gridgov's per-grid table computed by DuckDB (+ spatial) and GeoPandas.

    python benches/peers/peers.py --size S [--runs 3] [--gridgov target/release/gridgov]
        [--data bench-data] [--tools gridgov,duckdb,geopandas] [--out benches/peers/results]

1. Agreement: every tool runs once; all per-grid tables are compared pairwise on every grid
   (exit 1 on any disagreement).
2. Timing: every tool runs --runs times end to end from the files, each run in a fresh
   subprocess (wall time; peak RSS from wait4's rusage of that child alone).
3. Writes <out>/<SIZE>.json and prints a Markdown table.

The per-grid table (the same definitions as gridgov; see README.md):
    grid_code, cases, resolution_rate, satisfaction_rate, handling_hours_median, overdue_open_rate
A case goes to the grid whose closed area contains its point (ST_Intersects / sjoin
"intersects"); among several, the smallest grid_code (string order) wins.

`peers.py _worker TOOL INPUT DATA_DIR OUT_CSV STATS_JSON THREADS` is the child process of one
peer run (internal).
"""
import time

_T_START = time.perf_counter()  # before the heavy imports, so a worker can report them

import argparse
import csv
import json
import math
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
from datetime import datetime, timezone
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
AS_OF = "2026-11-06 00:00:00"  # end of the as-of day 2026-11-05 (the pipelines' as_of)
# The reporting period (month = "2026-10"): the per-grid table counts the cases received in it.
# The lattice shape's cases are all in it; the export shape's run from September to the as-of day.
PERIOD = ("2026-10-01 00:00:00", "2026-11-01 00:00:00")
TS_FORMAT = "%Y-%m-%d %H:%M:%S"
COLUMNS = ["grid_code", "cases", "resolution_rate", "satisfaction_rate", "handling_hours_median", "overdue_open_rate"]
FLOAT_COLUMNS = COLUMNS[2:]
PEERS = ("duckdb", "geopandas", "sedonadb")  # sedonadb: opt-in (--tools), Parquet only
SAT, BASIC = "满意", "基本满意"
BASIC_WEIGHT = 0.9


# ---------------------------------------------------------------------------------------------
# Workers (one per subprocess)
# ---------------------------------------------------------------------------------------------

class Stages:
    """Wall-clock laps inside a worker; the first lap starts at interpreter start-up."""

    def __init__(self):
        self.t = _T_START
        self.s = {}

    def lap(self, name):
        now = time.perf_counter()
        self.s[name] = round(now - self.t, 6)
        self.t = now


def spatial_extension_path():
    """The spatial extension file inside the `duckdb-extension-spatial` wheel, for this duckdb."""
    import duckdb
    import duckdb_extension_spatial

    base = Path(duckdb_extension_spatial.__file__).resolve().parent
    found = sorted(base.rglob("*.duckdb_extension"))
    if not found:
        raise SystemExit(f"no *.duckdb_extension file under {base}")
    want = f"v{duckdb.__version__}"
    same = [p for p in found if want in p.parts]
    if not same:
        raise SystemExit(
            f"duckdb {duckdb.__version__} but the spatial extension files are for "
            f"{sorted({p.parent.name for p in found})}: pin matching versions (requirements.txt)")
    return same[0]


def export_shape(data_dir):
    """The case files are `synth bench --shape export`'s: ISO 8601 with +08:00 (zoned in
    Parquet), contacted/resolved as true/false, no followup_valid or satisfaction column."""
    csv_path = data_dir / "cases.csv"
    if csv_path.exists():
        with open(csv_path, encoding="utf-8-sig") as f:
            return "contacted" in f.readline().strip().split(",")
    return any('contacted = "contacted"' in p.read_text() for p in data_dir.glob("pipeline_*.toml"))


def sql_str(p):
    return "'" + str(p).replace("'", "''") + "'"


def run_duckdb(inp, data_dir, out_csv, threads, st):
    import duckdb

    ext = spatial_extension_path()
    st.lap("import")
    try:
        con = duckdb.connect(config={"threads": threads})
        con.execute(f"LOAD {sql_str(ext)}")
    except duckdb.Error as e:  # an unsigned build: allowed for this local file only
        if "signature" not in str(e).lower():
            raise
        con = duckdb.connect(config={"threads": threads, "allow_unsigned_extensions": "true"})
        con.execute(f"LOAD {sql_str(ext)}")
    st.lap("load_extension")

    # Grids through GDAL (ST_Read); grid_code stays a string.
    con.execute(f"CREATE TABLE grids AS SELECT CAST(grid_code AS VARCHAR) AS grid_code, geom "
                f"FROM ST_Read({sql_str(data_dir / 'grids.geojson')})")
    st.lap("read_grids")

    export = export_shape(data_dir)
    if export:
        # Local times as gridgov reads them: the offset is +08:00 everywhere, so the CSV's text
        # is parsed without it and the Parquet's instants are moved 8 h.
        if inp == "csv":
            ts = lambda c: f"strptime(NULLIF({c}, ''), '%Y-%m-%dT%H:%M:%S+08:00') AS {c}"
            src = (f"read_csv({sql_str(data_dir / 'cases.csv')}, header = true, all_varchar = true)")
            cast = lambda c: f"CAST(NULLIF({c}, '') AS DOUBLE) AS {c}"
        else:
            ts = lambda c: f"make_timestamp(epoch_us({c}) + 28800000000) AS {c}"
            src = f"read_parquet({sql_str(data_dir / 'cases.parquet')})"
            cast = lambda c: f"CAST({c} AS DOUBLE) AS {c}"
        # A follow-up counts when it has an answer (gridgov without a followup_valid column).
        con.execute(
            f"CREATE TABLE cases AS SELECT case_id, {ts('received_at')}, {ts('closed_at')}, {ts('due_at')}, "
            f"{cast('lon')}, {cast('lat')}, "
            f"CASE WHEN CAST(contacted AS VARCHAR) IN ('true', 'false') OR CAST(resolved AS VARCHAR) IN ('true', 'false') "
            f"THEN '1' ELSE '0' END AS followup_valid, "
            f"CASE WHEN CAST(resolved AS VARCHAR) = 'true' THEN '1' ELSE '0' END AS resolved, "
            f"CAST(NULL AS VARCHAR) AS satisfaction FROM {src}")
    elif inp == "csv":
        src = (f"read_csv({sql_str(data_dir / 'cases.csv')}, header = true, delim = ',', quote = '\"', "
               f"timestampformat = '{TS_FORMAT}', columns = {{'case_id': 'VARCHAR', 'received_at': 'TIMESTAMP', "
               f"'closed_at': 'TIMESTAMP', 'due_at': 'TIMESTAMP', 'lon': 'DOUBLE', 'lat': 'DOUBLE', "
               f"'followup_valid': 'VARCHAR', 'resolved': 'VARCHAR', 'satisfaction': 'VARCHAR'}})")
        con.execute(f"CREATE TABLE cases AS SELECT * FROM {src}")
    else:
        ts = lambda c: f"strptime(NULLIF({c}, ''), '{TS_FORMAT}') AS {c}"
        con.execute(
            f"CREATE TABLE cases AS SELECT case_id, {ts('received_at')}, {ts('closed_at')}, {ts('due_at')}, "
            f"CAST(lon AS DOUBLE) AS lon, CAST(lat AS DOUBLE) AS lat, followup_valid, resolved, satisfaction "
            f"FROM read_parquet({sql_str(data_dir / 'cases.parquet')})")
    st.lap("read_cases")

    # The join: points of located cases × grids on ST_Intersects (DuckDB plans a SPATIAL_JOIN
    # with an R-tree built on the fly), then the smallest grid_code per case.
    con.execute(
        "CREATE TABLE assigned AS "
        "SELECT p.rid, min(g.grid_code) AS grid_code, count(*) AS n_grids "
        "FROM (SELECT rowid AS rid, ST_Point(lon, lat) AS pt FROM cases "
        "      WHERE lon IS NOT NULL AND lat IS NOT NULL AND isfinite(lon) AND isfinite(lat)) p "
        "JOIN grids g ON ST_Intersects(g.geom, p.pt) "
        "GROUP BY p.rid")
    st.lap("join")
    points = con.execute("SELECT count(*) FROM cases WHERE lon IS NOT NULL AND lat IS NOT NULL "
                         "AND isfinite(lon) AND isfinite(lat)").fetchone()[0]
    assigned = con.execute("SELECT count(*) FROM assigned").fetchone()[0]

    as_of = f"TIMESTAMP '{AS_OF}'"
    fu = "c.followup_valid = '1'"
    # docs/indicators.md: a case is closed when closed_at < T and open otherwise; a closing
    # before the receipt is unknown (neither); a case received at or after T is in no count.
    known = "(c.closed_at IS NULL OR c.closed_at >= c.received_at)"
    is_open = f"({known} AND (c.closed_at IS NULL OR c.closed_at >= {as_of}))"
    is_closed = f"({known} AND c.closed_at < {as_of})"
    con.execute(
        f"""COPY (
        SELECT grid_code, cases,
               CASE WHEN followups > 0 THEN resolved::DOUBLE / followups END AS resolution_rate,
               CASE WHEN followups > 0 THEN (satisfied + {BASIC_WEIGHT} * basic) / followups END AS satisfaction_rate,
               handling_hours_median,
               CASE WHEN open > 0 THEN overdue_open::DOUBLE / open END AS overdue_open_rate
        FROM (
            SELECT a.grid_code,
                   count(*) AS cases,
                   count(*) FILTER (WHERE {fu}) AS followups,
                   count(*) FILTER (WHERE {fu} AND c.resolved = '1') AS resolved,
                   count(*) FILTER (WHERE {fu} AND c.satisfaction = '{SAT}') AS satisfied,
                   count(*) FILTER (WHERE {fu} AND c.satisfaction = '{BASIC}') AS basic,
                   count(*) FILTER (WHERE {is_open}) AS open,
                   count(*) FILTER (WHERE {is_open} AND c.due_at < {as_of}) AS overdue_open,
                   quantile_cont(CASE WHEN {is_closed}
                                      THEN date_diff('second', c.received_at, c.closed_at) / 3600.0 END, 0.5)
                       AS handling_hours_median
            FROM assigned a JOIN cases c ON c.rowid = a.rid
            WHERE c.received_at < {as_of} AND c.received_at >= TIMESTAMP '{PERIOD[0]}' AND c.received_at < TIMESTAMP '{PERIOD[1]}'
            GROUP BY a.grid_code)
        ORDER BY grid_code
        ) TO {sql_str(out_csv)} (HEADER, DELIMITER ',')""")
    st.lap("aggregate_write")
    rows = con.execute("SELECT count(*) FROM cases").fetchone()[0]
    on_boundary = con.execute("SELECT count(*) FROM assigned WHERE n_grids > 1").fetchone()[0]
    return {"rows": rows, "points": points, "assigned": assigned, "points_in_several_grids": on_boundary}


def run_geopandas(inp, data_dir, out_csv, threads, st):
    import geopandas as gpd
    import numpy as np
    import pandas as pd

    st.lap("import")
    grids = gpd.read_file(data_dir / "grids.geojson", columns=["grid_code"], engine="pyogrio", use_arrow=True)
    grids["grid_code"] = grids["grid_code"].astype(str)
    st.lap("read_grids")

    str_cols = ["case_id", "received_at", "closed_at", "due_at", "followup_valid", "resolved", "satisfaction"]
    if export_shape(data_dir):
        if inp == "csv":
            cases = pd.read_csv(data_dir / "cases.csv", engine="pyarrow", dtype=str,
                                usecols=["case_id", "received_at", "closed_at", "due_at", "lon", "lat", "contacted", "resolved"])
            for c in ("lon", "lat"):
                cases[c] = pd.to_numeric(cases[c])
            # The text's +08:00, dropped: local times.
            for c in ("received_at", "closed_at", "due_at"):
                cases[c] = pd.to_datetime(cases[c].str.slice(0, 19), format="%Y-%m-%dT%H:%M:%S")
            answer = lambda c: cases[c].isin(["true", "false"])
            yes = lambda c: cases[c] == "true"
        else:
            cases = pd.read_parquet(data_dir / "cases.parquet",
                                    columns=["case_id", "received_at", "closed_at", "due_at", "lon", "lat", "contacted", "resolved"])
            for c in ("received_at", "closed_at", "due_at"):
                cases[c] = cases[c].dt.tz_convert("Asia/Shanghai").dt.tz_localize(None)
            answer = lambda c: cases[c].notna()
            yes = lambda c: cases[c].fillna(False).astype(bool)
        cases["followup_valid"] = np.where(answer("contacted") | answer("resolved"), "1", "0")
        cases["resolved"] = np.where(yes("resolved"), "1", "0")
        cases["satisfaction"] = None
        cases = cases.reset_index(drop=True)
    elif inp == "csv":
        cases = pd.read_csv(data_dir / "cases.csv", engine="pyarrow",
                            dtype={**{c: "str" for c in str_cols}, "lon": "float64", "lat": "float64"})
    else:
        cases = pd.read_parquet(data_dir / "cases.parquet")
    if not export_shape(data_dir):
        cases = cases.reset_index(drop=True)
        for c in ("received_at", "closed_at", "due_at"):
            cases[c] = pd.to_datetime(cases[c].replace("", None), format=TS_FORMAT)
    st.lap("read_cases")

    lon = cases["lon"].to_numpy(dtype="float64", na_value=np.nan)
    lat = cases["lat"].to_numpy(dtype="float64", na_value=np.nan)
    located = np.isfinite(lon) & np.isfinite(lat)
    pts = gpd.GeoDataFrame(index=cases.index[located],
                           geometry=gpd.points_from_xy(lon[located], lat[located]), crs=grids.crs)
    joined = gpd.sjoin(pts, grids[["grid_code", "geometry"]], how="inner", predicate="intersects")
    grid_of = joined.groupby(level=0)["grid_code"].min()  # smallest code wins on shared boundaries
    st.lap("join")

    as_of = pd.Timestamp(AS_OF)
    assigned = int(len(grid_of))
    received = cases.loc[grid_of.index, "received_at"]
    in_period = (received < as_of) & (received >= pd.Timestamp(PERIOD[0])) & (received < pd.Timestamp(PERIOD[1]))
    grid_of = grid_of[in_period.to_numpy()]
    df = cases.loc[grid_of.index]
    fu = (df["followup_valid"] == "1").to_numpy()
    # docs/indicators.md: closed when closed_at < T, open otherwise; a closing before the
    # receipt is unknown (neither open nor closed).
    known = (df["closed_at"].isna() | (df["closed_at"] >= df["received_at"])).to_numpy()
    closed = known & (df["closed_at"].notna() & (df["closed_at"] < as_of)).to_numpy()
    is_open = known & ~closed
    hours = (df["closed_at"] - df["received_at"]).dt.total_seconds().to_numpy() / 3600.0
    t = pd.DataFrame({
        "grid_code": grid_of.to_numpy(),
        "cases": 1,
        "followups": fu.astype("int64"),
        "resolved": (fu & (df["resolved"] == "1").to_numpy()).astype("int64"),
        "satisfied": (fu & (df["satisfaction"] == SAT).to_numpy()).astype("int64"),
        "basic": (fu & (df["satisfaction"] == BASIC).to_numpy()).astype("int64"),
        "open": is_open.astype("int64"),
        "overdue_open": (is_open & (df["due_at"] < as_of).to_numpy()).astype("int64"),
        "hours": np.where(closed, hours, np.nan),
    })
    g = t.groupby("grid_code", sort=True)
    s = g[["cases", "followups", "resolved", "satisfied", "basic", "open", "overdue_open"]].sum()
    s["handling_hours_median"] = g["hours"].median()  # NaN skipped; type 7 interpolation
    fud = s["followups"].where(s["followups"] > 0)
    opd = s["open"].where(s["open"] > 0)
    out = pd.DataFrame({
        "grid_code": s.index,
        "cases": s["cases"].to_numpy(),
        "resolution_rate": (s["resolved"] / fud).to_numpy(),
        "satisfaction_rate": ((s["satisfied"] + BASIC_WEIGHT * s["basic"]) / fud).to_numpy(),
        "handling_hours_median": s["handling_hours_median"].to_numpy(),
        "overdue_open_rate": (s["overdue_open"] / opd).to_numpy(),
    })
    out.to_csv(out_csv, index=False, float_format="%.17g")
    st.lap("aggregate_write")
    on_boundary = int(joined.index[joined.index.duplicated()].nunique())
    return {"rows": len(cases), "points": int(located.sum()), "assigned": assigned,
            "points_in_several_grids": on_boundary}


def run_sedonadb(inp, data_dir, out_csv, threads, st):
    import warnings

    warnings.filterwarnings("ignore")  # its PROJ and GDAL discovery warnings: neither is used here
    import sedonadb

    st.lap("import")
    if inp != "parquet":
        raise SystemExit("sedonadb reads the Parquet case files: run with --peer-inputs parquet")
    con = sedonadb.connect()
    con.sql(f"SET datafusion.execution.target_partitions = {int(threads)}").execute()
    st.lap("load_extension")
    con.read_pyogrio(str(data_dir / "grids.geojson")).to_view("grids_raw")
    con.sql("SELECT CAST(grid_code AS VARCHAR) AS grid_code, wkb_geometry AS geom FROM grids_raw").to_memtable().to_view("grids")
    st.lap("read_grids")

    # Times as epoch seconds; the bounds below are local times moved by the offset the file's
    # times carry (the export's zoned times are instants; the lattice's text is local time,
    # which to_timestamp reads as UTC).
    export = export_shape(data_dir)
    offset = 8 * 3600 if export else 0
    con.read_parquet(str(data_dir / "cases.parquet")).to_view("cases_raw")
    if export:
        t = lambda c: f"to_unixtime({c}) AS {c}"
        fu, res, sat, basic = "(contacted IS NOT NULL OR resolved IS NOT NULL)", "(resolved = true)", "false", "false"
    else:
        t = lambda c: f"to_unixtime(to_timestamp(NULLIF({c}, ''))) AS {c}"
        fu, res = "(followup_valid = '1')", "(resolved = '1')"
        sat, basic = f"(satisfaction = '{SAT}')", f"(satisfaction = '{BASIC}')"
    con.sql(f"SELECT case_id, {t('received_at')}, {t('closed_at')}, {t('due_at')}, CAST(lon AS DOUBLE) AS lon, "
            f"CAST(lat AS DOUBLE) AS lat, {fu} AS fu, {fu} AND {res} AS res, {fu} AND {sat} AS sat, "
            f"{fu} AND {basic} AS basic FROM cases_raw").to_memtable().to_view("cases")
    st.lap("read_cases")

    con.sql("SELECT c.case_id, min(g.grid_code) AS grid_code, count(*) AS n_grids FROM cases c "
            "JOIN grids g ON ST_Intersects(g.geom, ST_SetSRID(ST_Point(c.lon, c.lat), 4326)) "
            "WHERE c.lon IS NOT NULL AND c.lat IS NOT NULL AND NOT isnan(c.lon) AND NOT isnan(c.lat) "
            "GROUP BY c.case_id").to_memtable().to_view("assigned")
    st.lap("join")
    one = lambda q: con.sql(q).to_pandas().iloc[0, 0]
    points = int(one("SELECT count(*) FROM cases WHERE lon IS NOT NULL AND lat IS NOT NULL AND NOT isnan(lon) AND NOT isnan(lat)"))
    assigned = int(one("SELECT count(*) FROM assigned"))

    epoch = lambda ts: int(datetime.strptime(ts, "%Y-%m-%d %H:%M:%S").replace(tzinfo=timezone.utc).timestamp()) - offset
    as_of, p0, p1 = epoch(AS_OF), epoch(PERIOD[0]), epoch(PERIOD[1])
    known = "(c.closed_at IS NULL OR c.closed_at >= c.received_at)"
    is_open = f"({known} AND (c.closed_at IS NULL OR c.closed_at >= {as_of}))"
    is_closed = f"({known} AND c.closed_at < {as_of})"
    n = lambda cond: f"sum(CASE WHEN {cond} THEN 1 ELSE 0 END)"
    table = con.sql(
        f"""SELECT grid_code, cases,
               CASE WHEN followups > 0 THEN CAST(resolved AS DOUBLE) / followups END AS resolution_rate,
               CASE WHEN followups > 0 THEN (satisfied + {BASIC_WEIGHT} * basic) / followups END AS satisfaction_rate,
               handling_hours_median,
               CASE WHEN open > 0 THEN CAST(overdue_open AS DOUBLE) / open END AS overdue_open_rate
        FROM (
            SELECT a.grid_code, count(*) AS cases, {n('c.fu')} AS followups, {n('c.res')} AS resolved,
                   {n('c.sat')} AS satisfied, {n('c.basic')} AS basic, {n(is_open)} AS open,
                   {n(f"{is_open} AND c.due_at < {as_of}")} AS overdue_open,
                   median(CASE WHEN {is_closed} THEN (c.closed_at - c.received_at) / 3600.0 END) AS handling_hours_median
            FROM assigned a JOIN cases c ON c.case_id = a.case_id
            WHERE c.received_at < {as_of} AND c.received_at >= {p0} AND c.received_at < {p1}
            GROUP BY a.grid_code) t
        ORDER BY grid_code""").to_pandas()
    table.to_csv(out_csv, index=False, float_format="%.17g")
    st.lap("aggregate_write")
    rows = int(one("SELECT count(*) FROM cases"))
    on_boundary = int(one("SELECT count(*) FROM assigned WHERE n_grids > 1"))
    return {"rows": rows, "points": points, "assigned": assigned, "points_in_several_grids": on_boundary}


def worker(argv):
    tool, inp, data_dir, out_csv, stats_json, threads = argv
    st = Stages()
    fn = {"duckdb": run_duckdb, "geopandas": run_geopandas, "sedonadb": run_sedonadb}[tool]
    counts = fn(inp, Path(data_dir), Path(out_csv), int(threads), st)
    stats = {"stages_s": st.s, **counts, "in_process_s": round(time.perf_counter() - _T_START, 6)}
    stats["join_s"] = st.s["join"]
    stats["work_s"] = round(sum(v for k, v in st.s.items() if k != "import"), 6)
    stats["join_points_per_s"] = round(counts["points"] / st.s["join"]) if st.s["join"] > 0 else None
    Path(stats_json).write_text(json.dumps(stats))


# ---------------------------------------------------------------------------------------------
# Orchestrator
# ---------------------------------------------------------------------------------------------

TIME = Path("/usr/bin/time")


def run_child(cmd, env, log_prefix):
    """Runs one child; returns (wall seconds, peak RSS MiB of that child). Fails loudly.

    Peak RSS comes from GNU time (`/usr/bin/time -f %M`), which starts the child from its own
    small process: Linux counts the RSS high-water mark of the process that forked a child into
    the child's ru_maxrss, so measuring with wait4 from this (larger) Python process would add
    its own size. Without /usr/bin/time, wait4's figure is used and may be inflated that way."""
    rss_file = log_prefix + ".rss"
    use_time = TIME.exists()
    full = [str(TIME), "-f", "%M", "-o", rss_file] + list(map(str, cmd)) if use_time else list(map(str, cmd))
    with open(log_prefix + ".out", "wb") as out, open(log_prefix + ".err", "wb") as err:
        t0 = time.perf_counter()
        p = subprocess.Popen(full, stdout=out, stderr=err, stdin=subprocess.DEVNULL, env=env)
        _, status, ru = os.wait4(p.pid, 0)
        wall = time.perf_counter() - t0
        p.returncode = os.waitstatus_to_exitcode(status)
    if p.returncode != 0:
        tail = Path(log_prefix + ".err").read_text(errors="replace")[-3000:]
        raise SystemExit(f"command failed (exit {p.returncode}): {' '.join(map(str, cmd))}\n{tail}")
    kib = ru.ru_maxrss  # KiB on Linux
    if use_time:
        lines = [x for x in Path(rss_file).read_text().split() if x.strip().isdigit()]
        kib = int(lines[-1])
    return wall, kib / 1024.0


class Job:
    """One tool on one input file; for gridgov, `variant` "" is its pipeline with every output
    and "table" the same run writing only what the peers write (pipeline_<input>_table.toml)."""

    def __init__(self, tool, inp, args, data_dir, scratch, variant=""):
        self.tool, self.inp, self.args, self.data_dir, self.scratch = tool, inp, args, data_dir, scratch
        self.variant = variant
        self.name = f"{tool}-{inp}" + (f"-{variant}" if variant else "")

    def run(self, tag):
        env = dict(os.environ)
        t = str(self.args.threads)
        env.update({"RAYON_NUM_THREADS": t, "POLARS_MAX_THREADS": t, "OMP_NUM_THREADS": t})
        work = self.scratch / f"{self.name}-{tag}"
        work.mkdir(parents=True)
        if self.tool == "gridgov":
            pipeline = self.data_dir / (f"pipeline_{self.inp}_{self.variant}.toml" if self.variant else f"pipeline_{self.inp}.toml")
            cmd = [str(self.args.gridgov), "run", str(pipeline), "--output-dir", str(work / "gg"), "-q"]
            wall, rss = run_child(cmd, env, str(work / "log"))
            latest = work / "gg" / "latest"
            stats = {}
            man = latest / "manifest.json"
            if man.exists():
                m = json.loads(man.read_text())
                stats["stages_s"] = m.get("timings_seconds", {})
                j = m.get("join", {})
                # join_s: building the index and locating the points (join_index + join), like
                # the peers' join laps; the manifest's point-location time and rate beside it.
                st = stats["stages_s"]
                js = st.get("join_index", 0.0) + st.get("join", j.get("seconds") or 0.0)
                pts = j.get("points")
                stats.update({"points": pts, "assigned": j.get("assigned"), "join_s": js,
                              "join_points_per_s": round(pts / js) if pts and js else None,
                              "manifest_join_s": j.get("seconds"),
                              "manifest_join_points_per_s": j.get("points_per_second")})
            table = latest / "grid.csv"
        else:
            table, stats_json = work / "grid.csv", work / "stats.json"
            cmd = [sys.executable, str(Path(__file__).resolve()), "_worker", self.tool, self.inp,
                   str(self.data_dir), str(table), str(stats_json), t]
            wall, rss = run_child(cmd, env, str(work / "log"))
            stats = json.loads(stats_json.read_text())
        return work, table, {"wall_s": round(wall, 4), "peak_rss_mib": round(rss, 1), **stats}


def read_table(path):
    """grid_code → {column: value}; codes as strings, '' → None; grids with cases > 0 only."""
    out = {}
    with open(path, newline="", encoding="utf-8-sig") as f:
        for r in csv.DictReader(f):
            cases = int(float(r["cases"]))
            if cases == 0:
                continue
            row = {"cases": cases}
            for c in FLOAT_COLUMNS:
                v = (r.get(c) or "").strip()
                row[c] = None if v == "" or v.lower() in ("nan", "null") else float(v)
            out[r["grid_code"]] = row
    return out


def tolerance(col, rounded):
    # gridgov publishes rates with 4 decimals and hours with 2: half a unit of rounding plus the
    # stated tolerance. Between two full-precision tables only floating-point noise is allowed.
    if not rounded:
        return 1e-9
    return 0.5e-4 + 1e-4 if col != "handling_hours_median" else 0.01


def compare(a_name, a, b_name, b, rounded):
    """Returns (report dict, list of problem strings)."""
    problems = []
    only_a, only_b = sorted(set(a) - set(b)), sorted(set(b) - set(a))
    if only_a:
        problems.append(f"{len(only_a)} grids with cases only in {a_name}: {only_a[:5]}")
    if only_b:
        problems.append(f"{len(only_b)} grids with cases only in {b_name}: {only_b[:5]}")
    common = sorted(set(a) & set(b))
    maxdiff = {c: 0.0 for c in ["cases"] + FLOAT_COLUMNS}
    bad = []
    for code in common:
        ra, rb = a[code], b[code]
        wrong = []
        for c in maxdiff:
            va, vb = ra[c], rb[c]
            if va is None or vb is None:
                if (va is None) != (vb is None):
                    wrong.append(c)  # null in one table only
                continue
            d = abs(va - vb)
            maxdiff[c] = max(maxdiff[c], d)
            if d > (0 if c == "cases" else tolerance(c, rounded)):
                wrong.append(c)
        if wrong:
            bad.append((code, wrong))
    for code, wrong in bad[:8]:
        problems.append(f"grid {code}: {', '.join(wrong)} differ: {a_name} {a[code]} vs {b_name} {b[code]}")
    if len(bad) > 8:
        problems.append(f"... {len(bad)} differing grids in all")
    rep = {"pair": f"{a_name} vs {b_name}", "grids_compared": len(common), "grids_only_in_first": len(only_a),
           "grids_only_in_second": len(only_b), "differing_grids": len(bad),
           "max_abs_diff": {k: (v if math.isfinite(v) else None) for k, v in maxdiff.items()}}
    return rep, problems


def versions():
    out = {"python": platform.python_version()}
    for m in ("duckdb", "geopandas", "shapely", "pyogrio", "pandas", "numpy", "pyarrow", "sedonadb"):
        try:
            from importlib.metadata import version
            out[m] = version(m)
        except Exception:
            out[m] = None
    try:
        from importlib.metadata import version
        out["duckdb-extension-spatial"] = version("duckdb-extension-spatial")
    except Exception:
        out["duckdb-extension-spatial"] = None
    try:
        import pyogrio
        out["gdal (pyogrio)"] = pyogrio.__gdal_version_string__
        import shapely
        out["geos (shapely)"] = shapely.geos_version_string
    except Exception:
        pass
    return out


def machine():
    cpu = ""
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {"nproc": os.cpu_count(), "cpu": cpu, "platform": platform.platform(),
            "loadavg_at_start": os.getloadavg() if hasattr(os, "getloadavg") else None}


def fmt_s(v):
    return f"{v:.2f}" if v >= 0.995 else f"{v:.3f}"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--size", required=True, help="bench size folder under --data (S, M, L, or S-export, M-export, … for --shape export)")
    ap.add_argument("--runs", type=int, default=3, help="timed runs per tool and input (default 3)")
    ap.add_argument("--gridgov", default=None, help="gridgov binary (default <repo>/target/release/gridgov)")
    ap.add_argument("--data", default=None, help="folder with <SIZE>/ (default <repo>/bench-data)")
    ap.add_argument("--tools", default="gridgov,duckdb,geopandas", help="comma list (default all three)")
    ap.add_argument("--peer-inputs", default="csv",
                    help="case files the peers read: csv, parquet or csv,parquet (default csv; gridgov always "
                         "runs both of its pipelines)")
    ap.add_argument("--out", default=None, help="results folder (default <repo>/benches/peers/results)")
    ap.add_argument("--threads", type=int, default=2, help="threads for every tool (default 2)")
    ap.add_argument("--skip-timing", action="store_true", help="agreement check only")
    ap.add_argument("--keep", action="store_true", help="keep the scratch folder with every run's output")
    args = ap.parse_args()

    args.gridgov = Path(args.gridgov) if args.gridgov else REPO / "target" / "release" / "gridgov"
    data_dir = (Path(args.data) if args.data else REPO / "bench-data") / args.size
    out_dir = Path(args.out) if args.out else HERE / "results"
    tools = [t.strip() for t in args.tools.split(",") if t.strip()]
    for t in tools:
        if t not in ("gridgov",) + PEERS:
            ap.error(f"unknown tool {t!r}")
    peer_inputs = [i.strip() for i in args.peer_inputs.split(",") if i.strip()]
    if not data_dir.is_dir():
        raise SystemExit(f"no data folder {data_dir}: run `gridgov synth bench --size {args.size} --out bench-data`")
    data_dir = data_dir.resolve()

    jobs = []
    scratch = Path(tempfile.mkdtemp(prefix=f"peers-{args.size}-"))
    if "gridgov" in tools:
        if not args.gridgov.exists():
            raise SystemExit(f"no gridgov binary at {args.gridgov} (--gridgov PATH)")
        args.gridgov = args.gridgov.resolve()
        for inp in ("csv", "parquet"):
            if (data_dir / f"pipeline_{inp}.toml").exists():
                jobs.append(Job("gridgov", inp, args, data_dir, scratch))
            if (data_dir / f"pipeline_{inp}_table.toml").exists():
                jobs.append(Job("gridgov", inp, args, data_dir, scratch, "table"))
    for t in tools:
        if t == "sedonadb":  # reads Parquet only
            jobs.append(Job(t, "parquet", args, data_dir, scratch))
        elif t in PEERS:
            for inp in peer_inputs:
                jobs.append(Job(t, inp, args, data_dir, scratch))
    if len(jobs) < 2:
        raise SystemExit("need at least two tool runs to compare")

    result = {"size": args.size, "data": str(data_dir), "started_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
              "threads": args.threads, "runs": args.runs, "as_of": AS_OF,
              "peak_rss_from": "/usr/bin/time -f %M" if TIME.exists() else "wait4 ru_maxrss (includes the launcher at fork)", "machine": machine(), "versions": versions()}
    if "gridgov" in tools:
        try:
            result["versions"]["gridgov"] = subprocess.run([str(args.gridgov), "--version"], capture_output=True,
                                                           text=True, timeout=30).stdout.strip()
        except Exception:
            pass
    try:
        # ---- 1. Agreement -------------------------------------------------------------------
        print(f"## Agreement on {data_dir} ({len(jobs)} tool runs)", flush=True)
        tables, first_runs = {}, {}
        for job in jobs:
            work, table, stats = job.run("check")
            tables[job.name] = (read_table(table), job.tool == "gridgov")
            first_runs[job.name] = stats
            print(f"  {job.name:18s} {len(tables[job.name][0]):6d} grids with cases  "
                  f"{stats.get('assigned', '?')} cases assigned  ({stats['wall_s']:.2f} s)", flush=True)
            if not args.keep:
                shutil.rmtree(work, ignore_errors=True)
        reports, problems = [], []
        names = list(tables)
        for i in range(len(names)):
            for j in range(i + 1, len(names)):
                (ta, ra), (tb, rb) = tables[names[i]], tables[names[j]]
                rep, prob = compare(names[i], ta, names[j], tb, ra or rb)
                reports.append(rep)
                problems += [f"[{rep['pair']}] {p}" for p in prob]
        print()
        print("| pair | grids compared | max |Δ| cases | resolution | satisfaction | hours median | overdue open |")
        print("|---|---:|---:|---:|---:|---:|---:|")
        for r in reports:
            m = r["max_abs_diff"]
            print(f"| {r['pair']} | {r['grids_compared']} | {m['cases']:g} | {m['resolution_rate']:.2e} | "
                  f"{m['satisfaction_rate']:.2e} | {m['handling_hours_median']:.2e} | {m['overdue_open_rate']:.2e} |")
        assigned = {n: s.get("assigned") for n, s in first_runs.items()}
        result["agreement"] = {"ok": not problems, "pairs": reports, "assigned_cases": assigned,
                               "problems": problems[:50]}
        several = {n: s.get("points_in_several_grids") for n, s in first_runs.items() if s.get("points_in_several_grids") is not None}
        result["agreement"]["points_in_several_grids"] = several
        print(f"\nassigned cases: {assigned}")
        print(f"cases whose point lies in several grids' closed areas (decided by the smallest code): {several}")
        if problems:
            print("\nDISAGREEMENT:")
            for p in problems[:20]:
                print("  " + p)
            write_result(out_dir, args.size, result)
            return 1
        print("all tables agree on every grid\n", flush=True)
        if args.skip_timing:
            write_result(out_dir, args.size, result)
            return 0

        # ---- 2. Timing ----------------------------------------------------------------------
        print(f"## Timing: {args.runs} runs each, {args.threads} threads, tools interleaved", flush=True)
        runs = {j.name: [] for j in jobs}
        for r in range(args.runs):
            for job in jobs:
                work, _, stats = job.run(f"run{r}")
                runs[job.name].append(stats)
                print(f"  run {r + 1}/{args.runs} {job.name:18s} {stats['wall_s']:8.3f} s  "
                      f"{stats['peak_rss_mib']:8.1f} MiB", flush=True)
                if not args.keep:
                    shutil.rmtree(work, ignore_errors=True)
        timing = {}
        for job in jobs:
            rs = runs[job.name]
            walls = [x["wall_s"] for x in rs]
            joins = [x["join_s"] for x in rs if x.get("join_s") is not None]
            pps = [x["join_points_per_s"] for x in rs if x.get("join_points_per_s")]
            timing[job.name] = {
                "tool": job.tool, "input": job.inp, "variant": job.variant,
                "wall_s": {"median": statistics.median(walls), "min": min(walls), "max": max(walls)},
                "peak_rss_mib_median": statistics.median(x["peak_rss_mib"] for x in rs),
                "join_s_median": statistics.median(joins) if joins else None,
                "join_points_per_s_median": statistics.median(pps) if pps else None,
                "work_s_median": statistics.median(x["work_s"] for x in rs) if all("work_s" in x for x in rs) else None,
                "runs": rs,
            }
        for name, t in timing.items():
            if t["tool"] != "gridgov":
                for key, gname in (("gridgov_speedup", f"gridgov-{t['input']}"), ("gridgov_table_speedup", f"gridgov-{t['input']}-table")):
                    gg = timing.get(gname)
                    t[key] = round(t["wall_s"]["median"] / gg["wall_s"]["median"], 2) if gg else None
        result["timing"] = timing
        result["finished_at"] = datetime.now(timezone.utc).isoformat(timespec="seconds")
        md = markdown(args, timing, first_runs)
        result["markdown"] = md
        print()
        print(md)
        path = write_result(out_dir, args.size, result)
        print(f"\nwrote {path}")
        return 0
    finally:
        if not args.keep:
            shutil.rmtree(scratch, ignore_errors=True)
        else:
            print(f"kept {scratch}")


def markdown(args, timing, first_runs):
    lines = [
        "| tool | input | median wall s | (min–max) | peak RSS MiB | join s (points/s) | gridgov speed-up: all outputs / same output |",
        "|---|---|---:|---:|---:|---:|---:|",
    ]
    for name, t in timing.items():
        w = t["wall_s"]
        j = t["join_s_median"]
        p = t["join_points_per_s_median"]
        jtxt = f"{j:.3f} ({p / 1e6:.2f} M/s)" if j is not None and p else "–"
        sp, st = t.get("gridgov_speedup"), t.get("gridgov_table_speedup")
        sptxt = " / ".join(f"{x:.1f}×" if x else "–" for x in (sp, st)) if t["tool"] != "gridgov" else "–"
        tool = t["tool"] + (" + spatial" if t["tool"] == "duckdb" else "") + (" (per-grid table only)" if t.get("variant") == "table" else "")
        lines.append(f"| {tool} | {t['input']} | {fmt_s(w['median'])} | ({fmt_s(w['min'])}–{fmt_s(w['max'])}) | "
                     f"{t['peak_rss_mib_median']:.0f} | {jtxt} | {sptxt} |")
    return "\n".join(lines)


def write_result(out_dir, size, result):
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / f"{size}.json"
    path.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return path


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "_worker":
        worker(sys.argv[2:])
    else:
        sys.exit(main())

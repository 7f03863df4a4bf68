//! `gridgov synth bench`: benchmark data at fixed sizes, the same files for gridgov and its peers.
//!
//! Grids: a warped lattice over a Beijing-sized box (lon 115.9–116.9, lat 39.6–40.3): columns
//! and rows are narrow in the middle and wide at the edges (as grids are small in the centre
//! of a city and large at its edge: cell areas differ up to 16 times), shared corners are
//! jittered and shared edges carry 14 noisy intermediate points, so each cell has ~60 vertices
//! and neighbours share every vertex exactly (the cells tile the box). Every
//! 37th cell has a square hole filled by an enclave grid; every 101st cell is merged with its
//! diagonal neighbour into a MultiPolygon. Cases: hot spots, a daily cycle, realistic nulls, and
//! 0.1 % of points exactly on shared vertices (where the boundary rule decides).

use chrono::{Duration, NaiveDate, NaiveDateTime};
use polars::prelude::*;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::io::Write;
use std::path::{Path, PathBuf};

use super::SynthError;

/// A benchmark size: grids (approximately) and case rows.
#[derive(Debug, Clone, Copy)]
pub struct BenchSize {
    pub name: &'static str,
    pub cols: usize,
    pub rows: usize,
    pub cases: usize,
    /// XL writes Parquet only, in chunks of this many rows per file.
    pub parquet_only: bool,
}

pub const SIZES: [BenchSize; 4] = [
    BenchSize { name: "S", cols: 50, rows: 40, cases: 200_000, parquet_only: false },
    BenchSize { name: "M", cols: 200, rows: 150, cases: 2_000_000, parquet_only: false },
    BenchSize { name: "L", cols: 200, rows: 150, cases: 10_000_000, parquet_only: false },
    BenchSize { name: "XL", cols: 200, rows: 150, cases: 100_000_000, parquet_only: true },
];

const LON: (f64, f64) = (115.9, 116.9);
const LAT: (f64, f64) = (39.6, 40.3);
const EDGE_POINTS: usize = 14;
/// Rows per Parquet file of XL; the other sizes write one file.
const XL_CHUNK_ROWS: usize = 5_000_000;

fn r6(v: f64) -> f64 {
    (v * 1e6).round() / 1e6
}

/// A deterministic hash for per-vertex and per-edge noise (splitmix64).
fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

fn unit(h: u64) -> f64 {
    (h >> 11) as f64 / (1u64 << 53) as f64 * 2.0 - 1.0
}

struct Lattice {
    cols: usize,
    rows: usize,
    dx: f64,
    dy: f64,
    seed: u64,
}

impl Lattice {
    /// Position along an axis of lattice line `t` of `n`: the warp w(u) = u - a·sin(2πu)/(2π)
    /// has slope 1 - a·cos(2πu), so lines are 1 - a apart (in cells) in the middle and 1 + a
    /// at the ends.
    fn warp(t: f64, n: usize) -> f64 {
        const A: f64 = 0.6;
        let u = t / n as f64;
        (u - A * (std::f64::consts::TAU * u).sin() / std::f64::consts::TAU) * n as f64
    }

    /// Width of the cell column (or row) at lattice position `t`, in nominal cells.
    fn local(t: f64, n: usize) -> f64 {
        Self::warp(t + 0.5, n) - Self::warp(t - 0.5, n)
    }

    fn corner(&self, i: usize, j: usize) -> (f64, f64) {
        let (fi, fj) = (Self::warp(i as f64, self.cols), Self::warp(j as f64, self.rows));
        let (mut x, mut y) = (LON.0 + fi * self.dx, LAT.0 + fj * self.dy);
        // Border corners stay on the box so the tiling covers it exactly; jitter scales with
        // the local cell size.
        if i > 0 && i < self.cols {
            x += unit(mix(self.seed ^ ((i as u64) << 32 | j as u64))) * 0.15 * self.dx * Self::local(i as f64, self.cols);
        }
        if j > 0 && j < self.rows {
            y += unit(mix(self.seed ^ 0x5555 ^ ((i as u64) << 32 | j as u64))) * 0.15 * self.dy * Self::local(j as f64, self.rows);
        }
        (r6(x), r6(y))
    }

    /// Intermediate points of the edge from corner a to corner b (a < b in lattice order),
    /// with a small sideways wobble; the same for both cells that share the edge.
    fn edge(&self, a: (usize, usize), b: (usize, usize)) -> Vec<(f64, f64)> {
        let (pa, pb) = (self.corner(a.0, a.1), self.corner(b.0, b.1));
        let border = (a.0 == b.0 && (a.0 == 0 || a.0 == self.cols)) || (a.1 == b.1 && (a.1 == 0 || a.1 == self.rows));
        let id = self.seed ^ 0xABCD ^ ((a.0 as u64) << 48 | (a.1 as u64) << 32 | (b.0 as u64) << 16 | b.1 as u64);
        let (nx, ny) = (-(pb.1 - pa.1), pb.0 - pa.0);
        (1..=EDGE_POINTS)
            .map(|k| {
                let t = k as f64 / (EDGE_POINTS + 1) as f64;
                let w = if border { 0.0 } else { unit(mix(id ^ k as u64)) * 0.03 };
                (r6(pa.0 + (pb.0 - pa.0) * t + nx * w), r6(pa.1 + (pb.1 - pa.1) * t + ny * w))
            })
            .collect()
    }

    /// The counter-clockwise exterior ring of cell (i, j), closed.
    fn ring(&self, i: usize, j: usize) -> Vec<(f64, f64)> {
        let mut r = vec![self.corner(i, j)];
        r.extend(self.edge((i, j), (i + 1, j)));
        r.push(self.corner(i + 1, j));
        r.extend(self.edge((i + 1, j), (i + 1, j + 1)));
        r.push(self.corner(i + 1, j + 1));
        r.extend(self.edge((i, j + 1), (i + 1, j + 1)).into_iter().rev());
        r.push(self.corner(i, j + 1));
        r.extend(self.edge((i, j), (i, j + 1)).into_iter().rev());
        r.push(self.corner(i, j));
        r
    }

    /// The square hole of cell (i, j): 20 % of the cell around its nominal centre, clockwise.
    fn hole(&self, i: usize, j: usize) -> Vec<(f64, f64)> {
        let (ci, cj) = (i as f64 + 0.5, j as f64 + 0.5);
        let (cx, cy) = (LON.0 + Self::warp(ci, self.cols) * self.dx, LAT.0 + Self::warp(cj, self.rows) * self.dy);
        let (hx, hy) = (0.1 * self.dx * Self::local(ci, self.cols), 0.1 * self.dy * Self::local(cj, self.rows));
        let p = |x: f64, y: f64| (r6(x), r6(y));
        vec![p(cx - hx, cy - hy), p(cx - hx, cy + hy), p(cx + hx, cy + hy), p(cx + hx, cy - hy), p(cx - hx, cy - hy)]
    }
}

fn ring_json(r: &[(f64, f64)]) -> String {
    let pts: Vec<String> = r.iter().map(|(x, y)| format!("[{x},{y}]")).collect();
    format!("[{}]", pts.join(","))
}

/// What the case files look like.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// gridgov's own benchmark files: 9 columns, plain timestamps, rows in random time order.
    Lattice,
    /// Shaped like a real hotline export (`export_cases`).
    Export,
}

/// Writes the benchmark data set of one size into `<out>/<size>/` (`<out>/<size>-export/` for
/// the export shape); returns the folder.
pub fn write_bench(size: &BenchSize, out: &Path, seed: u64) -> Result<PathBuf, SynthError> {
    write_bench_shaped(size, out, seed, Shape::Lattice)
}

/// `write_bench` with the case files of `shape`.
pub fn write_bench_shaped(size: &BenchSize, out: &Path, seed: u64, shape: Shape) -> Result<PathBuf, SynthError> {
    let dir = if shape == Shape::Export { out.join(format!("{}-export", size.name)) } else { out.join(size.name) };
    std::fs::create_dir_all(&dir).map_err(|source| SynthError::Write { path: dir.clone(), source })?;
    let lat =
        Lattice { cols: size.cols, rows: size.rows, dx: (LON.1 - LON.0) / size.cols as f64, dy: (LAT.1 - LAT.0) / size.rows as f64, seed };
    // 1. Grids. Codes: district (6) + street (3) + community (3) + sequence (3), from blocks of
    //    the lattice, so roll-ups have something to do.
    let code = |i: usize, j: usize, extra: usize| -> String {
        let (district, street, community) = (j / 50 * 10 + i / 50, (j % 50) / 10 * 5 + (i % 50) / 10, (j % 10) / 5 * 2 + (i % 10) / 5);
        format!("1101{:02}{:03}{:03}{:03}", district, street + 1, community + 1, (j % 5) * 5 + (i % 5) + 1 + extra)
    };
    let mut feats: Vec<(String, String)> = Vec::new();
    let mut merged = vec![false; (size.cols + 1) * (size.rows + 1)];
    let mut vertices: Vec<(f64, f64)> = Vec::new();
    for j in 0..size.rows {
        for i in 0..size.cols {
            if merged[j * (size.cols + 1) + i] {
                continue;
            }
            let k = j * size.cols + i;
            let c = code(i, j, 0);
            if k % 37 == 36 {
                let hole = lat.hole(i, j);
                feats.push((
                    c.clone(),
                    format!(r#"{{"type":"Polygon","coordinates":[{},{}]}}"#, ring_json(&lat.ring(i, j)), ring_json(&hole)),
                ));
                let mut enclave = hole.clone();
                enclave.reverse();
                feats.push((code(i, j, 500), format!(r#"{{"type":"Polygon","coordinates":[{}]}}"#, ring_json(&enclave))));
            } else if k % 101 == 100 && i + 1 < size.cols && j + 1 < size.rows && (k + size.cols + 1) % 37 != 36 {
                merged[(j + 1) * (size.cols + 1) + i + 1] = true;
                feats.push((
                    c,
                    format!(
                        r#"{{"type":"MultiPolygon","coordinates":[[{}],[{}]]}}"#,
                        ring_json(&lat.ring(i, j)),
                        ring_json(&lat.ring(i + 1, j + 1))
                    ),
                ));
            } else {
                feats.push((c, format!(r#"{{"type":"Polygon","coordinates":[{}]}}"#, ring_json(&lat.ring(i, j)))));
            }
            if i > 0 && j > 0 {
                vertices.push(lat.corner(i, j));
            }
        }
    }
    feats.sort();
    let path = dir.join("grids.geojson");
    let mut w = std::io::BufWriter::new(std::fs::File::create(&path).map_err(|source| SynthError::Write { path: path.clone(), source })?);
    let werr = |source| SynthError::Write { path: path.clone(), source };
    write!(w, "{{\"type\":\"FeatureCollection\",\"name\":\"bench_grids\",\"features\":[").map_err(werr)?;
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    for (n, (c, g)) in feats.iter().enumerate() {
        let pop: u32 = rng.random_range(200..3000);
        write!(
            w,
            "{}\n{{\"type\":\"Feature\",\"id\":{c},\"properties\":{{\"grid_code\":\"{c}\",\"community_code\":\"{}\",\"street_code\":\"{}\",\"district_code\":\"{}\",\"population\":{pop},\"households\":{}}},\"geometry\":{g}}}",
            if n > 0 { "," } else { "" },
            &c[..12],
            &c[..9],
            &c[..6],
            pop * 10 / 26
        )
        .map_err(|source| SynthError::Write { path: path.clone(), source })?;
    }
    writeln!(w, "\n]}}").map_err(|source| SynthError::Write { path: path.clone(), source })?;
    w.flush().map_err(|source| SynthError::Write { path: path.clone(), source })?;

    if shape == Shape::Export {
        export_cases(&dir, size, &vertices, &mut rng)?;
        write_space(&dir, size, &mut rng)?;
        write_pipelines(&dir, size, shape)?;
        return Ok(dir);
    }
    // 2. Cases, in chunks so that XL never holds more than one chunk.
    let hot: Vec<(f64, f64)> = (0..50).map(|_| (rng.random_range(LON.0..LON.1), rng.random_range(LAT.0..LAT.1))).collect();
    let start = NaiveDate::from_ymd_opt(2026, 10, 1).and_then(|d| d.and_hms_opt(0, 0, 0)).unwrap_or_default();
    let as_of = NaiveDate::from_ymd_opt(2026, 11, 6).and_then(|d| d.and_hms_opt(0, 0, 0)).unwrap_or_default();
    // Relative weight of each hour of the day: few at night, peaks mid-morning and afternoon.
    const HOURS: [f64; 24] = [1., 0.5, 0.3, 0.3, 0.4, 0.8, 2., 4., 7., 9., 9., 8., 6., 7., 8., 8., 7., 6., 5., 4., 3., 3., 2., 1.5];
    let cum: Vec<f64> = HOURS
        .iter()
        .scan(0.0, |a, h| {
            *a += h;
            Some(*a)
        })
        .collect();
    let total_w = cum[23];
    let mut csv = if size.parquet_only {
        None
    } else {
        let p = dir.join("cases.csv");
        let f = std::fs::File::create(&p).map_err(|source| SynthError::Write { path: p.clone(), source })?;
        let mut w = std::io::BufWriter::with_capacity(1 << 20, f);
        writeln!(w, "case_id,received_at,closed_at,due_at,lon,lat,followup_valid,resolved,satisfaction")
            .map_err(|source| SynthError::Write { path: p.clone(), source })?;
        Some((p, w))
    };
    let fmt = |t: NaiveDateTime| t.format("%Y-%m-%d %H:%M:%S").to_string();
    let chunk_rows = if size.parquet_only { XL_CHUNK_ROWS } else { size.cases.max(1) };
    let n_chunks = size.cases.div_ceil(chunk_rows).max(1);
    let mut row = 0usize;
    for chunk in 0..n_chunks {
        let n = chunk_rows.min(size.cases - row);
        let mut cols: [Vec<Option<String>>; 7] = Default::default();
        let (mut lons, mut lats): (Vec<Option<f64>>, Vec<Option<f64>>) = (Vec::with_capacity(n), Vec::with_capacity(n));
        for _ in 0..n {
            row += 1;
            let u: f64 = rng.random();
            let (x, y) = if u < 0.03 {
                (None, None)
            } else if u < 0.031 && !vertices.is_empty() {
                let v = vertices[rng.random_range(0..vertices.len())];
                (Some(v.0), Some(v.1))
            } else if u < 0.33 {
                let h = hot[rng.random_range(0..hot.len())];
                let (g1, g2) = gauss(&mut rng);
                (Some(r6((h.0 + g1 * 0.01).clamp(LON.0, LON.1))), Some(r6((h.1 + g2 * 0.008).clamp(LAT.0, LAT.1))))
            } else {
                (Some(r6(rng.random_range(LON.0..LON.1))), Some(r6(rng.random_range(LAT.0..LAT.1))))
            };
            let day = rng.random_range(0..31);
            let hw = rng.random_range(0.0..total_w);
            let hour = cum.iter().position(|c| hw < *c).unwrap_or(23) as i64;
            let received = start + Duration::days(day) + Duration::hours(hour) + Duration::seconds(rng.random_range(0..3600));
            let limit = [24, 72, 168, 360][rng.random_range(0..4)];
            let due = received + Duration::hours(limit);
            let closed = if rng.random::<f64>() < 0.9 {
                let (g, _) = gauss(&mut rng);
                let hours = (20.0f64.ln() + 1.2 * g).exp().clamp(0.05, 2000.0);
                Some(received + Duration::seconds((hours * 3600.0) as i64)).filter(|c| *c < as_of)
            } else {
                None
            };
            let valid = closed.is_some() && rng.random::<f64>() < 0.7;
            let resolved = valid.then(|| if rng.random::<f64>() < 0.75 { "1" } else { "0" });
            let s: f64 = rng.random();
            let sat = valid.then(|| {
                if s < 0.65 {
                    "满意"
                } else if s < 0.85 {
                    "基本满意"
                } else {
                    "不满意"
                }
            });
            cols[0].push(Some(format!("C{row:09}")));
            cols[1].push(Some(fmt(received)));
            cols[2].push(closed.map(fmt));
            cols[3].push(Some(fmt(due)));
            cols[4].push(Some(if valid { "1" } else { "0" }.to_string()));
            cols[5].push(resolved.map(str::to_string));
            cols[6].push(sat.map(str::to_string));
            lons.push(x);
            lats.push(y);
        }
        if let Some((p, w)) = csv.as_mut() {
            let e = |source| SynthError::Write { path: p.clone(), source };
            for k in 0..n {
                let s = |c: &Option<String>| c.clone().unwrap_or_default();
                let f = |v: Option<f64>| v.map(|v| v.to_string()).unwrap_or_default();
                writeln!(
                    w,
                    "{},{},{},{},{},{},{},{},{}",
                    s(&cols[0][k]),
                    s(&cols[1][k]),
                    s(&cols[2][k]),
                    s(&cols[3][k]),
                    f(lons[k]),
                    f(lats[k]),
                    s(&cols[4][k]),
                    s(&cols[5][k]),
                    s(&cols[6][k])
                )
                .map_err(e)?;
            }
        }
        let names = ["case_id", "received_at", "closed_at", "due_at", "followup_valid", "resolved", "satisfaction"];
        let mut columns: Vec<Column> = Vec::new();
        for (k, name) in names.iter().enumerate().take(4) {
            columns.push(Series::new((*name).into(), std::mem::take(&mut cols[k])).into());
        }
        columns.push(Series::new("lon".into(), lons).into());
        columns.push(Series::new("lat".into(), lats).into());
        for (k, name) in names.iter().enumerate().skip(4) {
            columns.push(Series::new((*name).into(), std::mem::take(&mut cols[k])).into());
        }
        // XL: a folder of files, as daily exports arrive; one source reads them all.
        let p = if size.parquet_only { dir.join("cases").join(format!("cases-{chunk:05}.parquet")) } else { dir.join("cases.parquet") };
        if let Some(parent) = p.parent() {
            std::fs::create_dir_all(parent).map_err(|source| SynthError::Write { path: parent.to_path_buf(), source })?;
        }
        let mut df = DataFrame::new_infer_height(columns).map_err(|source| SynthError::Parquet { path: p.clone(), source })?;
        let f = std::fs::File::create(&p).map_err(|source| SynthError::Write { path: p.clone(), source })?;
        ParquetWriter::new(f)
            .with_compression(ParquetCompression::Zstd(None))
            .finish(&mut df)
            .map_err(|source| SynthError::Parquet { path: p.clone(), source })?;
    }
    if let Some((p, mut w)) = csv {
        w.flush().map_err(|source| SynthError::Write { path: p.clone(), source })?;
    }
    write_space(&dir, size, &mut rng)?;
    write_pipelines(&dir, size, shape)?;
    Ok(dir)
}

/// Cases shaped like a hotline export: 12 columns (id; received, disposed, due and closed
/// times as ISO 8601 with `+08:00`; category, channel and department as text; lon, lat;
/// contacted and resolved as `true`/`false`); a third of the cases in a dense core around the
/// centre, a third near 50 hot spots, a third anywhere; about 1 % of rows without one or both
/// coordinates; rows in received-time order, so consecutive points are scattered over the
/// city. Parquet: row groups of 2^20 rows, zstd, timestamps as tz-aware microseconds.
fn export_cases(dir: &Path, size: &BenchSize, vertices: &[(f64, f64)], rng: &mut ChaCha8Rng) -> Result<(), SynthError> {
    const CATEGORIES: [&str; 12] = [
        "市容环境",
        "城乡建设",
        "交通管理",
        "噪音扰民",
        "物业管理",
        "供暖",
        "供水",
        "市场监管",
        "劳动保障",
        "教育",
        "医疗卫生",
        "公共安全",
    ];
    const CHANNELS: [&str; 5] = ["12345热线", "网站", "微信小程序", "网格员上报", "媒体"];
    const DEPARTMENTS: [&str; 16] = [
        "城管执法局",
        "住建委",
        "交通委",
        "公安分局",
        "市场监管局",
        "水务局",
        "园林绿化局",
        "卫健委",
        "教委",
        "人社局",
        "街道办事处",
        "房管局",
        "生态环境局",
        "民政局",
        "文旅局",
        "应急管理局",
    ];
    let hot: Vec<(f64, f64)> = (0..50).map(|_| (rng.random_range(LON.0..LON.1), rng.random_range(LAT.0..LAT.1))).collect();
    let centre = ((LON.0 + LON.1) / 2.0, (LAT.0 + LAT.1) / 2.0);
    let tz = chrono::FixedOffset::east_opt(8 * 3600).unwrap_or_else(|| chrono::FixedOffset::east_opt(0).expect("UTC"));
    // Local times from 2026-09-01 (the trend window's month before) to the as-of day.
    let start = NaiveDate::from_ymd_opt(2026, 9, 1).and_then(|d| d.and_hms_opt(0, 0, 0)).unwrap_or_default();
    let as_of = NaiveDate::from_ymd_opt(2026, 11, 5).and_then(|d| d.and_hms_opt(0, 0, 0)).unwrap_or_default();
    let span_s = (as_of - start).num_seconds();
    let chunk_rows = if size.parquet_only { XL_CHUNK_ROWS } else { size.cases.max(1) };
    let n_chunks = size.cases.div_ceil(chunk_rows).max(1);
    let csv_path = dir.join("cases.csv");
    let mut csv = if size.parquet_only {
        None
    } else {
        let f = std::fs::File::create(&csv_path).map_err(|source| SynthError::Write { path: csv_path.clone(), source })?;
        let mut w = std::io::BufWriter::with_capacity(1 << 20, f);
        writeln!(w, "case_id,received_at,disposed_at,due_at,closed_at,category,channel,department,lon,lat,contacted,resolved")
            .map_err(|source| SynthError::Write { path: csv_path.clone(), source })?;
        Some(w)
    };
    let iso = |t: NaiveDateTime| format!("{}+08:00", t.format("%Y-%m-%dT%H:%M:%S"));
    let mut row = 0usize;
    for chunk in 0..n_chunks {
        let n = chunk_rows.min(size.cases - row);
        // This chunk's slice of the period, its received times sorted: files follow each
        // other in time as daily exports do.
        let (t0, t1) = (span_s * chunk as i64 / n_chunks as i64, span_s * (chunk as i64 + 1) / n_chunks as i64);
        let mut received: Vec<i64> = (0..n).map(|_| rng.random_range(t0..t1.max(t0 + 1))).collect();
        received.sort_unstable();
        struct Row {
            received: NaiveDateTime,
            disposed: Option<NaiveDateTime>,
            due: NaiveDateTime,
            closed: Option<NaiveDateTime>,
            cat: usize,
            channel: usize,
            dept: usize,
            lon: Option<f64>,
            lat: Option<f64>,
            contacted: Option<bool>,
            resolved: Option<bool>,
        }
        let mut rows: Vec<Row> = Vec::with_capacity(n);
        for &t in &received {
            let u: f64 = rng.random();
            let (mut x, mut y) = if u < 0.001 && !vertices.is_empty() {
                let v = vertices[rng.random_range(0..vertices.len())];
                (Some(v.0), Some(v.1))
            } else if u < 0.34 {
                let (g1, g2) = gauss(rng);
                (Some(r6((centre.0 + g1 * 0.04).clamp(LON.0, LON.1))), Some(r6((centre.1 + g2 * 0.03).clamp(LAT.0, LAT.1))))
            } else if u < 0.67 {
                let h = hot[rng.random_range(0..hot.len())];
                let (g1, g2) = gauss(rng);
                (Some(r6((h.0 + g1 * 0.01).clamp(LON.0, LON.1))), Some(r6((h.1 + g2 * 0.008).clamp(LAT.0, LAT.1))))
            } else {
                (Some(r6(rng.random_range(LON.0..LON.1))), Some(r6(rng.random_range(LAT.0..LAT.1))))
            };
            let m: f64 = rng.random();
            if m < 0.005 {
                (x, y) = (None, None);
            } else if m < 0.0075 {
                x = None;
            } else if m < 0.01 {
                y = None;
            }
            let received = start + Duration::seconds(t);
            let limit = [24, 72, 168, 360][rng.random_range(0..4)];
            let closed = if rng.random::<f64>() < 0.9 {
                let (g, _) = gauss(rng);
                let hours = (20.0f64.ln() + 1.2 * g).exp().clamp(0.05, 2000.0);
                Some(received + Duration::seconds((hours * 3600.0) as i64)).filter(|c| *c < as_of)
            } else {
                None
            };
            let disposed = closed.map(|c| received + Duration::seconds((c - received).num_seconds() * 3 / 4));
            let valid = closed.is_some() && rng.random::<f64>() < 0.7;
            rows.push(Row {
                received,
                disposed,
                due: received + Duration::hours(limit),
                closed,
                cat: rng.random_range(0..CATEGORIES.len()),
                channel: rng.random_range(0..CHANNELS.len()),
                dept: rng.random_range(0..DEPARTMENTS.len()),
                lon: x,
                lat: y,
                contacted: valid.then(|| rng.random::<f64>() < 0.95),
                resolved: valid.then(|| rng.random::<f64>() < 0.75),
            });
        }
        let first = row;
        row += n;
        if let Some(w) = csv.as_mut() {
            let e = |source| SynthError::Write { path: csv_path.clone(), source };
            let f = |v: Option<f64>| v.map(|v| v.to_string()).unwrap_or_default();
            let b = |v: Option<bool>| v.map(|v| v.to_string()).unwrap_or_default();
            let t = |v: Option<NaiveDateTime>| v.map(iso).unwrap_or_default();
            for (k, r) in rows.iter().enumerate() {
                writeln!(
                    w,
                    "C{:09},{},{},{},{},{},{},{},{},{},{},{}",
                    first + k + 1,
                    iso(r.received),
                    t(r.disposed),
                    iso(r.due),
                    t(r.closed),
                    CATEGORIES[r.cat],
                    CHANNELS[r.channel],
                    DEPARTMENTS[r.dept],
                    f(r.lon),
                    f(r.lat),
                    b(r.contacted),
                    b(r.resolved)
                )
                .map_err(e)?;
            }
        }
        // Parquet: tz-aware microsecond timestamps (UTC instants with the zone).
        let us = |t: NaiveDateTime| t.and_local_timezone(tz).single().map(|t| t.timestamp_micros());
        let ts = |name: &str, v: Vec<Option<i64>>| -> Result<Column, PolarsError> {
            let zone = TimeZone::opt_try_new(Some("Asia/Shanghai"))?;
            // Built as a zoned datetime column directly: a cast from integers drops the zone
            // without polars' `timezones` feature.
            Ok(Int64Chunked::from_iter_options(name.into(), v.into_iter()).into_datetime(TimeUnit::Microseconds, zone).into_column())
        };
        let p = if size.parquet_only { dir.join("cases").join(format!("cases-{chunk:05}.parquet")) } else { dir.join("cases.parquet") };
        let perr = |source| SynthError::Parquet { path: p.clone(), source };
        let columns: Vec<Column> = vec![
            Series::new("case_id".into(), (0..n).map(|k| format!("C{:09}", first + k + 1)).collect::<Vec<String>>()).into(),
            ts("received_at", rows.iter().map(|r| us(r.received)).collect()).map_err(perr)?,
            ts("disposed_at", rows.iter().map(|r| r.disposed.and_then(us)).collect()).map_err(perr)?,
            ts("due_at", rows.iter().map(|r| us(r.due)).collect()).map_err(perr)?,
            ts("closed_at", rows.iter().map(|r| r.closed.and_then(us)).collect()).map_err(perr)?,
            Series::new("category".into(), rows.iter().map(|r| CATEGORIES[r.cat]).collect::<Vec<&str>>()).into(),
            Series::new("channel".into(), rows.iter().map(|r| CHANNELS[r.channel]).collect::<Vec<&str>>()).into(),
            Series::new("department".into(), rows.iter().map(|r| DEPARTMENTS[r.dept]).collect::<Vec<&str>>()).into(),
            Series::new("lon".into(), rows.iter().map(|r| r.lon).collect::<Vec<Option<f64>>>()).into(),
            Series::new("lat".into(), rows.iter().map(|r| r.lat).collect::<Vec<Option<f64>>>()).into(),
            Series::new("contacted".into(), rows.iter().map(|r| r.contacted).collect::<Vec<Option<bool>>>()).into(),
            Series::new("resolved".into(), rows.iter().map(|r| r.resolved).collect::<Vec<Option<bool>>>()).into(),
        ];
        drop(rows);
        if let Some(parent) = p.parent() {
            std::fs::create_dir_all(parent).map_err(|source| SynthError::Write { path: parent.to_path_buf(), source })?;
        }
        let mut df = DataFrame::new_infer_height(columns).map_err(perr)?;
        let f = std::fs::File::create(&p).map_err(|source| SynthError::Write { path: p.clone(), source })?;
        ParquetWriter::new(f)
            .with_compression(ParquetCompression::Zstd(None))
            .with_row_group_size(Some(1 << 20))
            .finish(&mut df)
            .map_err(perr)?;
    }
    if let Some(mut w) = csv {
        w.flush().map_err(|source| SynthError::Write { path: csv_path.clone(), source })?;
    }
    Ok(())
}

/// The service circle's and the grid networks' benchmark: 100,000 facilities (a third near
/// the hot spots' kind of clusters, the rest anywhere) of Beijing's eight item categories, and a
/// second network of as many cells as the grids, drawn on a transposed lattice (so every cell
/// overlaps several grids), with `pipeline_space.toml` reading both.
fn write_space(dir: &Path, size: &BenchSize, rng: &mut ChaCha8Rng) -> Result<(), SynthError> {
    let werr = |path: &Path| {
        let path = path.to_path_buf();
        move |source| SynthError::Write { path: path.clone(), source }
    };
    let (cols, rows) = (size.rows, size.cols);
    let (dx, dy) = ((LON.1 - LON.0) / cols as f64, (LAT.1 - LAT.0) / rows as f64);
    let path = dir.join("network2.geojson");
    let mut w = std::io::BufWriter::new(std::fs::File::create(&path).map_err(werr(&path))?);
    write!(w, "{{\"type\":\"FeatureCollection\",\"name\":\"bench_network2\",\"features\":[").map_err(werr(&path))?;
    for j in 0..rows {
        for i in 0..cols {
            let (x, y) = (r6(LON.0 + i as f64 * dx), r6(LAT.0 + j as f64 * dy));
            let (x1, y1) = (r6(LON.0 + (i + 1) as f64 * dx), r6(LAT.0 + (j + 1) as f64 * dy));
            let k = j * cols + i;
            write!(
                w,
                "{}\n{{\"type\":\"Feature\",\"properties\":{{\"cell_code\":\"N{k:07}\",\"community_code\":\"NC{:03}{:03}\",\"population\":1000}},\"geometry\":{{\"type\":\"Polygon\",\"coordinates\":[[[{x},{y}],[{x1},{y}],[{x1},{y1}],[{x},{y1}],[{x},{y}]]]}}}}",
                if k > 0 { "," } else { "" },
                j / 5,
                i / 5
            )
            .map_err(werr(&path))?;
        }
    }
    writeln!(w, "\n]}}").map_err(werr(&path))?;
    w.flush().map_err(werr(&path))?;
    let path = dir.join("facilities.csv");
    let mut w = std::io::BufWriter::new(std::fs::File::create(&path).map_err(werr(&path))?);
    writeln!(w, "facility_id,category,lon,lat").map_err(werr(&path))?;
    const CATS: [&str; 8] = ["蔬菜零售", "便利店", "早餐", "家政", "美容美发", "末端配送", "便民维修", "洗染"];
    let centres: Vec<(f64, f64)> = (0..200).map(|_| (rng.random_range(LON.0..LON.1), rng.random_range(LAT.0..LAT.1))).collect();
    for k in 0..100_000 {
        let (x, y) = if k % 3 == 0 {
            let c = centres[rng.random_range(0..centres.len())];
            let (g1, g2) = gauss(rng);
            ((c.0 + g1 * 0.02).clamp(LON.0, LON.1), (c.1 + g2 * 0.015).clamp(LAT.0, LAT.1))
        } else {
            (rng.random_range(LON.0..LON.1), rng.random_range(LAT.0..LAT.1))
        };
        writeln!(w, "F{k:06},{},{},{}", CATS[rng.random_range(0..CATS.len())], r6(x), r6(y)).map_err(werr(&path))?;
    }
    w.flush().map_err(werr(&path))?;
    let p = dir.join("pipeline_space.toml");
    let text = format!(
        r#"# Benchmark of the service circle and the grid networks (gridgov synth bench --size {size}):
# 100,000 facilities, residents on a 64 m lattice (about as many points as Beijing's
# 16,410 km² at 100 m), and a crosswalk of the grids with a second network of as many cells.
name = "bench_{lower}_space"
output_dir = "out_space"

[period]
month = "2026-10"
as_of = "2026-11-05"
trend_months = 1
time_zone = "Asia/Shanghai"

[[grids]]
name = "grid"
path = "grids.geojson"
[grids.properties]
code = "grid_code"
community_code = "community_code"
street_code = "street_code"
district_code = "district_code"
population = "population"

[[grids]]
name = "net2"
path = "network2.geojson"
[grids.properties]
code = "cell_code"
community_code = "community_code"
population = "population"

[[sources]]
kind = "facilities"
name = "facilities"
path = "facilities.csv"
[sources.columns]
facility_id = "facility_id"
category = "category"
lon = "lon"
lat = "lat"

[coverage]
lattice_m = 64

[outputs]
layers = []
formats = ["csv"]
"#,
        size = size.name,
        lower = size.name.to_lowercase(),
    );
    std::fs::write(&p, text).map_err(werr(&p))?;
    Ok(())
}

fn gauss(rng: &mut ChaCha8Rng) -> (f64, f64) {
    let u1: f64 = rng.random_range(f64::EPSILON..1.0);
    let u2: f64 = rng.random();
    let r = (-2.0 * u1.ln()).sqrt();
    (r * (std::f64::consts::TAU * u2).cos(), r * (std::f64::consts::TAU * u2).sin())
}

fn write_pipelines(dir: &Path, size: &BenchSize, shape: Shape) -> Result<(), SynthError> {
    let (timestamps, columns) = match shape {
        Shape::Lattice => {
            ("%Y-%m-%d %H:%M:%S", "followup_valid = \"followup_valid\"\nresolved = \"resolved\"\nsatisfaction = \"satisfaction\"")
        }
        Shape::Export => (
            "%Y-%m-%dT%H:%M:%S%:z",
            "disposed_at = \"disposed_at\"\ncategory = \"category\"\nchannel = \"channel\"\ndepartment = \"department\"\ncontacted = \"contacted\"\nresolved = \"resolved\"",
        ),
    };
    // `stem` names the pipeline (`csv`, `csv_table`), `format` its input; `outputs` ends it.
    let body = |stem: &str, format: &str, path: &str, outputs: &str| {
        format!(
            r#"# Benchmark pipeline (gridgov synth bench --size {size}); paths relative to this file.
name = "bench_{lower}_{stem}"
output_dir = "out_{format}"

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
format = "{format}"
timestamp_formats = ["{timestamps}"]
[cases.columns]
case_id = "case_id"
received_at = "received_at"
closed_at = "closed_at"
due_at = "due_at"
lon = "lon"
lat = "lat"
{columns}

[indicators]
min_n = 1
{outputs}"#,
            size = size.name,
            lower = size.name.to_lowercase(),
        )
    };
    let mut files = vec![("parquet", if size.parquet_only { "cases" } else { "cases.parquet" })];
    if !size.parquet_only {
        files.push(("csv", "cases.csv"));
    }
    for (name, path) in files {
        let p = dir.join(format!("pipeline_{name}.toml"));
        std::fs::write(&p, body(name, name, path, "")).map_err(|source| SynthError::Write { path: p.clone(), source })?;
        // The same run writing what the peers write: the per-grid table (in CSV), with the
        // quarantine and the manifest, and no layers.
        let p = dir.join(format!("pipeline_{name}_table.toml"));
        let outputs = "\n# What the peers benchmark's DuckDB and GeoPandas scripts write: the per-grid table.\n[outputs]\nlayers = []\nformats = [\"csv\"]\n";
        let text = body(&format!("{name}_table"), name, path, outputs);
        std::fs::write(&p, text).map_err(|source| SynthError::Write { path: p.clone(), source })?;
    }
    Ok(())
}

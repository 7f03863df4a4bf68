//! `whistles.csv`: the demo city's whistles (街乡吹哨、部门报到), one row per whistle and summoned
//! department. Each street blows a few whistles a month (more in busy streets); a whistle
//! summons one to four of its district's departments, which report in after a delay that
//! depends on the whistle's type and the department's habits; a few never report, and the
//! street scores each department. Quirks: rows without a department, a summons repeated, an
//! unreadable whistle time, a report-in time before the summons.

use std::path::Path;

use chrono::{NaiveDateTime, TimeDelta};
use rand::Rng;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;

use super::cases::World;
use super::util::{rng_for, std_normal, write_csv};
use super::{AS_OF, PERIOD_DAYS, PERIOD_START, SynthError};

pub(crate) const HEADER: [&str; 13] = [
    "吹哨编号",
    "吹哨时间",
    "哨型",
    "问题类别",
    "报到部门",
    "召集时间",
    "报到时间",
    "办结时间",
    "部门评价",
    "经度",
    "纬度",
    "网格编码",
    "街道编码",
];

const TS: &str = "%Y-%m-%d %H:%M:%S";

/// District bureaus a street summons, with how fast and how reliably each reports in
/// (median-delay factor, share never reporting).
const BUREAUS: [(&str, f64, f64); 10] = [
    ("城市管理委", 1.0, 0.03),
    ("城管执法局", 0.7, 0.02),
    ("住房城乡建设委", 1.6, 0.08),
    ("生态环境局", 1.2, 0.05),
    ("交通委", 1.3, 0.06),
    ("市场监管局", 1.0, 0.04),
    ("公安分局", 0.6, 0.01),
    ("消防救援支队", 0.5, 0.01),
    ("水务局", 1.8, 0.10),
    ("园林绿化局", 2.2, 0.12),
];

const CATEGORIES: [&str; 8] = ["违法建设", "环境秩序", "占道经营", "安全隐患", "群租房整治", "老旧小区", "施工扰民", "地下空间"];

/// Type (0 日常哨, 1 攻坚哨, 2 应急哨): share, median report-in minutes, median closure hours.
const TYPES: [(&str, f64, f64, f64); 3] = [("日常哨", 0.70, 240.0, 60.0), ("攻坚哨", 0.20, 60.0, 300.0), ("应急哨", 0.10, 18.0, 8.0)];

pub(crate) struct WhistleStats {
    pub rows: usize,
    pub missing_department: usize,
    pub duplicate: usize,
    pub bad_time: usize,
    pub report_before_summons: usize,
}

fn lognormal(rng: &mut ChaCha8Rng, median: f64, sigma: f64) -> f64 {
    median * (sigma * std_normal(rng)).exp()
}

pub(crate) fn write(path: &Path, world: &World, seed: u64) -> Result<WhistleStats, SynthError> {
    let mut rng = rng_for(seed, 0x3415_71E);
    let reference = world.reference;
    let as_of = AS_OF.and_hms_opt(23, 59, 59).expect("valid time");
    // Grids of each street, and each street's weight (busier streets whistle more).
    let mut grids_of: Vec<Vec<usize>> = vec![Vec::new(); reference.streets.len()];
    for (i, g) in world.grids.iter().enumerate() {
        grids_of[g.street].push(i);
    }
    let mut rows: Vec<[String; 13]> = Vec::new();
    let mut stats = WhistleStats { rows: 0, missing_department: 0, duplicate: 0, bad_time: 0, report_before_summons: 0 };
    let mut seq_by_day = std::collections::BTreeMap::<chrono::NaiveDate, u32>::new();
    let mut whistles: Vec<(NaiveDateTime, usize)> = Vec::new();
    for (s, grids) in grids_of.iter().enumerate() {
        if grids.is_empty() {
            continue;
        }
        // About 6 whistles a month, more for streets with more grids (and worse quality).
        let per_month = 3.0 + grids.len() as f64 * 0.35 - world.quality[s] * 1.5;
        let n = (per_month.max(1.0) * PERIOD_DAYS as f64 / 30.4).round() as usize;
        for _ in 0..n {
            let day = PERIOD_START + TimeDelta::days(rng.random_range(0..PERIOD_DAYS as i64));
            let minute = rng.random_range(8 * 60..20 * 60);
            whistles.push((day.and_hms_opt(0, 0, 0).expect("midnight") + TimeDelta::minutes(minute), s));
        }
    }
    whistles.sort();
    for (when, s) in whistles {
        let district = &reference.districts[reference.streets[s].district].name;
        let u: f64 = rng.random();
        let t = if u < TYPES[0].1 {
            0
        } else if u < TYPES[0].1 + TYPES[1].1 {
            1
        } else {
            2
        };
        let (type_name, _, report_median, close_median) = TYPES[t];
        let seq = seq_by_day.entry(when.date()).or_default();
        *seq += 1;
        let id = format!("CS{}{:03}", when.format("%Y%m%d"), seq);
        let grid = grids_of[s][rng.random_range(0..grids_of[s].len())];
        let (lon, lat) = world.uniform_in(grid, &mut rng);
        let by_code = rng.random::<f64>() < 0.3;
        let category = CATEGORIES[rng.random_range(0..CATEGORIES.len())];
        let closed = when + TimeDelta::minutes((lognormal(&mut rng, close_median, 0.8) * 60.0) as i64);
        let closed = if closed > as_of || rng.random::<f64>() < 0.04 { None } else { Some(closed) };
        let k = 1 + (rng.random::<f64>() * rng.random::<f64>() * 4.0) as usize;
        let mut bureaus: Vec<usize> = (0..BUREAUS.len()).collect();
        bureaus.shuffle(&mut rng);
        for &b in bureaus.iter().take(k) {
            let (bureau, slow, never) = BUREAUS[b];
            let summoned = when + TimeDelta::minutes(rng.random_range(0..10));
            let delay = lognormal(&mut rng, report_median * slow * (1.0 - 0.1 * world.quality[s]).max(0.5), 0.7);
            let reported = summoned + TimeDelta::seconds((delay * 60.0) as i64);
            let reported = if rng.random::<f64>() < never || reported > as_of { None } else { Some(reported) };
            let on_time = reported.is_some_and(|r| (r - summoned).num_minutes() as f64 <= [1440.0, 120.0, 30.0][t]);
            let evaluation = if rng.random::<f64>() < 0.15 || reported.is_none() {
                String::new()
            } else {
                let base = if on_time { 90.0 } else { 75.0 };
                format!("{:.0}", (base + 6.0 * std_normal(&mut rng)).clamp(40.0, 100.0))
            };
            let fmt = |t: Option<NaiveDateTime>| t.map(|t| t.format(TS).to_string()).unwrap_or_default();
            rows.push([
                id.clone(),
                when.format(TS).to_string(),
                type_name.to_owned(),
                category.to_owned(),
                format!("{district}{bureau}"),
                summoned.format(TS).to_string(),
                fmt(reported),
                fmt(closed),
                evaluation,
                if by_code { String::new() } else { format!("{lon:.6}") },
                if by_code { String::new() } else { format!("{lat:.6}") },
                if by_code { String::new() } else { world.grids[grid].code.clone() },
                reference.streets[s].code.clone(),
            ]);
        }
    }
    // Quirks, each on its own rows, drawn in a fixed order.
    let n = rows.len();
    let pick = |rng: &mut ChaCha8Rng| rng.random_range(0..n);
    for _ in 0..(n / 200).max(1) {
        let i = pick(&mut rng);
        rows[i][4].clear();
        stats.missing_department += 1;
    }
    for _ in 0..(n / 400).max(1) {
        let i = pick(&mut rng);
        rows[i][1] = "待补录".into();
        stats.bad_time += 1;
    }
    for _ in 0..(n / 300).max(1) {
        let i = pick(&mut rng);
        if !rows[i][6].is_empty() && !rows[i][4].is_empty() && rows[i][1] != "待补录" {
            rows[i][6] = shift(&rows[i][5], -30);
            stats.report_before_summons += 1;
        }
    }
    let mut out: Vec<[String; 13]> = Vec::with_capacity(n + n / 200);
    let dup_every = 200;
    for (i, r) in rows.into_iter().enumerate() {
        let dup = i % dup_every == dup_every / 2 && !r[4].is_empty() && r[1] != "待补录";
        out.push(r.clone());
        if dup {
            out.push(r);
            stats.duplicate += 1;
        }
    }
    write_csv(path, HEADER, &out)?;
    stats.rows = out.len();
    Ok(stats)
}

/// A timestamp `minutes` later (earlier when negative), in the file's format.
fn shift(ts: &str, minutes: i64) -> String {
    NaiveDateTime::parse_from_str(ts, TS).map(|t| (t + TimeDelta::minutes(minutes)).format(TS).to_string()).unwrap_or_default()
}

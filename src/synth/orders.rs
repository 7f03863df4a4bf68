//! `service_orders.csv`: residents' service orders (居民点单—支部下单—党员接单). Each community
//! with grids has a pool of party members, a few of whom take most orders and many none; orders
//! arrive in proportion to population, the branch dispatches most within hours, members accept
//! and complete most; some are cancelled or stall at a step; residents rate most completed ones.
//! Quirks: a missing id, a repeated row, an unreadable order time, an acceptance recorded before
//! the dispatch.

use std::path::Path;

use chrono::{NaiveDateTime, TimeDelta};
use rand::Rng;
use rand_chacha::ChaCha8Rng;

use super::cases::World;
use super::util::{Cumulative, rng_for, std_normal, write_csv};
use super::{AS_OF, PERIOD_DAYS, PERIOD_START, SynthError};

pub(crate) const HEADER: [&str; 11] =
    ["点单编号", "点单时间", "下单时间", "接单时间", "完成时间", "状态", "服务类型", "党支部", "党员编号", "居民评价", "网格编码"];

const TS: &str = "%Y-%m-%d %H:%M:%S";
const SERVICES: [&str; 8] = ["助老陪护", "家电维修", "代买代办", "心理疏导", "法律咨询", "政策解读", "环境清洁", "助学辅导"];

pub(crate) struct OrderStats {
    pub rows: usize,
    pub missing_id: usize,
    pub duplicate: usize,
    pub bad_time: usize,
    pub accepted_before_dispatch: usize,
}

fn hours(rng: &mut ChaCha8Rng, median: f64, sigma: f64) -> TimeDelta {
    TimeDelta::minutes((median * (sigma * std_normal(rng)).exp() * 60.0) as i64)
}

pub(crate) fn write(path: &Path, world: &World, seed: u64) -> Result<OrderStats, SynthError> {
    let mut rng = rng_for(seed, 0x0D_E125);
    let as_of = AS_OF.and_hms_opt(23, 59, 59).expect("valid time");
    // Grids by community; each community's members (ids unique in the city), with a
    // Zipf-like activity so a few members take most orders.
    let mut grids_of: std::collections::BTreeMap<usize, Vec<usize>> = std::collections::BTreeMap::new();
    for (i, g) in world.grids.iter().enumerate() {
        grids_of.entry(g.community).or_default().push(i);
    }
    let mut orders: Vec<(NaiveDateTime, usize, usize)> = Vec::new();
    let mut members: std::collections::BTreeMap<usize, (Vec<String>, Cumulative)> = std::collections::BTreeMap::new();
    let mut next_member = 1u32;
    for (&c, grids) in &grids_of {
        let pop: f64 = grids.iter().map(|&g| world.grids[g].population as f64).sum();
        let n_members = ((pop / 800.0).round() as usize).clamp(4, 40);
        let ids: Vec<String> = (0..n_members)
            .map(|_| {
                next_member += 1;
                format!("DY{:06}", next_member)
            })
            .collect();
        let weights = Cumulative::new((0..n_members).map(|i| 1.0 / (i as f64 + 1.0).powf(1.1)));
        if let Some(w) = weights {
            members.insert(c, (ids, w));
        }
        // About half an order a month per 1,000 residents.
        let n = (pop / 1000.0 * 0.5 * PERIOD_DAYS as f64 / 30.4).round() as usize;
        for _ in 0..n {
            let day = PERIOD_START + TimeDelta::days(rng.random_range(0..PERIOD_DAYS as i64));
            let at = day.and_hms_opt(0, 0, 0).expect("midnight") + TimeDelta::minutes(rng.random_range(7 * 60..21 * 60));
            orders.push((at, c, grids[rng.random_range(0..grids.len())]));
        }
    }
    orders.sort();
    let mut rows: Vec<[String; 11]> = Vec::with_capacity(orders.len());
    let mut seq = std::collections::BTreeMap::<chrono::NaiveDate, u32>::new();
    let fmt = |t: Option<NaiveDateTime>| t.filter(|t| *t <= as_of).map(|t| t.format(TS).to_string()).unwrap_or_default();
    for (at, c, grid) in orders {
        let s = seq.entry(at.date()).or_default();
        *s += 1;
        let id = format!("DD{}{:03}", at.format("%Y%m%d"), s);
        let street_quality = world.quality[world.grids[grid].street];
        let cancelled = rng.random::<f64>() < 0.04;
        let dispatched = (!cancelled && rng.random::<f64>() < 0.95).then(|| at + hours(&mut rng, 2.0, 0.9));
        let accepted = dispatched.filter(|_| rng.random::<f64>() < 0.90 + 0.03 * street_quality).map(|d| d + hours(&mut rng, 6.0, 1.0));
        let completed = accepted.filter(|_| rng.random::<f64>() < 0.93).map(|a| a + hours(&mut rng, 20.0, 0.9));
        let member = accepted.and_then(|_| members.get(&c)).map(|(ids, w)| ids[w.sample(&mut rng)].clone()).unwrap_or_default();
        let done = completed.is_some_and(|t| t <= as_of);
        let status = if cancelled {
            "已取消"
        } else if done {
            "已完成"
        } else if accepted.is_some_and(|t| t <= as_of) {
            "服务中"
        } else if dispatched.is_some_and(|t| t <= as_of) {
            "待接单"
        } else {
            "待下单"
        };
        let rating = if done && rng.random::<f64>() < 0.8 {
            let x = 4.3 + 0.3 * street_quality + 0.7 * std_normal(&mut rng);
            format!("{}", x.round().clamp(1.0, 5.0))
        } else {
            String::new()
        };
        let branch = format!("{}党支部", world.reference.communities[c].name.trim_end_matches("居委会").trim_end_matches("居民委员会"));
        rows.push([
            id,
            at.format(TS).to_string(),
            fmt(dispatched),
            fmt(accepted),
            fmt(completed),
            status.to_owned(),
            SERVICES[rng.random_range(0..SERVICES.len())].to_owned(),
            branch,
            if accepted.is_some_and(|t| t <= as_of) { member } else { String::new() },
            rating,
            world.grids[grid].code.clone(),
        ]);
    }
    let mut stats = OrderStats { rows: 0, missing_id: 0, duplicate: 0, bad_time: 0, accepted_before_dispatch: 0 };
    let n = rows.len();
    for k in 0..(n / 500).max(1) {
        let i = (k * 997 + 13) % n;
        rows[i][0].clear();
        stats.missing_id += 1;
    }
    for k in 0..(n / 700).max(1) {
        let i = (k * 1009 + 101) % n;
        if !rows[i][0].is_empty() {
            rows[i][1] = "待补录".into();
            stats.bad_time += 1;
        }
    }
    for k in 0..(n / 600).max(1) {
        let i = (k * 1013 + 211) % n;
        if !rows[i][0].is_empty() && rows[i][1] != "待补录" && !rows[i][2].is_empty() && !rows[i][3].is_empty() {
            if let Ok(d) = NaiveDateTime::parse_from_str(&rows[i][2], TS) {
                rows[i][3] = (d - TimeDelta::minutes(20)).format(TS).to_string();
                stats.accepted_before_dispatch += 1;
            }
        }
    }
    let mut out: Vec<[String; 11]> = Vec::with_capacity(n + n / 400);
    for (i, r) in rows.into_iter().enumerate() {
        let dup = i % 400 == 200 && !r[0].is_empty() && r[1] != "待补录";
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

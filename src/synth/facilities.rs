//! `facilities.csv`: service facilities (便民服务设施) as a map-POI export gives them: id, name,
//! category, GCJ-02 coordinates (Amap's). Each grid gets, per category, a Poisson number of
//! facilities with a mean of the category's density per km² times the grid's area times its
//! population density relative to the city's (clamped to 0.3–3): denser where more people
//! live, so in the centre. Five "gap" zones (0.9 km around a population-weighted point) have
//! no facility of one of the sparser items, so a few communities lack that item, as surveys
//! find. Two categories (药店, 银行) are no service-circle item.
//! Quirks: a row without a category, a facility listed twice, one without coordinates, one far
//! outside the city.

use std::path::Path;

use rand::Rng;

use super::SynthError;
use super::admin::short_community_name;
use super::cases::World;
use super::util::{Cumulative, rng_for, round6, to_km, write_csv};
use crate::vocab::crs;

pub(crate) const HEADER: [&str; 5] = ["poi_id", "名称", "类别", "经度", "纬度"];

/// Category, the name's stem, facilities per km² at the city's mean density (so that, with the
/// demo's reach, nine communities in ten have every item: Beijing reported 95.5 % in 2018).
const CATEGORIES: [(&str, &str, f64); 10] = [
    ("菜市场", "菜市场", 4.0),
    ("便利店", "便利店", 10.0),
    ("早餐", "早餐店", 5.0),
    ("家政服务", "家政", 2.5),
    ("美容美发", "美发店", 6.0),
    ("快递驿站", "快递驿站", 4.0),
    ("便民维修", "维修部", 2.2),
    ("洗染", "洗衣店", 2.2),
    ("药店", "药店", 1.5),
    ("银行", "银行网点", 1.0),
];
/// The categories a gap zone may lack (indices into CATEGORIES).
const GAP_ITEMS: [usize; 4] = [0, 3, 6, 7];
const GAPS: usize = 5;
const GAP_KM: f64 = 0.9;

pub(crate) struct FacilityStats {
    pub rows: usize,
    pub missing_category: usize,
    pub duplicate: usize,
    pub no_point: usize,
    pub outside: usize,
}

/// A Poisson deviate (Knuth's method; means here are small).
fn poisson(rng: &mut impl Rng, mean: f64) -> usize {
    if mean <= 0.0 {
        return 0;
    }
    let (l, mut k, mut p) = ((-mean).exp(), 0usize, 1.0);
    loop {
        p *= rng.random::<f64>();
        if p <= l || k > 1000 {
            return k;
        }
        k += 1;
    }
}

pub(crate) fn write(path: &Path, world: &World, seed: u64) -> Result<FacilityStats, SynthError> {
    let mut rng = rng_for(seed, 0xFAC1_0001);
    let grids = world.grids;
    let area: Vec<f64> = grids.iter().map(|g| super::util::area_km2(&g.shape)).collect();
    let total_pop: f64 = grids.iter().map(|g| g.population as f64).sum();
    let total_area: f64 = area.iter().sum();
    let mean_density = if total_area > 0.0 { total_pop / total_area } else { 0.0 };
    // The gap zones: centre (km) and the category it lacks.
    let weights = Cumulative::new(grids.iter().map(|g| g.population as f64));
    let mut gaps: Vec<((f64, f64), usize)> = Vec::new();
    for _ in 0..GAPS {
        let Some(w) = &weights else { break };
        let g = w.sample(&mut rng);
        let (lon, lat) = world.uniform_in(g, &mut rng);
        gaps.push((to_km(lon, lat), GAP_ITEMS[rng.random_range(0..GAP_ITEMS.len())]));
    }
    let in_gap = |lon: f64, lat: f64, cat: usize| {
        let (x, y) = to_km(lon, lat);
        gaps.iter().any(|&((gx, gy), c)| c == cat && (x - gx).hypot(y - gy) < GAP_KM)
    };
    let mut rows: Vec<[String; 5]> = Vec::new();
    for (gi, g) in grids.iter().enumerate() {
        let density =
            if area[gi] > 0.0 && mean_density > 0.0 { (g.population as f64 / area[gi] / mean_density).clamp(0.3, 3.0) } else { 0.3 };
        for (ci, (cat, stem, per_km2)) in CATEGORIES.iter().enumerate() {
            for _ in 0..poisson(&mut rng, per_km2 * area[gi] * density) {
                let (lon, lat) = world.uniform_in(gi, &mut rng);
                if in_gap(lon, lat, ci) {
                    continue;
                }
                let (x, y) = crs::wgs84_to_gcj02(lon, lat);
                let n = rows.len() + 1;
                rows.push([
                    format!("B0{n:07}"),
                    format!("{}{stem}（{}号）", short_community_name(&world.reference.communities[g.community].name), n % 97 + 1),
                    cat.to_string(),
                    format!("{}", round6(x)),
                    format!("{}", round6(y)),
                ]);
            }
        }
    }
    let mut stats = FacilityStats { rows: 0, missing_category: 0, duplicate: 0, no_point: 0, outside: 0 };
    let n = rows.len();
    if n > 10 {
        rows[n / 3][2].clear();
        stats.missing_category += 1;
        rows[n / 2][3].clear();
        rows[n / 2][4].clear();
        stats.no_point += 1;
        let dup = rows[n / 5].clone();
        rows.push(dup);
        stats.duplicate += 1;
        // A facility geocoded to the wrong city (Tianjin).
        let (x, y) = crs::wgs84_to_gcj02(117.2, 39.13);
        rows.push([
            format!("B0{:07}", n + 1),
            "便利店（天津店）".into(),
            "便利店".into(),
            format!("{}", round6(x)),
            format!("{}", round6(y)),
        ]);
        stats.outside += 1;
    }
    stats.rows = rows.len();
    write_csv(path, HEADER, &rows)?;
    Ok(stats)
}

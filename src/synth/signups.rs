//! Household sign-ups for three renovation projects, each covering a few contiguous grids of one
//! street. The cumulative sign-up share follows an S-curve (logistic in days since the start)
//! towards a final share chosen per project, so the demo shows one project passing 90 % around
//! day 40, one stalling below 85 %, and one passing 95 %.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::path::Path;

use chrono::{NaiveDate, TimeDelta};
use rand::Rng;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;

use super::admin::Grid;
use super::reference::Reference;
use super::util::{Cumulative, key, rng_for};
use super::{AS_OF, SynthError};

pub(crate) const HEADER: [&str; 6] = ["household_id", "project_id", "project_name", "grid_code", "in_scope", "signed_date"];

struct Spec {
    id: &'static str,
    /// Used in the project name after the street name.
    kind: &'static str,
    district: &'static str,
    start: NaiveDate,
    households: (usize, usize),
    grids: usize,
    /// Share of in-scope households that ever sign.
    final_share: f64,
    /// Logistic curve of the signing day: midpoint and scale, in days since the start.
    mid: f64,
    scale: f64,
}

const fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    match NaiveDate::from_ymd_opt(y, m, d) {
        Some(d) => d,
        None => panic!("invalid constant date"),
    }
}

static SPECS: [Spec; 3] = [
    // 0.97 x logistic(40; 27, 5) = 0.90: crosses 90 % around day 40.
    Spec {
        id: "P2026001",
        kind: "棚户区改造项目",
        district: "110106",
        start: date(2026, 3, 16),
        households: (1200, 1800),
        grids: 3,
        final_share: 0.97,
        mid: 27.0,
        scale: 5.0,
    },
    // Stalls at 84.5 %: never reaches 85 % (nor 90 %).
    Spec {
        id: "P2026002",
        kind: "老旧小区综合整治项目",
        district: "110105",
        start: date(2026, 4, 20),
        households: (2200, 2900),
        grids: 4,
        final_share: 0.845,
        mid: 35.0,
        scale: 9.0,
    },
    // Reaches 98.5 %: crosses 95 % around day 76.
    Spec {
        id: "P2026003",
        kind: "征收项目",
        district: "110112",
        start: date(2026, 6, 15),
        households: (800, 1200),
        grids: 2,
        final_share: 0.985,
        mid: 50.0,
        scale: 8.0,
    },
];

const OUT_OF_SCOPE: f64 = 0.03;

/// Grids of one street that share an edge, as sorted adjacency lists.
fn adjacency(grids: &[Grid], members: &[usize]) -> BTreeMap<usize, BTreeSet<usize>> {
    let mut edges: BTreeMap<((i64, i64), (i64, i64)), Vec<usize>> = BTreeMap::new();
    for &g in members {
        for p in &grids[g].shape.0 {
            for r in std::iter::once(p.exterior()).chain(p.interiors()) {
                for w in r.0.windows(2) {
                    let (a, b) = (key(w[0]), key(w[1]));
                    edges.entry(if a <= b { (a, b) } else { (b, a) }).or_default().push(g);
                }
            }
        }
    }
    let mut adj: BTreeMap<usize, BTreeSet<usize>> = members.iter().map(|&g| (g, BTreeSet::new())).collect();
    for owners in edges.values() {
        for &a in owners {
            for &b in owners {
                if a != b {
                    adj.entry(a).or_default().insert(b);
                }
            }
        }
    }
    adj
}

/// A few contiguous grids of one street of the district: breadth-first from a random grid.
/// A project whose district is not in the city (`synth demo --districts`) goes to the city's
/// districts in turn.
fn pick_grids(reference: &Reference, grids: &[Grid], pi: usize, spec: &Spec, rng: &mut ChaCha8Rng) -> Option<(usize, Vec<usize>)> {
    let d = match reference.districts.iter().position(|d| d.code == spec.district) {
        Some(d) => d,
        None if !reference.districts.is_empty() => pi % reference.districts.len(),
        None => return None,
    };
    let mut by_street: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
    for (i, g) in grids.iter().enumerate() {
        if g.district == d {
            by_street.entry(g.street).or_default().push(i);
        }
    }
    let candidates: Vec<(usize, Vec<usize>)> = by_street.into_iter().filter(|(_, m)| m.len() >= spec.grids + 1).collect();
    let (street, members) = candidates.get(rng.random_range(0..candidates.len().max(1)))?.clone();
    let adj = adjacency(grids, &members);
    let start = members[rng.random_range(0..members.len())];
    let mut chosen = vec![start];
    let mut queue = VecDeque::from([start]);
    while let Some(g) = queue.pop_front() {
        for &n in adj.get(&g).into_iter().flatten() {
            if chosen.len() < spec.grids && !chosen.contains(&n) {
                chosen.push(n);
                queue.push_back(n);
            }
        }
    }
    chosen.sort_unstable();
    Some((street, chosen))
}

pub(crate) struct SignupStats {
    pub rows: usize,
    pub unknown_grid: usize,
    pub bad_date: usize,
}

pub(crate) fn write(path: &Path, reference: &Reference, grids: &[Grid], seed: u64) -> Result<SignupStats, SynthError> {
    let mut rng = rng_for(seed, 0x5160);
    let mut rows: Vec<[String; 6]> = Vec::new();
    let (mut unknown_grid, mut bad_date) = (0, 0);
    let max_day = |start: NaiveDate| (AS_OF - start).num_days().max(0);
    for (pi, spec) in SPECS.iter().enumerate() {
        let Some((street, chosen)) = pick_grids(reference, grids, pi, spec, &mut rng) else {
            return Err(SynthError::Tiling {
                district: spec.district.into(),
                msg: format!("no street with {} contiguous grids for project {}", spec.grids, spec.id),
            });
        };
        let name = format!("{}{}", reference.streets[street].name, spec.kind);
        let n = rng.random_range(spec.households.0..=spec.households.1);
        let weights = Cumulative::new(chosen.iter().map(|&g| grids[g].households.max(1) as f64));
        let mut hh_grid: Vec<usize> = (0..n).map(|_| weights.as_ref().map(|w| chosen[w.sample(&mut rng)]).unwrap_or(chosen[0])).collect();
        // Registers list households grid by grid.
        hh_grid.sort_unstable();
        let in_scope: Vec<bool> = (0..n).map(|_| rng.random::<f64>() >= OUT_OF_SCOPE).collect();
        let scope_idx: Vec<usize> = (0..n).filter(|&i| in_scope[i]).collect();
        let n_signed = (spec.final_share * scope_idx.len() as f64).floor() as usize;
        let mut signers = scope_idx.clone();
        signers.shuffle(&mut rng);
        signers.truncate(n_signed);
        // Out-of-scope households sometimes sign too; a correct rate ignores them.
        signers.extend((0..n).filter(|&i| !in_scope[i]).filter(|_| rng.random::<f64>() < 0.4));
        signers.sort_unstable();
        let mut signed: Vec<Option<NaiveDate>> = vec![None; n];
        for &i in &signers {
            let u: f64 = rng.random_range(1e-9..1.0 - 1e-9);
            let day = (spec.mid + spec.scale * (u / (1.0 - u)).ln()).floor().clamp(0.0, max_day(spec.start) as f64);
            signed[i] = Some(spec.start + TimeDelta::days(day as i64));
        }
        let mut project_rows: Vec<[String; 6]> = (0..n)
            .map(|i| {
                [
                    format!("{}-{:05}", spec.id, i + 1),
                    spec.id.to_owned(),
                    name.clone(),
                    grids[hh_grid[i]].code.clone(),
                    if in_scope[i] { "1" } else { "0" }.to_owned(),
                    signed[i].map(|d| d.format("%Y-%m-%d").to_string()).unwrap_or_default(),
                ]
            })
            .collect();
        // Bad rows: one unknown grid code and one unparseable date per project, on different
        // in-scope households (the date one on a household that signed).
        let signed_in_scope: Vec<usize> = signers.iter().copied().filter(|&i| in_scope[i]).collect();
        if let Some(&i) = signed_in_scope.get(rng.random_range(0..signed_in_scope.len().max(1))) {
            project_rows[i][5] = ["2026-06-31", "2026-13-02", "待定"][pi % 3].to_owned();
            bad_date += 1;
            let j = (i + n / 2) % n;
            if j != i {
                let comm = &reference.communities[grids[hh_grid[j]].community].code;
                project_rows[j][3] = format!("{comm}{}", rng.random_range(950..1000));
                unknown_grid += 1;
            }
        }
        rows.extend(project_rows);
    }
    let cerr = |source: csv::Error| SynthError::Csv { path: path.to_path_buf(), source };
    let file = std::fs::File::create(path).map_err(|source| SynthError::Write { path: path.to_path_buf(), source })?;
    let mut w = csv::WriterBuilder::new().terminator(csv::Terminator::Any(b'\n')).from_writer(file);
    w.write_record(HEADER).map_err(cerr)?;
    for r in &rows {
        w.write_record(r).map_err(cerr)?;
    }
    w.flush().map_err(|source| SynthError::Write { path: path.to_path_buf(), source })?;
    Ok(SignupStats { rows: rows.len(), unknown_grid, bad_date })
}

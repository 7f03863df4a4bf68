//! Turns cells into named grids: streets and communities as contiguous clusters of cells, grid
//! codes numbered west -> east, north -> south, and a population per grid.

use geo::MultiPolygon;
use rand::Rng;
use rand_chacha::ChaCha8Rng;

use super::SynthError;
use super::reference::Reference;
use super::tiling::Tiling;
use super::util::{CENTRE_LAT, CENTRE_LON, area_km2, centroid_km, rng_for, std_normal, to_km};

pub(crate) struct Grid {
    pub code: String,
    pub name: String,
    pub community: usize,
    pub street: usize,
    pub district: usize,
    pub population: u64,
    pub households: u64,
    pub shape: MultiPolygon<f64>,
}

/// Resident population by district (7th census, 2020), so the demo's per-10k rates look real.
fn district_population(code: &str) -> Option<f64> {
    Some(match code {
        "110101" => 708_829.0,
        "110102" => 1_106_214.0,
        "110105" => 3_452_460.0,
        "110106" => 2_019_764.0,
        "110107" => 567_851.0,
        "110108" => 3_133_469.0,
        "110109" => 392_606.0,
        "110111" => 1_312_778.0,
        "110112" => 1_840_295.0,
        "110113" => 1_324_044.0,
        "110114" => 2_269_487.0,
        "110115" => 1_993_591.0,
        "110116" => 441_040.0,
        "110117" => 457_313.0,
        "110118" => 527_683.0,
        "110119" => 345_671.0,
        _ => return None,
    })
}

/// Strips the committee suffix so that "多福巷社区居委会" gives "多福巷社区" and "东辛店村委会"
/// gives "东辛店村" (the village keeps its 村).
pub(crate) fn short_community_name(name: &str) -> String {
    for suffix in ["居民委员会", "居委会"] {
        if let Some(s) = name.strip_suffix(suffix) {
            return s.to_owned();
        }
    }
    for suffix in ["村民委员会", "村委会"] {
        if let Some(s) = name.strip_suffix(suffix) {
            return if s.ends_with('村') { s.to_owned() } else { format!("{s}村") };
        }
    }
    name.to_owned()
}

/// Splits points into k contiguous groups: k-medoids on centroids (seeds are member cells, so no
/// group can end up empty). Returns the group of each point.
fn cluster(points: &[(f64, f64)], weights: &[f64], k: usize, rng: &mut ChaCha8Rng) -> Vec<usize> {
    let n = points.len();
    if k >= n {
        return (0..n).collect();
    }
    let d2 = |a: (f64, f64), b: (f64, f64)| (a.0 - b.0).powi(2) + (a.1 - b.1).powi(2);
    // k-means++ seeding spreads the seeds out; then a few Lloyd rounds balance the groups.
    let mut seeds = vec![rng.random_range(0..n)];
    while seeds.len() < k {
        let dist: Vec<f64> = points.iter().map(|&p| seeds.iter().map(|&s| d2(p, points[s])).fold(f64::MAX, f64::min)).collect();
        let total: f64 = dist.iter().sum();
        let next = if total > 0.0 {
            let mut u = rng.random::<f64>() * total;
            let mut pick = n - 1;
            for (i, d) in dist.iter().enumerate() {
                if u < *d {
                    pick = i;
                    break;
                }
                u -= d;
            }
            pick
        } else {
            (0..n).find(|i| !seeds.contains(i)).unwrap_or(0)
        };
        if seeds.contains(&next) {
            // Only possible with zero distances; take the first unused point instead.
            if let Some(i) = (0..n).find(|i| !seeds.contains(i)) {
                seeds.push(i);
            }
        } else {
            seeds.push(next);
        }
    }
    let assign = |seeds: &[usize]| -> Vec<usize> {
        points
            .iter()
            .map(|&p| {
                let mut best = 0;
                for (g, &s) in seeds.iter().enumerate() {
                    if d2(p, points[s]) < d2(p, points[seeds[best]]) {
                        best = g;
                    }
                }
                best
            })
            .collect()
    };
    let mut labels = assign(&seeds);
    for _ in 0..12 {
        let mut sums = vec![(0.0, 0.0, 0.0); k];
        for (i, &g) in labels.iter().enumerate() {
            sums[g].0 += points[i].0 * weights[i];
            sums[g].1 += points[i].1 * weights[i];
            sums[g].2 += weights[i];
        }
        let mut new_seeds = seeds.clone();
        for g in 0..k {
            if sums[g].2 <= 0.0 {
                continue;
            }
            let mean = (sums[g].0 / sums[g].2, sums[g].1 / sums[g].2);
            let medoid =
                (0..n).filter(|&i| labels[i] == g).min_by(|&a, &b| d2(points[a], mean).total_cmp(&d2(points[b], mean)).then(a.cmp(&b)));
            if let Some(m) = medoid {
                new_seeds[g] = m;
            }
        }
        if new_seeds == seeds {
            break;
        }
        seeds = new_seeds;
        labels = assign(&seeds);
    }
    for (g, &s) in seeds.iter().enumerate() {
        labels[s] = g;
    }
    labels
}

/// Mean point of each group, to order the groups.
fn group_means(points: &[(f64, f64)], labels: &[usize], k: usize) -> Vec<(f64, f64)> {
    let mut sums = vec![(0.0, 0.0, 0.0); k];
    for (p, &g) in points.iter().zip(labels) {
        sums[g] = (sums[g].0 + p.0, sums[g].1 + p.1, sums[g].2 + 1.0);
    }
    sums.iter().map(|s| if s.2 > 0.0 { (s.0 / s.2, s.1 / s.2) } else { (0.0, 0.0) }).collect()
}

pub(crate) fn assign(reference: &Reference, tiling: &Tiling, seed: u64) -> Result<Vec<Grid>, SynthError> {
    let n = tiling.cells.len();
    let centres: Vec<(f64, f64)> = tiling.cells.iter().map(|c| centroid_km(&c.shape)).collect();
    let areas: Vec<f64> = tiling.cells.iter().map(|c| area_km2(&c.shape)).collect();
    let mut street_of: Vec<Option<usize>> = vec![None; n];
    let mut community_of: Vec<Option<usize>> = vec![None; n];
    let centre = to_km(CENTRE_LON, CENTRE_LAT);
    let mut rng = rng_for(seed, 0xAD01);

    for (d, _) in reference.districts.iter().enumerate() {
        // The enclave takes its parent's community below, so it does not seed a cluster.
        let members: Vec<usize> = (0..n).filter(|&i| tiling.cells[i].district == d && tiling.cells[i].enclave_of.is_none()).collect();
        let streets: Vec<usize> = (0..reference.streets.len()).filter(|&s| reference.streets[s].district == d).collect();
        if members.is_empty() || streets.is_empty() {
            continue;
        }
        let k = streets.len().min(members.len());
        let pts: Vec<(f64, f64)> = members.iter().map(|&i| centres[i]).collect();
        let w: Vec<f64> = members.iter().map(|&i| areas[i].max(1e-6)).collect();
        let labels = cluster(&pts, &w, k, &mut rng);
        // Street codes 0xx are urban 街道, 1xx/2xx rural 镇/乡: give the groups nearest the city
        // centre the lowest codes.
        let means = group_means(&pts, &labels, k);
        let mut order: Vec<usize> = (0..k).collect();
        order.sort_by(|&a, &b| {
            let da = (means[a].0 - centre.0).hypot(means[a].1 - centre.1);
            let db = (means[b].0 - centre.0).hypot(means[b].1 - centre.1);
            da.total_cmp(&db).then(a.cmp(&b))
        });
        let mut street_of_group = vec![0; k];
        for (rank, &g) in order.iter().enumerate() {
            street_of_group[g] = streets[rank];
        }
        for (m, &g) in members.iter().zip(&labels) {
            street_of[*m] = Some(street_of_group[g]);
        }
    }

    for s in 0..reference.streets.len() {
        let members: Vec<usize> = (0..n).filter(|&i| street_of[i] == Some(s)).collect();
        if members.is_empty() {
            continue;
        }
        let comms: Vec<usize> = (0..reference.communities.len()).filter(|&c| reference.communities[c].street == s).collect();
        if comms.is_empty() {
            return Err(SynthError::Reference {
                path: super::reference::COMMUNITIES_FILE.into(),
                msg: format!("street {} has cells but no community", reference.streets[s].code),
            });
        }
        let m = comms.len().min(members.len());
        let pts: Vec<(f64, f64)> = members.iter().map(|&i| centres[i]).collect();
        let w: Vec<f64> = members.iter().map(|&i| areas[i].max(1e-6)).collect();
        let labels = cluster(&pts, &w, m, &mut rng);
        // Community groups in reading order (north first, then west), on the group means.
        let means = group_means(&pts, &labels, m);
        let mut order: Vec<usize> = (0..m).collect();
        order.sort_by(|&a, &b| means[b].1.total_cmp(&means[a].1).then(means[a].0.total_cmp(&means[b].0)).then(a.cmp(&b)));
        let mut comm_of_group = vec![0; m];
        for (rank, &g) in order.iter().enumerate() {
            comm_of_group[g] = comms[rank];
        }
        for (mi, &g) in members.iter().zip(&labels) {
            community_of[*mi] = Some(comm_of_group[g]);
        }
    }
    for i in 0..n {
        if let Some(p) = tiling.cells[i].enclave_of {
            street_of[i] = street_of[p];
            community_of[i] = community_of[p];
        }
    }

    // Population: area x decay with distance from the centre x lognormal noise, scaled to the
    // district's census total.
    let mut prng = rng_for(seed, 0xAD02);
    let raw: Vec<f64> = (0..n)
        .map(|i| {
            let d = (centres[i].0 - centre.0).hypot(centres[i].1 - centre.1);
            let noise = (0.6 * std_normal(&mut prng)).exp();
            areas[i] * (0.04 + (-d / 14.0).exp()) * noise
        })
        .collect();
    let mut population = vec![0u64; n];
    let mut households = vec![0u64; n];
    for (d, dist) in reference.districts.iter().enumerate() {
        let members: Vec<usize> = (0..n).filter(|&i| tiling.cells[i].district == d).collect();
        let total_w: f64 = members.iter().map(|&i| raw[i]).sum();
        let total_pop = district_population(&dist.code).unwrap_or_else(|| 1000.0 * members.iter().map(|&i| areas[i]).sum::<f64>());
        for &i in &members {
            let p = if total_w > 0.0 { (total_pop * raw[i] / total_w).round() } else { 0.0 };
            population[i] = p as u64;
            households[i] = (p / prng.random_range(2.4..2.8)).round() as u64;
        }
    }

    // Number the grids of each community: cells are already north -> south, west -> east within
    // a district (tiling order), and the enclave follows its parent.
    let mut grids = Vec::with_capacity(n);
    let mut seq_of_community = vec![0u32; reference.communities.len()];
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by(|&a, &b| {
        let (ca, cb) = (&tiling.cells[a], &tiling.cells[b]);
        community_of[a].cmp(&community_of[b]).then(cb.row.cmp(&ca.row)).then(ca.col.cmp(&cb.col)).then(ca.sub.cmp(&cb.sub))
    });
    for i in order {
        let cell = &tiling.cells[i];
        let (Some(c), Some(s)) = (community_of[i], street_of[i]) else {
            return Err(SynthError::Tiling {
                district: reference.districts[cell.district].code.clone(),
                msg: format!("cell ({},{}) got no street or community", cell.col, cell.row),
            });
        };
        seq_of_community[c] += 1;
        let seq = seq_of_community[c];
        if seq > 999 {
            return Err(SynthError::Tiling {
                district: reference.districts[cell.district].code.clone(),
                msg: format!("community {} would need more than 999 grids", reference.communities[c].code),
            });
        }
        let comm = &reference.communities[c];
        grids.push(Grid {
            code: format!("{}{:03}", comm.code, seq),
            name: format!("{}第{:03}网格", short_community_name(&comm.name), seq),
            community: c,
            street: s,
            district: cell.district,
            population: population[i],
            households: households[i],
            shape: cell.shape.clone(),
        });
    }
    grids.sort_by(|a, b| a.code.cmp(&b.code));
    Ok(grids)
}

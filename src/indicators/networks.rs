//! Several grid networks over one city (多网融合): the crosswalk between two networks, the
//! cells of a network that straddle a community or street of the first network, and the
//! cases whose networks put them in different communities.

use std::collections::BTreeMap;

use crate::join::crosswalk::Overlap;
use crate::vocab::column::Field;
use crate::vocab::frame::Frame;
use crate::vocab::units::{GridLayer, Hierarchy, Level};

/// A parent unit counts as overlapped by a cell when it holds at least this share of the cell.
pub const STRADDLE_MIN_SHARE: f64 = 0.01;

pub static FIELDS: &[Field] = &[
    Field::new("network", "网格体系", "", "the grid network ([[grids]] name)"),
    Field::new("network_a", "网格体系A", "", "the first network of the pair"),
    Field::new("cell_a", "A网格编码", "", "a cell of network_a"),
    Field::new("network_b", "网格体系B", "", "the second network of the pair"),
    Field::new("cell_b", "B网格编码", "", "a cell of network_b"),
    Field::new(
        "shared_area_m2",
        "重叠面积",
        "m²",
        "area of the cells' intersection (geo's boolean intersection, area on the WGS84 authalic sphere); pairs below 1 m² are left out",
    ),
    Field::new("share_of_a", "占A面积比", "share 0-1", "shared_area / area of cell_a"),
    Field::new("share_of_b", "占B面积比", "share 0-1", "shared_area / area of cell_b"),
    Field::new("cell_code", "网格编码", "", "a cell of the network"),
    Field::new("cell_name", "网格名称", "", "its name"),
    Field::new(
        "communities_overlapped",
        "跨社区数",
        "communities",
        "communities of the first network holding at least 1 % of the cell's area",
    ),
    Field::new("community_shares", "各社区面积占比", "", "those communities' codes with their share of the cell, largest first"),
    Field::new("streets_overlapped", "跨街道数", "streets", "streets of the first network holding at least 1 % of the cell's area"),
    Field::new("street_shares", "各街道面积占比", "", "those streets' codes with their share of the cell, largest first"),
    Field::new("cells", "网格数", "cells", "cells of the network after the layer's checks"),
    Field::new("records_placed", "落格记录数", "records", "records the first network placed that this network placed too"),
    Field::new(
        "records_not_placed",
        "未落格记录数",
        "records",
        "records the first network placed that lie in no cell of this network (or whose unit code it lacks)",
    ),
    Field::new("cases_community_differs", "社区归属不一致工单数", "cases", "cases both networks placed whose community differs"),
    Field::new("cells_straddling_community", "跨社区网格数", "cells", "cells with communities_overlapped ≥ 2"),
    Field::new("cells_straddling_street", "跨街道网格数", "cells", "cells with streets_overlapped ≥ 2"),
    Field::new("network_community_code", "该体系社区编码", "", "the community the network's cell belongs to"),
];

/// The crosswalk of networks `a` and `b`: one row per overlapping pair, in cell order.
pub fn crosswalk_frame(a_name: &str, a: &GridLayer, b_name: &str, b: &GridLayer, o: &[Overlap]) -> Frame {
    let mut f = Frame::default();
    let share = |x: f64, whole: f64| (whole > 0.0).then(|| ((x / whole) * 1e6).round() / 1e6);
    f.str("network_a", o.iter().map(|_| Some(a_name.to_string())).collect());
    f.str("cell_a", o.iter().map(|x| Some(a.grids[x.a as usize].code.clone())).collect());
    f.str("network_b", o.iter().map(|_| Some(b_name.to_string())).collect());
    f.str("cell_b", o.iter().map(|x| Some(b.grids[x.b as usize].code.clone())).collect());
    f.float("shared_area_m2", o.iter().map(|x| Some((x.area_km2 * 1e8).round() / 100.0)).collect(), 2);
    f.float("share_of_a", o.iter().map(|x| share(x.area_km2, a.grids[x.a as usize].area_km2)).collect(), 6);
    f.float("share_of_b", o.iter().map(|x| share(x.area_km2, b.grids[x.b as usize].area_km2)).collect(), 6);
    f
}

/// The parents (of `level`) of the first network that hold a share of each cell of `net`:
/// `o` is the overlaps of `net` (as a) with the first network (as b).
fn parent_shares(net: &GridLayer, first: &Hierarchy, o: &[Overlap], level: Level) -> Vec<Vec<(String, f64)>> {
    let mut per: Vec<BTreeMap<u32, f64>> = vec![BTreeMap::new(); net.grids.len()];
    for x in o {
        if let Some(u) = first.units_of(Level::Grid, x.b)[level as usize] {
            *per[x.a as usize].entry(u).or_default() += x.area_km2;
        }
    }
    let units = first.units(level);
    per.into_iter()
        .enumerate()
        .map(|(c, m)| {
            let whole = net.grids[c].area_km2;
            let mut v: Vec<(String, f64)> = m
                .into_iter()
                .map(|(u, a)| (units[u as usize].code.clone(), if whole > 0.0 { a / whole } else { 0.0 }))
                .filter(|(_, s)| *s >= STRADDLE_MIN_SHARE)
                .collect();
            v.sort_by(|x, y| y.1.total_cmp(&x.1).then(x.0.cmp(&y.0)));
            v
        })
        .collect()
}

/// The cells of `net` that straddle a community or street of the first network, and the
/// numbers of each.
pub fn straddling_frame(net: &GridLayer, first: &Hierarchy, o: &[Overlap]) -> (Frame, usize, usize) {
    let comm = parent_shares(net, first, o, Level::Community);
    let street = parent_shares(net, first, o, Level::Street);
    let text = |v: &[(String, f64)]| v.iter().map(|(c, s)| format!("{c} {:.1}%", s * 100.0)).collect::<Vec<_>>().join("; ");
    let rows: Vec<usize> = (0..net.grids.len()).filter(|&c| comm[c].len() >= 2 || street[c].len() >= 2).collect();
    let mut f = Frame::default();
    f.str("cell_code", rows.iter().map(|&c| Some(net.grids[c].code.clone())).collect());
    f.str("cell_name", rows.iter().map(|&c| Some(net.grids[c].name.clone())).collect());
    f.str("community_code", rows.iter().map(|&c| net.grids[c].parents[0].as_ref().map(|u| u.code.clone())).collect());
    f.int("communities_overlapped", rows.iter().map(|&c| Some(comm[c].len() as i64)).collect());
    f.str("community_shares", rows.iter().map(|&c| Some(text(&comm[c]))).collect());
    f.int("streets_overlapped", rows.iter().map(|&c| Some(street[c].len() as i64)).collect());
    f.str("street_shares", rows.iter().map(|&c| Some(text(&street[c]))).collect());
    let n_comm = comm.iter().filter(|v| v.len() >= 2).count();
    let n_street = street.iter().filter(|v| v.len() >= 2).count();
    (f, n_comm, n_street)
}

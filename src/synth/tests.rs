//! Checks that would catch real mistakes in the demo data: determinism, valid and correctly
//! wound geometries, codes that nest, cells that tile their district without overlapping,
//! communities that dissolve cleanly, row counts, defect counts and the sign-up curves.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use chrono::NaiveDate;
use geo::orient::{Direction, Orient};
use geo::winding_order::Winding;
use geo::{BooleanOps, BoundingRect, GeodesicArea, MultiPolygon, Validation, unary_union};
use rstar::RTree;
use rstar::primitives::{GeomWithData, Rectangle};

use super::*;

const SMALL_CASES: usize = 2000;
const SEED: u64 = 20261127;

fn reference_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("data").join("reference")
}

struct Fixture {
    dir: tempfile::TempDir,
    report: DemoReport,
}

/// One small run shared by the tests (tiling takes a few seconds in a debug build).
fn fixture() -> &'static Fixture {
    static F: OnceLock<Fixture> = OnceLock::new();
    F.get_or_init(|| {
        let dir = tempfile::tempdir().expect("temp dir");
        let opts = DemoOptions {
            reference_dir: reference_dir(),
            out_dir: dir.path().to_path_buf(),
            seed: SEED,
            cases: SMALL_CASES,
            districts: Vec::new(),
        };
        let report = write_demo_report(&opts).expect("demo generation");
        Fixture { dir, report }
    })
}

struct GridFeature {
    id: u64,
    props: Vec<(String, serde_json::Value)>,
    shape: MultiPolygon<f64>,
    raw_coords: Vec<f64>,
}

impl GridFeature {
    fn prop(&self, k: &str) -> &str {
        self.props.iter().find(|(n, _)| n == k).and_then(|(_, v)| v.as_str()).unwrap_or("")
    }
}

fn read_grids(path: &Path) -> Vec<GridFeature> {
    let text = std::fs::read_to_string(path).expect("read geojson");
    let root: serde_json::Value = serde_json::from_str(&text).expect("geojson is JSON");
    assert_eq!(root["type"], "FeatureCollection");
    assert_eq!(root["name"], "beijing_grids");
    let fc: geojson::FeatureCollection = text.parse().expect("geojson parses");
    fc.features
        .iter()
        .map(|f| {
            let geom = f.geometry.as_ref().expect("geometry");
            let shape = match geo::Geometry::<f64>::try_from(&geom.value).expect("geo conversion") {
                geo::Geometry::Polygon(p) => MultiPolygon::new(vec![p]),
                geo::Geometry::MultiPolygon(mp) => mp,
                other => panic!("unexpected geometry {other:?}"),
            };
            let raw_coords = shape
                .0
                .iter()
                .flat_map(|p| p.exterior().0.iter().chain(p.interiors().iter().flat_map(|r| r.0.iter())))
                .flat_map(|c| [c.x, c.y])
                .collect();
            let id = match &f.id {
                Some(geojson::feature::Id::Number(n)) => n.as_u64().expect("integer id"),
                other => panic!("id must be an integer, got {other:?}"),
            };
            let props = f.properties.as_ref().expect("properties").iter().map(|(k, v)| (k.clone(), v.clone())).collect();
            GridFeature { id, props, shape, raw_coords }
        })
        .collect()
}

#[test]
fn same_seed_gives_byte_identical_files() {
    let f = fixture();
    let dir = tempfile::tempdir().expect("temp dir");
    let opts = DemoOptions {
        reference_dir: reference_dir(),
        out_dir: dir.path().to_path_buf(),
        seed: SEED,
        cases: SMALL_CASES,
        districts: Vec::new(),
    };
    let again = write_demo(&opts).expect("second run");
    assert_eq!(again.files.len(), f.report.summary.files.len());
    for ((a, na), (b, nb)) in f.report.summary.files.iter().zip(&again.files) {
        assert_eq!(a.file_name(), b.file_name());
        assert_eq!(na, nb);
        let (x, y) = (std::fs::read(a).expect("read"), std::fs::read(b).expect("read"));
        assert!(x == y, "{} differs between two runs with the same seed", a.display());
    }
}

#[test]
fn grid_features_are_valid_ccw_and_coded() {
    let f = fixture();
    let grids = read_grids(&f.dir.path().join(GRIDS_FILE));
    assert_eq!(grids.len(), f.report.summary.grids);
    assert!((3000..=5000).contains(&grids.len()), "{} grids", grids.len());
    let order = [
        "grid_code",
        "grid_name",
        "community_code",
        "community_name",
        "street_code",
        "street_name",
        "district_code",
        "district_name",
        "population",
        "households",
    ];
    let mut previous = String::new();
    for g in &grids {
        let names: Vec<&str> = g.props.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(names, order, "property order");
        let (code, comm, street, dist) = (g.prop("grid_code"), g.prop("community_code"), g.prop("street_code"), g.prop("district_code"));
        assert!(code.len() == 15 && code.bytes().all(|b| b.is_ascii_digit()), "grid code {code}");
        assert!(comm.len() == 12 && code.starts_with(comm), "{code} not under community {comm}");
        assert!(street.len() == 9 && comm.starts_with(street), "{comm} not under street {street}");
        assert!(dist.len() == 6 && street.starts_with(dist), "{street} not under district {dist}");
        assert_eq!(g.id.to_string(), code, "id = grid code");
        assert!(code > previous.as_str(), "features sorted by grid_code, unique");
        previous = code.to_owned();
        assert!(g.prop("grid_name").ends_with("网格") && !g.prop("grid_name").contains("委"), "{}", g.prop("grid_name"));
        let pop = g.props[8].1.as_u64().expect("integer population");
        let hh = g.props[9].1.as_u64().expect("integer households");
        assert!(hh as f64 <= pop as f64 / 2.0 + 1.0, "households {hh} for population {pop}");
        assert!(g.shape.is_valid(), "{code} invalid: {:?}", g.shape.check_validation().err());
        for p in &g.shape.0 {
            assert!(p.exterior().is_ccw(), "{code}: exterior must be counter-clockwise");
            assert!(p.interiors().iter().all(|r| r.is_cw()), "{code}: holes must be clockwise");
        }
        assert!(g.raw_coords.iter().all(|&v| (v * 1e6).round() / 1e6 == v), "{code}: more than 6 decimals");
    }
    assert!(grids.iter().any(|g| g.shape.0.len() > 1), "at least one MultiPolygon grid");
    assert!(grids.iter().any(|g| g.shape.0.iter().any(|p| !p.interiors().is_empty())), "at least one grid with a hole");
}

#[test]
fn cells_tile_their_districts_without_overlap() {
    let f = fixture();
    let grids = read_grids(&f.dir.path().join(GRIDS_FILE));
    let reference = reference::load(&reference_dir(), &[]).expect("reference");
    let mut cell_area: BTreeMap<String, f64> = BTreeMap::new();
    for g in &grids {
        *cell_area.entry(g.prop("district_code").to_owned()).or_insert(0.0) += g.shape.geodesic_area_unsigned();
    }
    let (mut total_cells, mut total_districts) = (0.0, 0.0);
    for d in &reference.districts {
        let want = d.shape.geodesic_area_unsigned();
        let got = cell_area.get(&d.code).copied().unwrap_or(0.0);
        assert!((got - want).abs() / want < 0.01, "{} {}: cells {got:.0} m² vs district {want:.0} m²", d.code, d.name);
        total_cells += got;
        total_districts += want;
    }
    assert!((total_cells - total_districts).abs() / total_districts < 0.01);

    // Overlap: every pair of cells whose bounding boxes touch (about 15,000 pairs).
    let boxes: Vec<GeomWithData<Rectangle<[f64; 2]>, usize>> = grids
        .iter()
        .enumerate()
        .filter_map(|(i, g)| {
            g.shape.bounding_rect().map(|r| GeomWithData::new(Rectangle::from_corners([r.min().x, r.min().y], [r.max().x, r.max().y]), i))
        })
        .collect();
    let tree = RTree::bulk_load(boxes);
    let mut checked = 0;
    for i in 0..grids.len() {
        let Some(r) = grids[i].shape.bounding_rect() else {
            continue;
        };
        let env = rstar::AABB::from_corners([r.min().x, r.min().y], [r.max().x, r.max().y]);
        for other in tree.locate_in_envelope_intersecting(&env) {
            let j = other.data;
            if j <= i {
                continue;
            }
            let overlap = grids[i].shape.intersection(&grids[j].shape).geodesic_area_unsigned();
            // 0.01 m²: cells are >= 25,000 m²; rounding a vertex that is not shared by both
            // neighbours would already leave square metres along a long edge.
            assert!(overlap < 0.01, "{} and {} overlap by {overlap:.3} m²", grids[i].prop("grid_code"), grids[j].prop("grid_code"));
            checked += 1;
        }
    }
    assert!(checked > 10_000, "only {checked} pairs checked");

    // No gaps either: the cells of the whole city dissolve into one polygon without holes (the
    // district layer itself has none; Chaoyang's exclave fills Shunyi's hole).
    let city = unary_union(grids.iter().map(|g| &g.shape));
    let holes: usize = city.0.iter().map(|p| p.interiors().len()).sum();
    assert_eq!((city.0.len(), holes), (1, 0), "union of all cells: (parts, holes)");
}

#[test]
fn communities_dissolve_cleanly() {
    let f = fixture();
    let grids = read_grids(&f.dir.path().join(GRIDS_FILE));
    let mut by_comm: BTreeMap<&str, Vec<&MultiPolygon<f64>>> = BTreeMap::new();
    for g in &grids {
        by_comm.entry(g.prop("community_code")).or_default().push(&g.shape);
    }
    let mut multi_cell = 0;
    for (comm, shapes) in &by_comm {
        if shapes.len() < 2 {
            continue;
        }
        multi_cell += 1;
        let parts_before: usize = shapes.iter().map(|s| s.0.len()).sum();
        let union = unary_union(shapes.iter().copied()).orient(Direction::Default);
        // Shared vertices must make the union swallow every shared edge: a gap or an overlap
        // leaves a sliver part or a sliver hole behind.
        for p in &union.0 {
            let part = MultiPolygon::new(vec![geo::Polygon::new(p.exterior().clone(), vec![])]);
            assert!(part.geodesic_area_unsigned() > 100.0, "{comm}: sliver part in the union");
            for h in p.interiors() {
                let hole = MultiPolygon::new(vec![geo::Polygon::new(h.clone(), vec![])]);
                assert!(hole.geodesic_area_unsigned() > 100.0, "{comm}: sliver hole in the union");
            }
        }
        assert!(union.0.len() <= parts_before);
    }
    assert!(multi_cell > 100, "only {multi_cell} communities with several grids");
}

fn read_csv_rows(path: &Path) -> (Vec<String>, Vec<Vec<String>>) {
    let bytes = std::fs::read(path).expect("read csv");
    assert!(!bytes.starts_with(&[0xEF, 0xBB, 0xBF]), "{}: no BOM", path.display());
    let mut r = csv::Reader::from_reader(bytes.as_slice());
    let header = r.headers().expect("header").iter().map(str::to_owned).collect();
    let rows = r.records().map(|rec| rec.expect("record").iter().map(str::to_owned).collect()).collect();
    (header, rows)
}

fn defect_count(f: &Fixture, file: &str, defect: Defect) -> usize {
    f.report.defects.iter().filter(|(n, d, _)| n == file && d == defect.label()).map(|x| x.2).sum()
}

#[test]
fn case_files_add_up_and_match_their_schemas() {
    // Scoped: polars' prelude has names that clash with geo's.
    use polars::prelude::*;
    let f = fixture();
    let rows_of = |name: &str| f.report.summary.files.iter().find(|(p, _)| p.ends_with(name)).map(|x| x.1).expect("file listed");
    assert_eq!(rows_of(HOTLINE_FILE) + rows_of(APP_FILE) + rows_of(INSPECTOR_FILE), SMALL_CASES);

    let file = std::fs::File::open(f.dir.path().join(HOTLINE_FILE)).expect("open parquet");
    let df = ParquetReader::new(file).finish().expect("read parquet");
    assert_eq!(df.height(), rows_of(HOTLINE_FILE));
    let names: Vec<String> = df.get_column_names().iter().map(|s| s.to_string()).collect();
    assert_eq!(
        names,
        [
            "工单编号",
            "受理时间",
            "办结时间",
            "办理时限",
            "工单状态",
            "来源渠道",
            "一级分类",
            "二级分类",
            "承办单位",
            "经度",
            "纬度",
            "网格编码",
            "社区编码",
            "街道编码",
            "回访有效",
            "是否联系",
            "是否解决",
            "满意度"
        ]
    );
    assert_eq!(df.column("经度").expect("col").dtype(), &DataType::Float64);
    assert_eq!(df.column("受理时间").expect("col").dtype(), &DataType::String);
    let lon = df.column("经度").expect("col").f64().expect("f64");
    let street = df.column("街道编码").expect("col").str().expect("str");
    let located = lon.iter().filter(|v| v.is_some()).count() as f64 / df.height() as f64;
    assert!((0.65..0.85).contains(&located), "located share {located}");
    let no_loc = lon.iter().zip(street.iter()).filter(|(x, s)| x.is_none() && s.is_none()).count();
    assert_eq!(no_loc, defect_count(f, HOTLINE_FILE, Defect::NoLocation));
    let ids = df.column("工单编号").expect("col").str().expect("str");
    let distinct: BTreeSet<&str> = ids.iter().flatten().collect();
    let present = ids.iter().flatten().count();
    assert_eq!(present - distinct.len(), defect_count(f, HOTLINE_FILE, Defect::Duplicate));
    assert_eq!(df.height() - present, defect_count(f, HOTLINE_FILE, Defect::MissingId));

    let (header, rows) = read_csv_rows(&f.dir.path().join(APP_FILE));
    assert_eq!(header, records::APP_HEADER);
    assert_eq!(rows.len(), rows_of(APP_FILE));
    let empty = rows.iter().filter(|r| r[8].is_empty() && r[9].is_empty()).count();
    assert_eq!(empty, defect_count(f, APP_FILE, Defect::NoLocation));
    let ids: Vec<&str> = rows.iter().map(|r| r[0].as_str()).filter(|s| !s.is_empty()).collect();
    let distinct: BTreeSet<&str> = ids.iter().copied().collect();
    assert_eq!(ids.len() - distinct.len(), defect_count(f, APP_FILE, Defect::Duplicate));
    assert!(rows.iter().all(|r| ["open", "closed", "cancelled"].contains(&r[4].as_str())));

    let (header, rows) = read_csv_rows(&f.dir.path().join(INSPECTOR_FILE));
    assert_eq!(header, records::INSPECTOR_HEADER);
    assert_eq!(rows.len(), rows_of(INSPECTOR_FILE));
    let grids: BTreeSet<String> = read_grids(&f.dir.path().join(GRIDS_FILE)).iter().map(|g| g.prop("grid_code").to_owned()).collect();
    let unknown = rows.iter().filter(|r| !r[10].is_empty() && !grids.contains(&r[10])).count();
    assert_eq!(unknown, defect_count(f, INSPECTOR_FILE, Defect::UnknownGrid));

    let total_defects: usize = f
        .report
        .defects
        .iter()
        .filter(|(n, _, _)| ![SIGNUPS_FILE, WHISTLES_FILE, ORDERS_FILE, ROSTER_FILE, ACTIVITIES_FILE].contains(&n.as_str()))
        .map(|x| x.2)
        .sum();
    let share = total_defects as f64 / SMALL_CASES as f64;
    assert!((0.025..0.05).contains(&share), "defect share {share}");
}

#[test]
fn signup_curves_cross_their_thresholds_as_designed() {
    let f = fixture();
    let (header, rows) = read_csv_rows(&f.dir.path().join(SIGNUPS_FILE));
    assert_eq!(header, signups::HEADER);
    let mut per_project: BTreeMap<String, (usize, Vec<NaiveDate>)> = BTreeMap::new();
    for r in &rows {
        let e = per_project.entry(r[1].clone()).or_default();
        if r[4] == "1" {
            e.0 += 1;
            if let Ok(d) = NaiveDate::parse_from_str(&r[5], "%Y-%m-%d") {
                e.1.push(d);
            }
        }
    }
    assert_eq!(per_project.len(), 3);
    let crossing = |(n, dates): &(usize, Vec<NaiveDate>), threshold: f64| -> Option<i64> {
        let mut d = dates.clone();
        d.sort();
        let start = *d.first()?;
        d.iter().enumerate().find(|(i, _)| (*i + 1) as f64 / *n as f64 >= threshold).map(|(_, day)| (*day - start).num_days())
    };
    let p: Vec<&(usize, Vec<NaiveDate>)> = per_project.values().collect();
    for (n, _) in &p {
        assert!((800..=3000).contains(n), "{n} households in scope");
    }
    let d90 = crossing(p[0], 0.90).expect("first project crosses 90 %");
    assert!((33..=47).contains(&d90), "first project crosses 90 % on day {d90}");
    assert!(crossing(p[1], 0.85).is_none(), "second project must stall below 85 %");
    assert!(crossing(p[1], 0.80).is_some(), "second project gets close to 85 %");
    assert!(crossing(p[2], 0.95).is_some(), "third project crosses 95 %");
}

/// `--districts` builds the city from those districts only, still with its enclave and its
/// three sign-up projects.
#[test]
fn a_district_selection_keeps_only_its_districts() {
    let dir = tempfile::tempdir().expect("temp dir");
    let districts = vec!["110101".to_owned(), "110102".to_owned()];
    let opts = DemoOptions { reference_dir: reference_dir(), out_dir: dir.path().to_path_buf(), seed: SEED, cases: 500, districts };
    let report = write_demo_report(&opts).expect("demo generation");
    let kept: Vec<&str> = report.grids_per_district.iter().map(|(c, _, _)| c.as_str()).collect();
    assert_eq!(kept, ["110101", "110102"]);
    let grids = read_grids(&dir.path().join(GRIDS_FILE));
    assert!(grids.iter().all(|g| ["110101", "110102"].contains(&g.prop("district_code"))));
    assert!(grids.iter().any(|g| g.shape.0.iter().any(|p| !p.interiors().is_empty())), "the enclave's parent has a hole");
    let (_, rows) = read_csv_rows(&dir.path().join(SIGNUPS_FILE));
    let projects: BTreeSet<&str> = rows.iter().map(|r| r[1].as_str()).collect();
    assert_eq!(projects.len(), 3, "{projects:?}");

    let bad = DemoOptions { districts: vec!["110199".to_owned()], ..opts };
    let err = write_demo_report(&bad).err().expect("an unknown district is an error").to_string();
    assert!(err.contains("no district \"110199\""), "{err}");
}

/// `whistles.csv`: its header, one row per whistle and department, a whistle's rows agree on
/// its time and type, and the planted defects are there.
#[test]
fn whistle_rows_share_their_whistle() {
    let f = fixture();
    let (header, rows) = read_csv_rows(&f.dir.path().join(WHISTLES_FILE));
    assert_eq!(header, whistles::HEADER);
    let n = f.report.summary.files.iter().find(|(p, _)| p.ends_with(WHISTLES_FILE)).map(|x| x.1).unwrap();
    assert_eq!(rows.len(), n);
    assert!(n > 1000, "{n} rows");
    let mut first: BTreeMap<&str, (&str, &str)> = BTreeMap::new();
    for r in &rows {
        let e = first.entry(r[0].as_str()).or_insert((r[1].as_str(), r[2].as_str()));
        if r[1] != "待补录" && e.0 != "待补录" {
            assert_eq!((e.0, e.1), (r[1].as_str(), r[2].as_str()), "whistle {} disagrees with itself", r[0]);
        }
    }
    let defects = |what: &str| f.report.defects.iter().find(|(file, d, _)| file == WHISTLES_FILE && d == what).map(|x| x.2).unwrap();
    assert_eq!(rows.iter().filter(|r| r[4].is_empty()).count(), defects("empty department"));
    assert_eq!(rows.iter().filter(|r| r[1] == "待补录").count(), defects("unreadable whistle time"));
}

#[test]
fn the_export_shape_is_a_hotline_export() {
    // Size S's grids with the export shape's cases: 12 columns, ISO 8601 with +08:00, rows in
    // received-time order, about 1 % without one or both coordinates, text dimensions and
    // true/false; Parquet with zoned microsecond timestamps.
    let out = tempfile::tempdir().expect("a temporary folder");
    let size = bench::SIZES[0];
    let dir = bench::write_bench_shaped(&size, out.path(), 7, bench::Shape::Export).expect("the data set");
    assert!(dir.ends_with("S-export"));
    let mut r = csv::Reader::from_path(dir.join("cases.csv")).expect("cases.csv");
    let header: Vec<String> = r.headers().expect("a header").iter().map(str::to_string).collect();
    assert_eq!(
        header,
        [
            "case_id",
            "received_at",
            "disposed_at",
            "due_at",
            "closed_at",
            "category",
            "channel",
            "department",
            "lon",
            "lat",
            "contacted",
            "resolved"
        ]
    );
    let (mut rows, mut missing, mut last) = (0usize, 0usize, String::new());
    let mut bools = BTreeSet::new();
    for rec in r.records() {
        let rec = rec.expect("a record");
        rows += 1;
        let received = rec[1].to_string();
        assert!(received.ends_with("+08:00") && received.len() == 25, "{received}");
        assert!(received >= last, "rows are not in received-time order: {received} after {last}");
        last = received;
        missing += (rec[8].is_empty() || rec[9].is_empty()) as usize;
        bools.insert(rec[11].to_string());
    }
    assert_eq!(rows, size.cases);
    let share = missing as f64 / rows as f64;
    assert!((0.008..0.012).contains(&share), "{share}");
    assert_eq!(bools, BTreeSet::from(["".to_string(), "false".to_string(), "true".to_string()]));
    use polars::prelude::SerReader;
    let df = polars::prelude::ParquetReader::new(std::fs::File::open(dir.join("cases.parquet")).expect("the Parquet file"))
        .finish()
        .expect("it reads");
    assert_eq!(df.height(), size.cases);
    let dtype = df.column("received_at").expect("received_at").dtype().clone();
    assert!(
        matches!(&dtype, polars::prelude::DataType::Datetime(polars::prelude::TimeUnit::Microseconds, Some(z)) if z.as_str() == "Asia/Shanghai"),
        "{dtype:?}"
    );
    let pipeline = std::fs::read_to_string(dir.join("pipeline_csv.toml")).expect("a pipeline");
    assert!(pipeline.contains("%Y-%m-%dT%H:%M:%S%:z") && pipeline.contains("department = \"department\""), "{pipeline}");
}

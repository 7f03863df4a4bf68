//! Any bytes as a CSV case file, read as UTF-8 or as GBK (the first byte chooses): an error or
//! parsed rows plus rejects that add up, never a panic.
#![no_main]

mod common;

use gridgov::io::{CheckContext, Checker, SourceReader};
use gridgov::vocab::dictionary::Dictionaries;
use gridgov::vocab::quarantine::Quarantine;
use gridgov::vocab::units::Hierarchy;
use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;

const GRIDS: &str = r#"{"type":"FeatureCollection","features":[
{"type":"Feature","properties":{"code":"G1","community":"C1","street":"S1","district":"D1","pop":100},"geometry":{"type":"Polygon","coordinates":[[[116.30,39.90],[116.31,39.90],[116.31,39.91],[116.30,39.91],[116.30,39.90]]]}},
{"type":"Feature","properties":{"code":"G2","community":"C1","street":"S1","district":"D1","pop":200},"geometry":{"type":"Polygon","coordinates":[[[116.31,39.90],[116.32,39.90],[116.32,39.91],[116.31,39.91],[116.31,39.90]]]}}]}"#;

struct Fixed {
    p: gridgov::config::Pipeline,
    h: Hierarchy,
    names: gridgov::vocab::names::NameIndex,
    file: std::path::PathBuf,
}

fuzz_target!(|data: &[u8]| {
    static F: OnceLock<Fixed> = OnceLock::new();
    let f = F.get_or_init(|| {
        let p = common::pipeline();
        let layer = gridgov::io::grids::parse_grids(std::path::Path::new("grids.geojson"), GRIDS, &p.grids).expect("fixed grids");
        let h = Hierarchy::build(&layer);
        let names = gridgov::vocab::names::NameIndex::build(&h, &[]).expect("no aliases");
        let file = std::env::temp_dir().join(format!("gridgov-fuzz-{}.csv", std::process::id()));
        Fixed { p, h, names, file }
    });
    let Some((&choice, body)) = data.split_first() else { return };
    // The first byte picks the source: UTF-8 with every field, GBK in GCJ-02, placed by names.
    let src = &f.p.sources[(choice % 3) as usize];
    if std::fs::write(&f.file, body).is_err() {
        return;
    }
    let calendar = gridgov::vocab::calendar::Calendar::always(f.p.period.rules);
    let limits = gridgov::vocab::calendar::TimeLimits::default();
    let ctx = CheckContext {
        repair_swapped: true,
        calendar: &calendar,
        time_limits: &limits,
        fold: f.p.period.rules.fold,
        gap: f.p.period.rules.gap,
        hierarchy: &f.h,
        names: Some(&f.names),
        extent: None,
        default_time_limit_ms: 3_600_000,
        as_of_ms: f.p.period.as_of_ms(),
        suspect_points: &[],
        suspect_radius_m: 5.0,
    };
    let files = std::slice::from_ref(&f.file);
    let mut dicts = Dictionaries::new(3);
    let mut quarantine = Quarantine::new();
    let mut accepted = 0u64;
    let Ok(mut reader) = SourceReader::open(src, files) else { return };
    let mut checker = Checker::new(src, files, &ctx, reader.rows_hint());
    loop {
        match reader.next_batch() {
            Ok(Some(batch)) => {
                let rows = checker.check(&batch, &mut quarantine, &mut dicts);
                accepted += rows.iter().filter(|r| r.is_some()).count() as u64;
                let _ = quarantine.drain();
                let _ = quarantine.drain_issues();
            }
            Ok(None) => break,
            Err(_) => return,
        }
    }
    let read: u64 = reader.rows_per_file().iter().sum();
    assert_eq!(read, accepted + quarantine.len(), "every row is parsed or rejected");
});

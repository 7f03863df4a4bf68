//! Any bytes as a CSV case file, read as UTF-8 or as GBK (the first byte chooses): an error or
//! parsed rows plus rejects that add up, never a panic.
#![no_main]

mod common;

use gridgov::hierarchy::Hierarchy;
use gridgov::io::cases::{Dictionaries, ReadContext, StageClock, read_cases};
use gridgov::quarantine::Quarantine;
use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;

const GRIDS: &str = r#"{"type":"FeatureCollection","features":[
{"type":"Feature","properties":{"code":"G1","community":"C1","street":"S1","district":"D1","pop":100},"geometry":{"type":"Polygon","coordinates":[[[116.30,39.90],[116.31,39.90],[116.31,39.91],[116.30,39.91],[116.30,39.90]]]}},
{"type":"Feature","properties":{"code":"G2","community":"C1","street":"S1","district":"D1","pop":200},"geometry":{"type":"Polygon","coordinates":[[[116.31,39.90],[116.32,39.90],[116.32,39.91],[116.31,39.91],[116.31,39.90]]]}}]}"#;

struct Fixed {
    p: gridgov::config::Pipeline,
    h: Hierarchy,
    file: std::path::PathBuf,
}

fuzz_target!(|data: &[u8]| {
    static F: OnceLock<Fixed> = OnceLock::new();
    let f = F.get_or_init(|| {
        let p = common::pipeline();
        let layer = gridgov::io::grids::parse_grids(std::path::Path::new("grids.geojson"), GRIDS, &p.grids).expect("fixed grids");
        let h = Hierarchy::build(&layer);
        let file = std::env::temp_dir().join(format!("gridgov-fuzz-{}.csv", std::process::id()));
        Fixed { p, h, file }
    });
    let Some((&choice, body)) = data.split_first() else { return };
    let src = &f.p.cases[(choice & 1) as usize];
    if std::fs::write(&f.file, body).is_err() {
        return;
    }
    let ctx = ReadContext {
        hierarchy: &f.h,
        extent: None,
        default_time_limit_ms: 3_600_000,
        as_of_ms: f.p.period.as_of_ms(),
        suspect_points: &[],
        suspect_radius_m: 5.0,
    };
    let mut dicts = Dictionaries::default();
    let mut quarantine = Quarantine::new(None);
    let mut clock = StageClock::default();
    let mut accepted = 0u64;
    let read = read_cases(src, std::slice::from_ref(&f.file), &ctx, &mut dicts, &mut quarantine, &mut clock, &mut |b, _| {
        accepted += b.rows.iter().filter(|r| matches!(r, gridgov::io::cases::Checked::Ok(..))).count() as u64;
    });
    if let Ok(r) = read {
        assert_eq!(r.rows_read, accepted + quarantine.len(), "every row is parsed or rejected");
    }
});

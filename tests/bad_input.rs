//! Bad input, as a table: each row is a file or setting a planner may meet, with the exit code
//! and the reason code (in `rejects.csv`) or message (on stderr) it must give. Never a panic.
//!
//! Every row starts from the same small valid set-up: two grids A1, A2 side by side in Beijing
//! and a CSV of cases with one good row; a row of the table changes one thing.

use crate::util::*;
use std::path::Path;

const HEADER: &str = "id,received,closed,lon,lat,grid,category\n";
const GOOD: &str = "1,2026-10-02 09:00:00,2026-10-02 10:00:00,116.305,39.905,,道路\n";

fn square(code: &str, w: f64, s: f64, d: f64) -> String {
    let (e, n) = (w + d, s + d);
    format!(
        r#"{{"type":"Feature","properties":{{"code":"{code}"}},"geometry":{{"type":"Polygon","coordinates":[[[{w},{s}],[{e},{s}],[{e},{n}],[{w},{n}],[{w},{s}]]]}}}}"#
    )
}

fn layer(features: &[String]) -> String {
    format!(r#"{{"type":"FeatureCollection","features":[{}]}}"#, features.join(","))
}

fn good_grids() -> Vec<String> {
    vec![square("A1", 116.30, 39.90, 0.01), square("A2", 116.31, 39.90, 0.01)]
}

const CONFIG: &str = r#"
name = "bad"
output_dir = "out"
[period]
month = "2026-10"
as_of = "2026-11-01"
[grids]
path = "grids.geojson"
on_invalid = "ON_INVALID"
[grids.properties]
code = "code"
[[cases]]
name = "cases"
path = "CASES_PATH"
ENCODING
[cases.columns]
case_id = "id"
received_at = "received"
closed_at = "closed"
lon = "lon"
lat = "lat"
grid_code = "grid"
category = "category"
[quality]
max_reject_share = 1.0
"#;

/// What a row must produce.
enum Expect {
    /// Exit code 0 and a row of `rejects.csv` with this reason and key.
    Reject(&'static str, &'static str),
    /// The same, on this line of the CSV file.
    RejectAtLine(&'static str, &'static str, u64),
    /// This exit code and this text on stderr.
    Fails(i32, &'static str),
    /// Exit code 0, this text in `manifest.json` (grid problems that were repaired).
    Manifest(&'static str),
    /// Exit code 0 and this many assigned cases.
    Assigned(u64),
    /// Exit code 0, the row kept (assigned), and a row of `field_issues.csv` with this reason
    /// and key.
    Issue(&'static str, &'static str),
}

/// One row of the table: a name, what to change in the set-up, what must happen.
struct Row {
    name: &'static str,
    setup: Box<dyn Fn(&Path, &mut Setup)>,
    expect: Expect,
}

/// The pieces of the set-up a row may change.
struct Setup {
    cases_path: String,
    cases: Vec<u8>,
    grids: Vec<u8>,
    encoding: &'static str,
    on_invalid: &'static str,
    config_extra: String,
    /// Lines added to `[quality]`.
    quality_extra: String,
}

fn row(name: &'static str, expect: Expect, setup: impl Fn(&Path, &mut Setup) + 'static) -> Row {
    Row { name, setup: Box::new(setup), expect }
}

fn cases_csv(rows: &str) -> Vec<u8> {
    format!("{HEADER}{GOOD}{rows}").into_bytes()
}

fn write_parquet(path: &Path, mut df: polars::prelude::DataFrame) {
    use polars::prelude::*;
    let f = std::fs::File::create(path).unwrap();
    ParquetWriter::new(f).finish(&mut df).unwrap();
}

fn table() -> Vec<Row> {
    use polars::prelude::*;
    vec![
        // --- the CSV file as a whole ---
        // An unclosed quote runs on to the next quote, as CSV says: the merged row is rejected
        // with all the swallowed text in its raw fields, so nothing disappears.
        row("malformed CSV quoting (a quote left open)", Expect::Reject("bad_received_at", "2"), |_, s| {
            s.cases = cases_csv("2,\"2026-10-02 09:00:00,,116.305,39.905,,道路\n3,2026-10-02 09:00:00,,116.305,39.905,,\"x\"y\"\n");
        }),
        // An unquoted comma inside a field shifts the columns after it: the row has more fields
        // than the header and would otherwise be read with the wrong values.
        row("a row with more fields than the header (shifted columns)", Expect::Reject("bad_row", "2"), |_, s| {
            s.cases = cases_csv("2,2026-10-02 09:00:00,,116.305,39.905,,道路,施工,夜间\n");
        }),
        // A trailing delimiter on every line (an empty extra field) is not a shift.
        row("trailing commas after every row", Expect::Assigned(2), |_, s| {
            s.cases = format!("{HEADER}{},\n3,2026-10-02 09:00:00,,116.305,39.905,,,\n", GOOD.trim_end()).into_bytes();
        }),
        // A quoted field over two lines is one row; the next row's line number counts both lines.
        row("a quoted field with a line break, then a bad row", Expect::RejectAtLine("bad_received_at", "3", 5), |_, s| {
            s.cases = cases_csv("2,2026-10-02 09:00:00,,116.305,39.905,,\"道路\n破损\"\n3,yesterday,,116.305,39.905,,\n");
        }),
        row("a mapped column missing", Expect::Fails(3, "column \"lat\" (mapped to field `lat`) is missing"), |_, s| {
            s.cases = b"id,received,closed,lon,grid,category\n1,2026-10-02 09:00:00,,116.305,,\n".to_vec();
        }),
        row("an empty file", Expect::Fails(3, "the file is empty"), |_, s| s.cases = Vec::new()),
        row("a header only", Expect::Assigned(0), |_, s| s.cases = HEADER.as_bytes().to_vec()),
        row("a semicolon file read as comma-separated", Expect::Fails(3, "is missing; the file has: id;received"), |_, s| {
            s.cases = b"id;received;closed;lon;lat;grid;category\n1;2026-10-02 09:00:00;;116.305;39.905;;\n".to_vec();
        }),
        row("binary garbage", Expect::Fails(3, "not valid UTF-8"), |_, s| s.cases = (0..=255u8).cycle().take(4096).collect()),
        row("GBK without encoding = \"gbk\"", Expect::Fails(3, "set encoding = \"gbk\""), |_, s| {
            s.cases = encoding_rs::GBK.encode(&String::from_utf8(cases_csv("")).unwrap()).0.into_owned();
        }),
        row("GBK with encoding = \"gbk\"", Expect::Assigned(1), |_, s| {
            s.cases = encoding_rs::GBK.encode(&String::from_utf8(cases_csv("")).unwrap()).0.into_owned();
            s.encoding = "encoding = \"gbk\"";
        }),
        row("a UTF-8 byte-order mark", Expect::Assigned(1), |_, s| {
            s.cases = [b"\xef\xbb\xbf".as_slice(), &cases_csv("")].concat();
        }),
        row("a folder with no CSV file", Expect::Fails(3, "the folder has no .csv"), |dir, s| {
            std::fs::create_dir(dir.join("daily")).unwrap();
            std::fs::write(dir.join("daily/readme.md"), "exports land here").unwrap();
            s.cases_path = "daily".into();
            s.config_extra = "format = \"csv\"".into();
        }),
        row("a missing file", Expect::Fails(3, "No such file or directory"), |_, s| s.cases_path = "nowhere.csv".into()),
        // --- one bad row among good ones ---
        row("a wrong value type (text for a coordinate)", Expect::Reject("bad_coordinate", "2"), |_, s| {
            s.cases = cases_csv("2,2026-10-02 09:00:00,,east,39.905,,\n");
        }),
        row("duplicate case ids", Expect::Reject("duplicate_case_id", "1"), |_, s| s.cases = cases_csv(GOOD)),
        row("an empty case id", Expect::Reject("missing_case_id", ""), |_, s| {
            s.cases = cases_csv(",2026-10-02 09:00:00,,116.305,39.905,,\n");
        }),
        row("NaN coordinates", Expect::Reject("bad_coordinate", "2"), |_, s| s.cases = cases_csv("2,2026-10-02 09:00:00,,NaN,39.905,,\n")),
        row("infinite coordinates", Expect::Reject("bad_coordinate", "2"), |_, s| {
            s.cases = cases_csv("2,2026-10-02 09:00:00,,inf,-inf,,\n");
        }),
        row("swapped lat/lon (swapped back)", Expect::Issue("swapped_coordinates", "2"), |_, s| {
            s.cases = cases_csv("2,2026-10-02 09:00:00,,39.905,116.305,,\n");
        }),
        row("swapped lat/lon with repair_swapped_coordinates = false", Expect::Reject("swapped_coordinates", "2"), |_, s| {
            s.cases = cases_csv("2,2026-10-02 09:00:00,,39.905,116.305,,\n");
            s.quality_extra = "repair_swapped_coordinates = false".into();
        }),
        row("bad coordinates but a grid code (placed by the code)", Expect::Issue("bad_coordinate", "2"), |_, s| {
            s.cases = cases_csv("2,2026-10-02 09:00:00,,abc,39.905,A2,\n");
        }),
        row("only one of lon/lat", Expect::Reject("bad_coordinate", "2"), |_, s| {
            s.cases = cases_csv("2,2026-10-02 09:00:00,,116.305,,,\n")
        }),
        row("coordinates out of range", Expect::Reject("coordinate_out_of_range", "2"), |_, s| {
            s.cases = cases_csv("2,2026-10-02 09:00:00,,200,95,,\n");
        }),
        row("a point outside every grid", Expect::Reject("outside_all_grids", "2"), |_, s| {
            s.cases = cases_csv("2,2026-10-02 09:00:00,,116.5,39.95,,\n");
        }),
        row("an unknown grid code", Expect::Reject("unknown_grid_code", "2"), |_, s| s.cases = cases_csv("2,2026-10-02 09:00:00,,,,Z9,\n")),
        row("no location at all", Expect::Reject("no_location", "2"), |_, s| s.cases = cases_csv("2,2026-10-02 09:00:00,,,,,\n")),
        row("a timestamp in a wrong format", Expect::Reject("bad_received_at", "2"), |_, s| {
            s.cases = cases_csv("2,02.10.2026 09:00,,116.305,39.905,,\n");
        }),
        row("an impossible date", Expect::Reject("bad_received_at", "2"), |_, s| {
            s.cases = cases_csv("2,2026-02-30 09:00:00,,116.305,39.905,,\n");
        }),
        row("a timestamp without a zone where the format has one", Expect::Reject("bad_received_at", "2"), |_, s| {
            s.cases = cases_csv("2,2026-10-02 09:00:00,,116.305,39.905,,\n")
                .into_iter()
                .collect::<Vec<u8>>()
                .replace_first(b"1,2026-10-02 09:00:00,2026-10-02 10:00:00", b"1,2026-10-02T09:00:00+08:00,2026-10-02T10:00:00+08:00");
            s.config_extra = "timestamp_formats = [\"%Y-%m-%dT%H:%M:%S%:z\"]".into();
        }),
        row("closed before received (kept without its closing time)", Expect::Issue("closed_before_received", "2"), |_, s| {
            s.cases = cases_csv("2,2026-10-02 09:00:00,2026-10-01 09:00:00,116.305,39.905,,\n");
        }),
        row("received after the as-of day (kept, in no window)", Expect::Manifest("\"received_after_as_of\": 1"), |_, s| {
            s.cases = cases_csv("2,2027-01-02 09:00:00,,116.305,39.905,,\n");
        }),
        // --- Parquet ---
        row(
            "Parquet with the wrong schema (a column missing)",
            Expect::Fails(3, "column \"lat\" (mapped to field `lat`) is missing"),
            |dir, s| {
                let df = df!("id" => ["1"], "received" => ["2026-10-02 09:00:00"], "closed" => [None::<&str>], "lon" => [116.305], "grid" => [None::<&str>], "category" => ["x"]).unwrap();
                write_parquet(&dir.join("cases.parquet"), df);
                s.cases_path = "cases.parquet".into();
            },
        ),
        row("Parquet with numbers and timestamps typed natively", Expect::Assigned(1), |dir, s| {
            let df = df!("id" => [1i64], "received" => ["2026-10-02 09:00:00"], "closed" => [None::<&str>], "lon" => [116.305f64], "lat" => [39.905f64], "grid" => [None::<&str>], "category" => ["x"]).unwrap();
            write_parquet(&dir.join("cases.parquet"), df);
            s.cases_path = "cases.parquet".into();
        }),
        row("Parquet with native timestamp columns", Expect::Assigned(1), |dir, s| {
            // 2026-10-02 01:00 UTC as a Datetime column without a zone: read as Beijing time.
            let received =
                Series::new("received".into(), [1_790_902_800_000i64]).cast(&DataType::Datetime(TimeUnit::Milliseconds, None)).unwrap();
            let df = DataFrame::new_infer_height(vec![
                Series::new("id".into(), ["1"]).into(),
                received.into(),
                Series::new("closed".into(), [None::<&str>]).into(),
                Series::new("lon".into(), [116.305f64]).into(),
                Series::new("lat".into(), [39.905f64]).into(),
                Series::new("grid".into(), [None::<&str>]).into(),
                Series::new("category".into(), ["x"]).into(),
            ])
            .unwrap();
            write_parquet(&dir.join("cases.parquet"), df);
            s.cases_path = "cases.parquet".into();
        }),
        row("a truncated Parquet file", Expect::Fails(3, "cannot read as Parquet"), |dir, s| {
            let df = df!("id" => ["1"], "received" => ["2026-10-02 09:00:00"]).unwrap();
            write_parquet(&dir.join("cases.parquet"), df);
            let bytes = std::fs::read(dir.join("cases.parquet")).unwrap();
            std::fs::write(dir.join("cases.parquet"), &bytes[..bytes.len() / 2]).unwrap();
            s.cases_path = "cases.parquet".into();
        }),
        // --- the grid layer ---
        row("a ring that is not closed", Expect::Manifest("grid_invalid_geometry"), |_, s| {
            let open = r#"{"type":"Feature","properties":{"code":"A3"},"geometry":{"type":"Polygon","coordinates":[[[116.32,39.90],[116.33,39.90],[116.33,39.91],[116.32,39.91]]]}}"#;
            s.grids = layer(&[good_grids(), vec![open.to_string()]].concat()).into_bytes();
        }),
        row("a self-intersecting polygon (repaired)", Expect::Manifest("grid_invalid_geometry"), |_, s| {
            let bow = r#"{"type":"Feature","properties":{"code":"A3"},"geometry":{"type":"Polygon","coordinates":[[[116.32,39.90],[116.33,39.91],[116.33,39.90],[116.32,39.91],[116.32,39.90]]]}}"#;
            s.grids = layer(&[good_grids(), vec![bow.to_string()]].concat()).into_bytes();
        }),
        row("a self-intersecting polygon with on_invalid = \"fail\"", Expect::Fails(3, "A3"), |_, s| {
            let bow = r#"{"type":"Feature","properties":{"code":"A3"},"geometry":{"type":"Polygon","coordinates":[[[116.32,39.90],[116.33,39.91],[116.33,39.90],[116.32,39.91],[116.32,39.90]]]}}"#;
            s.grids = layer(&[good_grids(), vec![bow.to_string()]].concat()).into_bytes();
            s.on_invalid = "fail";
        }),
        row("a zero-area polygon", Expect::Reject("grid_empty_geometry", "A3"), |_, s| {
            let flat = r#"{"type":"Feature","properties":{"code":"A3"},"geometry":{"type":"Polygon","coordinates":[[[116.32,39.90],[116.33,39.90],[116.34,39.90],[116.32,39.90]]]}}"#;
            s.grids = layer(&[good_grids(), vec![flat.to_string()]].concat()).into_bytes();
        }),
        row("a duplicate grid code (merged)", Expect::Manifest("grid_duplicate_code"), |_, s| {
            s.grids = layer(&[good_grids(), vec![square("A1", 116.32, 39.90, 0.01)]].concat()).into_bytes();
        }),
        row("a duplicate grid code with on_invalid = \"skip\"", Expect::Reject("grid_duplicate_code", "A1"), |_, s| {
            s.grids = layer(&[good_grids(), vec![square("A1", 116.32, 39.90, 0.01)]].concat()).into_bytes();
            s.on_invalid = "skip";
        }),
        // Found by fuzzing: the geojson crate's conversion indexed the position and panicked.
        row("a position with one number", Expect::Reject("grid_not_polygon", "A3"), |_, s| {
            let short = r#"{"type":"Feature","properties":{"code":"A3"},"geometry":{"type":"MultiPolygon","coordinates":[[[[11],[116.32,39.90],[116.33,39.90],[116.32,39.90]]]]}}"#;
            s.grids = layer(&[good_grids(), vec![short.to_string()]].concat()).into_bytes();
        }),
        row("a polygon with no rings", Expect::Reject("grid_empty_geometry", "A3"), |_, s| {
            let none = r#"{"type":"Feature","properties":{"code":"A3"},"geometry":{"type":"Polygon","coordinates":[]}}"#;
            s.grids = layer(&[good_grids(), vec![none.to_string()]].concat()).into_bytes();
        }),
        row(
            "a short point position (the parser names line and column)",
            Expect::Fails(3, "two or more elements, but got `1` at line 1"),
            |_, s| {
                let point = r#"{"type":"Feature","properties":{"code":"A3"},"geometry":{"type":"Point","coordinates":[116.32]}}"#;
                s.grids = layer(&[good_grids(), vec![point.to_string()]].concat()).into_bytes();
            },
        ),
        row("a point where a polygon belongs", Expect::Reject("grid_not_polygon", "A3"), |_, s| {
            let point = r#"{"type":"Feature","properties":{"code":"A3"},"geometry":{"type":"Point","coordinates":[116.32, 39.9]}}"#;
            s.grids = layer(&[good_grids(), vec![point.to_string()]].concat()).into_bytes();
        }),
        row("a GeoJSON that is not a FeatureCollection", Expect::Fails(3, "not a GeoJSON FeatureCollection"), |_, s| {
            s.grids = square("A1", 116.30, 39.90, 0.01).into_bytes();
        }),
        row("deeply nested JSON", Expect::Fails(3, "not a GeoJSON FeatureCollection"), |_, s| {
            s.grids = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000)).into_bytes();
        }),
        row("a very large single feature (200,000 vertices)", Expect::Assigned(1), |_, s| {
            // A circle of 200,000 vertices around the good case's point, as grid A1.
            let n = 200_000;
            let pts: Vec<String> = (0..=n)
                .map(|i| {
                    let a = (i % n) as f64 / n as f64 * std::f64::consts::TAU;
                    format!("[{:.9},{:.9}]", 116.305 + 0.004 * a.cos(), 39.905 + 0.004 * a.sin())
                })
                .collect();
            let big = format!(
                r#"{{"type":"Feature","properties":{{"code":"A1"}},"geometry":{{"type":"Polygon","coordinates":[[{}]]}}}}"#,
                pts.join(",")
            );
            s.grids = layer(&[big]).into_bytes();
        }),
        row("a grid file that is not JSON", Expect::Fails(3, "not a GeoJSON FeatureCollection"), |_, s| {
            s.grids = b"code,wkt\nA1,POLYGON()\n".to_vec()
        }),
        // --- the pipeline file ---
        row("a configuration key with a typo", Expect::Fails(2, "cases[0].encodng: unknown field `encodng`"), |_, s| {
            s.config_extra = "encodng = \"gbk\"".into();
        }),
        row("an encoding gridgov does not know", Expect::Fails(2, "encoding"), |_, s| s.encoding = "encoding = \"latin-9\""),
    ]
}

/// `replace_first` for byte vectors, for the row that rewrites the good row's timestamps.
trait ReplaceFirst {
    fn replace_first(self, from: &[u8], to: &[u8]) -> Vec<u8>;
}

impl ReplaceFirst for Vec<u8> {
    fn replace_first(self, from: &[u8], to: &[u8]) -> Vec<u8> {
        match self.windows(from.len()).position(|w| w == from) {
            Some(i) => [&self[..i], to, &self[i + from.len()..]].concat(),
            None => panic!("{:?} not found", String::from_utf8_lossy(from)),
        }
    }
}

fn run_row(r: &Row) -> Result<(), String> {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let mut s = Setup {
        cases_path: "cases.csv".into(),
        cases: cases_csv(""),
        grids: layer(&good_grids()).into_bytes(),
        encoding: "",
        on_invalid: "repair",
        config_extra: String::new(),
        quality_extra: String::new(),
    };
    (r.setup)(dir, &mut s);
    std::fs::write(dir.join("cases.csv"), &s.cases).unwrap();
    std::fs::write(dir.join("grids.geojson"), &s.grids).unwrap();
    let config = CONFIG
        .replace("CASES_PATH", &s.cases_path)
        .replace("ON_INVALID", s.on_invalid)
        .replace("ENCODING", &format!("{}\n{}", s.encoding, s.config_extra))
        .replace("max_reject_share = 1.0", &format!("max_reject_share = 1.0\n{}", s.quality_extra));
    std::fs::write(dir.join("p.toml"), config).unwrap();
    let (o, run) = run_into(&dir.join("p.toml"), &dir.join("out"));
    let fail = |what: String| Err(format!("{what}\n--- exit {} stderr:\n{}", o.code, o.stderr));
    if o.stderr.contains("panicked") {
        return fail("panicked".into());
    }
    match &r.expect {
        Expect::Fails(code, text) => {
            if o.code != *code || !o.stderr.contains(text) {
                return fail(format!("expected exit {code} and {text:?}"));
            }
            if dir.join("out/latest").exists() {
                return fail("a failed run published".into());
            }
        }
        Expect::Reject(reason, key) | Expect::RejectAtLine(reason, key, _) => {
            if o.code != 0 {
                return fail("expected exit 0".into());
            }
            let rejects = read_csv(&run.join("rejects.csv"));
            let line = match &r.expect {
                Expect::RejectAtLine(_, _, l) => Some(l.to_string()),
                _ => None,
            };
            let hit = |x: &std::collections::BTreeMap<String, String>| {
                x["reason"] == *reason && x["record_key"] == *key && line.as_ref().is_none_or(|l| &x["line"] == l)
            };
            if !rejects.iter().any(hit) {
                return fail(format!("expected a reject {reason} for key {key:?} (line {line:?}); rejects: {rejects:?}"));
            }
            let m = json(&run.join("manifest.json"));
            if m["sources"][0]["balanced"] != true {
                return fail("rows do not add up".into());
            }
        }
        Expect::Manifest(text) => {
            let m = std::fs::read_to_string(run.join("manifest.json")).unwrap_or_default();
            if o.code != 0 || !m.contains(text) {
                return fail(format!("expected exit 0 and {text:?} in the manifest"));
            }
        }
        Expect::Issue(reason, key) => {
            if o.code != 0 {
                return fail("expected exit 0".into());
            }
            let issues = read_csv(&run.join("field_issues.csv"));
            if !issues.iter().any(|x| x["reason"] == *reason && x["record_key"] == *key) {
                return fail(format!("expected a field issue {reason} for key {key:?}; issues: {issues:?}"));
            }
            let m = json(&run.join("manifest.json"));
            if m["sources"][0]["rows_assigned"] != 2 || m["sources"][0]["balanced"] != true {
                return fail(format!("expected both rows assigned: {}", m["sources"][0]));
            }
        }
        Expect::Assigned(n) => {
            if o.code != 0 {
                return fail("expected exit 0".into());
            }
            let m = json(&run.join("manifest.json"));
            if m["sources"][0]["rows_assigned"] != *n {
                return fail(format!("expected {n} assigned: {}", m["sources"][0]));
            }
        }
    }
    Ok(())
}

#[test]
fn bad_input_table() {
    let rows = table();
    assert!(rows.len() >= 25, "the table has {} rows", rows.len());
    let failures: Vec<String> = rows.iter().filter_map(|r| run_row(r).err().map(|e| format!("=== {}: {e}", r.name))).collect();
    assert!(failures.is_empty(), "{} of {} rows failed:\n{}", failures.len(), rows.len(), failures.join("\n"));
}

/// The GBK file's Chinese text arrives intact in the outputs.
#[test]
fn gbk_text_is_decoded() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    std::fs::write(dir.join("grids.geojson"), layer(&good_grids())).unwrap();
    std::fs::write(dir.join("cases.csv"), encoding_rs::GBK.encode(&String::from_utf8(cases_csv("")).unwrap()).0).unwrap();
    let config = CONFIG.replace("CASES_PATH", "cases.csv").replace("ON_INVALID", "repair").replace("ENCODING", "encoding = \"gbk\"");
    std::fs::write(dir.join("p.toml"), config).unwrap();
    let (o, run) = run_into(&dir.join("p.toml"), &dir.join("out"));
    assert_eq!(o.code, 0, "{}", o.stderr);
    let cats = read_csv(&run.join("by_category.csv"));
    assert!(cats.iter().any(|r| r.values().any(|v| v == "道路")), "{cats:?}");
}

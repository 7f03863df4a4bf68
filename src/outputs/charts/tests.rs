//! Chart tests that do not depend on fonts' exact rasterisation: the data behind each chart is
//! checked as text elsewhere (tests/charts.rs); here each kind is rendered from fixed data and
//! compared to a committed reference PNG by similarity, and Chinese glyphs are checked for ink.
//!
//! Regenerate the references after an intended change with
//! `GRIDGOV_BLESS=1 cargo test --lib outputs::charts` and look at them before committing.

use super::*;
use crate::outputs::classes::Classes;
use crate::vocab::lang::Lang;
use geo::{MultiPolygon, polygon};

fn reference_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/reference")
}

fn square(x: f64, y: f64) -> MultiPolygon<f64> {
    MultiPolygon::new(vec![polygon![(x: x, y: y), (x: x + 0.1, y: y), (x: x + 0.1, y: y + 0.1), (x: x, y: y + 0.1)]])
}

fn charts() -> Vec<(&'static str, Box<dyn Fn(&Path) -> Result<ChartFiles, OutputError>>)> {
    let data = ChartData::new(&["x"]);
    let ranking = Ranking {
        title: "街道综合成绩排名 · 2026-10".into(),
        lang: Lang::Zh,
        names: (1..=8).map(|i| format!("{i}. 第{i}街道")).collect(),
        values: vec![96.5, 93.2, 90.0, 88.8, 85.1, 80.4, 71.9, 60.2],
        n: vec![120, 98, 87, 140, 66, 75, 30, 12],
        accent: vec![false, false, false, false, false, true, true, true],
        x_desc: "综合成绩（分）".into(),
        colors: RANKING_COLORS,
        x_max: None,
        city: Some(82.0),
    };
    let d2 = data.clone();
    let d3 = data.clone();
    let d4 = data.clone();
    let d5 = data.clone();
    let d6 = data.clone();
    let d7 = data.clone();
    vec![
        ("ranking", Box::new(move |dir: &Path| write_chart(dir, "ranking", "r", &data, &ranking))),
        (
            "trend",
            Box::new(move |dir: &Path| {
                let t = Trend {
                    title: "三率月度趋势".into(),
                    lang: Lang::Zh,
                    months: (1..=6).map(|m| format!("2026-0{m}")).collect(),
                    series: vec![
                        ("响应率".into(), vec![Some(0.95), Some(0.96), None, Some(0.97), Some(0.95), Some(0.96)]),
                        ("解决率".into(), vec![Some(0.75), Some(0.78), Some(0.74), Some(0.80), None, Some(0.82)]),
                    ],
                    targets: vec![("解决率".into(), 0.8)],
                };
                write_chart(dir, "trend", "t", &d2, &t)
            }),
        ),
        (
            "pareto",
            Box::new(move |dir: &Path| {
                let p = Pareto {
                    title: "类别帕累托".into(),
                    lang: Lang::Zh,
                    categories: vec!["供暖".into(), "噪声扰民".into(), "物业管理".into(), "其他".into()],
                    counts: vec![500, 300, 150, 80],
                };
                write_chart(dir, "pareto", "p", &d3, &p)
            }),
        ),
        (
            "handling",
            Box::new(move |dir: &Path| {
                let hours: Vec<f64> = (1..400).map(|i| (i as f64 * 0.37).exp().min(5000.0) / 10.0).collect();
                let h = Handling {
                    title: "处置时长分布".into(),
                    lang: Lang::Zh,
                    bins: crate::indicators::handling::handling_bins(hours.into_iter()),
                    median: Some(12.0),
                    p90: Some(160.0),
                    limit_hours: 168.0,
                };
                write_chart(dir, "handling", "h", &d4, &h)
            }),
        ),
        (
            "map",
            Box::new(move |dir: &Path| {
                let units: Vec<(MultiPolygon<f64>, usize)> =
                    (0..20).map(|i| (square(116.0 + (i % 5) as f64 * 0.1, 39.8 + (i / 5) as f64 * 0.1), i % 4)).collect();
                let values: Vec<Option<f64>> = (0..20).map(|i| if i % 4 == 0 { None } else { Some(i as f64 / 20.0) }).collect();
                let classes = Classes::build("resolution_rate", &values, 5, None, true);
                let m = Map {
                    title: "解决率分级图".into(),
                    legend_title: "解决率".into(),
                    units,
                    classes,
                    outlines: vec![square(116.0, 39.8)],
                };
                write_chart(dir, "map", "m", &d5, &m)
            }),
        ),
        (
            "signups",
            Box::new(move |dir: &Path| {
                let d0 = chrono::NaiveDate::from_ymd_opt(2026, 3, 1).unwrap_or_default();
                let pts: Vec<(chrono::NaiveDate, f64)> =
                    (0..60).map(|i| (d0 + chrono::Duration::days(i), (i as f64 / 50.0).min(0.97))).collect();
                let s = Signups {
                    title: "签约率累计曲线".into(),
                    lang: Lang::Zh,
                    projects: vec![("P1 项目".into(), pts, 0.9, Some(d0 + chrono::Duration::days(45)))],
                };
                write_chart(dir, "signups", "s", &d6, &s)
            }),
        ),
        (
            "redblack",
            Box::new(move |dir: &Path| {
                let rb = red_black(&[90.0, 80.0, 70.0], &[40.0, 30.0, 20.0]);
                write_chart(dir, "redblack", "rb", &d7, &rb)
            }),
        ),
    ]
}

/// A 红黑榜 of two panels on one scale, the city at 60.
fn red_black(top: &[f64], bottom: &[f64]) -> RedBlack {
    let mk = |title: &str, values: &[f64], colors| Ranking {
        title: title.into(),
        lang: Lang::Zh,
        names: (0..values.len()).map(|i| format!("{}. 单位{i}", i + 1)).collect(),
        values: values.to_vec(),
        n: vec![40; values.len()],
        accent: vec![false; values.len()],
        x_desc: "分".into(),
        colors,
        x_max: Some(110.0),
        city: Some(60.0),
    };
    RedBlack { title: "红黑榜".into(), top: mk("红榜", top, RED_LIST), bottom: mk("黑榜", bottom, BLACK_LIST) }
}

/// Pixels of `img` on row `y` from `x0` to `x1` that have colour `c` (within a few levels).
fn run_of(img: &image::RgbImage, y: u32, x0: u32, x1: u32, c: RGBColor) -> u32 {
    (x0..x1).filter(|&x| img.get_pixel(x, y).0.iter().zip([c.0, c.1, c.2]).all(|(a, b)| (*a as i32 - b as i32).abs() <= 3)).count() as u32
}

/// 红榜 bars are red and 黑榜 bars near-black, and a score has the same length in both panels
/// (one value axis): a 90 on each side is drawn equally long, a 45 half as long.
#[test]
fn red_black_lists_use_red_and_black_on_one_scale() {
    let tmp = tempfile::tempdir().unwrap();
    let files = write_chart(tmp.path(), "rb", "rb", &ChartData::new(&["x"]), &red_black(&[90.0, 45.0], &[90.0, 20.0])).unwrap();
    let img = image::open(&files.png).unwrap().to_rgb8();
    let (w, h) = img.dimensions();
    let longest = |x0: u32, x1: u32, c: RGBColor| (0..h).map(|y| run_of(&img, y, x0, x1, c)).max().unwrap_or(0);
    let red_left = longest(0, w / 2, RED_LIST.0);
    let black_right = longest(w / 2, w, BLACK_LIST.0);
    assert!(red_left > 200, "no red bars in the 红榜 panel ({red_left} px)");
    assert!(black_right > 200, "no black bars in the 黑榜 panel ({black_right} px)");
    assert!(longest(0, w / 2, BLACK_LIST.0) < 40, "black bars in the 红榜 panel");
    assert!(longest(w / 2, w, RED_LIST.0) < 20, "red bars in the 黑榜 panel");
    assert!((red_left as i64 - black_right as i64).abs() <= 3, "90 is {red_left} px on the left, {black_right} px on the right");
}

/// The bars fill the plot: the first bar starts within one slot of the top of the plot area
/// (plotters' integer ranges include their end, which once left an empty slot above them).
#[test]
fn ranking_has_no_empty_slot_above_the_bars() {
    let tmp = tempfile::tempdir().unwrap();
    let values = [96.0, 90.0, 85.0, 80.0];
    let chart = Ranking {
        title: "r".into(),
        lang: Lang::Zh,
        names: (0..4).map(|i| format!("{i}")).collect(),
        values: values.to_vec(),
        n: vec![50; 4],
        accent: vec![false; 4],
        x_desc: "分".into(),
        colors: RANKING_COLORS,
        x_max: Some(100.0),
        city: None,
    };
    let files = write_chart(tmp.path(), "r", "r", &ChartData::new(&["x"]), &chart).unwrap();
    let img = image::open(&files.png).unwrap().to_rgb8();
    let (w, h) = img.dimensions();
    // Rows where a bar is drawn, along a column just inside the plot's left edge.
    let bar_rows: Vec<u32> = (0..h).filter(|&y| run_of(&img, y, 0, w, RANKING_COLORS.0) > 100).collect();
    let (first, last) = (bar_rows[0], *bar_rows.last().unwrap());
    let slot = (last - first) as f64 / 4.0;
    // The y axis is the column with the most dark pixels; its top is the plot area's top.
    let dark = |x: u32, y: u32| img.get_pixel(x, y).0.iter().all(|c| *c < 120);
    let axis_x = (0..w / 2).max_by_key(|&x| (0..h).filter(|&y| dark(x, y)).count()).unwrap();
    let plot_top = (0..h).find(|&y| dark(axis_x, y)).unwrap();
    let gap = (first - plot_top) as f64;
    assert!(gap < slot * 0.5, "an empty slot above the bars: plot top {plot_top}, first bar {first}, slot {slot:.0} px");
}

/// A trend without a single value is a "no data" chart, not empty axes with an empty legend.
#[test]
fn a_trend_without_data_says_so() {
    let tmp = tempfile::tempdir().unwrap();
    let t = Trend {
        title: "三率月度趋势".into(),
        lang: Lang::Zh,
        months: vec!["2026-10".into()],
        series: vec![("响应率".into(), vec![None])],
        targets: Vec::new(),
    };
    let files = write_chart(tmp.path(), "t", "t", &ChartData::new(&["x"]), &t).unwrap();
    let svg = std::fs::read_to_string(&files.svg).unwrap();
    assert!(svg.contains("本期无数据"), "no message in the empty trend");
    assert!(!svg.contains("响应率"), "a legend entry for a series without data");
}

/// The handling-time axis spans the decades of the data and marks: cases of 2–300 hours and a
/// 24-hour limit give 1 h … 1000 h, not 0.1 h … 10,000 h.
#[test]
fn handling_axis_fits_the_data() {
    let tmp = tempfile::tempdir().unwrap();
    let h = Handling {
        title: "处置时长".into(),
        lang: Lang::Zh,
        bins: vec![(2.0, 5.0, 10), (50.0, 300.0, 3)],
        median: Some(4.0),
        p90: Some(120.0),
        limit_hours: 24.0,
    };
    let files = write_chart(tmp.path(), "h", "h", &ChartData::new(&["x"]), &h).unwrap();
    let svg = std::fs::read_to_string(&files.svg).unwrap();
    // The tick labels: texts that are a number of hours.
    let ticks: Vec<&str> = svg
        .split('>')
        .filter_map(|t| t.split('<').next())
        .map(str::trim)
        .filter(|t| t.ends_with('h') && t[..t.len() - 1].parse::<f64>().is_ok())
        .collect();
    assert_eq!(ticks.first().copied(), Some("1h"), "ticks {ticks:?}");
    assert_eq!(ticks.last().copied(), Some("1000h"), "ticks {ticks:?}");
}

/// Sign-up dates carry the year, and a project short of its threshold is marked as such.
#[test]
fn signup_curves_show_years_and_missed_thresholds() {
    let tmp = tempfile::tempdir().unwrap();
    let d0 = chrono::NaiveDate::from_ymd_opt(2026, 3, 1).unwrap();
    let pts: Vec<(chrono::NaiveDate, f64)> = (0..40).map(|i| (d0 + chrono::Duration::days(i), (i as f64 / 47.0).min(0.845))).collect();
    let c = Signups { title: "签约".into(), lang: Lang::Zh, projects: vec![("P2 项目".into(), pts, 0.85, None)] };
    let files = write_chart(tmp.path(), "s", "s", &ChartData::new(&["x"]), &c).unwrap();
    let svg = std::fs::read_to_string(&files.svg).unwrap();
    assert!(svg.contains("2026-03-01"), "dates without the year");
    assert!(svg.contains("未达 85%"), "no mark for the missed threshold");
}

/// Mean absolute difference per channel, 0–255.
fn mean_abs_diff(a: &image::RgbImage, b: &image::RgbImage) -> f64 {
    let sum: u64 = a.as_raw().iter().zip(b.as_raw()).map(|(x, y)| (*x as i64 - *y as i64).unsigned_abs()).sum();
    sum as f64 / a.as_raw().len() as f64
}

#[test]
fn every_chart_kind_matches_its_reference_png() {
    let tmp = tempfile::tempdir().unwrap();
    let bless = std::env::var("GRIDGOV_BLESS").is_ok();
    for (name, render) in charts() {
        let files = render(tmp.path()).unwrap();
        let got = image::open(&files.png).unwrap().to_rgb8();
        assert_eq!(got.dimensions(), (WIDTH * 2, HEIGHT * 2));
        let reference = reference_dir().join(format!("{name}.png"));
        if bless {
            std::fs::create_dir_all(reference_dir()).unwrap();
            std::fs::copy(&files.png, &reference).unwrap();
            continue;
        }
        let want =
            image::open(&reference).unwrap_or_else(|e| panic!("{}: {e} (bless with GRIDGOV_BLESS=1)", reference.display())).to_rgb8();
        let d = mean_abs_diff(&got, &want);
        assert!(d < 2.0, "{name}: mean difference {d:.3} from {}", reference.display());
        // The SVG names the CJK family stack and carries the text.
        let svg = std::fs::read_to_string(&files.svg).unwrap();
        assert!(svg.contains("Noto Sans CJK SC"), "{name}: no CJK family in the SVG");
    }
}

/// Renders one label in black on white and returns the RGB pixels.
fn render_label(text: &str) -> Vec<u8> {
    register_fonts().unwrap();
    let mut buf = vec![255u8; 200 * 60 * 3];
    {
        let root = BitMapBackend::with_buffer(&mut buf, (200, 60)).into_drawing_area();
        root.fill(&WHITE).unwrap();
        root.draw(&Text::new(text.to_string(), (10, 10), (FONT, 32.0).into_font().color(&BLACK))).unwrap();
        root.present().unwrap();
    }
    buf
}

fn ink(buf: &[u8]) -> usize {
    buf.chunks(3).filter(|p| p[0] < 128).count()
}

#[test]
fn chinese_labels_render_as_glyphs_not_empty_boxes() {
    let a = render_label("网格");
    let b = render_label("结案");
    let latin = render_label("AB 12%");
    let blank = render_label("");
    assert_eq!(ink(&blank), 0);
    assert!(ink(&a) > 150 && ink(&b) > 150, "Chinese text left no ink: {} / {}", ink(&a), ink(&b));
    assert!(ink(&latin) > 100, "Latin text left no ink: {}", ink(&latin));
    // Missing glyphs would all be drawn as the same box: different characters must differ.
    let differing = a.chunks(3).zip(b.chunks(3)).filter(|(x, y)| (x[0] < 128) != (y[0] < 128)).count();
    assert!(differing > 100, "网格 and 结案 look the same ({differing} differing pixels): glyphs are boxes");
}

//! Charts, map classes, `.qml` styles and `report.html` on the tiny hand-made city (`tiny.rs`),
//! which maps closure_rate with fixed policy breaks 0.5 / 0.9 and has citizen text that tries
//! to inject HTML.

use crate::tiny::write_fixture;
use crate::util::*;

fn run() -> (tempfile::TempDir, std::path::PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    let p = write_fixture(tmp.path());
    let (o, run) = run_into(&p, &tmp.path().join("out"));
    assert_eq!(o.code, 0, "{}", o.stderr);
    (tmp, run)
}

#[test]
fn every_chart_is_written_as_svg_png_and_csv() {
    let (_t, run) = run();
    for name in [
        "ranking_street",
        "ranking_department",
        "trend_rates",
        "pareto_category",
        "handling_time",
        "map_grid_closure_rate",
        "map_street_closure_rate",
    ] {
        for ext in ["svg", "png", "csv"] {
            let f = run.join("charts").join(format!("{name}.{ext}"));
            assert!(f.metadata().map(|m| m.len() > 30).unwrap_or(false), "{} missing or empty", f.display());
        }
        let svg = std::fs::read_to_string(run.join("charts").join(format!("{name}.svg"))).unwrap();
        assert!(svg.contains("2026-10") && svg.contains("2026-11-05"), "{name}: the title carries the period and as-of date");
    } // One street and one department are ranked: a 红黑榜 needs two units that are not the same.
    for name in ["redblack_street", "redblack_department"] {
        assert!(!run.join("charts").join(format!("{name}.png")).exists(), "{name} drawn with fewer than 2 ranked units");
    }
}

#[test]
fn chart_data_snapshots() {
    let (_t, run) = run();
    // Trend: 12 months × 3 rates; October has G1's three follow-ups (1, 2 and 5) only.
    let trend = read_csv(&run.join("charts/trend_rates.csv"));
    assert_eq!(trend.len(), 36);
    let oct: Vec<_> = trend.iter().filter(|r| r["period"] == "2026-10").collect();
    assert_eq!(
        oct.iter().map(|r| (r["indicator"].as_str(), r["value"].as_str())).collect::<Vec<_>>(),
        vec![("response_rate", "1.0000"), ("resolution_rate", "0.6667"), ("satisfaction_rate", "0.6333")]
    );
    assert_eq!(oct[1]["target"], "0.8");
    // September has no follow-up: an empty value, so no line is drawn through it.
    assert!(trend.iter().filter(|r| r["period"] == "2026-09").all(|r| r["value"].is_empty()));
    // Pareto: the app report's category (1) and the uncategorised hotline cases (11), largest first.
    let pareto = read_csv(&run.join("charts/pareto_category.csv"));
    let rows: Vec<(&str, &str, &str)> =
        pareto.iter().map(|r| (r["category"].as_str(), r["cases"].as_str(), r["cumulative_share"].as_str())).collect();
    assert_eq!(rows, vec![("未分类", "11", "0.9167"), ("<script>alert(1)</script>", "1", "1.0000")]);
    // Handling time: 7 closed cases in October (10, 96, 2, 1, 24, 6 and 2 hours): median 6.
    let h = read_csv(&run.join("charts/handling_time.csv"));
    let binned: u64 =
        h.iter().filter(|r| !r["hours_from"].starts_with(|c: char| c.is_alphabetic())).map(|r| r["cases"].parse::<u64>().unwrap()).sum();
    assert_eq!(binned, 7);
    assert_eq!(h.iter().find(|r| r["hours_from"] == "median").unwrap()["cases"], "6.00");
}

#[test]
fn layer_classes_legend_and_qml_agree() {
    let (_t, run) = run();
    let layer: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(run.join("grid.geojson")).unwrap()).unwrap();
    let feats = layer["features"].as_array().unwrap();
    // closure_rate with breaks 0.5 / 0.9 and n = should_close ≥ min_n (1):
    // G1 0.8 → class 2 [50%, 90%); G2 0.0 → class 1; G3 1.0 → class 3; G4 no should-close → class 0.
    let class_of = |code: &str| -> (i64, String) {
        let f = feats.iter().find(|f| f["properties"]["grid_code"] == code).unwrap();
        (f["properties"]["class"].as_i64().unwrap(), f["properties"]["class_label"].as_str().unwrap().to_string())
    };
    assert_eq!(class_of("110101001001001").0, 2);
    assert_eq!(class_of("110101001002001").0, 3);
    assert_eq!(class_of("110101001001002").0, 1);
    assert_eq!(class_of("110101001002002"), (0, "无数据 / n 不足".to_string()));
    // The map chart's data has the same classes.
    let map = read_csv(&run.join("charts/map_grid_closure_rate.csv"));
    for f in feats {
        let code = f["properties"]["grid_code"].as_str().unwrap();
        assert_eq!(row(&map, "code", code)["class"], f["properties"]["class"].as_i64().unwrap().to_string());
    }
    // The .qml beside the layer: one range per class, labels and colours of the same classes,
    // an alias for every property.
    let text = std::fs::read_to_string(run.join("grid.qml")).unwrap();
    let opts = roxmltree::ParsingOptions { allow_dtd: true, ..Default::default() };
    let doc = roxmltree::Document::parse_with_options(&text, opts).unwrap();
    let renderer = doc.descendants().find(|n| n.has_tag_name("renderer-v2")).unwrap();
    assert_eq!(renderer.attribute("type"), Some("graduatedSymbol"));
    assert_eq!(renderer.attribute("attr"), Some("class"));
    let ranges: Vec<_> = doc.descendants().filter(|n| n.has_tag_name("range")).collect();
    assert_eq!(ranges.len(), 4, "no-data class and 3 policy classes");
    for f in feats {
        let class = f["properties"]["class"].as_i64().unwrap();
        let label = f["properties"]["class_label"].as_str().unwrap();
        let r = ranges.iter().find(|r| r.attribute("symbol") == Some(&class.to_string())).unwrap();
        let (lo, hi): (f64, f64) = (r.attribute("lower").unwrap().parse().unwrap(), r.attribute("upper").unwrap().parse().unwrap());
        assert!(class as f64 <= hi && (class as f64 > lo || class == 0), "class {class} outside ({lo}, {hi}]");
        assert!(r.attribute("label").unwrap().starts_with(label), "{:?} vs {label}", r.attribute("label"));
    }
    let colors: Vec<&str> = doc
        .descendants()
        .filter(|n| n.has_tag_name("Option") && n.attribute("name") == Some("color"))
        .map(|n| n.attribute("value").unwrap())
        .collect();
    assert_eq!(colors[0], "200,200,200,255", "class 0 is grey");
    let m = json(&run.join("manifest.json"));
    let out = m["outputs"].as_array().unwrap().iter().find(|o| o["path"] == "grid.geojson").unwrap();
    for (i, c) in out["class_breaks"]["colors"].as_array().unwrap().iter().enumerate() {
        let rgb: Vec<String> = c.as_array().unwrap().iter().map(|v| v.to_string()).collect();
        assert_eq!(colors[i + 1], format!("{},255", rgb.join(",")));
    }
    assert_eq!(out["class_breaks"]["bounds"], serde_json::json!([0.0, 0.5, 0.9, 1.0]));
    let aliases: Vec<&str> = doc.descendants().filter(|n| n.has_tag_name("alias")).map(|n| n.attribute("field").unwrap()).collect();
    let keys: Vec<&str> = feats[0]["properties"].as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(aliases, keys);
    let alias_of = |k: &str| {
        doc.descendants()
            .find(|n| n.has_tag_name("alias") && n.attribute("field") == Some(k))
            .unwrap()
            .attribute("name")
            .unwrap()
            .to_string()
    };
    assert_eq!(alias_of("closure_rate"), "结案率");
    // Labels: each grid's name and its mapped rate as a percentage, where the label fits.
    assert_eq!(doc.root_element().attribute("labelsEnabled"), Some("1"));
    let style = doc.descendants().find(|n| n.has_tag_name("text-style")).expect("a labeling text style");
    assert_eq!(style.attribute("isExpression"), Some("1"));
    assert_eq!(
        style.attribute("fieldName"),
        Some(
            "\"grid_name\" || '\\n' || CASE WHEN \"closure_rate\" IS NULL THEN '—' ELSE format_number(\"closure_rate\" * 100, 1) || '%' END"
        )
    );
    let placement = doc.descendants().find(|n| n.has_tag_name("placement")).unwrap();
    assert_eq!(placement.attribute("fitInPolygonOnly"), Some("1"));
}

#[test]
fn report_escapes_citizen_text_and_links_everything() {
    let (_t, run) = run();
    let html = std::fs::read_to_string(run.join("report.html")).unwrap();
    assert!(!html.contains("<script>alert(1)</script>"), "a category reached the page unescaped");
    assert!(!html.contains("<img src=x"), "a department reached the page unescaped");
    assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"), "the category is shown, escaped");
    // Its only scripts are our own: the image check, the table sorter, and the map (Leaflet,
    // vendored, then the map's code; its data is a JSON block).
    assert_eq!(html.matches("<script>").count(), 4);
    assert_eq!(html.matches("<script type=\"application/json\" id=\"gg-data\">").count(), 1);
    // What a director reads: headline cards with n, 环比 and 同比; district and street tables;
    // indicators explained; data quality last, with reasons in Chinese.
    for text in [
        "核心指标",
        "响应率",
        "满意率",
        "解决率",
        "环比",
        "同比",
        "n = ",
        "区指标",
        "街道指标",
        "指标说明",
        "数据质量",
        "不在任何网格内",
        "工单编号重复",
        "超期未结工单",
    ] {
        assert!(html.contains(text), "{text} not on the page");
    }
    let at = |t: &str| html.find(t).unwrap_or_else(|| panic!("{t} not on the page"));
    assert!(at("核心指标") < at("图表") && at("图表") < at("数据质量"), "headlines first, data quality after the charts");
    // The charts are embedded, as the PNG files of the run (a forwarded page keeps them), and
    // each links to its PNG, SVG and CSV.
    assert!(!html.contains("src=\"charts/"), "a chart is referenced, not embedded");
    let embedded: Vec<Vec<u8>> = html
        .split("src=\"data:image/png;base64,")
        .skip(1)
        .map(|s| base64::Engine::decode(&base64::engine::general_purpose::STANDARD, &s[..s.find('"').unwrap()]).unwrap())
        .collect();
    for chart in ["trend_rates", "pareto_category", "map_grid_closure_rate"] {
        let png = std::fs::read(run.join(format!("charts/{chart}.png"))).unwrap();
        assert!(embedded.contains(&png), "{chart} not embedded");
        for ext in ["png", "svg", "csv"] {
            assert!(html.contains(&format!("href=\"charts/{chart}.{ext}\"")), "no link to {chart}.{ext}");
        }
    }
    for f in ["grid.geojson", "street.csv", "rejects.csv", "manifest.json"] {
        assert!(html.contains(&format!("href=\"{f}\"")), "no link to {f}");
    }
    assert!(html.contains("name=\"viewport\""));
    // No network: nothing on the page loads from elsewhere. (Leaflet's code, vendored, holds
    // the link of the attribution control the map turns off, and the SVG namespace.)
    let start = html.find("<script>/*! Leaflet").expect("Leaflet embedded");
    let end = start + html[start..].find("</script>").unwrap();
    let page = format!("{}{}", &html[..start], &html[end..]);
    for reference in ["src=\"http", "href=\"http", "url(http", "url(\"http", "url('http"] {
        assert!(!page.contains(reference), "a network reference: {reference}");
    }
    // Every image the page references exists.
    for src in html.split("src=\"").skip(1).map(|s| &s[..s.find('"').unwrap()]).filter(|s| !s.starts_with("data:")) {
        assert!(run.join(src).exists(), "{src} is referenced but missing");
    }
    // The oldest overdue open cases, as in overdue_open.csv.
    assert!(at("超期未结工单") < at("图表"));
    assert!(html.contains("<td>2026-10-10 08:00:00</td>"), "case 3's received time in the overdue list");
}

/// `overdue_open.csv`: the open cases past their due time at the as-of moment T
/// (2026-11-06 00:00), most overdue first. Case 3 (due 10-11 08:00) is 25 d 16 h overdue;
/// case 12 (coordinates swapped and repaired, into G1; no due time, so received 10-05 10:00 +
/// the default 360 h = 10-20 10:00) is 16 d 14 h overdue. Case 4 is due 11-10, not yet; the
/// cancelled case 18 owes nothing; the rejected rows are in no list.
#[test]
fn overdue_open_lists_the_most_overdue_open_cases_first() {
    let (_t, run) = run();
    let rows = read_csv(&run.join("overdue_open.csv"));
    let got: Vec<(&str, &str, &str, &str, &str)> = rows
        .iter()
        .map(|r| (r["case_id"].as_str(), r["due_at"].as_str(), r["overdue_days"].as_str(), r["grid_code"].as_str(), r["rank"].as_str()))
        .collect();
    assert_eq!(
        got,
        [("3", "2026-10-11T08:00:00", "25.6", "110101001001002", "1"), ("12", "2026-10-20T10:00:00", "16.5", "110101001001001", "2"),]
    );
    assert_eq!(rows[0]["received_at"], "2026-10-10T08:00:00");
    assert_eq!(rows[0]["source"], "hotline");
    assert_eq!(rows[0]["street_name"], "东华门街道");
    assert_eq!(rows[0]["row"], "3");
    assert!(rows[0]["file"].ends_with("hotline.csv"), "{}", rows[0]["file"]);
    // Every column is in the dictionary, with its formula.
    let dict = read_csv(&run.join("dictionary.csv"));
    for k in rows[0].keys() {
        assert!(dict.iter().any(|d| &d["key"] == k), "{k} not in dictionary.csv");
    }
}

/// `language = "en"`: the report, the charts, the map, the legends, the QGIS aliases and the
/// workbook speak English; the data keep their keys; the numbers do not change.
#[test]
fn language_en_gives_english_words_everywhere() {
    let tmp = tempfile::tempdir().unwrap();
    let p = write_fixture(tmp.path());
    let zh = std::fs::read_to_string(&p).unwrap();
    let en = zh.replacen("name = \"tiny\"", "name = \"tiny\"\nlanguage = \"en\"", 1);
    let p_en = tmp.path().join("tiny_en.toml");
    std::fs::write(&p_en, en).unwrap();
    let (o, run_zh) = run_into(&p, &tmp.path().join("out_zh"));
    assert_eq!(o.code, 0, "{}", o.stderr);
    let (o, run_en) = run_into(&p_en, &tmp.path().join("out_en"));
    assert_eq!(o.code, 0, "{}", o.stderr);

    let html = std::fs::read_to_string(run_en.join("report.html")).unwrap();
    assert!(html.contains("<html lang=\"en\">"));
    for text in [
        "Headline indicators",
        "Response rate",
        "vs last month",
        "Indicators by street",
        "Oldest overdue open cases",
        "Charts",
        "Data quality",
        "outside all grids",
        "no data / n too small",
    ] {
        assert!(html.contains(text), "{text} not on the English page");
    }
    // No Chinese of ours is left: every CJK character on the page comes from the input (unit
    // names) or the embedded Leaflet-free data block.
    // The formulas of the indicators explained quote the Chinese answers they count (满意 …).
    let explained = html.find("<h2>Indicators explained").unwrap();
    let next = explained + html[explained..].find("<h2>Layers").unwrap();
    let ours = format!("{}{}", &html[..explained], &html[next..]).replace("东华门街道", "").replace("东城区", "");
    let cjk: String = ours
        .split("<script")
        .map(|part| part.split("</script>").last().unwrap_or(""))
        .collect::<String>()
        .chars()
        .filter(|c| ('\u{4e00}'..='\u{9fff}').contains(c))
        .collect();
    let names: String = ["网格", "社区"].concat();
    assert!(cjk.chars().all(|c| names.contains(c) || "0123456789".contains(c)), "Chinese left on the English page: {cjk}");
    // Chart titles (shown under each chart) and the no-data label of the layers.
    assert!(html.contains("the three rates by month") && html.contains("cases by category (Pareto)"), "English chart titles");
    let layer = std::fs::read_to_string(run_en.join("grid.geojson")).unwrap();
    assert!(layer.contains("no data / n too small") && !layer.contains("无数据"));
    let qml = std::fs::read_to_string(run_en.join("grid.qml")).unwrap();
    assert!(qml.contains("name=\"closure rate\"") && !qml.contains("结案率"), "English aliases");
    // The same numbers: every table but the report, charts and styles is identical.
    for f in ["grid.csv", "street.csv", "city.csv", "overdue_open.csv", "by_category.csv"] {
        assert_eq!(std::fs::read(run_zh.join(f)).unwrap(), std::fs::read(run_en.join(f)).unwrap(), "{f} differs");
    }
}

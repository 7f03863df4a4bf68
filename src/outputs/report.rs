//! `report.html`: one self-contained page per run (no network; the charts are embedded as
//! PNG, rendered with the same fonts that measured their labels, so nothing drifts in any
//! browser), readable on a phone, in the pipeline's `language`. Every string that comes from
//! input data is escaped.

use std::fmt::Write as _;
use std::path::Path;

use crate::config::Pipeline;
use crate::indicators::Results;
use crate::outputs::charts::ChartFiles;
use crate::outputs::manifest::{Output, SourceAccount};
use crate::outputs::qml::xml_escape as esc;
use crate::vocab::error::OutputError;
use crate::vocab::frame::Frame;
use crate::vocab::lang::Lang;
use crate::vocab::units::Level;

const STYLE: &str = "body{font-family:'Noto Sans CJK SC','Source Han Sans SC','Microsoft YaHei','PingFang SC',sans-serif;margin:0 auto;max-width:1100px;padding:12px;color:#222;line-height:1.5}\
h1{font-size:1.4em}h2{font-size:1.15em;border-bottom:1px solid #ddd;padding-bottom:4px;margin-top:2em}\
figure{margin:1em 0}figure .chart{overflow-x:auto}figure img{width:100%;height:auto;border:1px solid #eee;box-sizing:border-box;display:block}figcaption{font-size:.85em;color:#555}\
.scroll{overflow-x:auto}table{border-collapse:collapse;font-size:.9em;min-width:60%}th,td{border:1px solid #ddd;padding:3px 8px;text-align:left}\
td.n{text-align:right}th{background:#f4f4f4}.ok{color:#1a7f37}.bad{color:#b42318}ul{padding-left:1.2em}\
.cards{display:grid;grid-template-columns:repeat(auto-fill,minmax(150px,1fr));gap:8px}.card{border:1px solid #ddd;border-radius:6px;padding:8px}\
.card .k{font-size:.85em;color:#555}.card .v{font-size:1.5em;font-weight:bold}.card .c{font-size:.8em;color:#555}.cn{color:#555;font-size:.85em}\
.en{color:#888;font-size:.85em}table.nowrap td{white-space:nowrap}.note{font-size:.85em;color:#555}.tall{max-height:420px;overflow-y:auto}table.sortable th{cursor:pointer}table.sortable td:first-child{white-space:nowrap}\
@media(max-width:600px){body{padding:6px;font-size:15px}.cards{grid-template-columns:1fr 1fr}h1{font-size:1.15em}figure img{width:960px;max-width:none}}";

/// Writes `<dir>/report.html`.
#[allow(clippy::too_many_arguments)]
pub fn write_report(
    path: &Path,
    p: &Pipeline,
    r: &Results,
    sources: &[SourceAccount],
    charts: &[ChartFiles],
    map: Option<&str>,
    outputs: &[Output],
    overdue: Option<&Frame>,
    exit_code: i32,
) -> Result<(), OutputError> {
    let l = p.language;
    let t = |zh: &'static str, en: &'static str| l.pick(zh, en);
    let mut h = String::new();
    let title = format!("{} · {} · {} {}", p.title, p.period.label(), t("截至", "as of"), p.period.as_of);
    let _ = write!(
        h,
        "<!DOCTYPE html>\n<html lang=\"{}\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{}</title><style>{STYLE}</style></head><body>\n<h1>{}</h1>\n",
        l.html(),
        esc(&title),
        esc(&title)
    );
    let status = if exit_code == 0 {
        format!("<span class=\"ok\">{}</span>", t("通过 (passed)", "passed"))
    } else {
        format!("<span class=\"bad\">{}</span>", t("数据质量检查未通过 (quality gate failed)", "a quality gate failed"))
    };
    let (start, end, as_of) = (p.period.start, p.period.end, p.period.as_of);
    let _ = match l {
        Lang::Zh => writeln!(h, "<p>统计期 {start} 至 {end}，状态以 {as_of} 日终为准；质量检查：{status}。</p>"),
        Lang::En => writeln!(h, "<p>Period {start} to {end}; states as at the end of {as_of}; quality gates: {status}.</p>"),
    };

    headline_cards(&mut h, r, l);
    if let Some(m) = map {
        h.push_str(m);
    }

    // How much of the closure rates rests on due times the run had to impute.
    let city = |k: &str| r.city.floats(k).first().copied().flatten().unwrap_or(0.0);
    let (given, limits, default) = (city("due_given"), city("due_from_limits"), city("due_default"));
    let imputed = if given + limits + default > 0.0 { (limits + default) / (given + limits + default) * 100.0 } else { 0.0 };
    let _ = match l {
        Lang::Zh => writeln!(
            h,
            "<p class=\"note\">办理时限：{given} 件来自工单，{limits} 件按时限规则推定，{default} 件按默认时限推定（推定占 {imputed:.1}%）。</p>"
        ),
        Lang::En => writeln!(
            h,
            "<p class=\"note\">Due times: {given} from the records, {limits} imputed from the time-limit table, {default} from the default limit ({imputed:.1}% imputed).</p>"
        ),
    };

    for level in [Level::District, Level::Street] {
        if let Some(lt) = r.levels.iter().find(|lt| lt.level == level) {
            let _ = match l {
                Lang::Zh => writeln!(h, "<h2>{}指标 ({} table, click a heading to sort)</h2>", level.zh(), level.as_str()),
                Lang::En => writeln!(h, "<h2>Indicators by {} (click a heading to sort)</h2>", level.as_str()),
            };
            unit_table(&mut h, &lt.period, &format!("{}_name", level.as_str()), p.indicators.ranking_min_n, l);
        }
    }
    if let Some(f) = overdue {
        overdue_table(&mut h, f, p.outputs.overdue_list, l);
    }
    whistle_tables(&mut h, r, l);
    order_table(&mut h, r, l);
    member_table(&mut h, r, l);
    coverage_table(&mut h, r, p, l);
    if let Some(f) = &r.hotspots {
        hotspot_table(&mut h, f, p, l);
    }
    if let (Some((units, _)), Some(a)) = (&r.assessment, &p.assessment) {
        assessment_table(&mut h, units, a, l);
    }
    if !charts.is_empty() {
        let _ = writeln!(h, "<h2>{}</h2>", t("图表 (charts)", "Charts"));
    }
    for c in charts {
        let rel = |f: &Path| format!("charts/{}", f.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default());
        let png = std::fs::read(&c.png).map_err(OutputError::io(&c.png))?;
        let _ = writeln!(
            h,
            "<figure><div class=\"chart\"><img src=\"data:image/png;base64,{}\" alt=\"{}\"></div><figcaption>{} · <a href=\"{}\">PNG</a> · <a href=\"{}\">SVG</a> · <a href=\"{}\">CSV</a></figcaption></figure>",
            base64::Engine::encode(&base64::engine::general_purpose::STANDARD, &png),
            esc(&c.title),
            esc(&c.title),
            esc(&rel(&c.png)),
            esc(&rel(&c.svg)),
            esc(&rel(&c.csv))
        );
    }

    if let Some((_, f)) = r.dimensions.iter().find(|(d, _)| *d == "category") {
        let names = f.texts("category");
        let cases = f.floats("cases");
        let total: f64 = cases.iter().flatten().sum();
        let mut rows: Vec<usize> = (0..f.height()).collect();
        rows.sort_by(|a, b| cases[*b].unwrap_or(0.0).total_cmp(&cases[*a].unwrap_or(0.0)).then_with(|| names[*a].cmp(&names[*b])));
        let _ = writeln!(
            h,
            "<h2>{}</h2>\n<div class=\"scroll\"><table><tr><th>{}</th><th>{}</th><th>{}</th></tr>",
            t("问题类别 (categories)", "Categories"),
            t("类别", "category"),
            t("诉求量", "cases"),
            t("占比", "share")
        );
        for i in rows {
            let n = cases[i].unwrap_or(0.0);
            let share = if total > 0.0 { n / total * 100.0 } else { 0.0 };
            let name = if names[i].is_empty() { t("未分类", "(no category)") } else { &names[i] };
            let _ = writeln!(h, "<tr><td>{}</td><td class=\"n\">{n}</td><td class=\"n\">{share:.1}%</td></tr>", esc(name));
        }
        h.push_str("</table></div>\n");
    }

    for (frame, name_key, zh, en) in [
        (r.levels.iter().find(|lt| lt.level == Level::Street).map(|lt| &lt.period), "street_name", "街道", "streets"),
        (r.dimensions.iter().find(|(d, _)| *d == "department").map(|(_, f)| f), "department", "部门", "departments"),
    ] {
        let Some(frame) = frame else { continue };
        let k = p.charts.as_ref().map(|c| c.top_n).unwrap_or(5);
        let _ = match l {
            Lang::Zh => writeln!(h, "<h2>{zh}红黑榜 (top and bottom {k})</h2>"),
            Lang::En => writeln!(h, "<h2>Best and worst {k} {en}</h2>"),
        };
        table_top_bottom(&mut h, frame, name_key, k, l);
    }

    indicators_explained(&mut h, r, l);

    let _ = writeln!(
        h,
        "<h2>{}</h2>\n<details><summary>{}</summary><ul>",
        t("图层与表格 (layers and tables)", "Layers and tables"),
        t("全部文件 (every file of the run)", "every file of the run")
    );
    for o in outputs.iter().filter(|o| !o.path.starts_with("charts/")) {
        let _ =
            writeln!(h, "<li><a href=\"{}\">{}</a> ({} {})</li>", esc(&o.path), esc(&o.path), o.count, t("行/要素", "rows or features"));
    }
    h.push_str("<li><a href=\"rejects.csv\">rejects.csv</a></li><li><a href=\"field_issues.csv\">field_issues.csv</a></li><li><a href=\"manifest.json\">manifest.json</a></li>\n</ul></details>\n");
    data_quality(&mut h, sources, l);
    // Reports a chart that failed to load as a console error, which CI's browser check catches.
    h.push_str("<script>window.addEventListener('load',function(){document.querySelectorAll('img').forEach(function(i){if(!i.complete||i.naturalWidth===0){console.error('image failed to load: '+i.getAttribute('src'));}});});</script>\n");
    h.push_str(SORT_SCRIPT);
    h.push_str("</body></html>\n");
    std::fs::write(path, h).map_err(OutputError::io(path))
}

fn table_top_bottom(h: &mut String, f: &Frame, name_key: &str, k: usize, l: Lang) {
    let t = |zh: &'static str, en: &'static str| l.pick(zh, en);
    let names = f.texts(name_key);
    let ranks = f.floats("composite_rank");
    let scores = f.floats("composite_score");
    let n = f.floats("followups");
    let cases = f.floats("cases");
    let mut rows: Vec<usize> = (0..f.height()).filter(|&i| ranks[i].is_some()).collect();
    rows.sort_by(|a, b| ranks[*a].unwrap_or(0.0).total_cmp(&ranks[*b].unwrap_or(0.0)).then_with(|| names[*a].cmp(&names[*b])));
    let k = k.min(rows.len());
    let bottom: Vec<usize> = rows[rows.len() - k..].iter().rev().copied().collect();
    for (label, list) in [(t("红榜 best", "best"), &rows[..k]), (t("黑榜 worst", "worst"), &bottom[..])] {
        let _ = writeln!(
            h,
            "<div class=\"scroll\"><table><tr><th colspan=\"5\">{label}</th></tr><tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th></tr>",
            t("排名", "rank"),
            t("名称", "name"),
            t("综合成绩", "composite score"),
            t("有效回访 n", "valid follow-ups n"),
            t("诉求量", "cases")
        );
        for &i in list {
            let _ = writeln!(
                h,
                "<tr><td class=\"n\">{}</td><td>{}</td><td class=\"n\">{:.2}</td><td class=\"n\">{}</td><td class=\"n\">{}</td></tr>",
                ranks[i].unwrap_or(0.0),
                esc(if names[i].is_empty() { t("未注明", "(not given)") } else { &names[i] }),
                scores[i].unwrap_or(0.0),
                n[i].unwrap_or(0.0),
                cases[i].unwrap_or(0.0)
            );
        }
        h.push_str("</table></div>\n");
    }
}

/// The headline indicators and their n, with 环比 and 同比 of the period's last month.
const HEADLINES: [(&str, &str, &str, &str); 7] = [
    ("cases", "诉求量", "Cases", "cases"),
    ("response_rate", "响应率", "Response rate", "followups"),
    ("resolution_rate", "解决率", "Resolution rate", "followups"),
    ("satisfaction_rate", "满意率", "Satisfaction rate", "followups"),
    ("composite_score", "综合成绩", "Composite score", "followups"),
    ("closure_rate", "结案率", "Closure rate", "should_close"),
    ("on_time_closure_rate", "按期结案率", "On-time closure rate", "should_close"),
];

fn headline_cards(h: &mut String, r: &Results, l: Lang) {
    let t = |zh: &'static str, en: &'static str| l.pick(zh, en);
    let period = |k: &str| r.city.floats(k).first().copied().flatten();
    // The period's last month in the monthly table holds the changes.
    let month = r.city_monthly.height().checked_sub(1);
    let monthly = |k: &str| month.and_then(|m| r.city_monthly.floats(k).get(m).copied().flatten());
    let month_label = month.and_then(|m| r.city_monthly.texts("period").get(m).cloned()).unwrap_or_default();
    let _ = writeln!(h, "<h2>{}</h2>\n<div class=\"cards\">", t("核心指标 (headline indicators)", "Headline indicators"));
    for (k, zh, en, n) in HEADLINES {
        let value = match (k, period(k)) {
            (_, None) => "—".to_string(),
            ("cases", Some(v)) => format!("{v:.0}"),
            ("composite_score", Some(v)) => format!("{v:.2}"),
            (_, Some(v)) => format!("{:.1}%", v * 100.0),
        };
        let change = |what: &str, key: String, rate: bool| -> String {
            match monthly(&key) {
                None => format!("{what} —"),
                Some(c) if rate => format!("{what} {:+.1}%", c * 100.0),
                Some(c) if k == "composite_score" => format!("{what} {c:+.2} {}", t("分", "points")),
                Some(c) => format!("{what} {:+.1} {}", c * 100.0, t("个百分点", "pp")),
            }
        };
        let (m, y) = (t("环比", "vs last month"), t("同比", "vs last year"));
        let (mom, yoy) = if k == "cases" {
            (change(m, "cases_mom_rate".into(), true), change(y, "cases_yoy_rate".into(), true))
        } else {
            (change(m, format!("{k}_mom_change"), false), change(y, format!("{k}_yoy_change"), false))
        };
        let n_text = if k == "cases" {
            String::new()
        } else {
            format!("<span class=\"cn\">n = {}</span>", period(n).map_or("—".into(), |v| format!("{v:.0}")))
        };
        let _ = writeln!(
            h,
            "<div class=\"card\"><div class=\"k\">{} <span class=\"en\">{k}</span></div><div class=\"v\">{value}</div>{n_text}<div class=\"c\">{mom} · {yoy} <span class=\"en\">({})</span></div></div>",
            l.pick(zh, en),
            esc(&month_label)
        );
    }
    h.push_str("</div>\n");
}

/// A sortable table of one level's units: volume, the three rates, the score and rank with
/// their n, closure and overdue.
fn unit_table(h: &mut String, f: &Frame, name_key: &str, ranking_min_n: u64, l: Lang) {
    let t = |zh: &'static str, en: &'static str| l.pick(zh, en);
    let cols: [(&str, &str); 11] = [
        ("cases", t("诉求量", "cases")),
        ("followups", t("有效回访 n", "follow-ups n")),
        ("response_rate", t("响应率", "response")),
        ("resolution_rate", t("解决率", "resolution")),
        ("satisfaction_rate", t("满意率", "satisfaction")),
        ("composite_score", t("综合成绩", "score")),
        ("composite_rank", t("排名", "rank")),
        ("should_close", t("应结案 n", "owed n")),
        ("closure_rate", t("结案率", "closure")),
        ("on_time_closure_rate", t("按期结案率", "on-time closure")),
        ("overdue_open", t("超期未结", "overdue open")),
    ];
    let names = f.texts(name_key);
    let values: Vec<Vec<Option<f64>>> = cols.iter().map(|(k, _)| f.floats(k)).collect();
    let _ = write!(h, "<div class=\"scroll tall\"><table class=\"sortable\"><thead><tr><th>{}</th>", t("名称", "name"));
    for (_, zh) in cols {
        let _ = write!(h, "<th>{zh}</th>");
    }
    h.push_str("</tr></thead><tbody>\n");
    let mut rows: Vec<usize> = (0..f.height()).collect();
    let rank = &values[6];
    rows.sort_by(|a, b| match (rank[*a], rank[*b]) {
        (Some(x), Some(y)) => x.total_cmp(&y),
        (Some(_), None) => std::cmp::Ordering::Less,
        (None, Some(_)) => std::cmp::Ordering::Greater,
        _ => names[*a].cmp(&names[*b]),
    });
    for i in rows {
        let _ = write!(h, "<tr><td>{}</td>", esc(if names[i].is_empty() { t("未注明", "(not given)") } else { &names[i] }));
        for (j, (k, _)) in cols.iter().enumerate() {
            let text = match values[j][i] {
                None => String::new(),
                Some(v) if k.ends_with("_rate") => format!("{:.1}%", v * 100.0),
                Some(v) if *k == "composite_score" => format!("{v:.2}"),
                Some(v) => format!("{v:.0}"),
            };
            let _ = write!(h, "<td class=\"n\">{text}</td>");
        }
        h.push_str("</tr>\n");
    }
    let _ = match l {
        Lang::Zh => writeln!(h, "</tbody></table></div>\n<p class=\"note\">排名只在有效回访 ≥ {ranking_min_n} 时给出；同分同名次。</p>"),
        Lang::En => writeln!(
            h,
            "</tbody></table></div>\n<p class=\"note\">Ranked from {ranking_min_n} valid follow-ups; equal scores share a rank.</p>"
        ),
    };
}

/// Every column of the street table with its Chinese name and formula, from the registry.
fn indicators_explained(h: &mut String, r: &Results, l: Lang) {
    let Some(f) = r.levels.iter().find(|lt| lt.level == Level::Street).map(|lt| &lt.period).or(Some(&r.city)) else {
        return;
    };
    let _ = match l {
        Lang::Zh => writeln!(
            h,
            "<h2>指标说明 (indicators explained)</h2>\n<details><summary>每个字段的含义与公式 (every column, its unit and formula; docs/indicators.md has the rules)</summary><div class=\"scroll\"><table><tr><th>字段 key</th><th>中文</th><th>单位 unit</th><th>公式 formula</th></tr>"
        ),
        Lang::En => writeln!(
            h,
            "<h2>Indicators explained</h2>\n<details><summary>every column, its unit and formula (docs/indicators.md has the rules)</summary><div class=\"scroll\"><table><tr><th>key</th><th>name</th><th>unit</th><th>formula</th></tr>"
        ),
    };
    for c in &f.columns {
        if let Some(field) = crate::indicators::registry::field(&c.key) {
            let _ = writeln!(
                h,
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                esc(field.key),
                esc(&field.label(l)),
                esc(field.unit),
                esc(field.formula)
            );
        }
    }
    h.push_str("</table></div></details>\n");
}

/// Rows read, placed and rejected per source, with the reasons in Chinese.
fn data_quality(h: &mut String, sources: &[SourceAccount], l: Lang) {
    let _ = match l {
        Lang::Zh => writeln!(
            h,
            "<h2>数据质量 (data quality: rows read, placed, rejected)</h2>\n<div class=\"scroll\"><table><tr><th>来源 source</th><th>读入 read</th><th>落格 placed</th><th>本期 in period</th><th>剔除 rejected</th><th>剔除原因 reasons</th><th>保留但字段有误 kept with a field issue</th><th>截止后受理 received after as-of</th></tr>"
        ),
        Lang::En => writeln!(
            h,
            "<h2>Data quality: rows read, placed, rejected</h2>\n<div class=\"scroll\"><table><tr><th>source</th><th>read</th><th>placed</th><th>in period</th><th>rejected</th><th>reasons</th><th>kept with a field issue</th><th>received after as-of</th></tr>"
        ),
    };
    for s in sources {
        let reasons: Vec<String> = s
            .rejects_by_reason
            .iter()
            .map(|(k, v)| format!("{} <span class=\"en\">{}</span> {v}", esc(&k.label(l)), esc(k.as_str())))
            .collect();
        let issues: Vec<String> = s
            .field_issues
            .iter()
            .map(|(k, v)| {
                let label =
                    k.split_once(':').and_then(|(_, r)| crate::vocab::reason::Reason::parse(r)).map_or(String::new(), |r| r.label(l));
                format!("{} <span class=\"en\">{}</span> {v}", esc(&label), esc(k))
            })
            .collect();
        let _ = writeln!(
            h,
            "<tr><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td>{}</td><td>{}</td><td class=\"n\">{}</td></tr>",
            esc(&s.name),
            s.rows_read,
            s.rows_assigned,
            s.in_period,
            s.rows_rejected,
            reasons.join("<br>"),
            issues.join("<br>"),
            s.received_after_as_of
        );
    }
    let _ = writeln!(
        h,
        "</table></div>\n<p class=\"note\">{}</p>",
        l.pick(
            "每一行或计入指标，或写入 rejects.csv 并注明原因；字段问题见 field_issues.csv。",
            "Every row is either counted or in rejects.csv with its reason; field issues are in field_issues.csv."
        )
    );
}

/// 街乡吹哨、部门报到: the streets' whistles and the summoned departments' report-in, each a
/// sortable table.
fn whistle_tables(h: &mut String, r: &Results, l: Lang) {
    let t = |zh: &'static str, en: &'static str| l.pick(zh, en);
    let Some(depts) = &r.whistle_departments else { return };
    let _ = writeln!(h, "<h2>{}</h2>", t("街乡吹哨、部门报到 (whistles and report-in)", "Street whistles and department report-in"));
    let streets = r.levels.iter().find(|lt| lt.level == Level::Street).map(|lt| &lt.period);
    let street_cols: [(&str, &str); 9] = [
        ("whistles", t("吹哨数", "whistles")),
        ("whistles_emergency", t("应急哨", "emergency")),
        ("whistles_per_1000_cases", t("吹哨率‰", "per 1,000 cases")),
        ("summons", t("召集部门次数", "summonses")),
        ("report_in_rate", t("报到率", "report-in")),
        ("on_time_report_in_rate", t("按时报到率", "on-time report-in")),
        ("report_in_minutes_median", t("报到用时中位数(分)", "median minutes")),
        ("whistle_closure_rate", t("吹哨办结率", "closure")),
        ("evaluation_mean", t("部门评价均分", "evaluation")),
    ];
    if let Some(f) = streets {
        let _ = writeln!(h, "<h3>{}</h3>", t("各街道吹哨", "Whistles by street"));
        plain_table(h, f, "street_name", &street_cols, t("街道", "street"), l);
    }
    let _ = writeln!(h, "<h3>{}</h3>", t("被召集部门报到", "Report-in by department"));
    let dept_cols: [(&str, &str); 6] = [
        ("summons", t("被召集次数", "summonses")),
        ("report_in_rate", t("报到率", "report-in")),
        ("on_time_report_in_rate", t("按时报到率", "on-time report-in")),
        ("report_in_minutes_median", t("报到用时中位数(分)", "median minutes")),
        ("report_in_minutes_p90", t("报到用时P90(分)", "P90 minutes")),
        ("evaluation_mean", t("评价均分", "evaluation")),
    ];
    plain_table(h, depts, "department", &dept_cols, t("部门", "department"), l);
    let _ = writeln!(
        h,
        "<p class=\"note\">{}</p>",
        t(
            "按时报到：报到用时不超过该哨型时限（indicators.whistles.report_in_minutes）；吹哨数按吹哨编号去重。",
            "On time: within the whistle type's limit (indicators.whistles.report_in_minutes); whistles are counted once per whistle id."
        )
    );
}

/// 居民点单—支部下单—党员接单 by street: the funnel, times, ratings and the members who served.
fn order_table(h: &mut String, r: &Results, l: Lang) {
    let t = |zh: &'static str, en: &'static str| l.pick(zh, en);
    let Some(streets) = r.levels.iter().find(|lt| lt.level == Level::Street).map(|lt| &lt.period) else { return };
    if streets.column("orders").is_none() {
        return;
    }
    let _ = writeln!(h, "<h2>{}</h2>", t("居民点单—支部下单—党员接单 (service orders)", "Residents' service orders"));
    let cols: [(&str, &str); 11] = [
        ("orders", t("点单数", "orders")),
        ("dispatch_rate", t("下单率", "dispatched")),
        ("acceptance_rate", t("接单率", "accepted")),
        ("completion_rate", t("完成率", "completed")),
        ("order_fulfilment_rate", t("点单办结率", "fulfilled")),
        ("accept_hours_median", t("接单用时中位数(时)", "median hours to accept")),
        ("order_satisfaction_rate", t("满意率", "satisfied")),
        ("stale_open_orders", t("超期未完成", "stale open")),
        ("active_members", t("接单党员数", "active members")),
        ("orders_per_active_member", t("人均接单", "orders per member")),
        ("top10_member_share", t("前10%党员占比", "busiest 10 % share")),
    ];
    plain_table(h, streets, "street_name", &cols, t("街道", "street"), l);
    let _ = writeln!(
        h,
        "<p class=\"note\">{}</p>",
        t(
            "党员编号读入即哈希，不写出；接单党员少于 indicators.service_orders.min_members 的单位不显示人均数。",
            "Member ids are hashed when read and never written; units with fewer active members than indicators.service_orders.min_members show no per-member figures."
        )
    );
}

/// 考核: the assessed units of each level by rank, and the rules that make the score.
fn assessment_table(h: &mut String, f: &Frame, a: &crate::config::file::AssessmentFile, l: Lang) {
    let t = |zh: &'static str, en: &'static str| l.pick(zh, en);
    let _ = writeln!(h, "<h2>{}</h2>", t("考核 (assessment)", "Assessment"));
    let rules: Vec<String> = a
        .components
        .iter()
        .map(|c| format!("{} × {}{}", c.weight, esc(&c.column), if c.invert { t("（越低越好）", " (lower is better)") } else { "" }))
        .collect();
    let _ = writeln!(
        h,
        "<p class=\"note\">{}{}{}</p>",
        t("得分 = ", "score = "),
        rules.join(" + "),
        t(
            "（各项先标准化为 0–100 分；明细见 assessment_components.csv，可逐项复算）",
            " (each normalised to 0–100 first; assessment_components.csv has every step)"
        )
    );
    let (levels, codes, names) = (f.texts("level"), f.texts("unit_code"), f.texts("unit_name"));
    let (score, cov, rank) = (f.floats("assessment_score"), f.floats("assessment_coverage"), f.floats("assessment_rank"));
    let grade = f.texts("assessment_grade");
    let _ = write!(
        h,
        "<div class=\"scroll tall\"><table class=\"sortable\"><thead><tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th></tr></thead><tbody>\n",
        t("层级", "level"),
        t("名称", "name"),
        t("得分", "score"),
        t("排名", "rank"),
        t("等级", "grade"),
        t("覆盖", "coverage")
    );
    let mut rows: Vec<usize> = (0..f.height()).collect();
    rows.sort_by(|&x, &y| {
        levels[y].cmp(&levels[x]).then(rank[x].unwrap_or(f64::MAX).total_cmp(&rank[y].unwrap_or(f64::MAX))).then(codes[x].cmp(&codes[y]))
    });
    for i in rows {
        let _ = writeln!(
            h,
            "<tr><td>{}</td><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td>{}</td><td class=\"n\">{}</td></tr>",
            esc(Level::ALL.iter().find(|lv| lv.as_str() == levels[i]).map_or(levels[i].as_str(), |lv| lv.name(l))),
            esc(&names[i]),
            score[i].map(|s| format!("{s:.2}")).unwrap_or_default(),
            rank[i].map(|r| format!("{r:.0}")).unwrap_or_default(),
            esc(&grade[i]),
            cov[i].map(|c| format!("{:.0}%", c * 100.0)).unwrap_or_default()
        );
    }
    h.push_str("</tbody></table></div>\n");
}

/// 重复诉求热点: the largest hot spots (the first 15 of `hotspots.csv`).
fn hotspot_table(h: &mut String, f: &Frame, p: &Pipeline, l: Lang) {
    let t = |zh: &'static str, en: &'static str| l.pick(zh, en);
    let _ = writeln!(h, "<h2>{}</h2>", t("重复诉求热点 (repeat hot spots)", "Repeat hot spots"));
    if let Some(s) = &p.hotspots {
        let _ = match l {
            Lang::Zh => writeln!(
                h,
                "<p class=\"note\">同一类别、{} 米以内、{} 天以内至少 {} 件诉求为一个热点（算法见 docs/indicators.md）；共 {} 个，图层 hotspots.geojson。</p>",
                s.radius_m,
                s.window_days,
                s.min_cases,
                f.height()
            ),
            Lang::En => writeln!(
                h,
                "<p class=\"note\">At least {} cases of one category within {} m and {} days (docs/indicators.md has the algorithm); {} in all, layer hotspots.geojson.</p>",
                s.min_cases,
                s.radius_m,
                s.window_days,
                f.height()
            ),
        };
    }
    if f.height() == 0 {
        return;
    }
    let cols = ["hotspot_id", "category", "cases", "first_received", "last_received", "street_name", "grid_name"];
    let heads = [
        t("编号", "id"),
        t("类别", "category"),
        t("件数", "cases"),
        t("首次", "first"),
        t("最近", "last"),
        t("街道", "street"),
        t("网格", "grid"),
    ];
    let _ = write!(h, "<div class=\"scroll\"><table class=\"nowrap\"><tr>");
    for head in heads {
        let _ = write!(h, "<th>{head}</th>");
    }
    h.push_str("</tr>\n");
    let texts: Vec<Vec<String>> = cols
        .iter()
        .map(|c| match f.column(c) {
            Some(crate::vocab::frame::Values::Date(v)) => v.iter().map(|d| d.map(|d| d.to_string()).unwrap_or_default()).collect(),
            Some(crate::vocab::frame::Values::Int(v)) => v.iter().map(|x| x.map(|x| x.to_string()).unwrap_or_default()).collect(),
            _ => f.texts(c),
        })
        .collect();
    for i in 0..f.height().min(15) {
        h.push_str("<tr>");
        for (j, c) in texts.iter().enumerate() {
            let class = if j == 2 { " class=\"n\"" } else { "" };
            let _ = write!(h, "<td{class}>{}</td>", esc(c.get(i).map(String::as_str).unwrap_or("")));
        }
        h.push_str("</tr>\n");
    }
    h.push_str("</table></div>\n");
}

/// 在职党员回社区报到 by street.
fn member_table(h: &mut String, r: &Results, l: Lang) {
    let t = |zh: &'static str, en: &'static str| l.pick(zh, en);
    let Some(streets) = r.levels.iter().find(|lt| lt.level == Level::Street).map(|lt| &lt.period) else { return };
    if streets.column("registered_members").is_none() {
        return;
    }
    let _ =
        writeln!(h, "<h2>{}</h2>", t("在职党员回社区报到 (members serving where they live)", "In-service members serving where they live"));
    let cols: [(&str, &str); 8] = [
        ("registered_members", t("报到党员数", "registered")),
        ("members_per_1000_residents", t("每千人", "per 1,000 residents")),
        ("members_active", t("本期服务党员", "served this period")),
        ("member_activity_rate", t("服务率", "activity rate")),
        ("member_service_hours", t("服务时长(时)", "hours")),
        ("member_hours_per_member", t("人均时长", "hours per member")),
        ("member_requirement_rate", t("年度达标率", "meeting the yearly requirement")),
        ("member_activities_unregistered", t("未报到人员服务", "by ids on no roster")),
    ];
    plain_table(h, streets, "street_name", &cols, t("街道", "street"), l);
}

/// The 15-minute service circle: the city's figures, streets, and the communities that lack
/// an item (the first 30, fewest items first).
fn coverage_table(h: &mut String, r: &Results, p: &Pipeline, l: Lang) {
    let t = |zh: &'static str, en: &'static str| l.pick(zh, en);
    let Some(c) = &p.coverage else { return };
    if r.coverage.is_none() {
        return;
    }
    let _ = writeln!(h, "<h2>{}</h2>", t("一刻钟便民生活圈 (15-minute service circle)", "The 15-minute service circle"));
    let city = |k: &str| r.city.floats(k).first().copied().flatten();
    let pct = |x: Option<f64>| x.map(|v| format!("{:.1}%", v * 100.0)).unwrap_or_else(|| "—".into());
    let items: Vec<String> = c.items.iter().map(|it| format!("{} {:.0} m", it.name, it.radius_m)).collect();
    let _ = match l {
        Lang::Zh => writeln!(
            h,
            "<p>全覆盖社区 {}（{} 个），可达全部业态的人口 {}，便民设施 {} 处。业态与服务半径：{}；绕行系数 {}，居民按 {} m 网格点分布，一项业态覆盖社区须至少 {:.0}% 居民可达。</p>",
            pct(city("community_full_coverage_rate")),
            city("communities_fully_covered").map_or("—".into(), |v| format!("{v:.0}")),
            pct(city("population_all_items_rate")),
            city("facilities").map_or("—".into(), |v| format!("{v:.0}")),
            esc(&items.join("、")),
            c.detour_factor,
            c.lattice_m,
            c.min_share * 100.0
        ),
        Lang::En => writeln!(
            h,
            "<p>Communities fully covered: {} ({}); residents reaching every item: {}; facilities: {}. Items and reach: {}; detour factor {}, residents on a {} m lattice, an item counts for a community when at least {:.0} % of its residents reach it.</p>",
            pct(city("community_full_coverage_rate")),
            city("communities_fully_covered").map_or("—".into(), |v| format!("{v:.0}")),
            pct(city("population_all_items_rate")),
            city("facilities").map_or("—".into(), |v| format!("{v:.0}")),
            esc(&items.join(", ")),
            c.detour_factor,
            c.lattice_m,
            c.min_share * 100.0
        ),
    };
    if let Some(streets) = r.levels.iter().find(|lt| lt.level == Level::Street).map(|lt| &lt.period) {
        let cols: [(&str, &str); 4] = [
            ("facilities", t("便民设施", "facilities")),
            ("communities_fully_covered", t("全覆盖社区", "communities fully covered")),
            ("community_full_coverage_rate", t("社区覆盖率", "community coverage rate")),
            ("population_all_items_rate", t("全业态可达人口", "residents reaching every item")),
        ];
        plain_table(h, streets, "street_name", &cols, t("街道", "street"), l);
    }
    let Some(comm) = r.levels.iter().find(|lt| lt.level == Level::Community).map(|lt| &lt.period) else { return };
    let (names, streets, status, missing, reached) = (
        comm.texts("community_name"),
        comm.texts("street_name"),
        comm.texts("service_circle"),
        comm.texts("service_items_missing"),
        comm.floats("service_items_reached"),
    );
    let mut short: Vec<usize> = (0..comm.height()).filter(|&i| status[i] == "partial" || status[i] == "none").collect();
    short.sort_by(|&a, &b| reached[a].unwrap_or(0.0).total_cmp(&reached[b].unwrap_or(0.0)).then(a.cmp(&b)));
    if short.is_empty() {
        return;
    }
    let _ = writeln!(
        h,
        "<p>{} {}</p>",
        t("未全覆盖的社区：", "Communities short of an item:"),
        match l {
            Lang::Zh => format!("{} 个（下表列前 30 个，缺项最多者在前；全部见 coverage_items.csv 与 coverage.geojson）", short.len()),
            Lang::En => format!("{} (the first 30, most items missing first; all in coverage_items.csv and coverage.geojson)", short.len()),
        }
    );
    let _ = writeln!(
        h,
        "<div class=\"scroll\"><table><thead><tr><th>{}</th><th>{}</th><th>{}</th></tr></thead><tbody>",
        t("社区", "community"),
        t("街道", "street"),
        t("缺少的业态", "items out of reach")
    );
    for &i in short.iter().take(30) {
        let _ = writeln!(h, "<tr><td>{}</td><td>{}</td><td>{}</td></tr>", esc(&names[i]), esc(&streets[i]), esc(&missing[i]));
    }
    h.push_str("</tbody></table></div>\n");
}

/// A sortable table of a frame's rows: the name, then `cols` (shares as percentages).
fn plain_table(h: &mut String, f: &Frame, name_key: &str, cols: &[(&str, &str)], name_label: &str, l: Lang) {
    let names = f.texts(name_key);
    let values: Vec<Vec<Option<f64>>> = cols.iter().map(|(k, _)| f.floats(k)).collect();
    let _ = write!(h, "<div class=\"scroll tall\"><table class=\"sortable\"><thead><tr><th>{}</th>", esc(name_label));
    for (_, label) in cols {
        let _ = write!(h, "<th>{}</th>", esc(label));
    }
    h.push_str("</tr></thead><tbody>\n");
    for i in 0..f.height() {
        let name = if names[i].is_empty() { l.pick("未注明", "(not given)") } else { &names[i] };
        let _ = write!(h, "<tr><td>{}</td>", esc(name));
        for (j, (k, _)) in cols.iter().enumerate() {
            let text = match values[j][i] {
                None => String::new(),
                Some(v) if k.ends_with("_rate") || k.ends_with("_share") => format!("{:.1}%", v * 100.0),
                Some(v) if k.contains("minutes") || k.contains("hours") || k.contains("per_") || k.ends_with("_mean") => format!("{v:.1}"),
                Some(v) => format!("{v:.0}"),
            };
            let _ = write!(h, "<td class=\"n\">{text}</td>");
        }
        h.push_str("</tr>\n");
    }
    h.push_str("</tbody></table></div>\n");
}

/// The most overdue open cases: the first 20 of `overdue_open.csv`, which has up to `k`.
fn overdue_table(h: &mut String, f: &Frame, k: usize, l: Lang) {
    let t = |zh: &'static str, en: &'static str| l.pick(zh, en);
    const SHOWN: usize = 20;
    let _ = match l {
        Lang::Zh => writeln!(h, "<h2>超期未结工单 (oldest overdue open cases)</h2>"),
        Lang::En => writeln!(h, "<h2>Oldest overdue open cases</h2>"),
    };
    if f.height() == 0 {
        let _ =
            writeln!(h, "<p>{}</p>", t("截至统计截止日，没有超期未结的工单。", "No case is open past its due time at the as-of moment."));
        return;
    }
    let level = [Level::Grid, Level::Community, Level::Street].into_iter().find(|lv| f.column(&format!("{}_name", lv.as_str())).is_some());
    let unit_names = level.map(|lv| f.texts(&format!("{}_name", lv.as_str()))).unwrap_or_default();
    let street = f.texts("street_name");
    let (ids, sources, received, due, cats, depts) =
        (f.texts("case_id"), f.texts("source"), f.texts("received_at"), f.texts("due_at"), f.texts("category"), f.texts("department"));
    let days = f.floats("overdue_days");
    let _ = writeln!(
        h,
        "<div class=\"scroll\"><table class=\"nowrap\" id=\"overdue\"><tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th></tr>",
        t("超期天数", "days overdue"),
        t("工单编号", "case id"),
        t("来源", "source"),
        t("受理时间", "received"),
        t("办理时限", "due"),
        t("街道", "street"),
        level.map_or("", |lv| lv.name(l)),
        t("类别", "category"),
        t("承办部门", "department")
    );
    for i in 0..f.height().min(SHOWN) {
        let cell = |v: &[String]| esc(v.get(i).map(String::as_str).unwrap_or(""));
        let _ = writeln!(
            h,
            "<tr><td class=\"n\">{:.1}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            days[i].unwrap_or(0.0),
            cell(&ids),
            cell(&sources),
            cell(&received).replace('T', " "),
            cell(&due).replace('T', " "),
            cell(&street),
            cell(&unit_names),
            cell(&cats),
            cell(&depts)
        );
    }
    h.push_str("</table></div>\n");
    let _ = match l {
        Lang::Zh => writeln!(
            h,
            "<p class=\"note\">按超期时长排序的前 {} 件（共列出 {} 件，上限 {k}，见 overdue_open.csv）；含统计期以前受理、至今未结的工单。</p>",
            f.height().min(SHOWN),
            f.height()
        ),
        Lang::En => writeln!(
            h,
            "<p class=\"note\">The {} most overdue ({} listed in overdue_open.csv, at most {k}); cases received before the period and still open are included.</p>",
            f.height().min(SHOWN),
            f.height()
        ),
    };
}

/// Click a heading of a `sortable` table to sort by it (numbers as numbers, blanks last).
const SORT_SCRIPT: &str = "<script>document.querySelectorAll('table.sortable th').forEach(function(th,i){th.addEventListener('click',function(){var tb=th.closest('table').tBodies[0];var rows=Array.prototype.slice.call(tb.rows);var asc=th.dataset.asc!=='1';th.dataset.asc=asc?'1':'0';var v=function(r){var t=r.cells[i].textContent.replace('%','');var x=parseFloat(t);return t===''?null:(isNaN(x)?t:x);};rows.sort(function(a,b){var x=v(a),y=v(b);if(x===null)return 1;if(y===null)return -1;if(x<y)return asc?-1:1;if(x>y)return asc?1:-1;return 0;});rows.forEach(function(r){tb.appendChild(r);});});});</script>\n";

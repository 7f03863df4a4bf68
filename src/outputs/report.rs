//! `report.html`: one self-contained page per run (no network: charts are relative files), readable
//! on a phone. Every string that comes from input data is escaped.

use std::fmt::Write as _;
use std::path::Path;

use crate::config::Pipeline;
use crate::indicators::Results;
use crate::outputs::charts::ChartFiles;
use crate::outputs::manifest::{Output, SourceAccount};
use crate::outputs::qml::xml_escape as esc;
use crate::vocab::error::OutputError;
use crate::vocab::frame::Frame;

const STYLE: &str = "body{font-family:'Noto Sans CJK SC','Source Han Sans SC','Microsoft YaHei','PingFang SC',sans-serif;margin:0 auto;max-width:1100px;padding:12px;color:#222;line-height:1.5}\
h1{font-size:1.4em}h2{font-size:1.15em;border-bottom:1px solid #ddd;padding-bottom:4px;margin-top:2em}\
figure{margin:1em 0}figure img{width:100%;height:auto;border:1px solid #eee}figcaption{font-size:.85em;color:#555}\
.scroll{overflow-x:auto}table{border-collapse:collapse;font-size:.9em;min-width:60%}th,td{border:1px solid #ddd;padding:3px 8px;text-align:left}\
td.n{text-align:right}th{background:#f4f4f4}.ok{color:#1a7f37}.bad{color:#b42318}ul{padding-left:1.2em}\
.cards{display:grid;grid-template-columns:repeat(auto-fill,minmax(150px,1fr));gap:8px}.card{border:1px solid #ddd;border-radius:6px;padding:8px}\
.card .k{font-size:.85em;color:#555}.card .v{font-size:1.5em;font-weight:bold}.card .c{font-size:.8em;color:#555}.cn{color:#555;font-size:.85em}\
.en{color:#888;font-size:.85em}.note{font-size:.85em;color:#555}.tall{max-height:420px;overflow-y:auto}table.sortable th{cursor:pointer}table.sortable td:first-child{white-space:nowrap}\
@media(max-width:600px){body{padding:6px;font-size:15px}.cards{grid-template-columns:1fr 1fr}h1{font-size:1.15em}}";

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
    exit_code: i32,
) -> Result<(), OutputError> {
    let mut h = String::new();
    let title = format!("{} · {} · 截至 {}", p.title, p.period.label(), p.period.as_of);
    let _ = write!(
        h,
        "<!DOCTYPE html>\n<html lang=\"zh-CN\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{}</title><style>{STYLE}</style></head><body>\n<h1>{}</h1>\n",
        esc(&title),
        esc(&title)
    );
    let status = if exit_code == 0 {
        "<span class=\"ok\">通过 (passed)</span>"
    } else {
        "<span class=\"bad\">数据质量检查未通过 (quality gate failed)</span>"
    };
    let _ = writeln!(h, "<p>统计期 {} 至 {}，状态以 {} 日终为准；质量检查：{status}。</p>", p.period.start, p.period.end, p.period.as_of);

    headline_cards(&mut h, r);
    if let Some(m) = map {
        h.push_str(m);
    }

    // How much of the closure rates rests on due times the run had to impute.
    let city = |k: &str| r.city.floats(k).first().copied().flatten().unwrap_or(0.0);
    let (given, limits, default) = (city("due_given"), city("due_from_limits"), city("due_default"));
    let _ = writeln!(
        h,
        "<p class=\"note\">办理时限：{given} 件来自工单，{limits} 件按时限规则推定，{default} 件按默认时限推定（推定占 {:.1}%）。Due times: {given} from the records, {limits} imputed from the time-limit table, {default} from the default limit.</p>",
        if given + limits + default > 0.0 { (limits + default) / (given + limits + default) * 100.0 } else { 0.0 }
    );

    for (level, zh) in [(crate::vocab::units::Level::District, "区"), (crate::vocab::units::Level::Street, "街道")] {
        if let Some(l) = r.levels.iter().find(|l| l.level == level) {
            let _ = writeln!(h, "<h2>{zh}指标 ({} table, click a heading to sort)</h2>", level.as_str());
            unit_table(&mut h, &l.period, &format!("{}_name", level.as_str()), p.indicators.ranking_min_n);
        }
    }
    if !charts.is_empty() {
        h.push_str("<h2>图表 (charts)</h2>\n");
    }
    for c in charts {
        let rel = |f: &Path| format!("charts/{}", f.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default());
        let _ = writeln!(
            h,
            "<figure><img src=\"{}\" alt=\"{}\"><figcaption>{} · <a href=\"{}\">PNG</a> · <a href=\"{}\">CSV</a></figcaption></figure>",
            esc(&rel(&c.svg)),
            esc(&c.title),
            esc(&c.title),
            esc(&rel(&c.png)),
            esc(&rel(&c.csv))
        );
    }

    if let Some((_, f)) = r.dimensions.iter().find(|(d, _)| *d == "category") {
        let names = f.texts("category");
        let cases = f.floats("cases");
        let total: f64 = cases.iter().flatten().sum();
        let mut rows: Vec<usize> = (0..f.height()).collect();
        rows.sort_by(|a, b| cases[*b].unwrap_or(0.0).total_cmp(&cases[*a].unwrap_or(0.0)).then_with(|| names[*a].cmp(&names[*b])));
        h.push_str("<h2>问题类别 (categories)</h2>\n<div class=\"scroll\"><table><tr><th>类别</th><th>诉求量</th><th>占比</th></tr>\n");
        for i in rows {
            let n = cases[i].unwrap_or(0.0);
            let share = if total > 0.0 { n / total * 100.0 } else { 0.0 };
            let name = if names[i].is_empty() { "未分类" } else { &names[i] };
            let _ = writeln!(h, "<tr><td>{}</td><td class=\"n\">{n}</td><td class=\"n\">{share:.1}%</td></tr>", esc(name));
        }
        h.push_str("</table></div>\n");
    }

    for (frame, name_key, zh) in [
        (r.levels.iter().find(|l| l.level == crate::vocab::units::Level::Street).map(|l| &l.period), "street_name", "街道"),
        (r.dimensions.iter().find(|(d, _)| *d == "department").map(|(_, f)| f), "department", "部门"),
    ] {
        let Some(frame) = frame else { continue };
        let k = p.charts.as_ref().map(|c| c.top_n).unwrap_or(5);
        let _ = writeln!(h, "<h2>{zh}红黑榜 (top and bottom {k})</h2>");
        table_top_bottom(&mut h, frame, name_key, k);
    }

    indicators_explained(&mut h, r);

    h.push_str("<h2>图层与表格 (layers and tables)</h2>\n<details><summary>全部文件 (every file of the run)</summary><ul>\n");
    for o in outputs.iter().filter(|o| !o.path.starts_with("charts/")) {
        let _ = writeln!(h, "<li><a href=\"{}\">{}</a> ({} 行/要素)</li>", esc(&o.path), esc(&o.path), o.count);
    }
    h.push_str("<li><a href=\"rejects.csv\">rejects.csv</a></li><li><a href=\"field_issues.csv\">field_issues.csv</a></li><li><a href=\"manifest.json\">manifest.json</a></li>\n</ul></details>\n");
    data_quality(&mut h, sources);
    // Reports a chart that failed to load as a console error, which CI's browser check catches.
    h.push_str("<script>window.addEventListener('load',function(){document.querySelectorAll('img').forEach(function(i){if(!i.complete||i.naturalWidth===0){console.error('image failed to load: '+i.getAttribute('src'));}});});</script>\n");
    h.push_str(SORT_SCRIPT);
    h.push_str("</body></html>\n");
    std::fs::write(path, h).map_err(OutputError::io(path))
}

fn table_top_bottom(h: &mut String, f: &Frame, name_key: &str, k: usize) {
    let names = f.texts(name_key);
    let ranks = f.floats("composite_rank");
    let scores = f.floats("composite_score");
    let n = f.floats("followups");
    let cases = f.floats("cases");
    let mut rows: Vec<usize> = (0..f.height()).filter(|&i| ranks[i].is_some()).collect();
    rows.sort_by(|a, b| ranks[*a].unwrap_or(0.0).total_cmp(&ranks[*b].unwrap_or(0.0)).then_with(|| names[*a].cmp(&names[*b])));
    let k = k.min(rows.len());
    let bottom: Vec<usize> = rows[rows.len() - k..].iter().rev().copied().collect();
    for (label, list) in [("红榜 best", &rows[..k]), ("黑榜 worst", &bottom[..])] {
        let _ = writeln!(
            h,
            "<div class=\"scroll\"><table><tr><th colspan=\"5\">{label}</th></tr><tr><th>排名</th><th>名称</th><th>综合成绩</th><th>有效回访 n</th><th>诉求量</th></tr>"
        );
        for &i in list {
            let _ = writeln!(
                h,
                "<tr><td class=\"n\">{}</td><td>{}</td><td class=\"n\">{:.2}</td><td class=\"n\">{}</td><td class=\"n\">{}</td></tr>",
                ranks[i].unwrap_or(0.0),
                esc(if names[i].is_empty() { "未注明" } else { &names[i] }),
                scores[i].unwrap_or(0.0),
                n[i].unwrap_or(0.0),
                cases[i].unwrap_or(0.0)
            );
        }
        h.push_str("</table></div>\n");
    }
}

/// The headline indicators and their n, with 环比 and 同比 of the period's last month.
const HEADLINES: [(&str, &str, &str); 7] = [
    ("cases", "诉求量", "cases"),
    ("response_rate", "响应率", "followups"),
    ("resolution_rate", "解决率", "followups"),
    ("satisfaction_rate", "满意率", "followups"),
    ("composite_score", "综合成绩", "followups"),
    ("closure_rate", "结案率", "should_close"),
    ("on_time_closure_rate", "按期结案率", "should_close"),
];

fn headline_cards(h: &mut String, r: &Results) {
    let period = |k: &str| r.city.floats(k).first().copied().flatten();
    // The period's last month in the monthly table holds the changes.
    let month = r.city_monthly.height().checked_sub(1);
    let monthly = |k: &str| month.and_then(|m| r.city_monthly.floats(k).get(m).copied().flatten());
    let month_label = month.and_then(|m| r.city_monthly.texts("period").get(m).cloned()).unwrap_or_default();
    let _ = writeln!(h, "<h2>核心指标 (headline indicators)</h2>\n<div class=\"cards\">");
    for (k, zh, n) in HEADLINES {
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
                Some(c) if k == "composite_score" => format!("{what} {c:+.2} 分"),
                Some(c) => format!("{what} {:+.1} 个百分点", c * 100.0),
            }
        };
        let (mom, yoy) = if k == "cases" {
            (change("环比", "cases_mom_rate".into(), true), change("同比", "cases_yoy_rate".into(), true))
        } else {
            (change("环比", format!("{k}_mom_change"), false), change("同比", format!("{k}_yoy_change"), false))
        };
        let n_text = if k == "cases" {
            String::new()
        } else {
            format!("<span class=\"cn\">n = {}</span>", period(n).map_or("—".into(), |v| format!("{v:.0}")))
        };
        let _ = writeln!(
            h,
            "<div class=\"card\"><div class=\"k\">{zh} <span class=\"en\">{k}</span></div><div class=\"v\">{value}</div>{n_text}<div class=\"c\">{mom} · {yoy} <span class=\"en\">({})</span></div></div>",
            esc(&month_label)
        );
    }
    h.push_str("</div>\n");
}

/// A sortable table of one level's units: volume, the three rates, the score and rank with
/// their n, closure and overdue.
fn unit_table(h: &mut String, f: &Frame, name_key: &str, ranking_min_n: u64) {
    let cols: [(&str, &str); 11] = [
        ("cases", "诉求量"),
        ("followups", "有效回访 n"),
        ("response_rate", "响应率"),
        ("resolution_rate", "解决率"),
        ("satisfaction_rate", "满意率"),
        ("composite_score", "综合成绩"),
        ("composite_rank", "排名"),
        ("should_close", "应结案 n"),
        ("closure_rate", "结案率"),
        ("on_time_closure_rate", "按期结案率"),
        ("overdue_open", "超期未结"),
    ];
    let names = f.texts(name_key);
    let values: Vec<Vec<Option<f64>>> = cols.iter().map(|(k, _)| f.floats(k)).collect();
    h.push_str("<div class=\"scroll tall\"><table class=\"sortable\"><thead><tr><th>名称</th>");
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
        let _ = write!(h, "<tr><td>{}</td>", esc(if names[i].is_empty() { "未注明" } else { &names[i] }));
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
    let _ = writeln!(
        h,
        "</tbody></table></div>\n<p class=\"note\">排名只在有效回访 ≥ {ranking_min_n} 时给出；同分同名次。Ranked from {ranking_min_n} valid follow-ups; equal scores share a rank.</p>"
    );
}

/// Every column of the street table with its Chinese name and formula, from the registry.
fn indicators_explained(h: &mut String, r: &Results) {
    let Some(f) = r.levels.iter().find(|l| l.level == crate::vocab::units::Level::Street).map(|l| &l.period).or(Some(&r.city)) else {
        return;
    };
    h.push_str("<h2>指标说明 (indicators explained)</h2>\n<details><summary>每个字段的含义与公式 (every column, its unit and formula; docs/indicators.md has the rules)</summary><div class=\"scroll\"><table><tr><th>字段 key</th><th>中文</th><th>单位 unit</th><th>公式 formula</th></tr>\n");
    for c in &f.columns {
        if let Some(field) = crate::indicators::registry::field(&c.key) {
            let _ = writeln!(
                h,
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                esc(field.key),
                esc(field.zh),
                esc(field.unit),
                esc(field.formula)
            );
        }
    }
    h.push_str("</table></div></details>\n");
}

/// Rows read, placed and rejected per source, with the reasons in Chinese.
fn data_quality(h: &mut String, sources: &[SourceAccount]) {
    h.push_str("<h2>数据质量 (data quality: rows read, placed, rejected)</h2>\n<div class=\"scroll\"><table><tr><th>来源 source</th><th>读入 read</th><th>落格 placed</th><th>本期 in period</th><th>剔除 rejected</th><th>剔除原因 reasons</th><th>保留但字段有误 kept with a field issue</th><th>截止后受理 received after as-of</th></tr>\n");
    for s in sources {
        let reasons: Vec<String> =
            s.rejects_by_reason.iter().map(|(k, v)| format!("{} <span class=\"en\">{}</span> {v}", k.zh(), esc(k.as_str()))).collect();
        let issues: Vec<String> = s
            .field_issues
            .iter()
            .map(|(k, v)| {
                let zh = k.split_once(':').and_then(|(_, r)| crate::vocab::reason::Reason::parse(r)).map_or("", |r| r.zh());
                format!("{zh} <span class=\"en\">{}</span> {v}", esc(k))
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
    h.push_str("</table></div>\n<p class=\"note\">每一行或计入指标，或写入 rejects.csv 并注明原因；字段问题见 field_issues.csv。Every row is either counted or in rejects.csv with its reason.</p>\n");
}

/// Click a heading of a `sortable` table to sort by it (numbers as numbers, blanks last).
const SORT_SCRIPT: &str = "<script>document.querySelectorAll('table.sortable th').forEach(function(th,i){th.addEventListener('click',function(){var tb=th.closest('table').tBodies[0];var rows=Array.prototype.slice.call(tb.rows);var asc=th.dataset.asc!=='1';th.dataset.asc=asc?'1':'0';var v=function(r){var t=r.cells[i].textContent.replace('%','');var x=parseFloat(t);return t===''?null:(isNaN(x)?t:x);};rows.sort(function(a,b){var x=v(a),y=v(b);if(x===null)return 1;if(y===null)return -1;if(x<y)return asc?-1:1;if(x>y)return asc?1:-1;return 0;});rows.forEach(function(r){tb.appendChild(r);});});});</script>\n";

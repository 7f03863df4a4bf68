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
td.n{text-align:right}th{background:#f4f4f4}.ok{color:#1a7f37}.bad{color:#b42318}ul{padding-left:1.2em}";

/// Writes `<dir>/report.html`.
pub fn write_report(
    path: &Path,
    p: &Pipeline,
    r: &Results,
    sources: &[SourceAccount],
    charts: &[ChartFiles],
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

    // How much of the closure rates rests on due times the run had to impute.
    let city = |k: &str| r.city.floats(k).first().copied().flatten().unwrap_or(0.0);
    let (given, limits, default) = (city("due_given"), city("due_from_limits"), city("due_default"));
    let _ = writeln!(
        h,
        "<p>办理时限 (due times) of the period's cases: {given} from the records, {limits} imputed from the time-limit table, {default} imputed from the default limit ({:.1}% imputed).</p>",
        if given + limits + default > 0.0 { (limits + default) / (given + limits + default) * 100.0 } else { 0.0 }
    );
    h.push_str("<h2>数据接收与清洗 (rows read, assigned, rejected)</h2>\n<div class=\"scroll\"><table><tr><th>来源 source</th><th>读入 read</th><th>落格 assigned</th><th>本期 in period</th><th>剔除 rejected</th><th>剔除原因 reasons</th><th>保留但字段有误 kept with a field issue</th><th>截止后受理 received after as-of</th></tr>\n");
    for s in sources {
        let reasons: Vec<String> = s.rejects_by_reason.iter().map(|(k, v)| format!("{} {v}", esc(k.as_str()))).collect();
        let issues: Vec<String> = s.field_issues.iter().map(|(k, v)| format!("{} {v}", esc(k))).collect();
        let _ = writeln!(
            h,
            "<tr><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td>{}</td><td>{}</td><td class=\"n\">{}</td></tr>",
            esc(&s.name),
            s.rows_read,
            s.rows_assigned,
            s.in_period,
            s.rows_rejected,
            reasons.join(", "),
            issues.join(", "),
            s.received_after_as_of
        );
    }
    h.push_str("</table></div>\n");

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

    h.push_str("<h2>图层与表格 (layers and tables)</h2>\n<ul>\n");
    for o in outputs.iter().filter(|o| !o.path.starts_with("charts/")) {
        let _ = writeln!(h, "<li><a href=\"{}\">{}</a> ({} 行/要素)</li>", esc(&o.path), esc(&o.path), o.count);
    }
    h.push_str("<li><a href=\"rejects.csv\">rejects.csv</a></li><li><a href=\"field_issues.csv\">field_issues.csv</a></li><li><a href=\"manifest.json\">manifest.json</a></li>\n</ul>\n");
    // Reports a chart that failed to load as a console error, which CI's browser check catches.
    h.push_str("<script>window.addEventListener('load',function(){document.querySelectorAll('img').forEach(function(i){if(!i.complete||i.naturalWidth===0){console.error('image failed to load: '+i.getAttribute('src'));}});});</script>\n");
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

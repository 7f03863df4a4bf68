//! Which charts a run draws and from which tables; the numbers plotted are also written as CSV.

use chrono::NaiveDate;
use geo::MultiPolygon;
use std::collections::BTreeMap;
use std::path::Path;

use super::{
    BLACK_LIST, ChartData, ChartFiles, Funnel, Handling, Map, Pareto, PointMap, RANKING_COLORS, RED_LIST, Ranking, RedBlack, Signups,
    Trend, write_chart,
};
use crate::config::Pipeline;
use crate::config::file::ChartsFile;
use crate::indicators::{Results, registry};
use crate::outputs::classes::Classes;
use crate::vocab::error::OutputError;
use crate::vocab::frame::{Frame, Values};
use crate::vocab::lang::Lang;
use crate::vocab::units::Level;

/// Geometries and classes of a mapped level.
pub struct MappedLevel<'a> {
    pub level: Level,
    pub geoms: &'a [MultiPolygon<f64>],
    pub classes: &'a Classes,
    /// Class of every unit, in table order.
    pub class_of: &'a [usize],
}

/// Draws every chart into `dir`.
pub fn write_charts(
    dir: &Path,
    p: &Pipeline,
    c: &ChartsFile,
    r: &Results,
    maps: &[MappedLevel<'_>],
    outlines: &[MultiPolygon<f64>],
) -> Result<Vec<ChartFiles>, OutputError> {
    std::fs::create_dir_all(dir).map_err(OutputError::io(dir))?;
    let l = p.language;
    let stamp = format!("{} · {} {}", p.period.label(), l.pick("截至", "as of"), p.period.as_of);
    let title = |what: &str| format!("{} · {what} · {stamp}", p.title);
    let mut out = Vec::new();

    // Rankings and red/black lists: streets and departments.
    let street = r.levels.iter().find(|lt| lt.level == Level::Street).map(|lt| (&lt.period, "street_name", l.pick("街道", "streets")));
    let dept = r.dimensions.iter().find(|(d, _)| *d == "department").map(|(_, f)| (f, "department", l.pick("部门", "departments")));
    for (key, entry) in [("street", street), ("department", dept)] {
        let Some((frame, name_key, zh)) = entry else { continue };
        let rows = ranked_rows(frame, name_key, l);
        if rows.is_empty() {
            continue;
        }
        let city_score = r.city.floats("composite_score").first().copied().flatten();
        let mut data = ChartData::new(&["rank", "name", "composite_score", "followups", "below_city_score"]);
        for (rank, name, score, n) in &rows {
            let below = city_score.is_some_and(|c| *score < c);
            data.push(vec![rank.to_string(), name.clone(), format!("{score:.2}"), n.to_string(), below.to_string()]);
        }
        let shown = &rows[..rows.len().min(25)];
        let chart = Ranking {
            title: title(&match l {
                Lang::Zh => format!("{zh}综合成绩排名（前{}）", shown.len()),
                Lang::En => format!("composite score of {zh}, top {}", shown.len()),
            }),
            lang: l,
            names: shown.iter().map(|r| rank_label(r.0, &rows, &r.1)).collect(),
            values: shown.iter().map(|r| r.2).collect(),
            n: shown.iter().map(|r| r.3).collect(),
            accent: shown.iter().map(|r| city_score.is_some_and(|c| r.2 < c)).collect(),
            x_desc: match l {
                Lang::Zh => format!("综合成绩（分）；红色：低于全市；n：有效回访数（≥{} 才排名）", p.indicators.ranking_min_n),
                Lang::En => format!(
                    "composite score (points); red: below the city; n: valid follow-ups (ranked from {})",
                    p.indicators.ranking_min_n
                ),
            },
            colors: RANKING_COLORS,
            x_max: None,
            city: city_score,
        };
        out.push(write_chart(dir, &format!("ranking_{key}"), &chart.title.clone(), &data, &chart)?);
        // The two lists never share a unit: with fewer than 2 × top_n ranked, each takes half.
        let k = c.top_n.min(rows.len() / 2);
        if k == 0 {
            continue;
        }
        let top = &rows[..k];
        let bottom: Vec<_> = rows[rows.len() - k..].iter().rev().cloned().collect();
        let mut data = ChartData::new(&["list", "rank", "name", "composite_score", "followups"]);
        for (list, rs) in [("red", top), ("black", &bottom[..])] {
            for (rank, name, score, n) in rs {
                data.push(vec![list.into(), rank.to_string(), name.clone(), format!("{score:.2}"), n.to_string()]);
            }
        }
        // One value axis for both panels, so equal bars mean equal scores.
        let x_max = rows.iter().map(|r| r.2).chain(city_score).fold(1.0f64, f64::max) * 1.2;
        let panel = |rs: &[(u32, String, f64, u64)], t: &str, colors| Ranking {
            title: t.to_string(),
            lang: l,
            names: rs.iter().map(|r| rank_label(r.0, &rows, &r.1)).collect(),
            values: rs.iter().map(|r| r.2).collect(),
            n: rs.iter().map(|r| r.3).collect(),
            accent: vec![false; rs.len()],
            x_desc: l.pick("综合成绩（分）", "composite score (points)").into(),
            colors,
            x_max: Some(x_max),
            city: city_score,
        };
        let chart = RedBlack {
            title: title(&match l {
                Lang::Zh => format!("{zh}红黑榜"),
                Lang::En => format!("best and worst {zh} (red and black lists)"),
            }),
            top: panel(
                top,
                &match l {
                    Lang::Zh => format!("红榜 前{k}"),
                    Lang::En => format!("red list: best {k}"),
                },
                RED_LIST,
            ),
            bottom: panel(
                &bottom,
                &match l {
                    Lang::Zh => format!("黑榜 后{k}"),
                    Lang::En => format!("black list: worst {k}"),
                },
                BLACK_LIST,
            ),
        };
        out.push(write_chart(dir, &format!("redblack_{key}"), &chart.title.clone(), &data, &chart)?);
    }

    // Departments summoned by whistles: their 红黑榜 on on-time report-in.
    if let Some(f) = &r.whistle_departments {
        if let Some(chart) = report_in_lists(f, p, c.top_n, &title) {
            let mut data = ChartData::new(&["list", "rank", "department", "on_time_report_in_rate", "summons"]);
            for (list, panel) in [("red", &chart.top), ("black", &chart.bottom)] {
                for (i, name) in panel.names.iter().enumerate() {
                    let (rank, dept) = name.split_once(". ").unwrap_or(("", name));
                    data.push(vec![
                        list.into(),
                        rank.trim_end_matches('=').to_string(),
                        dept.to_string(),
                        format!("{:.4}", panel.values[i] / 100.0),
                        panel.n[i].to_string(),
                    ]);
                }
            }
            out.push(write_chart(dir, "redblack_whistle_department", &chart.title.clone(), &data, &chart)?);
        }
    }

    // Repeat hot spots on the grid map.
    if let Some(f) = &r.hotspots {
        let (ids, cats, n, lon, lat) = (f.texts("hotspot_id"), f.texts("category"), f.floats("cases"), f.floats("lon"), f.floats("lat"));
        let points: Vec<(f64, f64, u64, String)> =
            (0..f.height()).filter_map(|i| Some((lon[i]?, lat[i]?, n[i]? as u64, format!("{} {}", ids[i], cats[i])))).collect();
        let mut data = ChartData::new(&["hotspot_id", "category", "cases", "lon", "lat"]);
        for i in 0..f.height() {
            let num = |v: Option<f64>| v.map(|x| x.to_string()).unwrap_or_default();
            data.push(vec![ids[i].clone(), cats[i].clone(), num(n[i]), num(lon[i]), num(lat[i])]);
        }
        let grids = maps.iter().find(|m| m.level == Level::Grid).map(|m| m.geoms.to_vec()).unwrap_or_default();
        let chart = PointMap {
            title: title(&match l {
                Lang::Zh => format!("重复诉求热点（{} 个；圆越大件数越多，红色为前10）", points.len()),
                Lang::En => format!("repeat hot spots ({}; circle area by cases, the largest ten red)", points.len()),
            }),
            lang: l,
            grids,
            outlines: outlines.to_vec(),
            points,
        };
        out.push(write_chart(dir, "map_hotspots", &chart.title.clone(), &data, &chart)?);
    }

    // The service circle: communities fully, partly or not covered.
    if let (Some(_), Some(m), Some(lt)) =
        (&r.coverage, maps.iter().find(|m| m.level == Level::Community), r.levels.iter().find(|l| l.level == Level::Community))
    {
        let (codes, names) = (lt.period.texts("community_code"), lt.period.texts("community_name"));
        let (status, missing) = (lt.period.texts("service_circle"), lt.period.texts("service_items_missing"));
        let order = ["none", "partial", "full"];
        let class_of: Vec<usize> = status.iter().map(|s| order.iter().position(|o| o == s).map_or(0, |i| i + 1)).collect();
        let mut counts = vec![0usize; 4];
        for &c in &class_of {
            counts[c] += 1;
        }
        let labels: Vec<String> = match l {
            Lang::Zh => ["无数据", "均不可达", "部分覆盖", "全覆盖"],
            Lang::En => ["no data", "none in reach", "partly covered", "fully covered"],
        }
        .iter()
        .map(|s| s.to_string())
        .collect();
        let classes = crate::outputs::classes::Classes {
            indicator: "service_circle".into(),
            bounds: vec![0.0, 1.0, 2.0, 3.0],
            method: "categories",
            // Red, orange, blue: distinct for colour-blind readers too.
            colors: vec![[215, 48, 39], [253, 174, 97], [44, 123, 182]],
            counts,
            labels,
        };
        let mut data = ChartData::new(&["community_code", "community_name", "service_circle", "service_items_missing"]);
        for i in 0..codes.len() {
            data.push(vec![codes[i].clone(), names[i].clone(), status[i].clone(), missing[i].clone()]);
        }
        let full = r.city.floats("community_full_coverage_rate").first().copied().flatten();
        let share = full.map(|x| format!("{:.1}%", x * 100.0)).unwrap_or_else(|| "—".into());
        let chart = Map {
            title: title(&match l {
                Lang::Zh => format!("一刻钟便民生活圈：社区服务业态覆盖（全覆盖社区 {share}）"),
                Lang::En => format!("15-minute service circle: communities by items in reach ({share} fully covered)"),
            }),
            legend_title: l.pick("服务圈覆盖", "service circle").into(),
            units: m.geoms.iter().cloned().zip(class_of).collect(),
            classes,
            outlines: outlines.to_vec(),
        };
        out.push(write_chart(dir, "map_coverage", &chart.title.clone(), &data, &chart)?);
    }

    // The service-order funnel of the city in the period.
    if r.city.column("orders").is_some() {
        let v = |k: &str| r.city.floats(k).first().copied().flatten().unwrap_or(0.0) as u64;
        let steps: Vec<(String, u64)> = [
            ("orders", "居民点单", "ordered"),
            ("orders_dispatched", "支部下单", "dispatched"),
            ("orders_accepted", "党员接单", "accepted"),
            ("orders_completed", "服务完成", "completed"),
        ]
        .iter()
        .map(|(k, zh, en)| (l.pick(zh, en).to_string(), v(k)))
        .collect();
        let mut data = ChartData::new(&["step", "orders", "share_of_ordered"]);
        for (name, n) in &steps {
            let share = if steps[0].1 > 0 { *n as f64 / steps[0].1 as f64 } else { 0.0 };
            data.push(vec![name.clone(), n.to_string(), format!("{share:.4}")]);
        }
        let chart = Funnel {
            title: title(l.pick("点单—下单—接单漏斗", "service orders: ordered → dispatched → accepted → completed")),
            lang: l,
            steps,
        };
        out.push(write_chart(dir, "funnel_service_orders", &chart.title.clone(), &data, &chart)?);
    }

    // Monthly trend of the three rates with targets.
    let months = r.city_monthly.texts("period");
    let keys = ["response_rate", "resolution_rate", "satisfaction_rate"];
    let mut data = ChartData::new(&["period", "indicator", "value", "followups", "target"]);
    let n = r.city_monthly.floats("followups");
    let mut series = Vec::new();
    for k in keys {
        let v = r.city_monthly.floats(k);
        let label = registry::field(k).map(|f| f.label(l)).unwrap_or_else(|| k.to_string());
        for (i, m) in months.iter().enumerate() {
            data.push(vec![
                m.clone(),
                k.into(),
                v[i].map(|x| format!("{x:.4}")).unwrap_or_default(),
                n[i].map(|x| format!("{x}")).unwrap_or_default(),
                c.targets.get(k).map(|t| t.to_string()).unwrap_or_default(),
            ]);
        }
        series.push((label, v));
    }
    let targets = keys.iter().filter_map(|k| Some((registry::field(k)?.label(l), *c.targets.get(*k)?))).collect();
    let chart =
        Trend { title: title(l.pick("三率月度趋势", "the three rates by month")), lang: l, months: months.clone(), series, targets };
    out.push(write_chart(dir, "trend_rates", &chart.title.clone(), &data, &chart)?);

    // Category Pareto.
    if let Some((_, f)) = r.dimensions.iter().find(|(d, _)| *d == "category") {
        let mut cats: Vec<(String, u64)> = f
            .texts("category")
            .into_iter()
            .zip(f.floats("cases"))
            .map(|(c, n)| (if c.is_empty() { l.pick("未分类", "(no category)").into() } else { c }, n.unwrap_or(0.0) as u64))
            .collect();
        cats.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        // "其他" (other) goes last whatever its size, as Pareto charts of complaints do.
        if let Some(i) = cats.iter().position(|c| c.0 == "其他" || c.0.eq_ignore_ascii_case("other")) {
            let o = cats.remove(i);
            cats.push(o);
        }
        let chart = Pareto {
            title: title(l.pick("问题类别帕累托图", "cases by category (Pareto)")),
            lang: l,
            categories: cats.iter().map(|c| c.0.clone()).collect(),
            counts: cats.iter().map(|c| c.1).collect(),
        };
        let mut data = ChartData::new(&["category", "cases", "cumulative_share"]);
        for ((name, n), cum) in cats.iter().zip(chart.cumulative()) {
            data.push(vec![name.clone(), n.to_string(), format!("{cum:.4}")]);
        }
        out.push(write_chart(dir, "pareto_category", &chart.title.clone(), &data, &chart)?);
    }

    // Handling-time distribution.
    let limit = c.time_limit_hours.unwrap_or(p.indicators.default_time_limit_hours);
    let chart = Handling {
        title: title(l.pick("处置时长分布", "handling time")),
        lang: l,
        bins: r.city_handling.clone(),
        median: r.city.floats("handling_hours_median").first().copied().flatten(),
        p90: r.city.floats("handling_hours_p90").first().copied().flatten(),
        limit_hours: limit,
    };
    let mut data = ChartData::new(&["hours_from", "hours_to", "cases"]);
    for (a, b, n) in chart.bins() {
        data.push(vec![format!("{a:.3}"), format!("{b:.3}"), n.to_string()]);
    }
    data.push(vec!["median".into(), String::new(), chart.median.map(|m| format!("{m:.2}")).unwrap_or_default()]);
    data.push(vec!["p90".into(), String::new(), chart.p90.map(|m| format!("{m:.2}")).unwrap_or_default()]);
    data.push(vec!["time_limit".into(), String::new(), format!("{limit}")]);
    out.push(write_chart(dir, "handling_time", &chart.title.clone(), &data, &chart)?);

    // Choropleths of the grid and street layers.
    let zh = registry::field(&c.map_indicator).map(|f| f.label(l)).unwrap_or_default();
    for m in maps.iter().filter(|m| matches!(m.level, Level::Grid | Level::Street)) {
        let lt = r.levels.iter().find(|l| l.level == m.level);
        let Some(lt) = lt else { continue };
        let codes = lt.period.texts(&format!("{}_code", m.level.as_str()));
        let values = lt.period.floats(&c.map_indicator);
        let mut data = ChartData::new(&["code", &c.map_indicator, "class", "class_label"]);
        for (i, code) in codes.iter().enumerate() {
            let cl = m.class_of[i];
            data.push(vec![
                code.clone(),
                values[i].map(|v| format!("{v:.4}")).unwrap_or_default(),
                cl.to_string(),
                m.classes.labels[cl].clone(),
            ]);
        }
        let chart = Map {
            title: title(&match l {
                Lang::Zh => {
                    format!("{}{zh}分级图（{}）", m.level.zh(), if m.classes.method == "fixed" { "政策分档" } else { "分位数分级" })
                }
                Lang::En => format!(
                    "{zh} by {} ({})",
                    m.level.as_str(),
                    if m.classes.method == "fixed" { "policy breaks" } else { "quantile classes" }
                ),
            }),
            legend_title: match l {
                Lang::Zh => format!("{zh}（n ≥ {}）", p.indicators.min_n),
                Lang::En => format!("{zh} (n ≥ {})", p.indicators.min_n),
            },
            units: m.geoms.iter().cloned().zip(m.class_of.iter().copied()).collect(),
            classes: m.classes.clone(),
            outlines: outlines.to_vec(),
        };
        out.push(write_chart(dir, &format!("map_{}_{}", m.level.as_str(), c.map_indicator), &chart.title.clone(), &data, &chart)?);
    }

    // Sign-up curves.
    if !r.signup_projects.columns.is_empty() && r.signup_projects.height() > 0 {
        let ids = r.signup_projects.texts("project_id");
        let names = r.signup_projects.texts("project_name");
        let thresholds = r.signup_projects.floats("threshold");
        let crossed = dates(&r.signup_projects, "threshold_reached_on");
        let mut curves: BTreeMap<String, Vec<(NaiveDate, f64)>> = BTreeMap::new();
        let (cid, cdate, crate_) =
            (r.signup_curve.texts("project_id"), dates(&r.signup_curve, "date"), r.signup_curve.floats("signup_rate_cumulative"));
        let mut data = ChartData::new(&["project_id", "date", "signup_rate_cumulative", "threshold"]);
        for i in 0..cid.len() {
            if let (Some(d), Some(v)) = (cdate[i], crate_[i]) {
                curves.entry(cid[i].clone()).or_default().push((d, v));
                let t = ids.iter().position(|x| x == &cid[i]).and_then(|j| thresholds[j]).unwrap_or(0.0);
                data.push(vec![cid[i].clone(), d.to_string(), format!("{v:.4}"), format!("{t}")]);
            }
        }
        let projects = ids
            .iter()
            .enumerate()
            .map(|(j, id)| {
                (format!("{} {}", id, names[j]), curves.remove(id).unwrap_or_default(), thresholds[j].unwrap_or(0.0), crossed[j])
            })
            .collect();
        let chart = Signups { title: title(l.pick("签约率累计曲线", "cumulative sign-up rate")), lang: l, projects };
        out.push(write_chart(dir, "signup_curves", &chart.title.clone(), &data, &chart)?);
    }
    Ok(out)
}

/// The departments' 红黑榜 on on-time report-in (in %): departments with at least
/// `indicators.whistles.ranking_min_n` summonses, ranked by the published rate (4 decimals),
/// equal rates sharing a rank; `None` with fewer than two ranked.
fn report_in_lists(f: &Frame, p: &Pipeline, top_n: usize, title: &dyn Fn(&str) -> String) -> Option<RedBlack> {
    let l = p.language;
    let names = f.texts("department");
    let (rates, n) = (f.floats("on_time_report_in_rate"), f.floats("summons"));
    let mut rows: Vec<(u32, String, f64, u64)> = (0..f.height())
        .filter_map(|i| {
            let n = n[i]? as u64;
            (n >= p.indicators.whistle_ranking_min_n).then_some((0, names[i].clone(), rates[i]? * 100.0, n))
        })
        .collect();
    rows.sort_by(|a, b| b.2.total_cmp(&a.2).then_with(|| a.1.cmp(&b.1)));
    for i in 0..rows.len() {
        rows[i].0 = if i > 0 && (rows[i].2 - rows[i - 1].2).abs() < 1e-9 { rows[i - 1].0 } else { i as u32 + 1 };
    }
    let k = top_n.min(rows.len() / 2);
    if k == 0 {
        return None;
    }
    // The city's line: every summons of the ranked departments together.
    let all: (f64, u64) = rows.iter().fold((0.0, 0), |a, r| (a.0 + r.2 * r.3 as f64, a.1 + r.3));
    let city = (all.1 > 0).then(|| all.0 / all.1 as f64);
    let x_max = 100.0 * 1.25;
    let panel = |rs: &[(u32, String, f64, u64)], t: String, colors| Ranking {
        title: t,
        lang: l,
        names: rs.iter().map(|r| rank_label(r.0, &rows, &r.1)).collect(),
        values: rs.iter().map(|r| r.2).collect(),
        n: rs.iter().map(|r| r.3).collect(),
        accent: vec![false; rs.len()],
        x_desc: l.pick("按时报到率（%）；n：被召集次数", "on-time report-in rate (%); n: summonses").into(),
        colors,
        x_max: Some(x_max),
        city,
    };
    let bottom: Vec<_> = rows[rows.len() - k..].iter().rev().cloned().collect();
    Some(RedBlack {
        title: title(l.pick("吹哨报到部门红黑榜（按时报到率）", "departments summoned by whistles: on-time report-in")),
        top: panel(&rows[..k], l.pick(&format!("红榜 前{k}"), &format!("red list: best {k}")).to_string(), RED_LIST),
        bottom: panel(&bottom, l.pick(&format!("黑榜 后{k}"), &format!("black list: worst {k}")).to_string(), BLACK_LIST),
    })
}

/// A bar's label: its rank, with `=` when another unit shares it (a tie), and its name.
fn rank_label(rank: u32, rows: &[(u32, String, f64, u64)], name: &str) -> String {
    let tied = rows.iter().filter(|r| r.0 == rank).count() > 1;
    format!("{rank}{}. {name}", if tied { "=" } else { "" })
}

/// Ranked rows (rank, name, score, followups) sorted by rank.
fn ranked_rows(f: &Frame, name_key: &str, l: Lang) -> Vec<(u32, String, f64, u64)> {
    let names = f.texts(name_key);
    let ranks = f.floats("composite_rank");
    let scores = f.floats("composite_score");
    let n = f.floats("followups");
    let mut rows: Vec<(u32, String, f64, u64)> = (0..f.height())
        .filter_map(|i| {
            Some((
                ranks[i]? as u32,
                if names[i].is_empty() { l.pick("未注明", "(not given)").into() } else { names[i].clone() },
                scores[i]?,
                n[i].unwrap_or(0.0) as u64,
            ))
        })
        .collect();
    rows.sort_by(|a, b| a.0.cmp(&b.0).then_with(|| a.1.cmp(&b.1)));
    rows
}

fn dates(f: &Frame, key: &str) -> Vec<Option<NaiveDate>> {
    match f.column(key) {
        Some(Values::Date(v)) => v.clone(),
        _ => vec![None; f.height()],
    }
}

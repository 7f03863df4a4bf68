//! The report's interactive map: districts → streets → grids with drill-down, a tooltip with
//! the value and its n, a selector for the indicator and the month, the legend of the same
//! classes and colours as the `.qml` styles (`classes.rs`). It is drawn by Leaflet, vendored in
//! `assets/leaflet/` and embedded in the page with its data, so the report needs no network.
//!
//! Geometries are simplified (Ramer–Douglas–Peucker, a tolerance per level) and rounded to
//! 4 decimals (about 10 m), and values are whole numbers in a string per unit, to keep the
//! page small: the demo's map (2 districts, 32 streets, 431 grids, 12 months, 7 indicators)
//! takes about 0.6 MB of the report's 4 MB budget (held by `tests/demo.rs`, charts included);
//! all of Beijing (`synth demo --districts all`: 16 districts, 349 streets, 3,882 grids) takes
//! 3.2 MB.

use std::fmt::Write as _;

use geo::{MultiPolygon, Simplify};
use serde_json::{Value, json};

use crate::config::Pipeline;
use crate::indicators::{Results, registry};
use crate::outputs::charts::MappedLevel;
use crate::outputs::classes::Classes;
use crate::vocab::frame::Frame;
use crate::vocab::lang::Lang;
use crate::vocab::units::Level;

const LEAFLET_JS: &str = include_str!("../../assets/leaflet/leaflet.js");
const LEAFLET_CSS: &str = include_str!("../../assets/leaflet/leaflet.css");
const LEAFLET_LICENSE: &str = include_str!("../../assets/leaflet/LICENSE");

/// The indicators the map offers (the mapped one first), when the tables have them.
const OFFERED: [&str; 7] = [
    "resolution_rate",
    "response_rate",
    "satisfaction_rate",
    "composite_score",
    "closure_rate",
    "on_time_closure_rate",
    "overdue_open_rate",
];

/// Simplification tolerance per level, in degrees (district ≈ 200 m, street ≈ 60 m, grid ≈ 10 m).
fn tolerance(level: Level) -> f64 {
    match level {
        Level::District => 0.002,
        Level::Street => 0.0006,
        _ => 0.0001,
    }
}

/// The map's HTML: its container, controls, Leaflet and the data. `None` when the run mapped no
/// level (no `[charts]`).
pub fn map_html(p: &Pipeline, r: &Results, maps: &[MappedLevel<'_>]) -> Option<String> {
    let charts = p.charts.as_ref()?;
    let levels = [Level::District, Level::Street, Level::Grid];
    let mapped: Vec<(&MappedLevel<'_>, &Frame, &Frame)> = levels
        .iter()
        .filter_map(|lv| {
            let m = maps.iter().find(|m| m.level == *lv)?;
            let t = r.levels.iter().find(|l| l.level == *lv)?;
            Some((m, &t.period, &t.monthly))
        })
        .collect();
    if mapped.is_empty() {
        return None;
    }
    let first = mapped[0].1;
    let mut keys: Vec<&str> = vec![charts.map_indicator.as_str()];
    keys.extend(OFFERED.iter().copied().filter(|k| *k != charts.map_indicator && first.column(k).is_some()));

    // Month labels: the period, then the monthly table's months.
    let months_of = |monthly: &Frame, period: &Frame| -> Vec<String> {
        let nm = monthly.height().checked_div(period.height()).unwrap_or(0);
        monthly.texts("period").into_iter().take(nm).collect()
    };
    let l = p.language;
    let mut month_labels = vec![format!("{} {}", l.pick("本期", "period"), p.period.label())];
    month_labels.extend(months_of(mapped[0].2, mapped[0].1));

    // Per indicator: its key, its n and the decimals it is published to (rates 4, scores 2).
    let mut indicators = Vec::new();
    let mut series_of: Vec<(&str, i32)> = Vec::new();
    let mut n_keys: Vec<&str> = Vec::new();
    for k in &keys {
        let field = registry::field(k);
        let n_key = registry::n_of(k).unwrap_or("followups");
        let pct = field.is_some_and(|f| f.unit == "share");
        let mut classes = serde_json::Map::new();
        for (m, period, _) in &mapped {
            let c = if *k == charts.map_indicator {
                m.classes.clone()
            } else {
                Classes::of_table(period, k, p.indicators.min_n, charts.classes, None).0.in_lang(p.language)
            };
            classes.insert(m.level.as_str().into(), classes_json(&c));
        }
        let digits = if pct { 4 } else { 2 };
        indicators.push(json!({"key": k, "zh": field.map_or(k.to_string(), |f| f.label(l)), "n": n_key, "pct": pct, "digits": digits, "classes": classes}));
        series_of.push((k, digits));
        if !n_keys.contains(&n_key) {
            n_keys.push(n_key);
        }
    }
    let mut data_levels = serde_json::Map::new();
    for (m, period, monthly) in &mapped {
        let lv = m.level;
        let parent_key = match lv {
            Level::Street => Some("district_code"),
            Level::Grid => Some("street_code"),
            _ => None,
        };
        let codes = period.texts(&format!("{}_code", lv.as_str()));
        let names = period.texts(&format!("{}_name", lv.as_str()));
        let parents = parent_key.map(|k| period.texts(k));
        let nm = monthly.height().checked_div(period.height()).unwrap_or(0);
        // A unit's series (the period, then each month) as one string of whole numbers in units
        // of 10^-digits, empty for no value: "8333,,10000" is 0.8333, none, 1.0. The tables
        // hold rates to 4 decimals and scores to 2, so nothing is lost, and the page is half
        // the size of a JSON array of floats.
        let series = |f: &str, digits: i32| -> Vec<Value> {
            let pv = period.floats(f);
            let mv = monthly.floats(f);
            (0..period.height())
                .map(|u| {
                    let parts: Vec<String> = std::iter::once(pv[u])
                        .chain((0..nm).map(|j| mv.get(u * nm + j).copied().flatten()))
                        .map(|x| scaled(x, digits))
                        .collect();
                    Value::String(parts.join(","))
                })
                .collect()
        };
        // Per unit, the indicators' series in the order of `indicators`, the n series in the
        // order of `nKeys` (arrays, not objects: the keys would repeat for every unit).
        let mut values: Vec<Vec<Value>> = vec![Vec::new(); period.height()];
        let mut ns: Vec<Vec<Value>> = vec![Vec::new(); period.height()];
        for &(k, digits) in &series_of {
            for (u, s) in series(k, digits).into_iter().enumerate() {
                values[u].push(s);
            }
        }
        for n_key in &n_keys {
            for (u, s) in series(n_key, 0).into_iter().enumerate() {
                ns[u].push(s);
            }
        }
        // The service circle's missing items, in a grid's tooltip.
        let circle = period.column("service_circle").map(|_| (period.texts("service_circle"), period.texts("service_items_missing")));
        let units: Vec<Value> = (0..period.height())
            .map(|u| {
                let name = names.get(u).filter(|n| !n.is_empty()).unwrap_or(&codes[u]);
                let mut unit = json!({
                    "c": codes[u],
                    "nm": name,
                    "p": parents.as_ref().map_or("", |p| p[u].as_str()),
                    "g": geometry(&m.geoms[u], tolerance(lv)),
                    "v": values[u],
                    "n": ns[u],
                });
                if let Some((status, missing)) = &circle {
                    let line = match (status[u].as_str(), l) {
                        ("", _) => String::new(),
                        ("full", Lang::Zh) => "一刻钟服务圈：全覆盖".into(),
                        ("full", Lang::En) => "service circle: every item in reach".into(),
                        (_, Lang::Zh) => format!("一刻钟服务圈缺：{}", missing[u]),
                        (_, Lang::En) => format!("service circle lacks: {}", missing[u]),
                    };
                    if !line.is_empty() {
                        unit["sc"] = Value::String(line);
                    }
                }
                unit
            })
            .collect();
        data_levels.insert(lv.as_str().into(), Value::Array(units));
    }
    let data = json!({
        "minN": p.indicators.min_n,
        "months": month_labels,
        "nKeys": n_keys,
        "indicators": indicators,
        "levels": data_levels,
        // The page's words in the pipeline's language.
        "t": match l {
            Lang::Zh => json!({"nodata": "无数据", "city": "全市 city", "colon": "：", "open": "（", "close": "）"}),
            Lang::En => json!({"nodata": "no data", "city": "city", "colon": ": ", "open": " (", "close": ")"}),
        },
    });
    // Names come from the input: a `<` inside a JSON string must not end the script element.
    let data = data.to_string().replace('<', "\\u003c");

    let mut h = String::new();
    let _ = writeln!(
        h,
        "<h2>{}</h2>",
        l.pick(
            "交互地图 (interactive map: click a district, then a street; hover for values)",
            "Map: click a district, then a street; hover for values"
        )
    );
    let _ = writeln!(
        h,
        "<div class=\"gg-controls\"><label>{} <select id=\"gg-ind\"></select></label> <label>{} <select id=\"gg-month\"></select></label> <span id=\"gg-crumbs\"></span></div>",
        l.pick("指标", "indicator"),
        l.pick("月份", "month")
    );
    h.push_str("<div id=\"gg-map\"></div><div id=\"gg-legend\"></div>\n");
    let _ = writeln!(h, "<style>{LEAFLET_CSS}\n{MAP_CSS}</style>");
    let _ = writeln!(
        h,
        "<script>/*! Leaflet 1.9.4, https://leafletjs.com — {} */\n{LEAFLET_JS}</script>",
        LEAFLET_LICENSE.replace("*/", "* /")
    );
    let _ = writeln!(h, "<script type=\"application/json\" id=\"gg-data\">{data}</script>");
    let _ = writeln!(h, "<script>{MAP_JS}</script>");
    Some(h)
}

fn classes_json(c: &Classes) -> Value {
    let colors: Vec<String> = c.colors.iter().map(|[r, g, b]| format!("#{r:02x}{g:02x}{b:02x}")).collect();
    json!({"bounds": c.bounds, "colors": colors, "labels": c.labels})
}

/// `x` in units of 10^-digits as a whole number; empty for no value.
fn scaled(x: Option<f64>, digits: i32) -> String {
    x.filter(|x| x.is_finite()).map_or(String::new(), |x| format!("{}", (x * 10f64.powi(digits)).round() as i64))
}

/// A simplified MultiPolygon as GeoJSON coordinates, 4 decimals (about 10 m, well inside a
/// grid of a few hundred metres); rings that simplify to
/// nothing are dropped (a polygon whose exterior vanished keeps its unsimplified exterior).
fn geometry(g: &MultiPolygon<f64>, eps: f64) -> Value {
    let s = g.simplify(eps);
    let r5 = |v: f64| (v * 1e4).round() / 1e4;
    let ring = |l: &geo::LineString<f64>| -> Vec<[f64; 2]> { l.0.iter().map(|c| [r5(c.x), r5(c.y)]).collect() };
    let polys: Vec<Vec<Vec<[f64; 2]>>> =
        s.0.iter()
            .zip(&g.0)
            .map(|(p, orig)| {
                let ext = if p.exterior().0.len() >= 4 { ring(p.exterior()) } else { ring(orig.exterior()) };
                std::iter::once(ext).chain(p.interiors().iter().filter(|r| r.0.len() >= 4).map(ring)).collect()
            })
            .collect();
    json!(polys)
}

const MAP_CSS: &str = "#gg-map{height:520px;border:1px solid #ddd;background:#f7f7f7}.gg-controls{margin:.5em 0}.gg-controls select{font-size:1em;margin-right:.6em}\
#gg-crumbs button{margin-left:.3em}#gg-legend{font-size:.85em;margin:.4em 0}#gg-legend span.sw{display:inline-block;width:14px;height:14px;vertical-align:middle;margin:0 4px 0 10px;border:1px solid #999}\
@media(max-width:600px){#gg-map{height:380px}}";

/// The map's behaviour: the selected indicator and month colour the units by the classes
/// computed in Rust (the same as the `.qml` styles for the mapped indicator); a click on a
/// district shows its streets, a click on a street its grids; the breadcrumb goes back up.
/// Paths carry `gg-<level>` and `data-code` for tests.
const MAP_JS: &str = r#"(function(){
var D=JSON.parse(document.getElementById('gg-data').textContent);
var LV=['district','street','grid'].filter(function(l){return D.levels[l];});
var map=L.map('gg-map',{attributionControl:false,zoomSnap:0.25});
var ind=0,mon=0,path=[],layer=null;
var indSel=document.getElementById('gg-ind'),monSel=document.getElementById('gg-month');
D.indicators.forEach(function(I,i){var o=document.createElement('option');o.value=i;o.textContent=I.zh;indSel.appendChild(o);});
D.months.forEach(function(m,i){var o=document.createElement('option');o.value=i;o.textContent=m;monSel.appendChild(o);});
function I(){return D.indicators[ind];}
function arr(u,w,i,digits){u['_'+w]=u['_'+w]||{};var c=u['_'+w];if(!(i in c)){var s=u[w][i];c[i]=s===undefined?[]:s.split(',').map(function(t){return t===''?null:(+t)/Math.pow(10,digits);});}return c[i];}
function val(u){var a=arr(u,'v',ind,I().digits)[mon];return a===undefined?null:a;}
function nval(u){var a=arr(u,'n',D.nKeys.indexOf(I().n),0)[mon];return a===undefined?null:a;}
function cls(u,lv){var x=val(u),n=nval(u);if(x===null||n===null||n<D.minN)return 0;var b=I().classes[lv].bounds,k=b.length-1;for(var i=1;i<=k;i++){if(x<b[i])return i;}return k;}
function color(c,lv){return c===0?'#c8c8c8':I().classes[lv].colors[c-1];}
function fmt(x){if(x===null)return D.t.nodata;return I().pct?(x*100).toFixed(1)+'%':x.toFixed(2);}
function esc(s){return String(s).replace(/[&<>"]/g,function(c){return {'&':'&amp;','<':'&lt;','>':'&gt;','"':'&quot;'}[c];});}
function tip(u){var n=nval(u);return '<b>'+esc(u.nm)+'</b> '+esc(u.c)+'<br>'+esc(I().zh)+D.t.colon+fmt(val(u))+D.t.open+'n='+(n===null?'—':n)+D.t.close+'<br>'+esc(D.months[mon])+(u.sc?'<br>'+esc(u.sc):'');}
function level(){return LV[Math.min(path.length,LV.length-1)];}
function style(u,lv){return {color:'#444',weight:lv==='grid'?0.5:1,fillColor:color(cls(u,lv),lv),fillOpacity:0.85};}
function legend(){var lv=level(),C=I().classes[lv],h=esc(I().zh)+D.t.colon;h+='<span class="sw" style="background:#c8c8c8"></span>'+esc(C.labels[0]);
 for(var i=0;i<C.colors.length;i++){h+='<span class="sw" style="background:'+C.colors[i]+'"></span>'+esc(C.labels[i+1]);}
 document.getElementById('gg-legend').innerHTML=h;}
function crumbs(){var el=document.getElementById('gg-crumbs');el.innerHTML='';
 var names=[[D.t.city,0]];for(var i=0;i<path.length;i++){var lvn=LV[i],u=D.levels[lvn].filter(function(x){return x.c===path[i];})[0];names.push([u?u.nm:path[i],i+1]);}
 names.forEach(function(p,i){var b=document.createElement('button');b.id='gg-crumb-'+i;b.textContent=p[0];b.disabled=(i===names.length-1);b.onclick=function(){path=path.slice(0,p[1]);show();};el.appendChild(b);});}
function show(){if(layer){map.removeLayer(layer);}var lv=level(),parent=path[path.length-1];
 var units=D.levels[lv].filter(function(u){return path.length===0||u.p===parent;});
 layer=L.geoJSON({type:'FeatureCollection',features:units.map(function(u){return {type:'Feature',properties:{u:u},geometry:{type:'MultiPolygon',coordinates:u.g}};})},{
  style:function(f){return style(f.properties.u,lv);},
  onEachFeature:function(f,l){var u=f.properties.u;l.bindTooltip(function(){return tip(u);},{sticky:true});
   l.on('add',function(){var e=l.getElement();if(e){L.DomUtil.addClass(e,'gg-'+lv);e.setAttribute('data-code',u.c);}});
   if(LV.indexOf(lv)<LV.length-1){l.on('click',function(){path.push(u.c);show();});}}}).addTo(map);
 if(units.length){map.fitBounds(layer.getBounds(),{padding:[8,8]});}
 crumbs();legend();}
function restyle(){var lv=level();if(layer){layer.eachLayer(function(l){l.setStyle(style(l.feature.properties.u,lv));});}legend();}
indSel.onchange=function(){ind=+indSel.value;restyle();};monSel.onchange=function(){mon=+monSel.value;restyle();};
show();
})();"#;

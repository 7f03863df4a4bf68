//! The chart kinds. Each is plain data plus a `draw` that works on any backend; sizes are
//! multiplied by `scale` so the 2× PNG looks like the SVG.

use chrono::NaiveDate;
use geo::MultiPolygon;
use plotters::coord::Shift;
use plotters::coord::types::RangedCoordf64;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::{Chart, DrawResult, FONT};
use crate::outputs::classes::Classes;
use crate::vocab::lang::Lang;

const ACCENT: RGBColor = RGBColor(215, 48, 39); // ColorBrewer RdYlBu red: bottom / below target
const BAR: RGBColor = RGBColor(69, 117, 180); // RdYlBu blue
const GREY: RGBColor = RGBColor(120, 120, 120);
/// Okabe–Ito colours: distinguishable with every common colour-vision deficiency.
pub const SERIES: [RGBColor; 4] = [RGBColor(0, 114, 178), RGBColor(230, 159, 0), RGBColor(0, 158, 115), RGBColor(204, 121, 167)];

fn font(size: f64, scale: f64) -> TextStyle<'static> {
    TextStyle::from((FONT, size * scale).into_font())
}

fn title_font(scale: f64) -> TextStyle<'static> {
    TextStyle::from((FONT, 15.0 * scale, FontStyle::Bold).into_font())
}

fn px(v: f64, scale: f64) -> u32 {
    (v * scale).round() as u32
}

/// A thin dashed reference line (target, threshold, 80 %) from `a` to `b`.
fn reference_line(a: (f64, f64), b: (f64, f64), color: RGBColor, s: f64) -> DashedLineSeries<std::vec::IntoIter<(f64, f64)>, u32> {
    DashedLineSeries::new(vec![a, b], px(6.0, s), px(4.0, s), color.stroke_width(px(1.0, s)))
}

/// The series legend of the line charts, in a corner of the plot.
fn legend<'a, DB: DrawingBackend + 'a>(
    chart: &mut ChartContext<'a, DB, Cartesian2d<RangedCoordf64, RangedCoordf64>>,
    position: SeriesLabelPosition,
    s: f64,
) -> DrawResult
where
    DB::ErrorType: 'static,
{
    chart
        .configure_series_labels()
        .label_font(font(10.0, s))
        .background_style(WHITE.mix(0.8))
        .border_style(GREY)
        .position(position)
        .draw()?;
    Ok(())
}

/// A chart with nothing to plot says so, under its title, instead of drawing empty axes.
pub fn no_data<DB: DrawingBackend>(root: &DrawingArea<DB, Shift>, title: &str, lang: Lang, s: f64) -> DrawResult
where
    DB::ErrorType: 'static,
{
    let root = root.titled(title, title_font(s))?;
    let (w, h) = root.dim_in_pixel();
    root.draw(&Text::new(
        lang.pick("本期无数据 (no data for this period)", "No data for this period"),
        (w as i32 / 2, h as i32 / 2),
        font(16.0, s).color(&GREY).pos(Pos::new(HPos::Center, VPos::Center)),
    ))?;
    Ok(())
}

/// Horizontal bars, best at top, value and n on each bar; `accent` rows in the accent colour.
pub struct Ranking {
    pub title: String,
    pub lang: Lang,
    pub names: Vec<String>,
    pub values: Vec<f64>,
    pub n: Vec<u64>,
    pub accent: Vec<bool>,
    pub x_desc: String,
    /// Colours of the bars and of the accented bars.
    pub colors: (RGBColor, RGBColor),
    /// The end of the value axis (shared by the panels of a 红黑榜); `None`: fitted to the data.
    pub x_max: Option<f64>,
    /// The city's score, drawn as a labelled line.
    pub city: Option<f64>,
}

/// Bar colours: the ranking (blue, red below the city), 红榜 (red) and 黑榜 (near-black).
pub const RANKING_COLORS: (RGBColor, RGBColor) = (BAR, ACCENT);
pub const RED_LIST: (RGBColor, RGBColor) = (ACCENT, ACCENT);
pub const BLACK_LIST: (RGBColor, RGBColor) = (RGBColor(64, 64, 64), RGBColor(64, 64, 64));

impl Chart for Ranking {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>, s: f64) -> DrawResult
    where
        DB::ErrorType: 'static,
    {
        root.fill(&WHITE)?;
        let k = self.names.len().max(1);
        let max = self.x_max.unwrap_or_else(|| self.values.iter().cloned().chain(self.city).fold(0.0f64, f64::max).max(1.0) * 1.15);
        // `0..=k-1`: plotters' integer ranges include their end, so `0..k` would leave an empty
        // slot (and a stray tick) above the bars.
        let mut chart = ChartBuilder::on(root)
            .caption(&self.title, title_font(s))
            .margin(px(10.0, s))
            .x_label_area_size(px(30.0, s))
            .y_label_area_size(px(130.0, s))
            .build_cartesian_2d(0.0..max, (0..k - 1).into_segmented())?;
        let names = self.names.clone();
        chart
            .configure_mesh()
            .disable_y_mesh()
            .x_desc(&self.x_desc)
            .x_label_formatter(&|x| format!("{x:.0}"))
            .label_style(font(10.0, s))
            .axis_desc_style(font(11.0, s))
            .y_labels(k)
            .y_label_formatter(&|v| match v {
                // Row 0 is drawn at the top: rows are listed best first.
                SegmentValue::CenterOf(i) => k.checked_sub(1 + *i).and_then(|j| names.get(j)).cloned().unwrap_or_default(),
                _ => String::new(),
            })
            .draw()?;
        // The city's line first: bars and their labels are drawn over it.
        if let Some(c) = self.city.filter(|c| *c <= max) {
            let (top, bottom) = (SegmentValue::Exact(k), SegmentValue::Exact(0));
            chart.draw_series(DashedLineSeries::new(vec![(c, bottom), (c, top)], px(6.0, s), px(4.0, s), GREY.stroke_width(px(1.5, s))))?;
            chart.draw_series(std::iter::once(Text::new(
                format!("{} {c:.2}", self.lang.pick("全市", "city")),
                (c, SegmentValue::Exact(k)),
                font(9.0, s).color(&GREY).pos(plotters::style::text_anchor::Pos::new(
                    plotters::style::text_anchor::HPos::Center,
                    plotters::style::text_anchor::VPos::Bottom,
                )),
            )))?;
        }
        for (i, v) in self.values.iter().enumerate() {
            let y = k - 1 - i;
            let color = if self.accent.get(i).copied().unwrap_or(false) { self.colors.1 } else { self.colors.0 };
            chart.draw_series(std::iter::once(Rectangle::new(
                [(0.0, SegmentValue::Exact(y)), (*v, SegmentValue::Exact(y + 1))],
                color.filled(),
            )))?;
            chart.draw_series(std::iter::once(Rectangle::new(
                [(0.0, SegmentValue::Exact(y)), (*v, SegmentValue::Exact(y + 1))],
                WHITE.stroke_width(px(2.0, s)),
            )))?;
            chart.draw_series(std::iter::once(Text::new(
                format!("{v:.2}  (n={})", self.n.get(i).copied().unwrap_or(0)),
                (label_x(*v, self.city, max), SegmentValue::CenterOf(y)),
                font(9.0, s).pos(plotters::style::text_anchor::Pos::new(
                    plotters::style::text_anchor::HPos::Left,
                    plotters::style::text_anchor::VPos::Center,
                )),
            )))?;
        }
        Ok(())
    }
}

/// Where a bar's value label starts: just after the bar, or just after the city's line when
/// that line would run through the label (about a fifth of the axis wide).
fn label_x(v: f64, city: Option<f64>, max: f64) -> f64 {
    match city {
        Some(c) if c >= v && c < v + max * 0.2 => c + max * 0.01,
        _ => v + max * 0.01,
    }
}

/// 红黑榜: the top-N and bottom-N side by side.
pub struct RedBlack {
    pub title: String,
    pub top: Ranking,
    pub bottom: Ranking,
}

impl Chart for RedBlack {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>, s: f64) -> DrawResult
    where
        DB::ErrorType: 'static,
    {
        root.fill(&WHITE)?;
        let root = root.titled(&self.title, title_font(s))?;
        let (l, r) = root.split_horizontally(root.dim_in_pixel().0 / 2);
        self.top.draw(&l, s)?;
        self.bottom.draw(&r, s)?;
        Ok(())
    }
}

/// Monthly lines with dashed target lines; a month without data breaks the line.
pub struct Trend {
    pub title: String,
    pub lang: Lang,
    pub months: Vec<String>,
    pub series: Vec<(String, Vec<Option<f64>>)>,
    pub targets: Vec<(String, f64)>,
}

impl Chart for Trend {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>, s: f64) -> DrawResult
    where
        DB::ErrorType: 'static,
    {
        root.fill(&WHITE)?;
        if self.series.iter().all(|(_, v)| v.iter().all(Option::is_none)) {
            return no_data(root, &self.title, self.lang, s);
        }
        let n = self.months.len().max(1);
        let vals = self.series.iter().flat_map(|(_, v)| v.iter().flatten()).chain(self.targets.iter().map(|t| &t.1));
        let lo = vals.cloned().fold(1.0f64, f64::min);
        let lo = ((lo - 0.05).max(0.0) * 10.0).floor() / 10.0;
        let months = self.months.clone();
        let mut chart = ChartBuilder::on(root)
            .caption(&self.title, title_font(s))
            .margin(px(10.0, s))
            .x_label_area_size(px(35.0, s))
            .y_label_area_size(px(50.0, s))
            .build_cartesian_2d(-0.5..(n as f64 - 0.5), lo..1.0)?;
        chart
            .configure_mesh()
            .x_labels(n)
            .x_label_formatter(&|x| {
                let i = x.round();
                if (x - i).abs() < 1e-6 && i >= 0.0 { months.get(i as usize).cloned().unwrap_or_default() } else { String::new() }
            })
            .y_label_formatter(&|y| format!("{:.0}%", y * 100.0))
            .label_style(font(10.0, s))
            .draw()?;
        for (si, (label, v)) in self.series.iter().enumerate() {
            let color = SERIES[si % SERIES.len()];
            // Consecutive months with data form one line; a gap starts a new one.
            let mut runs: Vec<Vec<(f64, f64)>> = vec![Vec::new()];
            for (i, x) in v.iter().enumerate() {
                match x {
                    Some(y) => runs.last_mut().map(|r| r.push((i as f64, *y))).unwrap_or(()),
                    None => runs.push(Vec::new()),
                }
            }
            let mut first = true;
            for run in runs.into_iter().filter(|r| !r.is_empty()) {
                let series = chart.draw_series(LineSeries::new(run.clone(), color.stroke_width(px(2.0, s))))?;
                if first {
                    series.label(label.clone()).legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], color.stroke_width(3)));
                    first = false;
                }
                chart.draw_series(run.into_iter().map(|p| Circle::new(p, px(3.0, s), color.filled())))?;
            }
            if let Some((_, t)) = self.targets.iter().find(|(l, _)| l == label) {
                chart.draw_series(reference_line((-0.5, *t), (n as f64 - 0.5, *t), color, s))?;
                chart.draw_series(std::iter::once(Text::new(
                    match self.lang {
                        Lang::Zh => format!("{label}目标 {:.0}%", t * 100.0),
                        Lang::En => format!("{label} target {:.0}%", t * 100.0),
                    },
                    (-0.45, *t + 0.012),
                    font(9.0, s).color(&color),
                )))?;
            }
        }
        legend(&mut chart, SeriesLabelPosition::LowerLeft, s)?;
        Ok(())
    }
}

/// Category Pareto: bars descending ("其他" last), cumulative share on a second axis, 80 % line.
pub struct Pareto {
    pub title: String,
    pub lang: Lang,
    pub categories: Vec<String>,
    pub counts: Vec<u64>,
}

impl Pareto {
    pub fn cumulative(&self) -> Vec<f64> {
        let total: u64 = self.counts.iter().sum();
        let mut acc = 0u64;
        self.counts
            .iter()
            .map(|c| {
                acc += c;
                if total == 0 { 0.0 } else { acc as f64 / total as f64 }
            })
            .collect()
    }
}

impl Chart for Pareto {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>, s: f64) -> DrawResult
    where
        DB::ErrorType: 'static,
    {
        root.fill(&WHITE)?;
        let k = self.categories.len().max(1);
        let max = self.counts.iter().copied().max().unwrap_or(1).max(1) as f64 * 1.1;
        let cats = self.categories.clone();
        let mut chart = ChartBuilder::on(root)
            .caption(&self.title, title_font(s))
            .margin(px(10.0, s))
            .x_label_area_size(px(45.0, s))
            .y_label_area_size(px(55.0, s))
            .right_y_label_area_size(px(45.0, s))
            .build_cartesian_2d((0..k - 1).into_segmented(), 0.0..max)?
            // The segmented axis has k slots (plotters' integer ranges include their end); the
            // secondary x axis spans the same width.
            .set_secondary_coord(0.0..k as f64, 0.0..1.05);
        chart
            .configure_mesh()
            .disable_x_mesh()
            .x_labels(k)
            .x_label_formatter(&|v| match v {
                SegmentValue::CenterOf(i) => cats.get(*i).cloned().unwrap_or_default(),
                _ => String::new(),
            })
            .y_desc(self.lang.pick("件", "cases"))
            .y_label_formatter(&|y| format!("{y:.0}"))
            .label_style(font(9.0, s))
            .axis_desc_style(font(10.0, s))
            .draw()?;
        chart.configure_secondary_axes().y_label_formatter(&|y| format!("{:.0}%", y * 100.0)).label_style(font(9.0, s)).draw()?;
        chart.draw_series(
            self.counts
                .iter()
                .enumerate()
                .map(|(i, c)| Rectangle::new([(SegmentValue::Exact(i), 0.0), (SegmentValue::Exact(i + 1), *c as f64)], BAR.filled())),
        )?;
        chart.draw_series(self.counts.iter().enumerate().map(|(i, c)| {
            Rectangle::new([(SegmentValue::Exact(i), 0.0), (SegmentValue::Exact(i + 1), *c as f64)], WHITE.stroke_width(px(2.0, s)))
        }))?;
        let cum: Vec<(f64, f64)> = self.cumulative().into_iter().enumerate().map(|(i, c)| (i as f64 + 0.5, c)).collect();
        chart.draw_secondary_series(LineSeries::new(cum.clone(), SERIES[1].stroke_width(px(2.0, s))))?;
        chart.draw_secondary_series(cum.into_iter().map(|p| Circle::new(p, px(3.0, s), SERIES[1].filled())))?;
        chart.draw_secondary_series(reference_line((0.0, 0.8), (k as f64, 0.8), ACCENT, s))?;
        chart.draw_secondary_series(std::iter::once(Text::new(
            "80%",
            (k as f64 - 0.05, 0.81),
            font(10.0, s).color(&ACCENT).pos(plotters::style::text_anchor::Pos::new(
                plotters::style::text_anchor::HPos::Right,
                plotters::style::text_anchor::VPos::Bottom,
            )),
        )))?;
        Ok(())
    }
}

/// Handling-time histogram on a log-hours axis with median, P90 and the time limit marked.
pub struct Handling {
    pub title: String,
    pub lang: Lang,
    /// Bins of the closed cases' handling hours (`indicators::handling_bins`):
    /// (lower hour bound, upper hour bound, count).
    pub bins: Vec<(f64, f64, u64)>,
    pub median: Option<f64>,
    pub p90: Option<f64>,
    pub limit_hours: f64,
}

impl Handling {
    pub fn bins(&self) -> Vec<(f64, f64, u64)> {
        self.bins.clone()
    }
}

impl Chart for Handling {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>, s: f64) -> DrawResult
    where
        DB::ErrorType: 'static,
    {
        root.fill(&WHITE)?;
        let bins = self.bins();
        let max = bins.iter().map(|b| b.2).max().unwrap_or(1).max(1) as f64 * 1.15;
        // The axis spans the decades that hold data and the marks, no more.
        let hours: Vec<f64> = bins
            .iter()
            .filter(|b| b.2 > 0)
            .flat_map(|b| [b.0, b.1])
            .chain(self.median)
            .chain(self.p90)
            .chain(std::iter::once(self.limit_hours))
            .filter(|h| *h > 0.0 && h.is_finite())
            .collect();
        let lo = hours.iter().cloned().fold(f64::INFINITY, f64::min).max(0.01).log10().floor();
        let hi = hours.iter().cloned().fold(0.0f64, f64::max).max(1.0).log10().ceil();
        let (lo, hi) = if lo.is_finite() && hi > lo { (lo, hi) } else { (-1.0, 4.0) };
        let mut chart = ChartBuilder::on(root)
            .caption(&self.title, title_font(s))
            .margin(px(10.0, s))
            .x_label_area_size(px(35.0, s))
            .y_label_area_size(px(55.0, s))
            .build_cartesian_2d(lo..hi, 0.0..max)?;
        chart
            .configure_mesh()
            .x_labels((hi - lo) as usize + 1)
            .y_label_formatter(&|y| format!("{y:.0}"))
            .x_label_formatter(&|x| {
                let h = 10f64.powf(*x);
                if h < 1.0 { format!("{h:.1}h") } else { format!("{h:.0}h") }
            })
            .x_desc(self.lang.pick("处置时长（小时，对数刻度）", "handling time (hours, log scale)"))
            .y_desc(self.lang.pick("件", "cases"))
            .label_style(font(10.0, s))
            .axis_desc_style(font(10.0, s))
            .draw()?;
        chart
            .draw_series(bins.iter().map(|(a, b, c)| Rectangle::new([(a.log10(), 0.0), (b.log10(), *c as f64)], BAR.mix(0.85).filled())))?;
        let mut mark = |hours: f64, label: String, color: RGBColor, dy: f64| -> DrawResult {
            let x = hours.max(10f64.powf(lo)).log10();
            chart.draw_series(DashedLineSeries::new(vec![(x, 0.0), (x, max)], px(6.0, s), px(3.0, s), color.stroke_width(px(2.0, s))))?;
            // Each label on its own line of text; in the right quarter it goes left of its mark
            // so it stays inside the plot.
            let right = x > hi - (hi - lo) * 0.25;
            let (hpos, dx) = if right { (HPos::Right, -0.03) } else { (HPos::Left, 0.03) };
            chart.draw_series(std::iter::once(Text::new(
                label,
                (x + dx * (hi - lo) / 5.0, max * dy),
                font(10.0, s).color(&color).pos(Pos::new(hpos, VPos::Center)),
            )))?;
            Ok(())
        };
        if let Some(m) = self.median {
            mark(m, format!("{} {m:.1}h", self.lang.pick("中位数", "median")), SERIES[0], 0.95)?;
        }
        if let Some(p) = self.p90 {
            mark(p, format!("P90 {p:.1}h"), SERIES[1], 0.87)?;
        }
        mark(self.limit_hours, format!("{} {:.0}h", self.lang.pick("时限", "time limit"), self.limit_hours), ACCENT, 0.79)?;
        Ok(())
    }
}

/// A choropleth: units coloured by class, a grey no-data class, district outlines on top and a
/// legend with class ranges and counts. Longitudes are scaled by cos(latitude) so shapes keep
/// their proportions.
pub struct Map {
    pub title: String,
    pub legend_title: String,
    pub units: Vec<(MultiPolygon<f64>, usize)>,
    pub classes: Classes,
    pub outlines: Vec<MultiPolygon<f64>>,
}

impl Chart for Map {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>, s: f64) -> DrawResult
    where
        DB::ErrorType: 'static,
    {
        use geo::BoundingRect;
        root.fill(&WHITE)?;
        let root = root.titled(&self.title, title_font(s))?;
        let (w, h) = root.dim_in_pixel();
        let (map_area, legend) = root.split_horizontally(w - px(190.0, s));
        let bbox = self.units.iter().filter_map(|(g, _)| g.bounding_rect()).reduce(|a, b| {
            geo::Rect::new(
                geo::Coord { x: a.min().x.min(b.min().x), y: a.min().y.min(b.min().y) },
                geo::Coord { x: a.max().x.max(b.max().x), y: a.max().y.max(b.max().y) },
            )
        });
        let Some(bbox) = bbox else { return Ok(()) };
        let k = (bbox.center().y.to_radians().cos()).max(0.1);
        // Fit the box into the area with equal scales on the ground.
        let (mw, mh) = ((w - px(190.0, s)) as f64, h as f64 - 10.0 * s);
        let (bw, bh) = (bbox.width() * k, bbox.height());
        let scale = (mw / bw).min(mh / bh);
        let (xr, yr) = (mw / scale / k, mh / scale);
        let (cx, cy) = (bbox.center().x, bbox.center().y);
        let mut chart = ChartBuilder::on(&map_area)
            .margin(px(5.0, s))
            .build_cartesian_2d(cx - xr / 2.0..cx + xr / 2.0, cy - yr / 2.0..cy + yr / 2.0)?;
        // Larger units first so enclaves inside another unit's hole are drawn on top of it.
        let mut order: Vec<usize> = (0..self.units.len()).collect();
        use geo::Area;
        order.sort_by(|a, b| self.units[*b].0.unsigned_area().total_cmp(&self.units[*a].0.unsigned_area()));
        for i in order {
            let (g, class) = &self.units[i];
            let [r, gg, b] = self.classes.color(*class);
            for poly in &g.0 {
                let ring: Vec<(f64, f64)> = poly.exterior().coords().map(|c| (c.x, c.y)).collect();
                chart.draw_series(std::iter::once(Polygon::new(ring.clone(), RGBColor(r, gg, b).filled())))?;
                chart.draw_series(std::iter::once(PathElement::new(ring, RGBColor(255, 255, 255).stroke_width(1))))?;
            }
        }
        draw_outlines(&mut chart, &self.outlines, s)?;
        // Legend: one swatch per class with its range and count, no-data class last.
        let lf = font(10.0, s);
        legend.draw(&Text::new(self.legend_title.clone(), (px(5.0, s) as i32, px(20.0, s) as i32), font(11.0, s)))?;
        let rows: Vec<usize> = (1..=self.classes.k()).rev().chain(std::iter::once(0)).collect();
        for (j, class) in rows.into_iter().enumerate() {
            let y = px(40.0 + 22.0 * j as f64, s) as i32;
            let [r, g, b] = self.classes.color(class);
            legend.draw(&Rectangle::new(
                [(px(5.0, s) as i32, y), (px(25.0, s) as i32, y + px(14.0, s) as i32)],
                RGBColor(r, g, b).filled(),
            ))?;
            legend.draw(&Text::new(
                format!("{}  ({})", self.classes.labels[class], self.classes.counts[class]),
                (px(30.0, s) as i32, y + px(2.0, s) as i32),
                lf.clone(),
            ))?;
        }
        Ok(())
    }
}

fn draw_outlines<DB: DrawingBackend>(
    chart: &mut ChartContext<'_, DB, Cartesian2d<RangedCoordf64, RangedCoordf64>>,
    outlines: &[MultiPolygon<f64>],
    s: f64,
) -> DrawResult
where
    DB::ErrorType: 'static,
{
    for g in outlines {
        for poly in &g.0 {
            let ring: Vec<(f64, f64)> = poly.exterior().coords().map(|c| (c.x, c.y)).collect();
            chart.draw_series(std::iter::once(PathElement::new(ring, RGBColor(40, 40, 40).stroke_width(px(1.5, s)))))?;
        }
    }
    Ok(())
}

/// Cumulative sign-up rate per project by day, with each project's threshold and crossing day.
pub struct Signups {
    pub title: String,
    pub lang: Lang,
    /// (project label, points (day, cumulative rate), threshold, day crossed).
    pub projects: Vec<(String, Vec<(NaiveDate, f64)>, f64, Option<NaiveDate>)>,
}

impl Chart for Signups {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>, s: f64) -> DrawResult
    where
        DB::ErrorType: 'static,
    {
        root.fill(&WHITE)?;
        let days = self.projects.iter().flat_map(|p| p.1.iter().map(|d| d.0));
        let (Some(first), Some(last)) = (days.clone().min(), days.max()) else {
            return no_data(root, &self.title, self.lang, s);
        };
        let span = (last - first).num_days().max(1) as f64;
        let mut chart = ChartBuilder::on(root)
            .caption(&self.title, title_font(s))
            .margin(px(10.0, s))
            .x_label_area_size(px(35.0, s))
            .y_label_area_size(px(50.0, s))
            .build_cartesian_2d(0.0..span, 0.0..1.0)?;
        chart
            .configure_mesh()
            .x_labels(8)
            // With the year: a signing period can run across one.
            .x_label_formatter(&|x| (first + chrono::Duration::days(x.round() as i64)).format("%Y-%m-%d").to_string())
            .y_label_formatter(&|y| format!("{:.0}%", y * 100.0))
            .label_style(font(10.0, s))
            .draw()?;
        for (i, (label, pts, threshold, crossed)) in self.projects.iter().enumerate() {
            let color = SERIES[i % SERIES.len()];
            let xy: Vec<(f64, f64)> = pts.iter().map(|(d, r)| ((*d - first).num_days() as f64, *r)).collect();
            chart
                .draw_series(LineSeries::new(xy, color.stroke_width(px(2.0, s))))?
                .label(label.clone())
                .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], color.stroke_width(3)));
            chart.draw_series(reference_line((0.0, *threshold), (span, *threshold), color, s))?;
            if let Some(d) = crossed {
                let x = (*d - first).num_days() as f64;
                chart.draw_series(std::iter::once(Circle::new((x, *threshold), px(5.0, s), color.filled())))?;
                chart.draw_series(std::iter::once(Text::new(
                    match self.lang {
                        Lang::Zh => format!("{} 达 {:.0}%", d.format("%Y-%m-%d"), threshold * 100.0),
                        Lang::En => format!("{} reached {:.0}%", d.format("%Y-%m-%d"), threshold * 100.0),
                    },
                    (x + span * 0.01, *threshold - 0.05),
                    font(9.0, s).color(&color),
                )))?;
            } else if let Some((d, r)) = pts.last() {
                // A project that has not reached its threshold says so at the end of its curve.
                let x = (*d - first).num_days() as f64;
                chart.draw_series(std::iter::once(Cross::new((x, *r), px(6.0, s), color.stroke_width(px(2.0, s)))))?;
                chart.draw_series(std::iter::once(Text::new(
                    match self.lang {
                        Lang::Zh => format!("未达 {:.0}%（{:.1}%）", threshold * 100.0, r * 100.0),
                        Lang::En => format!("below {:.0}% ({:.1}%)", threshold * 100.0, r * 100.0),
                    },
                    (x, *r - 0.04),
                    font(9.0, s).color(&color).pos(Pos::new(HPos::Right, VPos::Top)),
                )))?;
            }
        }
        legend(&mut chart, SeriesLabelPosition::LowerRight, s)?;
        Ok(())
    }
}

/// A funnel: each step's count as a centred bar, its share of the first step and the rate from
/// the step before beside it.
pub struct Funnel {
    pub title: String,
    pub lang: Lang,
    pub steps: Vec<(String, u64)>,
}

impl Chart for Funnel {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>, s: f64) -> DrawResult
    where
        DB::ErrorType: 'static,
    {
        root.fill(&WHITE)?;
        let first = self.steps.first().map_or(0, |x| x.1);
        if first == 0 {
            return no_data(root, &self.title, self.lang, s);
        }
        let k = self.steps.len();
        let names = self.steps.iter().map(|x| x.0.clone()).collect::<Vec<_>>();
        let mut chart = ChartBuilder::on(root)
            .caption(&self.title, title_font(s))
            .margin(px(10.0, s))
            .y_label_area_size(px(90.0, s))
            .build_cartesian_2d(-1.0f64..1.0f64, (0..k - 1).into_segmented())?;
        chart
            .configure_mesh()
            .disable_mesh()
            .disable_x_axis()
            .y_labels(k)
            // The first step on top.
            .y_label_formatter(&|v| match v {
                SegmentValue::CenterOf(i) => names.get(k - 1 - *i).cloned().unwrap_or_default(),
                _ => String::new(),
            })
            .label_style(font(11.0, s))
            .draw()?;
        for (i, (_, n)) in self.steps.iter().enumerate() {
            let w = *n as f64 / first as f64 * 0.6;
            let row = k - 1 - i;
            let color = SERIES[0].mix(1.0 - 0.15 * i as f64);
            chart.draw_series(std::iter::once(Rectangle::new(
                [(-w, SegmentValue::Exact(row)), (w, SegmentValue::Exact(row + 1))],
                color.filled(),
            )))?;
            chart.draw_series(std::iter::once(Rectangle::new(
                [(-w, SegmentValue::Exact(row)), (w, SegmentValue::Exact(row + 1))],
                WHITE.stroke_width(px(3.0, s)),
            )))?;
            let share = *n as f64 / first as f64 * 100.0;
            let step = match i.checked_sub(1).map(|j| self.steps[j].1) {
                Some(prev) if prev > 0 => match self.lang {
                    Lang::Zh => format!("  上一步的 {:.1}%", *n as f64 / prev as f64 * 100.0),
                    Lang::En => format!("  {:.1}% of the step before", *n as f64 / prev as f64 * 100.0),
                },
                _ => String::new(),
            };
            chart.draw_series(std::iter::once(Text::new(
                format!("{n}（{share:.1}%）{step}"),
                (w + 0.02, SegmentValue::CenterOf(row)),
                font(11.0, s).pos(Pos::new(HPos::Left, VPos::Center)),
            )))?;
        }
        Ok(())
    }
}

/// Points on the grid map: the repeat hot spots, each a circle whose area grows with its
/// cases, the largest ten red and labelled with their ids, over the grey grids and the district
/// outlines.
pub struct PointMap {
    pub title: String,
    pub lang: Lang,
    pub grids: Vec<MultiPolygon<f64>>,
    pub outlines: Vec<MultiPolygon<f64>>,
    /// (lon, lat, cases, label).
    pub points: Vec<(f64, f64, u64, String)>,
}

impl Chart for PointMap {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>, s: f64) -> DrawResult
    where
        DB::ErrorType: 'static,
    {
        use geo::BoundingRect;
        root.fill(&WHITE)?;
        if self.points.is_empty() {
            return no_data(root, &self.title, self.lang, s);
        }
        let root = root.titled(&self.title, title_font(s))?;
        let (w, h) = root.dim_in_pixel();
        let bbox = self.grids.iter().chain(&self.outlines).filter_map(|g| g.bounding_rect()).reduce(|a, b| {
            geo::Rect::new(
                geo::Coord { x: a.min().x.min(b.min().x), y: a.min().y.min(b.min().y) },
                geo::Coord { x: a.max().x.max(b.max().x), y: a.max().y.max(b.max().y) },
            )
        });
        let Some(bbox) = bbox else { return Ok(()) };
        let k = (bbox.center().y.to_radians().cos()).max(0.1);
        let (mw, mh) = (w as f64, h as f64 - 10.0 * s);
        let scale = (mw / (bbox.width() * k)).min(mh / bbox.height());
        let (xr, yr) = (mw / scale / k, mh / scale);
        let (cx, cy) = (bbox.center().x, bbox.center().y);
        let mut chart =
            ChartBuilder::on(&root).margin(px(5.0, s)).build_cartesian_2d(cx - xr / 2.0..cx + xr / 2.0, cy - yr / 2.0..cy + yr / 2.0)?;
        for g in &self.grids {
            for poly in &g.0 {
                let ring: Vec<(f64, f64)> = poly.exterior().coords().map(|c| (c.x, c.y)).collect();
                chart.draw_series(std::iter::once(Polygon::new(ring.clone(), RGBColor(236, 236, 236).filled())))?;
                chart.draw_series(std::iter::once(PathElement::new(ring, WHITE.stroke_width(1))))?;
            }
        }
        draw_outlines(&mut chart, &self.outlines, s)?;
        let max = self.points.iter().map(|p| p.2).max().unwrap_or(1).max(1) as f64;
        // Smallest first, so large circles never hide small ones entirely.
        let mut order: Vec<usize> = (0..self.points.len()).collect();
        order.sort_by_key(|&i| (self.points[i].2, std::cmp::Reverse(i)));
        for i in order {
            let (x, y, n, _) = &self.points[i];
            let r = px(3.0 + 13.0 * (*n as f64 / max).sqrt(), s);
            let color = if i < 10 { ACCENT } else { SERIES[1] };
            chart.draw_series(std::iter::once(Circle::new((*x, *y), r, color.mix(0.75).filled())))?;
            chart.draw_series(std::iter::once(Circle::new((*x, *y), r, WHITE.stroke_width(px(1.0, s)))))?;
        }
        // The largest ten labelled; hot spots of one site (several categories) share a label,
        // one line each, so labels never print over each other.
        let mut labels: Vec<(f64, f64, Vec<String>)> = Vec::new();
        for (x, y, n, label) in self.points.iter().take(10) {
            match labels.iter_mut().find(|l| (l.0 - x).abs() < 0.003 && (l.1 - y).abs() < 0.003) {
                Some(l) => l.2.push(format!("{label} ({n})")),
                None => labels.push((*x, *y, vec![format!("{label} ({n})")])),
            }
        }
        let line = (yr / mh) * px(12.0, s) as f64;
        for (x, y, lines) in labels {
            for (j, text) in lines.iter().enumerate() {
                chart.draw_series(std::iter::once(Text::new(
                    text.clone(),
                    (x + xr * 0.012, y - line * j as f64),
                    font(9.0, s).pos(Pos::new(HPos::Left, VPos::Center)),
                )))?;
            }
        }
        Ok(())
    }
}

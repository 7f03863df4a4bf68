//! The case model shared by the three case files: when a case arrives (daily cycle, weekdays,
//! seasons, holidays), what it is about, where it is, how it ends and how the caller rates it.
//! The per-file writers (records.rs) only decide how a case is *presented* and which rows carry
//! deliberate defects.

use chrono::{Datelike, NaiveDate, NaiveDateTime, TimeDelta};
use geo::{BoundingRect, Contains, InteriorPoint, Point};
use rand::Rng;
use rand_chacha::ChaCha8Rng;
use rstar::RTree;
use rstar::primitives::{GeomWithData, Rectangle};

use super::admin::Grid;
use super::reference::Reference;
use super::util::{Cumulative, from_km, rng_for, round6, std_normal, to_km};
use super::{AS_OF, PERIOD_DAYS, PERIOD_START};

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Source {
    Hotline,
    App,
    Inspector,
}

impl Source {
    fn idx(self) -> usize {
        match self {
            Source::Hotline => 0,
            Source::App => 1,
            Source::Inspector => 2,
        }
    }
}

#[derive(Clone, Copy)]
enum Season {
    Flat,
    /// Beijing heats from 15 November to 15 March; complaints peak when heating starts.
    Heating,
    /// Noise: windows open in summer.
    Summer,
    /// Unpaid wages peak before the Spring Festival.
    BeforeSpringFestival,
}

#[derive(Clone, Copy)]
pub(crate) enum Dept {
    /// A district bureau: "<district name><bureau>".
    District(&'static str),
    /// The street office (街道办事处) or township government (乡镇人民政府).
    Street,
}

pub(crate) struct Sub {
    pub name: &'static str,
    /// Time limit in hours (due = received + limit).
    pub limit_h: i64,
    weight: f64,
    /// Mosquitoes: only in the warm months.
    summer_only: bool,
}

pub(crate) struct Category {
    pub name: &'static str,
    pub dept: Dept,
    /// Relative volume in the hotline, the app and the inspectors' reports.
    share: [f64; 3],
    season: Season,
    pub subs: &'static [Sub],
}

const fn sub(name: &'static str, limit_h: i64, weight: f64) -> Sub {
    Sub { name, limit_h, weight, summer_only: false }
}

/// Categories of Beijing 12345 (一级分类 / 二级分类), the bureau that handles them and the time
/// limits (24 h urgent, 72 h, 7 days, 15 days).
pub(crate) static CATEGORIES: &[Category] = &[
    Category {
        name: "供暖",
        dept: Dept::District("城市管理委"),
        share: [0.08, 0.02, 0.0],
        season: Season::Heating,
        subs: &[sub("室温不达标", 72, 4.0), sub("暖气漏水", 24, 1.5), sub("供暖费争议", 168, 1.0), sub("停暖", 24, 1.0)],
    },
    Category {
        name: "物业管理",
        dept: Dept::District("住房城乡建设委"),
        share: [0.14, 0.04, 0.02],
        season: Season::Flat,
        subs: &[sub("物业服务质量", 168, 3.0), sub("电梯故障", 24, 1.0), sub("公共设施维修", 72, 2.0), sub("物业收费", 360, 1.0)],
    },
    Category {
        name: "噪声扰民",
        dept: Dept::District("生态环境局"),
        share: [0.09, 0.06, 0.03],
        season: Season::Summer,
        subs: &[sub("施工噪声", 72, 2.0), sub("社会生活噪声", 72, 3.0), sub("商业经营噪声", 72, 1.5)],
    },
    Category {
        name: "市容环卫",
        dept: Dept::District("城市管理委"),
        share: [0.10, 0.30, 0.35],
        season: Season::Flat,
        subs: &[
            sub("垃圾清运不及时", 24, 3.0),
            sub("道路不洁", 72, 2.0),
            Sub { name: "蚊虫消杀", limit_h: 72, weight: 1.5, summer_only: true },
            sub("小广告", 72, 1.5),
        ],
    },
    Category {
        name: "违法建设",
        dept: Dept::District("城管执法局"),
        share: [0.04, 0.08, 0.15],
        season: Season::Flat,
        subs: &[sub("违建房屋", 360, 2.0), sub("私搭乱建", 360, 2.0), sub("占用绿地", 360, 1.0)],
    },
    Category {
        name: "交通管理",
        dept: Dept::District("交通委"),
        share: [0.06, 0.03, 0.02],
        season: Season::Flat,
        subs: &[sub("信号灯故障", 24, 1.0), sub("道路拥堵", 168, 1.5), sub("公交运营", 168, 1.5)],
    },
    Category {
        name: "停车管理",
        dept: Dept::District("交通委"),
        share: [0.07, 0.15, 0.15],
        season: Season::Flat,
        subs: &[sub("违章停车", 24, 3.0), sub("占用消防通道", 24, 1.0), sub("停车收费", 168, 1.0)],
    },
    Category {
        name: "市政设施",
        dept: Dept::District("城市管理委"),
        share: [0.07, 0.20, 0.25],
        season: Season::Flat,
        subs: &[sub("路灯不亮", 72, 2.0), sub("井盖缺失破损", 24, 1.5), sub("道路破损", 168, 2.0), sub("供水问题", 24, 1.5)],
    },
    Category {
        name: "房屋管理",
        dept: Dept::District("住房城乡建设委"),
        share: [0.07, 0.02, 0.0],
        season: Season::Flat,
        subs: &[sub("房屋漏水", 168, 2.0), sub("老旧小区改造", 360, 1.5), sub("房屋租赁", 360, 1.0)],
    },
    Category {
        name: "劳动社保",
        dept: Dept::District("人力社保局"),
        share: [0.08, 0.0, 0.0],
        season: Season::BeforeSpringFestival,
        subs: &[sub("拖欠工资", 360, 3.0), sub("社保缴纳", 360, 1.5), sub("劳动合同", 360, 1.0)],
    },
    Category {
        name: "市场监管",
        dept: Dept::District("市场监管局"),
        share: [0.08, 0.05, 0.03],
        season: Season::Flat,
        subs: &[sub("食品安全", 168, 1.5), sub("价格问题", 168, 1.0), sub("消费纠纷", 168, 2.0)],
    },
    Category {
        name: "其他",
        dept: Dept::Street,
        share: [0.12, 0.05, 0.0],
        season: Season::Flat,
        subs: &[sub("政策咨询", 168, 2.0), sub("意见建议", 360, 1.0), sub("其他诉求", 168, 1.0)],
    },
];

/// Hotline channels (来源渠道) and their shares; 街乡吹哨 cases get no follow-up call.
pub(crate) const CHANNELS: [(&str, f64); 4] = [("12345热线", 0.80), ("12345网站", 0.08), ("微信小程序", 0.08), ("街乡吹哨", 0.04)];
pub(crate) const WHISTLE: usize = 3;

/// Arrivals by hour of day: two office-hour peaks, few at night; inspectors patrol 8-18 h.
const HOURS: [[f64; 24]; 3] = [
    [0.4, 0.25, 0.15, 0.1, 0.1, 0.2, 0.6, 1.8, 4.0, 6.5, 7.0, 6.0, 3.8, 4.2, 6.0, 6.5, 6.0, 4.5, 3.2, 2.8, 2.6, 2.0, 1.3, 0.7],
    [0.3, 0.15, 0.1, 0.05, 0.05, 0.2, 0.8, 2.5, 4.0, 4.5, 4.5, 4.0, 3.5, 3.5, 4.0, 4.0, 4.0, 4.0, 4.5, 4.5, 4.0, 3.0, 1.5, 0.7],
    [0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.1, 0.8, 4.0, 6.0, 6.5, 5.0, 1.5, 2.5, 5.5, 6.0, 5.0, 2.5, 0.5, 0.2, 0.1, 0.0, 0.0, 0.0],
];
/// Monday..Sunday.
const WEEKDAY: [[f64; 7]; 3] =
    [[1.0, 1.0, 1.0, 1.0, 0.97, 0.75, 0.7], [1.0, 1.0, 1.0, 1.0, 1.0, 0.95, 0.9], [1.0, 1.0, 1.0, 1.0, 1.0, 0.35, 0.3]];
const HOLIDAY: [f64; 3] = [0.6, 0.8, 0.3];
/// Share of cases withdrawn by the caller / voided.
const CANCELLED: [f64; 3] = [0.02, 0.03, 0.015];
/// Log of (handling time / time limit): median ~0.47 of the limit for the hotline, and about
/// 17 % beyond the limit (P(Z > 0.94) with sigma 0.8).
const LOG_DURATION_MU: [f64; 3] = [-0.75, -0.8, -1.0];
const LOG_DURATION_SIGMA: f64 = 0.8;
const HOTSPOT_COUNT: usize = 40;
/// Share of located cases that come from a hot spot.
const HOTSPOT_SHARE: f64 = 0.30;
const HOTSPOT_SIGMA_KM: f64 = 0.3;
/// Every other hot spot is a single site residents complain about again and again (a
/// building's heating, a noisy shop): σ ≈ 25 m, so repeat-complaint clusters exist.
const SITE_SIGMA_KM: f64 = 0.025;

fn is_holiday(d: NaiveDate) -> bool {
    let md = (d.month(), d.day());
    // New Year, Spring Festival 2026 (17 Feb, 9-day break), National Day week.
    md == (1, 1) || (d.year() == 2026 && md.0 == 2 && (15..=23).contains(&md.1)) || (md.0 == 10 && md.1 <= 7)
}

fn season_factor(s: Season, d: NaiveDate) -> f64 {
    let (m, day) = (d.month(), d.day());
    match s {
        Season::Flat => 1.0,
        Season::Heating => match (m, day) {
            (11, 1..=14) => 0.3,
            (11, _) => 3.0,
            (12, _) | (1, _) => 2.5,
            (2, _) => 1.8,
            (3, 1..=15) => 1.2,
            (3, _) => 0.2,
            _ => 0.05,
        },
        Season::Summer => match m {
            6..=8 => 1.8,
            5 | 9 => 1.4,
            11..=12 | 1..=3 => 0.7,
            _ => 1.0,
        },
        Season::BeforeSpringFestival => match m {
            12 | 1 | 2 => 1.6,
            _ => 0.85,
        },
    }
}

fn sub_weight(s: &Sub, d: NaiveDate) -> f64 {
    if !s.summer_only {
        return s.weight;
    }
    s.weight
        * match d.month() {
            6..=9 => 4.0,
            5 | 10 => 1.0,
            _ => 0.05,
        }
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Outcome {
    Closed(NaiveDateTime),
    Open,
    Cancelled,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Satisfaction {
    Satisfied,
    Basic,
    Unsatisfied,
}

#[derive(Clone, Copy, Debug)]
pub(crate) struct FollowUp {
    /// False: the call-back failed (回访有效 = 否) and the answers are unknown.
    pub valid: bool,
    pub contacted: bool,
    pub resolved: bool,
    pub satisfaction: Satisfaction,
}

#[derive(Clone, Debug)]
pub(crate) struct Case {
    pub grid: usize,
    /// WGS84, 6 decimals, inside `grid`.
    pub lon: f64,
    pub lat: f64,
    pub cat: usize,
    pub sub: usize,
    pub received: NaiveDateTime,
    pub due: NaiveDateTime,
    pub outcome: Outcome,
    pub followup: Option<FollowUp>,
    /// Index into CHANNELS (hotline only).
    pub channel: usize,
}

struct Hotspot {
    x: f64,
    y: f64,
    grid: usize,
    cat: usize,
    weight: f64,
    sigma_km: f64,
}

/// Everything the case generators share: the grids, a point index, population weights, hot
/// spots and a service quality per street.
pub(crate) struct World<'a> {
    pub reference: &'a Reference,
    pub grids: &'a [Grid],
    index: RTree<GeomWithData<Rectangle<[f64; 2]>, usize>>,
    population: Option<Cumulative>,
    hotspots: Vec<Hotspot>,
    /// Per street index, ~N(0,1): good streets resolve more, faster, and please more callers.
    pub quality: Vec<f64>,
}

impl<'a> World<'a> {
    pub(crate) fn new(reference: &'a Reference, grids: &'a [Grid], seed: u64) -> World<'a> {
        let boxes = grids
            .iter()
            .enumerate()
            .filter_map(|(i, g)| {
                g.shape
                    .bounding_rect()
                    .map(|r| GeomWithData::new(Rectangle::from_corners([r.min().x, r.min().y], [r.max().x, r.max().y]), i))
            })
            .collect();
        let index = RTree::bulk_load(boxes);
        let population = Cumulative::new(grids.iter().map(|g| g.population as f64));
        let mut rng = rng_for(seed, 0xCA5E_0001);
        let quality = (0..reference.streets.len()).map(|_| std_normal(&mut rng)).collect();
        let mut world = World { reference, grids, index, population, hotspots: Vec::new(), quality };
        let cat_table = Cumulative::new(CATEGORIES.iter().map(|c| c.share[0]));
        for rank in 0..HOTSPOT_COUNT {
            let Some(grid) = world.population.as_ref().map(|p| p.sample(&mut rng)) else {
                break;
            };
            let (lon, lat) = world.uniform_in(grid, &mut rng);
            let (x, y) = to_km(lon, lat);
            let cat = cat_table.as_ref().map(|t| t.sample(&mut rng)).unwrap_or(0);
            // Zipf-like: a few spots dominate, as repeat-complaint sites do.
            let weight = 1.0 / (rank as f64 + 1.0).powf(0.8);
            let sigma_km = if rank % 2 == 1 { SITE_SIGMA_KM } else { HOTSPOT_SIGMA_KM };
            world.hotspots.push(Hotspot { x, y, grid, cat, weight, sigma_km });
        }
        world
    }

    /// The grid containing a point, if any (the lowest index on a shared edge).
    pub(crate) fn locate(&self, lon: f64, lat: f64) -> Option<usize> {
        let mut cand: Vec<usize> = self.index.locate_all_at_point(&[lon, lat]).map(|g| g.data).collect();
        cand.sort_unstable();
        cand.into_iter().find(|&i| self.grids[i].shape.contains(&Point::new(lon, lat)))
    }

    /// A uniform point inside a grid, rounded to 6 decimals and still inside it.
    pub(crate) fn uniform_in(&self, grid: usize, rng: &mut ChaCha8Rng) -> (f64, f64) {
        let shape = &self.grids[grid].shape;
        if let Some(r) = shape.bounding_rect() {
            for _ in 0..500 {
                let lon = round6(rng.random_range(r.min().x..=r.max().x));
                let lat = round6(rng.random_range(r.min().y..=r.max().y));
                if shape.contains(&Point::new(lon, lat)) {
                    return (lon, lat);
                }
            }
        }
        // Extremely thin cells only; the interior point is inside by construction.
        shape.interior_point().map(|p| (p.x(), p.y())).unwrap_or((0.0, 0.0))
    }

    /// Where a case of category `cat` happens: near a hot spot (30 %, spots of the same category
    /// 4x as likely), else in a population-weighted grid.
    fn place(&self, cat: usize, rng: &mut ChaCha8Rng) -> (usize, f64, f64) {
        if !self.hotspots.is_empty() && rng.random::<f64>() < HOTSPOT_SHARE {
            let table = Cumulative::new(self.hotspots.iter().map(|h| h.weight * if h.cat == cat { 4.0 } else { 1.0 }));
            if let Some(t) = table {
                let h = &self.hotspots[t.sample(rng)];
                for _ in 0..20 {
                    let (lon, lat) = from_km(h.x + h.sigma_km * std_normal(rng), h.y + h.sigma_km * std_normal(rng));
                    let (lon, lat) = (round6(lon), round6(lat));
                    if let Some(g) = self.locate(lon, lat) {
                        return (g, lon, lat);
                    }
                }
                let (lon, lat) = self.uniform_in(h.grid, rng);
                return (h.grid, lon, lat);
            }
        }
        let grid = self.population.as_ref().map(|p| p.sample(rng)).unwrap_or(0);
        let (lon, lat) = self.uniform_in(grid, rng);
        (grid, lon, lat)
    }

    pub(crate) fn street_of(&self, grid: usize) -> usize {
        self.grids[grid].street
    }

    /// The 承办单位 of a case.
    pub(crate) fn department(&self, cat: usize, grid: usize) -> String {
        let g = &self.grids[grid];
        match CATEGORIES[cat].dept {
            Dept::District(bureau) => {
                format!("{}{}", self.reference.districts[g.district].name, bureau)
            }
            Dept::Street => {
                let s = &self.reference.streets[g.street].name;
                if s.ends_with("街道") { format!("{s}办事处") } else { format!("{s}人民政府") }
            }
        }
    }
}

fn clamp01(p: f64, lo: f64, hi: f64) -> f64 {
    p.clamp(lo, hi)
}

/// `n` cases of one source over the 12-month period, sorted by received time.
pub(crate) fn generate(world: &World, source: Source, n: usize, seed: u64) -> Vec<Case> {
    let s = source.idx();
    let mut rng = rng_for(seed, 0xCA5E_0100 + s as u64);
    let days: Vec<NaiveDate> = (0..PERIOD_DAYS).map(|d| PERIOD_START + TimeDelta::days(d as i64)).collect();
    // Joint table over (category, day) so that seasons shape both volume and mix.
    let table = Cumulative::new(CATEGORIES.iter().flat_map(|c| {
        days.iter().map(move |&d| {
            let wd = WEEKDAY[s][d.weekday().num_days_from_monday() as usize];
            let hol = if is_holiday(d) { HOLIDAY[s] } else { 1.0 };
            c.share[s] * season_factor(c.season, d) * wd * hol
        })
    }));
    let hours = Cumulative::new(HOURS[s].iter().copied());
    let channels = Cumulative::new(CHANNELS.iter().map(|c| c.1));
    let as_of = AS_OF.and_time(chrono::NaiveTime::MIN);
    let (Some(table), Some(hours), Some(channels)) = (table, hours, channels) else {
        return Vec::new();
    };

    let mut out = Vec::with_capacity(n);
    for _ in 0..n {
        let idx = table.sample(&mut rng);
        let (cat, day) = (idx / PERIOD_DAYS, idx % PERIOD_DAYS);
        let date = days[day];
        let category = &CATEGORIES[cat];
        let sub = Cumulative::new(category.subs.iter().map(|x| sub_weight(x, date))).map(|t| t.sample(&mut rng)).unwrap_or(0);
        let hour = hours.sample(&mut rng) as u32;
        let secs = hour as i64 * 3600 + rng.random_range(0..3600);
        let received = date.and_time(chrono::NaiveTime::MIN) + TimeDelta::seconds(secs);
        let limit_h = category.subs[sub].limit_h;
        let due = received + TimeDelta::hours(limit_h);
        let (grid, lon, lat) = world.place(cat, &mut rng);
        let q = world.quality[world.street_of(grid)];
        let channel = if source == Source::Hotline { channels.sample(&mut rng) } else { 0 };

        let age_days = (as_of - received).num_seconds() as f64 / 86_400.0;
        // Recent cases are more often still open: some are simply not finished yet.
        let stuck = 0.05 + 0.25 * (-age_days / 20.0).exp();
        let outcome = if rng.random::<f64>() < CANCELLED[s] {
            Outcome::Cancelled
        } else if rng.random::<f64>() < stuck {
            Outcome::Open
        } else {
            let log_ratio = LOG_DURATION_MU[s] - 0.15 * q + LOG_DURATION_SIGMA * std_normal(&mut rng);
            let hours_taken = (limit_h as f64 * log_ratio.exp()).max(0.2);
            let closed = received + TimeDelta::seconds((hours_taken * 3600.0).round() as i64);
            if closed > as_of { Outcome::Open } else { Outcome::Closed(closed) }
        };

        let followup = match outcome {
            Outcome::Closed(closed) => {
                let asked = match source {
                    Source::Hotline => channel != WHISTLE && rng.random::<f64>() < 0.78,
                    Source::App => rng.random::<f64>() < 0.60,
                    Source::Inspector => false,
                };
                asked.then(|| {
                    let valid = source != Source::Hotline || rng.random::<f64>() < 0.90;
                    let contacted = rng.random::<f64>() < clamp01(0.95 + 0.02 * q, 0.80, 0.995);
                    let late = if closed > due { 0.10 } else { 0.0 };
                    let resolved = rng.random::<f64>() < clamp01(0.75 + 0.07 * q - late, 0.35, 0.97);
                    let w = if resolved {
                        [0.78 + 0.05 * q, 0.17, (0.05 - 0.02 * q).max(0.01)]
                    } else {
                        [0.25 + 0.05 * q, 0.30, (0.45 - 0.05 * q).max(0.05)]
                    };
                    let satisfaction = match Cumulative::new(w.iter().map(|x| x.max(0.01))).map(|t| t.sample(&mut rng)) {
                        Some(0) => Satisfaction::Satisfied,
                        Some(1) => Satisfaction::Basic,
                        _ => Satisfaction::Unsatisfied,
                    };
                    FollowUp { valid, contacted, resolved, satisfaction }
                })
            }
            _ => None,
        };
        out.push(Case { grid, lon, lat, cat, sub, received, due, outcome, followup, channel });
    }
    // Stable sort: equal timestamps keep their generation order, so the order is deterministic.
    out.sort_by_key(|c| c.received);
    out
}

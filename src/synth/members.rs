//! `member_roster.csv` and `member_activities.csv`: in-service party members reporting to the
//! communities they live in (在职党员回社区报到). A sample of about 3 members per 1,000 residents
//! (Beijing reports about 33: 717,300 in 2018–19), each employed by one of 24 organisations and
//! registered with a community that has grids; 30 % never serve, the others serve a few times
//! a year (1–4 hours, in their own community or, one time in five, a neighbouring one).
//! Quirks: a roster row without an id, a member listed twice, activities entered twice, an
//! unreadable date, activities of ids on no roster.

use std::path::Path;

use chrono::TimeDelta;
use rand::Rng;

use super::cases::World;
use super::util::{rng_for, write_csv};
use super::{AS_OF, PERIOD_DAYS, PERIOD_START, SynthError};

pub(crate) const ROSTER_HEADER: [&str; 4] = ["党员编号", "所在单位", "报到社区编码", "报到日期"];
pub(crate) const ACTIVITY_HEADER: [&str; 5] = ["党员编号", "服务日期", "服务社区编码", "服务时长", "服务类型"];

const ORGANISATIONS: [&str; 24] = [
    "市财政局",
    "市发展改革委",
    "市教委",
    "市卫生健康委",
    "市规划自然资源委",
    "市住房城乡建设委",
    "市交通委",
    "市水务局",
    "区委组织部",
    "区政府办公室",
    "区教委",
    "区卫生健康委",
    "区城市管理委",
    "区市场监管局",
    "区税务局",
    "区法院",
    "国网北京市电力公司",
    "北京银行",
    "首都医科大学附属医院",
    "北京市第二中学",
    "北京地铁运营公司",
    "中国移动北京公司",
    "北京燃气集团",
    "首钢集团",
];
const ACTIVITIES: [&str; 6] = ["治安巡逻", "环境整治", "助老服务", "文明引导", "疫情防控", "政策宣传"];

pub(crate) struct MemberStats {
    pub roster_rows: usize,
    pub activity_rows: usize,
    pub missing_id: usize,
    pub duplicate_member: usize,
    pub duplicate_activity: usize,
    pub bad_date: usize,
    pub unknown_member: usize,
}

pub(crate) fn write(roster_path: &Path, activity_path: &Path, world: &World, seed: u64) -> Result<MemberStats, SynthError> {
    let mut rng = rng_for(seed, 0x0ED_BA0D);
    let mut pop: std::collections::BTreeMap<usize, f64> = std::collections::BTreeMap::new();
    let mut street_of: std::collections::BTreeMap<usize, usize> = std::collections::BTreeMap::new();
    for g in world.grids {
        *pop.entry(g.community).or_default() += g.population as f64;
        street_of.insert(g.community, g.street);
    }
    let communities: Vec<usize> = pop.keys().copied().collect();
    let mut roster: Vec<[String; 4]> = Vec::new();
    let mut activities: Vec<[String; 5]> = Vec::new();
    let mut next = 0u32;
    let last_day = AS_OF;
    for (&c, &p) in &pop {
        let n = ((p / 1000.0) * 3.0).round().max(1.0) as usize;
        let code = &world.reference.communities[c].code;
        for _ in 0..n {
            next += 1;
            let id = format!("ZD{next:06}");
            let org = ORGANISATIONS[(rng.random::<f64>().powi(2) * ORGANISATIONS.len() as f64) as usize % ORGANISATIONS.len()];
            // Most registered in 2018–2019; some later, a few after the as-of day.
            let registered = chrono::NaiveDate::from_ymd_opt(2018, 1, 1).expect("date") + TimeDelta::days(rng.random_range(0..3300));
            roster.push([id.clone(), org.to_owned(), code.clone(), registered.to_string()]);
            if rng.random::<f64>() < 0.3 {
                continue;
            }
            let per_year = rng.random_range(1.0..8.0);
            let k = (per_year * PERIOD_DAYS as f64 / 365.0).round() as usize;
            for _ in 0..k {
                let day = PERIOD_START + TimeDelta::days(rng.random_range(0..PERIOD_DAYS as i64));
                if day > last_day {
                    continue;
                }
                // One time in five in a neighbouring community of the same street.
                let served = if rng.random::<f64>() < 0.2 {
                    let same: Vec<usize> = communities.iter().copied().filter(|x| street_of[x] == street_of[&c]).collect();
                    same[rng.random_range(0..same.len())]
                } else {
                    c
                };
                let hours = [1.0, 1.5, 2.0, 2.0, 3.0, 4.0][rng.random_range(0..6)];
                activities.push([
                    id.clone(),
                    day.to_string(),
                    world.reference.communities[served].code.clone(),
                    format!("{hours}"),
                    ACTIVITIES[rng.random_range(0..ACTIVITIES.len())].to_owned(),
                ]);
            }
        }
    }
    activities.sort();
    let mut stats = MemberStats {
        roster_rows: 0,
        activity_rows: 0,
        missing_id: 0,
        duplicate_member: 0,
        duplicate_activity: 0,
        bad_date: 0,
        unknown_member: 0,
    };
    let n = roster.len();
    for k in 0..(n / 400).max(1) {
        roster[(k * 389 + 7) % n][0].clear();
        stats.missing_id += 1;
    }
    for k in 0..(n / 500).max(1) {
        let r = roster[(k * 499 + 101) % n].clone();
        if !r[0].is_empty() {
            roster.push(r);
            stats.duplicate_member += 1;
        }
    }
    let m = activities.len();
    for k in 0..(m / 600).max(1) {
        activities[(k * 601 + 13) % m][1] = "待补录".into();
        stats.bad_date += 1;
    }
    for k in 0..(m / 500).max(1) {
        let mut a = activities[(k * 509 + 31) % m].clone();
        a[0] = format!("ZX{:06}", k + 1);
        activities.push(a);
        stats.unknown_member += 1;
    }
    for k in 0..(m / 400).max(1) {
        let a = activities[(k * 401 + 57) % m].clone();
        if a[1] != "待补录" {
            activities.push(a);
            stats.duplicate_activity += 1;
        }
    }
    write_csv(roster_path, ROSTER_HEADER, &roster)?;
    write_csv(activity_path, ACTIVITY_HEADER, &activities)?;
    stats.roster_rows = roster.len();
    stats.activity_rows = activities.len();
    Ok(stats)
}

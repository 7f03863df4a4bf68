//! In-service party members reporting to communities (在职党员回社区报到): per place, the
//! members registered with it, per 1,000 residents, how many served in the period, their
//! service hours, and how many meet the yearly requirement; per employing organisation, its
//! members and the share who served.
//!
//! A member belongs to the community on the roster (its registration), and the member's
//! activities count there, wherever they took place; activities of members not on the roster
//! count as `member_activities_unregistered` where they took place. Rosters are read before
//! activity logs (kinds are read in catalogue order). Member ids are hashed when read and never
//! written; a unit or organisation with fewer registered members than
//! `indicators.members.min_members` shows no per-member figure.

use std::collections::HashMap;

use chrono::{Datelike, NaiveDate};

use crate::config::file::MembersFile;
use crate::vocab::column::Field;
use crate::vocab::dictionary::Interner;
use crate::vocab::frame::Frame;
use crate::vocab::record::{ActivityFacts, MemberFacts};
use crate::vocab::stats::rate;

pub static FIELDS: &[Field] = &[
    Field::new(
        "registered_members",
        "报到党员数",
        "members",
        "members on the roster of the unit's communities, registered on or before the as-of day",
    ),
    Field::new("members_per_1000_residents", "每千人报到党员数", "per 1,000 residents", "registered_members / population × 1,000"),
    Field::new("members_active", "服务党员数", "members", "registered members with an activity in the period"),
    Field::new(
        "member_activity_rate",
        "党员服务率",
        "share",
        "members_active / registered_members; empty below indicators.members.min_members",
    ),
    Field::new("member_activities", "服务次数", "activities", "activities in the period of the unit's registered members"),
    Field::new("member_service_hours", "服务时长", "hours", "their hours of service in the period"),
    Field::new("member_hours_per_member", "人均服务时长", "hours", "member_service_hours / registered_members; empty below min_members"),
    Field::new(
        "members_meeting_requirement",
        "达到年度服务要求党员数",
        "members",
        "registered members with ≥ indicators.members.yearly_activities activities or ≥ yearly_hours hours in the as-of day's year, to the as-of moment",
    ),
    Field::new(
        "member_requirement_rate",
        "年度服务达标率",
        "share",
        "members_meeting_requirement / registered_members; empty below min_members",
    ),
    Field::new(
        "member_activities_unregistered",
        "未报到人员服务次数",
        "activities",
        "activities in the period, where they took place, of member ids not on the roster",
    ),
    Field::new("organisation", "所在单位", "", "the members' employing organisation"),
    Field::new(
        "member_active_share",
        "单位党员服务率",
        "share",
        "of the organisation's registered members, the share with an activity in the period; empty below min_members",
    ),
];

#[derive(Debug, Clone, Default)]
struct Member {
    home: u32,
    organisation: u32,
    period_activities: u64,
    period_hours: f64,
    year_activities: u64,
    year_hours: f64,
}

/// The roster and what its members did.
#[derive(Debug, Default)]
pub struct MemberTally {
    members: Vec<Member>,
    index: HashMap<u64, usize>,
    organisations: Interner,
    /// Per home unit: activities of members not on the roster.
    unregistered: HashMap<u32, u64>,
}

impl MemberTally {
    /// A roster row: the member counts from the day registered (no date: always), if that is
    /// on or before the as-of day.
    pub fn add_member(&mut self, home: u32, m: &MemberFacts, as_of: NaiveDate) {
        if m.registered.is_some_and(|d| d > as_of) || self.index.contains_key(&m.member) {
            return;
        }
        let organisation = self.organisations.intern(Some(if m.organisation.is_empty() { "(未注明)" } else { &m.organisation }));
        self.index.insert(m.member, self.members.len());
        self.members.push(Member { home, organisation, ..Default::default() });
    }

    /// An activity: in the period `[start, end]` (days), and in the year of the as-of day up to it.
    pub fn add_activity(&mut self, home: u32, a: &ActivityFacts, period: (NaiveDate, NaiveDate), as_of: NaiveDate) {
        let in_period = a.day >= period.0 && a.day <= period.1 && a.day <= as_of;
        let in_year = a.day.year() == as_of.year() && a.day <= as_of;
        match self.index.get(&a.member) {
            Some(&i) => {
                let m = &mut self.members[i];
                if in_period {
                    m.period_activities += 1;
                    m.period_hours += a.hours;
                }
                if in_year {
                    m.year_activities += 1;
                    m.year_hours += a.hours;
                }
            }
            None if in_period => *self.unregistered.entry(home).or_default() += 1,
            None => {}
        }
    }

    /// The per-member columns of a table whose rows are `rows` places; `unit(home)` is a home
    /// unit's row; `population` the rows' populations.
    pub fn columns(&self, f: &mut Frame, rows: usize, s: &MembersFile, population: &[Option<f64>], unit: impl Fn(u32) -> Option<usize>) {
        let (mut reg, mut active, mut acts, mut hours, mut meet, mut unreg) =
            (vec![0u64; rows], vec![0u64; rows], vec![0u64; rows], vec![0f64; rows], vec![0u64; rows], vec![0u64; rows]);
        for m in &self.members {
            let Some(u) = unit(m.home) else { continue };
            reg[u] += 1;
            active[u] += (m.period_activities > 0) as u64;
            acts[u] += m.period_activities;
            hours[u] += m.period_hours;
            meet[u] += (m.year_activities >= s.yearly_activities || m.year_hours >= s.yearly_hours - 1e-9) as u64;
        }
        for (&home, &n) in &self.unregistered {
            if let Some(u) = unit(home) {
                unreg[u] += n;
            }
        }
        let k = s.min_members.max(1);
        let per = |x: f64, n: u64, d: i32| if n >= k { rate(x, n).map(|v| round(v, d)) } else { None };
        f.int("registered_members", reg.iter().map(|&x| Some(x as i64)).collect());
        f.float(
            "members_per_1000_residents",
            (0..rows)
                .map(|u| population.get(u).copied().flatten().filter(|p| *p > 0.0).map(|p| round(reg[u] as f64 / p * 1000.0, 2)))
                .collect(),
            2,
        );
        f.int("members_active", active.iter().map(|&x| Some(x as i64)).collect());
        f.float("member_activity_rate", (0..rows).map(|u| per(active[u] as f64, reg[u], 4)).collect(), 4);
        f.int("member_activities", acts.iter().map(|&x| Some(x as i64)).collect());
        f.float("member_service_hours", hours.iter().map(|&x| Some(round(x, 1))).collect(), 1);
        f.float("member_hours_per_member", (0..rows).map(|u| per(hours[u], reg[u], 2)).collect(), 2);
        f.int("members_meeting_requirement", meet.iter().map(|&x| Some(x as i64)).collect());
        f.float("member_requirement_rate", (0..rows).map(|u| per(meet[u] as f64, reg[u], 4)).collect(), 4);
        f.int("member_activities_unregistered", unreg.iter().map(|&x| Some(x as i64)).collect());
    }

    /// Per employing organisation (sorted by name): registered and active members, and the
    /// active share where the organisation has at least `min_members`.
    pub fn organisation_table(&self, s: &MembersFile) -> Frame {
        let n = self.organisations.values.len();
        let (mut reg, mut active) = (vec![0u64; n], vec![0u64; n]);
        for m in &self.members {
            reg[m.organisation as usize] += 1;
            active[m.organisation as usize] += (m.period_activities > 0) as u64;
        }
        let mut order: Vec<usize> = (0..n).collect();
        order.sort_by(|&a, &b| self.organisations.values[a].cmp(&self.organisations.values[b]));
        let k = s.min_members.max(1);
        let mut f = Frame::default();
        f.str("organisation", order.iter().map(|&i| Some(self.organisations.values[i].clone())).collect());
        f.int("registered_members", order.iter().map(|&i| Some(reg[i] as i64)).collect());
        f.int("members_active", order.iter().map(|&i| Some(active[i] as i64)).collect());
        f.float(
            "member_active_share",
            order.iter().map(|&i| if reg[i] >= k { rate(active[i] as f64, reg[i]).map(|v| round(v, 4)) } else { None }).collect(),
            4,
        );
        f
    }
}

fn round(x: f64, d: i32) -> f64 {
    let m = 10f64.powi(d);
    (x * m).round() / m
}

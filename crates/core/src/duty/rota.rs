//! Roster generation: a fair round-robin over the eligible people of a unit.
//!
//! Each post of each shift goes to the eligible person with the least duty so far, counting
//! shifts on rest days (weekends and public holidays) separately so those are shared out evenly
//! too; ties go to whoever has waited longest, then to the order of the list. Nobody is given a
//! shift that overlaps one they already have (in this unit or another), falls in their leave, or
//! makes a longer run of back-to-back shifts than the unit allows. A post nobody can fill stays
//! empty, and the gap check reports it.

use std::collections::{BTreeSet, HashMap, HashSet};

use chrono::{DateTime, Days, NaiveDate, Utc};

use super::gaps::{Leave, Requirement, RequirementPeriod};
use super::{DutyRules, DutySettings, SlotKind, overlaps, shift_times};
use crate::calendar::WorkCalendar;
use crate::org::Role;

#[derive(Debug, Clone)]
pub struct Candidate {
    pub user_id: String,
    pub roles: Vec<Role>,
}

pub struct RotaInput<'a> {
    pub settings: &'a DutySettings,
    pub rules: &'a DutyRules,
    /// The unit level's staffing rule.
    pub base: Requirement,
    /// Reinforced periods: shifts in them get extra posts to meet the stricter rule.
    pub periods: &'a [RequirementPeriod],
    pub candidates: &'a [Candidate],
    pub leaves: &'a [Leave],
    /// Shifts people already have: `(user, start, end)`.
    pub busy: &'a [(String, DateTime<Utc>, DateTime<Utc>)],
    /// Shifts that already exist, as `(local date, shift key)`: not generated again.
    pub existing: &'a BTreeSet<(NaiveDate, String)>,
    pub calendar: &'a WorkCalendar,
    pub from: NaiveDate,
    pub to: NaiveDate,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GeneratedShift {
    pub date: NaiveDate,
    pub shift_key: String,
    pub shift_name: String,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    /// `(slot key, slot kind, user)`
    pub assignments: Vec<(String, SlotKind, String)>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Generated {
    pub shifts: Vec<GeneratedShift>,
    /// Posts left empty because nobody could take them.
    pub unfilled: usize,
}

#[derive(Default)]
struct Load {
    total: u32,
    rest_days: u32,
    last_end: Option<DateTime<Utc>>,
    run: u8,
    /// Intervals the person is already taken.
    taken: Vec<(DateTime<Utc>, DateTime<Utc>)>,
    /// Ends and starts of shifts they already had before this generation, so a new shift
    /// right before or after one counts toward the run.
    busy_ends: HashSet<DateTime<Utc>>,
    busy_starts: HashSet<DateTime<Utc>>,
}

pub fn generate(input: &RotaInput<'_>) -> Generated {
    let mut loads: HashMap<&str, Load> = HashMap::new();
    for (user, start, end) in input.busy {
        let load = loads.entry(user.as_str()).or_default();
        load.taken.push((*start, *end));
        load.busy_ends.insert(*end);
        load.busy_starts.insert(*start);
    }
    let mut out = Generated::default();
    let mut date = input.from;
    while date <= input.to {
        let rest_day = input.calendar.is_rest_day(date);
        for def in &input.settings.shifts {
            if input.existing.contains(&(date, def.key.clone())) {
                continue;
            }
            let (start, end) = shift_times(date, def);
            let need = input
                .periods
                .iter()
                .filter(|p| overlaps((p.starts_at, p.ends_at), (start, end)))
                .fold(input.base, |acc, p| acc.max(p.requirement));
            let mut posts = posts_for(input.settings, need);
            let mut shift = GeneratedShift {
                date,
                shift_key: def.key.clone(),
                shift_name: def.name.clone(),
                starts_at: start,
                ends_at: end,
                assignments: Vec::new(),
            };
            // Leader posts first: there are fewest people for them.
            posts.sort_by_key(|(_, kind)| *kind != SlotKind::Leader);
            for (slot_key, kind) in posts {
                let chosen = input
                    .candidates
                    .iter()
                    .enumerate()
                    .filter(|(_, c)| input.rules.eligible(kind, &c.roles))
                    .filter(|(_, c)| !shift.assignments.iter().any(|a| a.2 == c.user_id))
                    .filter(|(_, c)| {
                        !input.leaves.iter().any(|l| {
                            l.user_id == c.user_id
                                && overlaps((l.starts_at, l.ends_at), (start, end))
                        })
                    })
                    .filter(|(_, c)| {
                        let load = loads.get(c.user_id.as_str());
                        let taken = load
                            .is_some_and(|l| l.taken.iter().any(|t| overlaps(*t, (start, end))));
                        // Approximation: a run of existing shifts next to this one counts as one.
                        let run_ok = load.is_none_or(|l| {
                            let before = if l.last_end == Some(start) {
                                l.run
                            } else {
                                u8::from(l.busy_ends.contains(&start))
                            };
                            let after = u8::from(l.busy_starts.contains(&end));
                            before + 1 + after <= input.settings.max_consecutive
                        });
                        !taken && run_ok
                    })
                    .min_by_key(|(i, c)| {
                        // Read by reference: a person's load holds every shift they have.
                        let load = loads.get(c.user_id.as_str());
                        let rest = if rest_day { load.map_or(0, |l| l.rest_days) } else { 0 };
                        (rest, load.map_or(0, |l| l.total), load.and_then(|l| l.last_end), *i)
                    })
                    .map(|(_, c)| c);
                match chosen {
                    Some(c) => {
                        let load = loads.entry(c.user_id.as_str()).or_default();
                        load.run = if load.last_end == Some(start) {
                            load.run + 1
                        } else {
                            1 + u8::from(load.busy_ends.contains(&start))
                        };
                        load.total += 1;
                        load.rest_days += u32::from(rest_day);
                        load.last_end = Some(end);
                        load.taken.push((start, end));
                        shift.assignments.push((slot_key, kind, c.user_id.clone()));
                    }
                    None => out.unfilled += 1,
                }
            }
            out.shifts.push(shift);
        }
        match date.checked_add_days(Days::new(1)) {
            Some(next) => date = next,
            None => break,
        }
    }
    out
}

/// The posts of one shift: the pattern's, plus extra leader and officer posts when a reinforced
/// period asks for more than the pattern has.
fn posts_for(settings: &DutySettings, need: Requirement) -> Vec<(String, SlotKind)> {
    let mut posts: Vec<(String, SlotKind)> = settings
        .slots
        .iter()
        .flat_map(|s| std::iter::repeat_n((s.key.clone(), s.kind), usize::from(s.count)))
        .collect();
    let leaders = posts.iter().filter(|p| p.1 == SlotKind::Leader).count();
    let staff = posts.len() - leaders;
    let extra = |kind: SlotKind| {
        settings
            .slots
            .iter()
            .find(|s| s.kind == kind)
            .or_else(|| settings.slots.iter().find(|s| s.kind != SlotKind::Leader))
            .map(|s| (s.key.clone(), s.kind))
    };
    if let Some(post) = extra(SlotKind::Leader) {
        for _ in leaders..usize::from(need.leaders) {
            posts.push(post.clone());
        }
    }
    if let Some(post) = extra(SlotKind::Officer) {
        for _ in staff..usize::from(need.min_staff) {
            posts.push(post.clone());
        }
    }
    posts
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::duty::{GapShift, find_gaps};

    fn people() -> Vec<Candidate> {
        let c = |id: &str, role| Candidate { user_id: id.into(), roles: vec![role] };
        vec![
            c("l1", Role::DutyLeader),
            c("l2", Role::Leader),
            c("l3", Role::DutyLeader),
            c("o1", Role::DutyOfficer),
            c("o2", Role::DutyOfficer),
            c("o3", Role::DutyOfficer),
            c("o4", Role::DutyOfficer),
            c("o5", Role::Staff),
            c("o6", Role::Staff),
            c("v", Role::Viewer),
        ]
    }

    fn run(from: &str, to: &str, leaves: &[Leave], periods: &[RequirementPeriod]) -> Generated {
        let settings = DutySettings::default();
        let rules = DutyRules::default();
        let calendar = WorkCalendar::builtin();
        let candidates = people();
        let existing = BTreeSet::new();
        generate(&RotaInput {
            settings: &settings,
            rules: &rules,
            base: Requirement { leaders: 1, min_staff: 3 },
            periods,
            candidates: &candidates,
            leaves,
            busy: &[],
            existing: &existing,
            calendar: &calendar,
            from: from.parse().unwrap(),
            to: to.parse().unwrap(),
        })
    }

    fn as_gap_shifts(g: &Generated) -> Vec<GapShift> {
        g.shifts
            .iter()
            .enumerate()
            .map(|(i, s)| GapShift {
                id: i.to_string(),
                starts_at: s.starts_at,
                ends_at: s.ends_at,
                people: s.assignments.iter().map(|a| (a.1, a.2.clone())).collect(),
            })
            .collect()
    }

    #[test]
    fn a_generated_month_has_no_gaps_and_is_fair() {
        let g = run("2026-01-01", "2026-01-31", &[], &[]);
        assert_eq!(g.shifts.len(), 31);
        assert_eq!(g.unfilled, 0);
        let shifts = as_gap_shifts(&g);
        let from = g.shifts[0].starts_at;
        let to = g.shifts[30].ends_at;
        let need = Requirement { leaders: 1, min_staff: 3 };
        assert_eq!(find_gaps(from, to, &shifts, need, &[], &[], 1), vec![]);
        let count =
            |u: &str| g.shifts.iter().filter(|s| s.assignments.iter().any(|a| a.2 == u)).count();
        // 31 leader shifts over 3 leaders; 93 staff posts over 6 people.
        for l in ["l1", "l2", "l3"] {
            assert!((10..=11).contains(&count(l)), "{l}: {}", count(l));
        }
        for o in ["o1", "o2", "o3", "o4", "o5", "o6"] {
            assert!((15..=16).contains(&count(o)), "{o}: {}", count(o));
        }
        assert_eq!(count("v"), 0);
        // Rest days (Jan 1–3 holiday, weekends, but not the make-up Sunday Jan 4) are shared
        // out too.
        let rest = |u: &str| {
            let cal = WorkCalendar::builtin();
            g.shifts
                .iter()
                .filter(|s| cal.is_rest_day(s.date) && s.assignments.iter().any(|a| a.2 == u))
                .count()
        };
        let leader_rest: Vec<_> = ["l1", "l2", "l3"].iter().map(|l| rest(l)).collect();
        assert!(leader_rest.iter().max().unwrap() - leader_rest.iter().min().unwrap() <= 1);
    }

    #[test]
    fn leave_is_respected_and_short_staff_leaves_posts_empty() {
        let day = |d: &str| shift_times(d.parse().unwrap(), &DutySettings::default().shifts[0]);
        let leaves: Vec<Leave> = ["l1", "l2"]
            .iter()
            .map(|u| Leave {
                user_id: (*u).into(),
                starts_at: day("2026-02-01").0,
                ends_at: day("2026-02-03").1,
            })
            .collect();
        let g = run("2026-02-01", "2026-02-03", &leaves, &[]);
        for s in &g.shifts {
            assert!(!s.assignments.iter().any(|a| a.2 == "l1" || a.2 == "l2"));
        }
        // l3 alone cannot take three 24-hour shifts in a row with max_consecutive 1: the middle
        // one stays without a leader.
        assert_eq!(g.unfilled, 1);
        assert!(g.shifts[1].assignments.iter().all(|a| a.1 != SlotKind::Leader));
    }

    #[test]
    fn reinforced_periods_get_extra_posts() {
        let (start, end) =
            shift_times("2026-10-01".parse().unwrap(), &DutySettings::default().shifts[0]);
        let period = RequirementPeriod {
            starts_at: start,
            ends_at: end,
            requirement: Requirement { leaders: 2, min_staff: 5 },
        };
        let g = run("2026-09-30", "2026-10-01", &[], &[period]);
        let leaders =
            |s: &GeneratedShift| s.assignments.iter().filter(|a| a.1 == SlotKind::Leader).count();
        assert_eq!((leaders(&g.shifts[0]), g.shifts[0].assignments.len()), (1, 4));
        assert_eq!(leaders(&g.shifts[1]), 2);
        // Seven posts on the reinforced day; three of the six staff rest after the day before,
        // so two posts stay empty for the gap check to report.
        assert_eq!(g.shifts[1].assignments.len() + g.unfilled, 7);
        assert_eq!(g.unfilled, 2);
    }
}

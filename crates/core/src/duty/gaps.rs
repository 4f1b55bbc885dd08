//! The gap check: every moment of a window without a shift, without a leader or below the
//! minimum staff, and every person on overlapping shifts, on duty while on leave, or on more
//! shifts in a row than the unit allows. Each finding carries its exact start and end.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;

use super::SlotKind;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum GapKind {
    /// No shift at all.
    Uncovered,
    /// Fewer duty leaders than required.
    NoLeader,
    /// Fewer staff than required.
    Understaffed,
    /// One person on two shifts at the same time.
    Overlap,
    /// A person on duty while on leave.
    OnLeave,
    /// More shifts in a row than the unit allows.
    TooManyConsecutive,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Gap {
    pub kind: GapKind,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    /// The person concerned (conflicts only).
    pub user_id: Option<String>,
    /// The shifts concerned.
    pub shift_ids: Vec<String>,
    /// For staffing gaps: how many were required and how many there are.
    pub required: Option<u8>,
    pub actual: Option<u8>,
}

/// A shift as the gap check sees it: its time and who fills which kind of post.
#[derive(Debug, Clone)]
pub struct GapShift {
    pub id: String,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub people: Vec<(SlotKind, String)>,
}

#[derive(Debug, Clone)]
pub struct Leave {
    pub user_id: String,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Requirement {
    pub leaders: u8,
    pub min_staff: u8,
}

impl Requirement {
    pub fn max(self, other: Requirement) -> Requirement {
        Requirement {
            leaders: self.leaders.max(other.leaders),
            min_staff: self.min_staff.max(other.min_staff),
        }
    }
}

/// A reinforced period (重要时段) raising the requirement between two instants.
#[derive(Debug, Clone)]
pub struct RequirementPeriod {
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub requirement: Requirement,
}

/// Finds every gap and conflict in `[from, to)`. `shifts` may come in any order and may include
/// shifts that only partly fall in the window (they are clipped); people on leave do not count
/// toward staffing.
pub fn find_gaps(
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    shifts: &[GapShift],
    base: Requirement,
    periods: &[RequirementPeriod],
    leaves: &[Leave],
    max_consecutive: u8,
) -> Vec<Gap> {
    let mut shifts: Vec<&GapShift> =
        shifts.iter().filter(|s| s.starts_at < to && s.ends_at > from).collect();
    shifts.sort_by_key(|s| (s.starts_at, s.ends_at));
    let mut leaves_by_user: BTreeMap<&str, Vec<&Leave>> = BTreeMap::new();
    for leave in leaves {
        leaves_by_user.entry(leave.user_id.as_str()).or_default().push(leave);
    }
    let mut gaps = staffing_gaps(from, to, &shifts, base, periods, &leaves_by_user);
    gaps.extend(person_conflicts(&shifts, &leaves_by_user, max_consecutive, from, to));
    gaps.sort_by(|a, b| (a.starts_at, a.kind, &a.user_id).cmp(&(b.starts_at, b.kind, &b.user_id)));
    gaps
}

fn on_leave(
    leaves: &BTreeMap<&str, Vec<&Leave>>,
    user: &str,
    at: (DateTime<Utc>, DateTime<Utc>),
) -> bool {
    leaves.get(user).is_some_and(|ls| ls.iter().any(|l| l.starts_at < at.1 && at.0 < l.ends_at))
}

/// A finding in one segment: its kind, (required, actual) for staffing, the shifts concerned.
type Finding = (GapKind, Option<(u8, u8)>, Vec<String>);

/// Sweeps the window segment by segment, between every boundary of a shift, a period or a leave,
/// and merges neighbouring segments with the same finding.
fn staffing_gaps(
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    shifts: &[&GapShift],
    base: Requirement,
    periods: &[RequirementPeriod],
    leaves: &BTreeMap<&str, Vec<&Leave>>,
) -> Vec<Gap> {
    let mut cuts = BTreeSet::from([from, to]);
    let mut clip = |t: DateTime<Utc>| {
        if t > from && t < to {
            cuts.insert(t);
        }
    };
    for s in shifts {
        clip(s.starts_at);
        clip(s.ends_at);
    }
    for p in periods {
        clip(p.starts_at);
        clip(p.ends_at);
    }
    let people: BTreeSet<&str> =
        shifts.iter().flat_map(|s| s.people.iter().map(|(_, u)| u.as_str())).collect();
    for user in people {
        for l in leaves.get(user).into_iter().flatten() {
            clip(l.starts_at);
            clip(l.ends_at);
        }
    }
    let cuts: Vec<DateTime<Utc>> = cuts.into_iter().collect();
    let mut gaps: Vec<Gap> = Vec::new();
    let mut next_shift = 0;
    let mut active: Vec<&GapShift> = Vec::new();
    for seg in cuts.windows(2) {
        let (start, end) = (seg[0], seg[1]);
        while next_shift < shifts.len() && shifts[next_shift].starts_at <= start {
            active.push(shifts[next_shift]);
            next_shift += 1;
        }
        active.retain(|s| s.ends_at > start);
        let mut found: Vec<Finding> = Vec::new();
        let ids: Vec<String> = active.iter().map(|s| s.id.clone()).collect();
        if active.is_empty() {
            found.push((GapKind::Uncovered, None, ids));
        } else {
            let need = periods
                .iter()
                .filter(|p| p.starts_at <= start && p.ends_at > start)
                .fold(base, |acc, p| acc.max(p.requirement));
            let mut leaders = BTreeSet::new();
            let mut staff = BTreeSet::new();
            for (kind, user) in active.iter().flat_map(|s| s.people.iter()) {
                if on_leave(leaves, user, (start, end)) {
                    continue;
                }
                if *kind == SlotKind::Leader {
                    leaders.insert(user.as_str());
                } else {
                    staff.insert(user.as_str());
                }
            }
            // A person in both kinds of post counts once, as the leader.
            let staff = staff.difference(&leaders).count();
            let count = |n: usize| u8::try_from(n).unwrap_or(u8::MAX);
            if leaders.len() < usize::from(need.leaders) {
                found.push((
                    GapKind::NoLeader,
                    Some((need.leaders, count(leaders.len()))),
                    ids.clone(),
                ));
            }
            if staff < usize::from(need.min_staff) {
                found.push((GapKind::Understaffed, Some((need.min_staff, count(staff))), ids));
            }
        }
        for (kind, numbers, ids) in found {
            let merged = gaps.iter_mut().rev().take(3).find(|g| {
                g.kind == kind && g.ends_at == start && numbers == g.required.zip(g.actual)
            });
            match merged {
                Some(gap) => {
                    gap.ends_at = end;
                    for id in ids {
                        if !gap.shift_ids.contains(&id) {
                            gap.shift_ids.push(id);
                        }
                    }
                }
                None => gaps.push(Gap {
                    kind,
                    starts_at: start,
                    ends_at: end,
                    user_id: None,
                    shift_ids: ids,
                    required: numbers.map(|n| n.0),
                    actual: numbers.map(|n| n.1),
                }),
            }
        }
    }
    gaps
}

fn person_conflicts(
    shifts: &[&GapShift],
    leaves: &BTreeMap<&str, Vec<&Leave>>,
    max_consecutive: u8,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Vec<Gap> {
    let mut by_user: BTreeMap<&str, Vec<&GapShift>> = BTreeMap::new();
    for s in shifts {
        let mut seen = BTreeSet::new();
        for (_, user) in &s.people {
            if seen.insert(user.as_str()) {
                by_user.entry(user.as_str()).or_default().push(s);
            }
        }
    }
    let conflict = |kind, user: &str, start, end, ids: Vec<String>| Gap {
        kind,
        starts_at: start,
        ends_at: end,
        user_id: Some(user.to_owned()),
        shift_ids: ids,
        required: None,
        actual: None,
    };
    let mut gaps = Vec::new();
    for (user, list) in by_user {
        // Sorted by start already (the shifts are); compare each with the ones that follow while
        // they can still overlap.
        for (i, a) in list.iter().enumerate() {
            for b in list[i + 1..].iter().take_while(|b| b.starts_at < a.ends_at) {
                let end = a.ends_at.min(b.ends_at);
                gaps.push(conflict(
                    GapKind::Overlap,
                    user,
                    b.starts_at,
                    end,
                    vec![a.id.clone(), b.id.clone()],
                ));
            }
            for l in leaves.get(user).into_iter().flatten() {
                let start = a.starts_at.max(l.starts_at);
                let end = a.ends_at.min(l.ends_at);
                if start < end {
                    gaps.push(conflict(
                        GapKind::OnLeave,
                        user,
                        start.max(from),
                        end.min(to),
                        vec![a.id.clone()],
                    ));
                }
            }
        }
        let mut run: Vec<&GapShift> = Vec::new();
        let mut flush = |run: &mut Vec<&GapShift>| {
            if run.len() > usize::from(max_consecutive)
                && let (Some(first_extra), Some(last)) =
                    (run.get(usize::from(max_consecutive)), run.last())
            {
                gaps.push(conflict(
                    GapKind::TooManyConsecutive,
                    user,
                    first_extra.starts_at,
                    last.ends_at,
                    run.iter().map(|s| s.id.clone()).collect(),
                ));
            }
            run.clear();
        };
        for s in &list {
            if run.last().is_some_and(|prev| prev.ends_at != s.starts_at) {
                flush(&mut run);
            }
            run.push(s);
        }
        flush(&mut run);
    }
    gaps
}

#[cfg(test)]
mod tests {
    use chrono::{Duration, TimeZone};

    use super::*;

    fn at(h: i64) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 12, 31, 0, 0, 0).unwrap() + Duration::hours(h)
    }

    fn shift(id: &str, from: i64, to: i64, people: &[(SlotKind, &str)]) -> GapShift {
        GapShift {
            id: id.into(),
            starts_at: at(from),
            ends_at: at(to),
            people: people.iter().map(|(k, u)| (*k, (*u).to_owned())).collect(),
        }
    }

    const NEED: Requirement = Requirement { leaders: 1, min_staff: 2 };
    use SlotKind::{Leader as L, Officer as O};

    #[test]
    fn a_full_roster_has_no_gaps() {
        let shifts = [
            shift("a", 0, 12, &[(L, "l1"), (O, "o1"), (O, "o2")]),
            shift("b", 12, 24, &[(L, "l2"), (O, "o3"), (O, "o4")]),
        ];
        assert_eq!(find_gaps(at(0), at(24), &shifts, NEED, &[], &[], 1), vec![]);
    }

    #[test]
    fn uncovered_and_understaffed_moments_have_exact_bounds() {
        // 12:00–14:00 has no shift; the second shift lacks a leader and has one officer, and it
        // runs past the window, which clips it.
        let shifts = [
            shift("a", 0, 12, &[(L, "l1"), (O, "o1"), (O, "o2")]),
            shift("b", 14, 30, &[(O, "o3")]),
        ];
        let gaps = find_gaps(at(0), at(24), &shifts, NEED, &[], &[], 1);
        let kinds: Vec<_> = gaps.iter().map(|g| (g.kind, g.starts_at, g.ends_at)).collect();
        assert_eq!(
            kinds,
            vec![
                (GapKind::Uncovered, at(12), at(14)),
                (GapKind::NoLeader, at(14), at(24)),
                (GapKind::Understaffed, at(14), at(24)),
            ]
        );
        assert_eq!((gaps[2].required, gaps[2].actual), (Some(2), Some(1)));
    }

    #[test]
    fn reinforced_periods_raise_the_bar_only_where_they_apply() {
        let shifts = [shift("a", 0, 24, &[(L, "l1"), (O, "o1"), (O, "o2")])];
        let period = RequirementPeriod {
            starts_at: at(20),
            ends_at: at(30),
            requirement: Requirement { leaders: 2, min_staff: 2 },
        };
        let gaps = find_gaps(at(0), at(24), &shifts, NEED, &[period], &[], 1);
        assert_eq!(gaps.len(), 1);
        assert_eq!(
            (gaps[0].kind, gaps[0].starts_at, gaps[0].ends_at),
            (GapKind::NoLeader, at(20), at(24))
        );
    }

    #[test]
    fn people_on_leave_do_not_count_and_are_flagged() {
        let shifts = [shift("a", 0, 24, &[(L, "l1"), (O, "o1"), (O, "o2")])];
        let leave = Leave { user_id: "o2".into(), starts_at: at(18), ends_at: at(48) };
        let gaps = find_gaps(at(0), at(24), &shifts, NEED, &[], &[leave], 1);
        let kinds: Vec<_> = gaps.iter().map(|g| (g.kind, g.starts_at, g.ends_at)).collect();
        assert_eq!(
            kinds,
            vec![(GapKind::Understaffed, at(18), at(24)), (GapKind::OnLeave, at(18), at(24))]
        );
        assert_eq!(gaps[1].user_id.as_deref(), Some("o2"));
    }

    #[test]
    fn overlaps_and_runs_per_person() {
        // o1 is on a and b, which overlap 10:00–12:00; l1 is on a, c and d back to back.
        let shifts = [
            shift("a", 0, 12, &[(L, "l1"), (O, "o1"), (O, "o2")]),
            shift("b", 10, 12, &[(O, "o1")]),
            shift("c", 12, 24, &[(L, "l1"), (O, "o3"), (O, "o4")]),
            shift("d", 24, 36, &[(L, "l1"), (O, "o5"), (O, "o6")]),
        ];
        let gaps = find_gaps(at(0), at(36), &shifts, NEED, &[], &[], 2);
        let overlap = gaps.iter().find(|g| g.kind == GapKind::Overlap).unwrap();
        assert_eq!((overlap.starts_at, overlap.ends_at), (at(10), at(12)));
        assert_eq!(overlap.user_id.as_deref(), Some("o1"));
        let run = gaps.iter().find(|g| g.kind == GapKind::TooManyConsecutive).unwrap();
        assert_eq!((run.starts_at, run.ends_at), (at(24), at(36)));
        assert_eq!(run.shift_ids, vec!["a", "c", "d"]);
        // Two in a row is allowed with a limit of 2.
        let gaps = find_gaps(at(0), at(24), &shifts[..3], NEED, &[], &[], 2);
        assert!(gaps.iter().all(|g| g.kind != GapKind::TooManyConsecutive));
    }

    #[test]
    fn a_shift_change_at_midnight_leaves_no_moment_uncovered() {
        let shifts = [
            shift("a", -8, 0, &[(L, "l1"), (O, "o1"), (O, "o2")]),
            shift("b", 0, 8, &[(L, "l2"), (O, "o3"), (O, "o4")]),
        ];
        assert!(find_gaps(at(-8), at(8), &shifts, NEED, &[], &[], 1).is_empty());
        // A one-minute hole at the change is found, to the minute.
        let mut late = shifts.clone();
        late[1].starts_at = at(0) + Duration::minutes(1);
        let gaps = find_gaps(at(-8), at(8), &late, NEED, &[], &[], 1);
        assert_eq!(gaps.len(), 1);
        assert_eq!((gaps[0].starts_at, gaps[0].ends_at), (at(0), at(0) + Duration::minutes(1)));
    }
}

//! A unit's duty settings: its published duty phone, the shifts that tile its day and the posts
//! (slots) every shift has.

use chrono::{DateTime, Duration, NaiveDate, NaiveTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::clock::local_midnight;
use crate::error::ValidationErrors;
use crate::org::{Phone, plain_text};

/// What a post on a shift is. The gap check counts `leader` posts as the duty leader (带班领导)
/// and every other kind as duty staff.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum SlotKind {
    /// 带班领导
    Leader,
    /// 值班长
    ShiftLead,
    /// 值班员
    Officer,
    /// Another post the unit defines (dispatch, information, technical support).
    Post,
}

impl SlotKind {
    pub const ALL: [SlotKind; 4] =
        [SlotKind::Leader, SlotKind::ShiftLead, SlotKind::Officer, SlotKind::Post];

    pub fn as_str(self) -> &'static str {
        match self {
            SlotKind::Leader => "leader",
            SlotKind::ShiftLead => "shift_lead",
            SlotKind::Officer => "officer",
            SlotKind::Post => "post",
        }
    }

    pub fn parse(s: &str) -> Option<SlotKind> {
        SlotKind::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

/// A post on every shift of the unit, filled by `count` people by default.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SlotDef {
    /// Stable key (`leader`, `officer`, `dispatch`): lower-case letters, digits and `_`.
    pub key: String,
    pub name: String,
    pub kind: SlotKind,
    /// How many people the post takes on a normal shift (1 to 10).
    pub count: u8,
}

/// One shift of the day, from `start` to `end` local time (China Standard Time). A shift whose
/// end is not after its start runs past midnight; start = end is a 24-hour shift.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ShiftDef {
    pub key: String,
    pub name: String,
    /// `HH:MM`
    pub start: String,
    /// `HH:MM`
    pub end: String,
}

impl ShiftDef {
    fn minutes(s: &str) -> Option<u32> {
        let t = NaiveTime::parse_from_str(s, "%H:%M").ok()?;
        if s.len() != 5 {
            return None;
        }
        Some(chrono::Timelike::hour(&t) * 60 + chrono::Timelike::minute(&t))
    }

    /// Minutes after local midnight at which the shift starts (valid settings only).
    pub fn start_minute(&self) -> u32 {
        Self::minutes(&self.start).unwrap_or(0)
    }

    /// Length in minutes: 1 to 1440.
    pub fn duration_minutes(&self) -> u32 {
        let start = self.start_minute();
        let end = Self::minutes(&self.end).unwrap_or(0);
        let d = (end + 1440 - start) % 1440;
        if d == 0 { 1440 } else { d }
    }
}

/// A unit's duty settings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DutySettings {
    /// The published duty phone (值班电话), public in the directory.
    pub duty_phone: Option<String>,
    pub shifts: Vec<ShiftDef>,
    pub slots: Vec<SlotDef>,
    /// More shifts in a row (each starting when the previous ends) than this is a conflict.
    pub max_consecutive: u8,
    /// A person not checked in this many minutes after the start of the shift raises an alert.
    pub check_in_grace_minutes: u16,
    /// Reminder this many minutes before a shift (0: none).
    pub remind_before_minutes: u16,
    /// Reminder the evening before a shift at this local hour (none when absent).
    pub remind_evening_hour: Option<u8>,
}

impl Default for DutySettings {
    /// One 24-hour shift from 08:30 with a duty leader, a shift lead and three officers: the
    /// county-level minimum (a leader plus 3 staff) with one to spare.
    fn default() -> Self {
        let slot = |key: &str, name: &str, kind, count| SlotDef {
            key: key.to_owned(),
            name: name.to_owned(),
            kind,
            count,
        };
        Self {
            duty_phone: None,
            shifts: vec![ShiftDef {
                key: "day".to_owned(),
                name: "24h".to_owned(),
                start: "08:30".to_owned(),
                end: "08:30".to_owned(),
            }],
            slots: vec![
                slot("leader", "带班领导", SlotKind::Leader, 1),
                slot("shift_lead", "值班长", SlotKind::ShiftLead, 1),
                slot("officer", "值班员", SlotKind::Officer, 2),
            ],
            max_consecutive: 1,
            check_in_grace_minutes: 15,
            remind_before_minutes: 60,
            remind_evening_hour: Some(20),
        }
    }
}

fn check_key(s: &str) -> Result<(), &'static str> {
    let ok = !s.is_empty()
        && s.len() <= 32
        && s.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if ok { Ok(()) } else { Err("invalid_key") }
}

impl DutySettings {
    /// Checks the settings and returns them normalised (names trimmed, shifts in order of start).
    ///
    /// The shifts must tile the day: every minute of the 24 hours in exactly one shift, so that
    /// publishing every day of a period leaves no moment uncovered.
    pub fn validate(mut self) -> Result<DutySettings, ValidationErrors> {
        let mut errors = ValidationErrors::new();
        if let Some(phone) = &self.duty_phone {
            if phone.trim().is_empty() {
                self.duty_phone = None;
            } else if let Some(p) = errors.check("duty_phone", Phone::parse(phone)) {
                self.duty_phone = Some(p.as_str().to_owned());
            }
        }
        if self.shifts.is_empty() {
            errors.add("shifts", "required");
        } else if self.shifts.len() > 6 {
            errors.add("shifts", "too_many");
        }
        for (i, shift) in self.shifts.iter_mut().enumerate() {
            let field = format!("shifts.{i}");
            if let Err(code) = check_key(&shift.key) {
                errors.add(format!("{field}.key"), code);
            }
            match plain_text(&shift.name, 32) {
                Ok(name) => shift.name = name,
                Err(code) => errors.add(format!("{field}.name"), code),
            }
            if ShiftDef::minutes(&shift.start).is_none() {
                errors.add(format!("{field}.start"), "invalid_time");
            }
            if ShiftDef::minutes(&shift.end).is_none() {
                errors.add(format!("{field}.end"), "invalid_time");
            }
        }
        if errors.is_empty() {
            self.shifts.sort_by_key(ShiftDef::start_minute);
            let total: u32 = self.shifts.iter().map(ShiftDef::duration_minutes).sum();
            let n = self.shifts.len();
            let contiguous = (0..n).all(|i| {
                let next = &self.shifts[(i + 1) % n];
                let end = ShiftDef::minutes(&self.shifts[i].end).unwrap_or(0);
                end == next.start_minute()
            });
            let single_ok = n > 1 || self.shifts[0].start == self.shifts[0].end;
            if total != 1440 || !contiguous || !single_ok {
                errors.add("shifts", "not_tiling_day");
            }
            let mut keys: Vec<&str> = self.shifts.iter().map(|s| s.key.as_str()).collect();
            keys.sort_unstable();
            keys.dedup();
            if keys.len() != n {
                errors.add("shifts", "duplicate_key");
            }
        }
        if self.slots.is_empty() {
            errors.add("slots", "required");
        } else if self.slots.len() > 12 {
            errors.add("slots", "too_many");
        }
        for (i, slot) in self.slots.iter_mut().enumerate() {
            let field = format!("slots.{i}");
            if let Err(code) = check_key(&slot.key) {
                errors.add(format!("{field}.key"), code);
            }
            match plain_text(&slot.name, 32) {
                Ok(name) => slot.name = name,
                Err(code) => errors.add(format!("{field}.name"), code),
            }
            if !(1..=10).contains(&slot.count) {
                errors.add(format!("{field}.count"), "out_of_range");
            }
        }
        let mut keys: Vec<&str> = self.slots.iter().map(|s| s.key.as_str()).collect();
        keys.sort_unstable();
        keys.dedup();
        if keys.len() != self.slots.len() {
            errors.add("slots", "duplicate_key");
        }
        if !self.slots.iter().any(|s| s.kind == SlotKind::Leader) {
            errors.add("slots", "leader_slot_required");
        }
        if !(1..=14).contains(&self.max_consecutive) {
            errors.add("max_consecutive", "out_of_range");
        }
        if self.check_in_grace_minutes > 240 {
            errors.add("check_in_grace_minutes", "out_of_range");
        }
        if self.remind_before_minutes > 24 * 60 {
            errors.add("remind_before_minutes", "out_of_range");
        }
        if self.remind_evening_hour.is_some_and(|h| h > 23) {
            errors.add("remind_evening_hour", "out_of_range");
        }
        errors.into_result().map(|()| self)
    }

    pub fn slot(&self, key: &str) -> Option<&SlotDef> {
        self.slots.iter().find(|s| s.key == key)
    }
}

/// The instants at which a shift of `def` on local date `date` starts and ends.
pub fn shift_times(date: NaiveDate, def: &ShiftDef) -> (DateTime<Utc>, DateTime<Utc>) {
    let start = local_midnight(date) + Duration::minutes(i64::from(def.start_minute()));
    (start, start + Duration::minutes(i64::from(def.duration_minutes())))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shift(key: &str, start: &str, end: &str) -> ShiftDef {
        ShiftDef { key: key.into(), name: key.into(), start: start.into(), end: end.into() }
    }

    fn with_shifts(shifts: Vec<ShiftDef>) -> Result<DutySettings, ValidationErrors> {
        DutySettings { shifts, ..DutySettings::default() }.validate()
    }

    #[test]
    fn default_is_valid() {
        assert!(DutySettings::default().validate().is_ok());
    }

    #[test]
    fn shifts_must_tile_the_day() {
        assert!(with_shifts(vec![shift("d", "08:30", "08:30")]).is_ok());
        let two =
            with_shifts(vec![shift("n", "17:30", "08:30"), shift("d", "08:30", "17:30")]).unwrap();
        assert_eq!(two.shifts[0].key, "d", "sorted by start");
        assert_eq!(two.shifts[1].duration_minutes(), 15 * 60);
        let three = vec![shift("a", "00:00", "08:00"), shift("b", "08:00", "16:00")];
        let err = with_shifts(three).unwrap_err();
        assert_eq!(err.get("shifts"), Some("not_tiling_day"));
        let overlap = vec![shift("a", "08:00", "20:00"), shift("b", "19:00", "08:00")];
        assert_eq!(with_shifts(overlap).unwrap_err().get("shifts"), Some("not_tiling_day"));
        let short = vec![shift("a", "08:00", "20:00")];
        assert_eq!(with_shifts(short).unwrap_err().get("shifts"), Some("not_tiling_day"));
        let dup = vec![shift("a", "08:00", "20:00"), shift("a", "20:00", "08:00")];
        assert_eq!(with_shifts(dup).unwrap_err().get("shifts"), Some("duplicate_key"));
        let bad = vec![shift("a", "8:00", "24:00")];
        let err = with_shifts(bad).unwrap_err();
        assert_eq!(err.get("shifts.0.start"), Some("invalid_time"));
        assert_eq!(err.get("shifts.0.end"), Some("invalid_time"));
    }

    #[test]
    fn slots_need_a_leader_and_sane_counts() {
        let mut s = DutySettings::default();
        s.slots.retain(|s| s.kind != SlotKind::Leader);
        s.slots[0].count = 0;
        s.slots[1].key = "Bad Key".into();
        let err = s.validate().unwrap_err();
        assert_eq!(err.get("slots"), Some("leader_slot_required"));
        assert_eq!(err.get("slots.0.count"), Some("out_of_range"));
        assert_eq!(err.get("slots.1.key"), Some("invalid_key"));
    }

    #[test]
    fn shift_times_are_beijing_local_and_cross_midnight() {
        let date = "2026-12-31".parse().unwrap();
        let (start, end) = shift_times(date, &shift("n", "17:30", "08:30"));
        assert_eq!(start.to_rfc3339(), "2026-12-31T09:30:00+00:00");
        assert_eq!(end.to_rfc3339(), "2027-01-01T00:30:00+00:00");
        let (start, end) = shift_times(date, &shift("d", "08:30", "08:30"));
        assert_eq!(start.to_rfc3339(), "2026-12-31T00:30:00+00:00");
        assert_eq!((end - start).num_hours(), 24);
    }
}

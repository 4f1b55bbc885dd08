//! The demo's duty desk: every demo unit gets duty settings for its level, enough people to
//! staff it, and a published roster for the past 30 and next 60 days with no gaps; the city
//! bureau gets a few duty-log entries.
//!
//! The city bureau's roster is arranged so a visitor (and the browser test) finds a story: on
//! the shift covering "now" `duty.leader` leads and `duty.officer` is an officer; on the next
//! shift `leader` leads and `staff` is an officer.

use anyhow::{Context, Result, bail};
use beacon_api::Passwords;
use beacon_core::audit::Actor;
use beacon_core::calendar::WorkCalendar;
use beacon_core::clock::local_date;
use beacon_core::duty::{DutySettings, ShiftDef, SlotDef, SlotKind};
use beacon_core::org::{DisplayName, Role, Unit, UnitLevel, Username};
use beacon_core::scope::Scope;
use beacon_store::duty::{DutyLogWrite, SlotAssignment};
use beacon_store::org::NewUser;
use beacon_store::{Store, StoreError};
use chrono::{Duration, NaiveDate};

use crate::demo::CITY_CODE;

const SURNAMES: [&str; 16] = [
    "张", "王", "李", "赵", "刘", "陈", "杨", "黄", "周", "吴", "徐", "孙", "马", "朱", "胡", "郭",
];
const GIVEN: [&str; 12] = ["伟", "敏", "静", "磊", "洋", "艳", "勇", "军", "杰", "娟", "涛", "明"];

/// Duty staff besides the leader, by level (the default staffing rules).
fn staff_for(level: UnitLevel) -> u8 {
    match level {
        UnitLevel::Province | UnitLevel::City => 4,
        UnitLevel::District => 3,
        UnitLevel::Township => 2,
        UnitLevel::Community | UnitLevel::Department => 1,
    }
}

fn settings_for(unit: &Unit, index: usize) -> DutySettings {
    let staff = staff_for(unit.level);
    let slot = |key: &str, name: &str, kind, count| SlotDef {
        key: key.to_owned(),
        name: name.to_owned(),
        kind,
        count,
    };
    let mut slots = vec![slot("leader", "带班领导", SlotKind::Leader, 1)];
    if staff >= 3 {
        slots.push(slot("shift_lead", "值班长", SlotKind::ShiftLead, 1));
        slots.push(slot("officer", "值班员", SlotKind::Officer, staff - 1));
    } else {
        slots.push(slot("officer", "值班员", SlotKind::Officer, staff));
    }
    DutySettings {
        duty_phone: Some(format!("9990-{:04}", 1000 + index)),
        shifts: vec![ShiftDef {
            key: "day".to_owned(),
            name: "全天班".to_owned(),
            start: "08:30".to_owned(),
            end: "08:30".to_owned(),
        }],
        slots,
        ..DutySettings::default()
    }
}

/// The local date of the 08:30 shift covering now.
fn current_shift_date(store: &Store) -> NaiveDate {
    local_date(store.now() - Duration::minutes(8 * 60 + 30))
}

async fn ensure_person(
    store: &Store,
    actor: &Actor,
    hash: &str,
    username: &str,
    display: &str,
    unit_id: &str,
    role: Role,
) -> Result<()> {
    if store.find_login(username).await?.is_some() {
        return Ok(());
    }
    store
        .create_user(
            &Scope::Global,
            actor,
            NewUser {
                username: Username::parse(username).map_err(anyhow::Error::msg)?,
                display_name: DisplayName::parse(display).map_err(anyhow::Error::msg)?,
                phone: None,
                unit_id: unit_id.to_owned(),
                roles: vec![role],
                password_hash: hash.to_owned(),
                must_change_password: false,
            },
        )
        .await?;
    Ok(())
}

pub async fn seed(store: &Store, passwords: &Passwords, calendar: &WorkCalendar) -> Result<()> {
    let actor = Actor::system("seed-demo");
    let scope = Scope::Global;
    let hash = passwords.hash(crate::demo::DEMO_PASSWORD.to_owned()).await?;
    let today = current_shift_date(store);
    let (from, to) = (today - Duration::days(30), today + Duration::days(60));
    let units = store.list_units(&scope).await?;
    let mut published = 0;
    for (index, unit) in units.iter().enumerate() {
        let has_roster = !store
            .duty_shifts(
                &scope,
                &unit.id,
                store.now() - Duration::days(40),
                store.now() + Duration::days(70),
            )
            .await?
            .is_empty();
        if has_roster {
            continue;
        }
        store.set_duty_settings(&scope, &actor, &unit.id, settings_for(unit, index)).await?;
        // Enough people that nobody works two 24-hour shifts in a row: at least twice the posts.
        let staff = usize::from(staff_for(unit.level));
        let existing = store.duty_people(&scope, &unit.id).await?;
        let count =
            |pred: &dyn Fn(&[Role]) -> bool| existing.iter().filter(|p| pred(&p.roles)).count();
        let leaders = count(&|r| r.contains(&Role::DutyLeader) || r.contains(&Role::Leader));
        let officers = count(&|r| r.contains(&Role::DutyOfficer) || r.contains(&Role::Staff));
        let tag = unit.code.to_ascii_lowercase();
        // The city's arranged shifts take people out of the rotation around today: two more.
        let spare = if unit.code == CITY_CODE { 2 } else { 0 };
        for i in leaders..(3 + spare / 2) {
            let name = format!("{}{}带班", SURNAMES[(index + i) % 16], GIVEN[(index * 3 + i) % 12]);
            ensure_person(
                store,
                &actor,
                &hash,
                &format!("d{tag}.l{i}"),
                &name,
                &unit.id,
                Role::DutyLeader,
            )
            .await?;
        }
        for i in officers..(2 * staff + 2 + spare) {
            let name = format!("{}{}", SURNAMES[(index * 5 + i) % 16], GIVEN[(index + i * 7) % 12]);
            ensure_person(
                store,
                &actor,
                &hash,
                &format!("d{tag}.o{i}"),
                &name,
                &unit.id,
                Role::DutyOfficer,
            )
            .await?;
        }
        if unit.code == CITY_CODE {
            arrange_city(store, &actor, &unit.id, today, calendar).await?;
        }
        store.generate_roster(&scope, &actor, &unit.id, from, to, false, calendar).await?;
        match store.publish_roster(&scope, &actor, false, &unit.id, from, to, false).await {
            Ok(_) => published += 1,
            Err(StoreError::Conflict("roster_has_gaps")) => {
                let window = (
                    beacon_core::duty::shift_times(from, &DutySettings::default().shifts[0]).0,
                    beacon_core::duty::shift_times(to, &DutySettings::default().shifts[0]).1,
                );
                let gaps = store.duty_gaps(&scope, &unit.id, window.0, window.1).await?;
                bail!("the demo roster of {} has gaps: {gaps:?}", unit.code);
            }
            Err(e) => return Err(e).context("publishing a demo roster"),
        }
        if unit.code == CITY_CODE {
            log_entries(store, &actor, &unit.id).await?;
        }
    }
    println!("Duty rosters published for {published} units ({from} to {to}).");
    Ok(())
}

/// Puts the demo's known people on the city's current and next shift.
async fn arrange_city(
    store: &Store,
    actor: &Actor,
    unit_id: &str,
    today: NaiveDate,
    calendar: &WorkCalendar,
) -> Result<()> {
    let scope = Scope::Global;
    store
        .generate_roster(&scope, actor, unit_id, today, today + Duration::days(1), false, calendar)
        .await?;
    let people = store.duty_people(&scope, unit_id).await?;
    let id_of = |username_prefix: &str| -> Result<String> {
        people
            .iter()
            .find(|p| p.display_name == username_prefix)
            .map(|p| p.user_id.clone())
            .with_context(|| format!("demo user {username_prefix} missing"))
    };
    // Display names of the demo users (see demo::USERS) and of generated officers.
    let officers: Vec<String> = people
        .iter()
        .filter(|p| p.roles.contains(&Role::DutyOfficer) && p.display_name != "王值班")
        .map(|p| p.user_id.clone())
        .collect();
    if officers.len() < 6 {
        bail!("the city bureau needs at least 6 generated duty officers");
    }
    let day = |start: NaiveDate| {
        let at = beacon_core::duty::shift_times(start, &DutySettings::default().shifts[0]);
        (at.0, at.0 + Duration::minutes(1))
    };
    let shifts =
        store.duty_shifts(&scope, unit_id, day(today).0, day(today + Duration::days(1)).1).await?;
    let (Some(first), Some(second)) = (shifts.first(), shifts.get(1)) else {
        bail!("the city's current shifts were not generated");
    };
    let post =
        |slot: &str, user: String| SlotAssignment { slot_key: slot.to_owned(), user_id: user };
    store
        .set_shift_people(
            &scope,
            actor,
            false,
            &first.id,
            vec![
                post("leader", id_of("李带班")?),
                post("shift_lead", officers[0].clone()),
                post("officer", id_of("王值班")?),
                post("officer", officers[1].clone()),
                post("officer", officers[2].clone()),
            ],
        )
        .await?;
    store
        .set_shift_people(
            &scope,
            actor,
            false,
            &second.id,
            vec![
                post("leader", id_of("赵局长")?),
                post("shift_lead", officers[3].clone()),
                post("officer", id_of("周办事")?),
                post("officer", officers[4].clone()),
                post("officer", officers[5].clone()),
            ],
        )
        .await?;
    Ok(())
}

async fn log_entries(store: &Store, actor: &Actor, unit_id: &str) -> Result<()> {
    let now = store.now();
    let entries = [
        (
            95,
            "phone",
            "accident",
            "张建国",
            "江南区应急管理局",
            "13800990001",
            "江南区滨江路与凤城街交叉口",
            "一辆危险化学品运输车侧翻，无人员伤亡，少量液体泄漏。",
            "已通知消防救援支队、生态环境局赶赴现场。",
            "赵局长：立即核实泄漏物质，做好周边疏散准备。",
            true,
        ),
        (
            60,
            "phone",
            "natural_disaster",
            "李秀英",
            "云岭县自然资源局",
            "13800990002",
            "云岭县溪口镇后山村",
            "连续降雨后山体出现裂缝，威胁 12 户村民。",
            "已通知镇政府组织转移。",
            "",
            true,
        ),
        (
            20,
            "fax",
            "instruction",
            "",
            "省应急管理厅",
            "",
            "",
            "转发关于做好近期防汛值守工作的通知。",
            "已登记并报带班领导。",
            "李带班：按通知要求加强值守，收到请回复。",
            false,
        ),
    ];
    for (
        minutes,
        channel,
        category,
        caller,
        caller_unit,
        phone,
        place,
        summary,
        actions,
        instructions,
        follow,
    ) in entries
    {
        let write = DutyLogWrite {
            received_at: now - Duration::minutes(minutes),
            channel: channel.to_owned(),
            category: category.to_owned(),
            caller_name: caller.to_owned(),
            caller_unit: caller_unit.to_owned(),
            caller_phone: phone.to_owned(),
            place: place.to_owned(),
            summary: summary.to_owned(),
            actions: actions.to_owned(),
            instructions: instructions.to_owned(),
            follow_up: follow,
        };
        store.create_duty_log(&Scope::Global, actor, unit_id, write).await?;
    }
    Ok(())
}

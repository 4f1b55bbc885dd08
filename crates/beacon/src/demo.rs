//! `beacon seed-demo`: a fictional city, 临江市 (Linjiang), with districts and counties whose
//! outlines tile the city, townships, communities and departments, one user per role, and a
//! published duty roster for every unit (see `demo_duty`).
//! Idempotent: what exists is kept.
//!
//! Region codes use the unassigned GB/T 2260 province prefix 99 so they can never be mistaken
//! for a real place.

use std::f64::consts::TAU;

use anyhow::{Context, Result};
use beacon_api::Passwords;
use beacon_core::audit::Actor;
use beacon_core::geo::Boundary;
use beacon_core::org::{DisplayName, Phone, Role, UnitCode, UnitLevel, UnitName, Username};
use beacon_core::scope::Scope;
use beacon_store::org::{NewUnit, NewUser};
use beacon_store::{Store, StoreError};
use serde_json::json;

pub const CITY_CODE: &str = "990100";
/// The demo users' password (meets the default policy).
pub const DEMO_PASSWORD: &str = "Beacon@2026";

/// Centre of the fictional city (WGS 84) and its size in degrees.
const CENTRE: (f64, f64) = (118.10, 30.55);
const SCALE_LAT: f64 = 0.42;

struct District {
    code: &'static str,
    name: &'static str,
    /// Inner (urban core) or outer ring.
    core: bool,
    /// Sector in turns (0..1).
    from: f64,
    to: f64,
    townships: &'static [(&'static str, &'static str)],
}

const DISTRICTS: [District; 8] = [
    District {
        code: "990102",
        name: "江南区",
        core: true,
        from: 0.0,
        to: 1.0 / 3.0,
        townships: &[("001", "滨江街道"), ("002", "望江街道"), ("003", "南湖街道")],
    },
    District {
        code: "990103",
        name: "江北区",
        core: true,
        from: 1.0 / 3.0,
        to: 2.0 / 3.0,
        townships: &[("001", "北门街道"), ("002", "城北街道")],
    },
    District {
        code: "990104",
        name: "临港区",
        core: true,
        from: 2.0 / 3.0,
        to: 1.0,
        townships: &[("001", "港口街道"), ("002", "新港街道")],
    },
    District {
        code: "990111",
        name: "青山区",
        core: false,
        from: 0.02,
        to: 0.22,
        townships: &[("100", "青山镇"), ("101", "柳塘镇"), ("200", "茶岭乡")],
    },
    District {
        code: "990112",
        name: "白沙区",
        core: false,
        from: 0.22,
        to: 0.42,
        townships: &[("100", "白沙镇"), ("101", "沙洲镇")],
    },
    District {
        code: "990121",
        name: "云岭县",
        core: false,
        from: 0.42,
        to: 0.63,
        townships: &[("100", "云岭镇"), ("101", "松坪镇"), ("200", "高山乡")],
    },
    District {
        code: "990122",
        name: "石门县",
        core: false,
        from: 0.63,
        to: 0.82,
        townships: &[("100", "石门镇"), ("101", "河口镇")],
    },
    District {
        code: "990181",
        name: "凤溪市",
        core: false,
        from: 0.82,
        to: 1.02,
        townships: &[("001", "凤城街道"), ("100", "溪口镇")],
    },
];

const COMMUNITIES: [(&str, &str); 3] =
    [("001", "江畔社区"), ("002", "柳岸社区"), ("003", "渔港社区")];

const DEPARTMENTS: [(&str, &str, &str); 5] = [
    ("990100", "990100-XFJ", "市信访局"),
    ("990100", "990100-DCS", "市政府督查室"),
    ("990100", "990100-ZJJ", "市住房和城乡建设局"),
    ("990102", "990102-XFJ", "江南区信访局"),
    ("990121", "990121-ZRZY", "云岭县自然资源局"),
];

/// (username, display name, unit code, role, phone)
const USERS: [(&str, &str, &str, Role, &str); 15] = [
    ("sysadmin", "系统管理员", CITY_CODE, Role::SystemAdmin, "13900000001"),
    ("secadmin", "安全管理员", CITY_CODE, Role::SecurityAdmin, "13900000002"),
    ("auditor", "审计管理员", CITY_CODE, Role::AuditAdmin, "13900000003"),
    ("duty.officer", "王值班", CITY_CODE, Role::DutyOfficer, "13900000011"),
    ("duty.leader", "李带班", CITY_CODE, Role::DutyLeader, "13900000012"),
    ("leader", "赵局长", CITY_CODE, Role::Leader, "13900000013"),
    ("inspector", "陈检查", CITY_CODE, Role::Inspector, "13900000014"),
    ("petition", "刘信访", "990100-XFJ", Role::PetitionOfficer, "13900000015"),
    ("staff", "周办事", CITY_CODE, Role::Staff, "13900000016"),
    ("enterprise", "吴安全员", "990102", Role::Enterprise, "13900000017"),
    ("viewer", "孙查看", CITY_CODE, Role::Viewer, "13900000018"),
    ("jiangnan.officer", "江南区值班员", "990102", Role::DutyOfficer, "13900000021"),
    ("jiangnan.admin", "江南区系统管理员", "990102", Role::SystemAdmin, "13900000022"),
    ("jiangnan.leader", "江南区带班领导", "990102", Role::DutyLeader, "13900000023"),
    ("jiangnan.inspector", "江南区执法员", "990102", Role::Inspector, "13900000024"),
];

pub async fn seed(
    store: &Store,
    passwords: &Passwords,
    key: &beacon_core::personal::PersonalKey,
) -> Result<()> {
    let actor = Actor::system("seed-demo");
    let city = ensure_unit(
        store,
        &actor,
        None,
        CITY_CODE,
        "临江市",
        UnitLevel::City,
        0,
        Some(city_outline()),
    )
    .await?;
    for (order, district) in DISTRICTS.iter().enumerate() {
        let outline = sector(district.core, district.from, district.to);
        let id = ensure_unit(
            store,
            &actor,
            Some(&city),
            district.code,
            district.name,
            UnitLevel::District,
            order as i64,
            Some(outline),
        )
        .await?;
        let share = (district.to - district.from) / district.townships.len() as f64;
        for (i, (suffix, name)) in district.townships.iter().enumerate() {
            let from = district.from + share * i as f64;
            let outline = sector(district.core, from, from + share);
            let code = format!("{}{suffix}", district.code);
            let township = ensure_unit(
                store,
                &actor,
                Some(&id),
                &code,
                name,
                UnitLevel::Township,
                i as i64,
                Some(outline),
            )
            .await?;
            if code == "990102001" {
                for (j, (c, n)) in COMMUNITIES.iter().enumerate() {
                    let code = format!("{code}{c}");
                    ensure_unit(
                        store,
                        &actor,
                        Some(&township),
                        &code,
                        n,
                        UnitLevel::Community,
                        j as i64,
                        None,
                    )
                    .await?;
                }
            }
        }
    }
    for (order, (parent, code, name)) in DEPARTMENTS.iter().enumerate() {
        let parent = store.get_unit_by_code(&Scope::Global, parent).await?.id;
        ensure_unit(
            store,
            &actor,
            Some(&parent),
            code,
            name,
            UnitLevel::Department,
            100 + order as i64,
            None,
        )
        .await?;
    }

    let hash = passwords.hash(DEMO_PASSWORD.to_owned()).await?;
    let mut created = 0;
    for (username, display, unit, role, phone) in USERS {
        if store.find_login(username).await?.is_some() {
            continue;
        }
        let unit_id = store.get_unit_by_code(&Scope::Global, unit).await?.id;
        store
            .create_user(
                &Scope::Global,
                &actor,
                NewUser {
                    username: Username::parse(username).map_err(anyhow::Error::msg)?,
                    display_name: DisplayName::parse(display).map_err(anyhow::Error::msg)?,
                    phone: Some(Phone::parse(phone).map_err(anyhow::Error::msg)?),
                    unit_id,
                    roles: vec![role],
                    password_hash: hash.clone(),
                    must_change_password: false,
                },
            )
            .await?;
        created += 1;
    }

    println!(
        "Demo city 临江市 ({CITY_CODE}) ready: {} units, {created} new demo users.",
        store.count_units().await?
    );
    println!();
    println!("  {:<18} {:<18} {:<12} password", "username", "role", "unit");
    for (username, _, unit, role, _) in USERS {
        println!("  {username:<18} {:<18} {unit:<12} {DEMO_PASSWORD}", role.as_str());
    }
    let calendar = store.work_calendar().await?;
    crate::demo_duty::seed(store, passwords, &calendar).await?;
    crate::demo_incident::seed(store).await?;
    crate::demo_enterprise::seed(store).await?;
    crate::demo_danger::seed(store).await?;
    crate::demo_tipoff::seed(store, key).await?;
    Ok(())
}

#[allow(clippy::too_many_arguments)]
async fn ensure_unit(
    store: &Store,
    actor: &Actor,
    parent: Option<&str>,
    code: &str,
    name: &str,
    level: UnitLevel,
    sort_order: i64,
    outline: Option<serde_json::Value>,
) -> Result<String> {
    match store.get_unit_by_code(&Scope::Global, code).await {
        Ok(unit) => return Ok(unit.id),
        Err(StoreError::NotFound) => {}
        Err(e) => return Err(e.into()),
    }
    let boundary = outline
        .map(|o| Boundary::parse(&o).map_err(|code| anyhow::anyhow!("demo outline of {code}")))
        .transpose()?;
    let unit = store
        .create_unit(
            &Scope::Global,
            actor,
            NewUnit {
                parent_id: parent.map(str::to_owned),
                code: UnitCode::parse(code).map_err(anyhow::Error::msg)?,
                name: UnitName::parse(name).map_err(anyhow::Error::msg)?,
                level,
                sort_order,
                boundary,
            },
        )
        .await
        .with_context(|| format!("creating demo unit {code}"))?;
    Ok(unit.id)
}

// --- Outlines ------------------------------------------------------------------------------
// The city is a wobbly disc; the urban core a smaller wobbly disc inside it. Districts are
// sectors of the core or of the ring around it, townships sub-sectors of their district. Sector
// edges are wobbly rays whose wobble depends only on the angle, so neighbours share their edges
// exactly and the outlines tile the city.

/// A point inside a township for two fractions in [0, 1).
pub(crate) type PointIn = Box<dyn Fn(f64, f64) -> [f64; 2]>;

/// Every demo township: its code and a point inside it for each pair of fractions in [0, 1)
/// (the enterprises' demo locations).
pub(crate) fn township_points() -> Vec<(String, PointIn)> {
    let mut out: Vec<(String, PointIn)> = Vec::new();
    for district in &DISTRICTS {
        let share = (district.to - district.from) / district.townships.len() as f64;
        for (i, (suffix, _)) in district.townships.iter().enumerate() {
            let from = district.from + share * i as f64;
            let core = district.core;
            out.push((
                format!("{}{suffix}", district.code),
                Box::new(move |u: f64, v: f64| {
                    let t = (from + share * (0.2 + 0.6 * u)) * TAU;
                    let r = if core {
                        core_radius(t) * (0.25 + 0.6 * v)
                    } else {
                        let inner = core_radius(t);
                        inner + (outer_radius(t) - inner) * (0.2 + 0.6 * v)
                    };
                    to_lon_lat(r, t)
                }),
            ));
        }
    }
    out
}

fn outer_radius(t: f64) -> f64 {
    1.0 + 0.12 * (3.0 * t).sin() + 0.07 * (5.0 * t + 1.0).cos() + 0.03 * (11.0 * t + 2.0).sin()
}

fn core_radius(t: f64) -> f64 {
    0.38 * (1.0 + 0.08 * (4.0 * t + 0.5).sin())
}

fn to_lon_lat(r: f64, t: f64) -> [f64; 2] {
    let lat = CENTRE.1 + SCALE_LAT * r * t.sin();
    let lon = CENTRE.0 + SCALE_LAT * r * t.cos() / CENTRE.1.to_radians().cos();
    [round6(lon), round6(lat)]
}

fn round6(x: f64) -> f64 {
    (x * 1e6).round() / 1e6
}

/// Deterministic noise in [-1, 1] from an angle (quantised so equal angles give equal noise).
fn noise(t: f64, i: usize) -> f64 {
    let mut x =
        ((t * 1e6).round() as i64 as u64) ^ ((i as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15));
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^= x >> 31;
    (x % 2001) as f64 / 1000.0 - 1.0
}

/// Points of the ray at angle `t` from radius `r0` to `r1` (endpoints excluded), wobbling.
fn ray(t: f64, r0: f64, r1: f64) -> Vec<[f64; 2]> {
    const STEPS: usize = 6;
    (1..STEPS)
        .map(|i| {
            let f = i as f64 / STEPS as f64;
            let wobble = 0.035 * noise(t, i) * (std::f64::consts::PI * f).sin();
            to_lon_lat(r0 + (r1 - r0) * f, t + wobble)
        })
        .collect()
}

fn arc(t0: f64, t1: f64, radius: fn(f64) -> f64) -> Vec<[f64; 2]> {
    let steps = (((t1 - t0).abs() / 0.04).ceil() as usize).max(2);
    (0..=steps)
        .map(|i| t0 + (t1 - t0) * i as f64 / steps as f64)
        .map(|t| to_lon_lat(radius(t), t))
        .collect()
}

/// A sector between turns `from` and `to`, of the core (from the centre) or of the outer ring.
fn sector(core: bool, from: f64, to: f64) -> serde_json::Value {
    let (t0, t1) = (from * TAU, to * TAU);
    let mut ring = Vec::new();
    if core {
        let centre = to_lon_lat(0.0, 0.0);
        ring.push(centre);
        let mut out = ray(t0, 0.0, core_radius(t0));
        ring.append(&mut out);
        ring.extend(arc(t0, t1, core_radius));
        let mut back = ray(t1, 0.0, core_radius(t1));
        back.reverse();
        ring.append(&mut back);
        ring.push(centre);
    } else {
        ring.extend(arc(t0, t1, core_radius));
        ring.extend(ray(t1, core_radius(t1), outer_radius(t1)));
        ring.extend(arc(t1, t0, outer_radius));
        let mut back = ray(t0, core_radius(t0), outer_radius(t0));
        back.reverse();
        ring.append(&mut back);
        if let Some(first) = ring.first().copied() {
            ring.push(first);
        }
    }
    json!({ "type": "Polygon", "coordinates": [ring] })
}

fn city_outline() -> serde_json::Value {
    let mut ring = arc(0.0, TAU, outer_radius);
    if let Some(first) = ring.first().copied() {
        ring.pop();
        ring.push(first);
    }
    json!({ "type": "Polygon", "coordinates": [ring] })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn outlines_are_valid_and_nest() {
        let city = Boundary::parse(&city_outline()).unwrap();
        for district in &DISTRICTS {
            let outline =
                Boundary::parse(&sector(district.core, district.from, district.to)).unwrap();
            let (w, s, e, n) = outline.bbox();
            // The district's middle lies inside the city and inside the district.
            let mid_t = (district.from + district.to) / 2.0 * TAU;
            let r = if district.core {
                core_radius(mid_t) * 0.5
            } else {
                (core_radius(mid_t) + outer_radius(mid_t)) / 2.0
            };
            let [lon, lat] = to_lon_lat(r, mid_t);
            assert!(outline.contains(lon, lat), "{}", district.name);
            assert!(city.contains(lon, lat), "{}", district.name);
            assert!(w < e && s < n);
        }
    }

    #[test]
    fn neighbours_share_edges() {
        let a = sector(false, 0.22, 0.42);
        let b = sector(false, 0.42, 0.63);
        let points = |v: &serde_json::Value| v["coordinates"][0].as_array().unwrap().clone();
        let shared = points(&a).iter().filter(|p| points(&b).contains(p)).count();
        assert!(shared >= 5, "shared {shared}");
    }
}

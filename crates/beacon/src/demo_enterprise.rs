//! The demo's safety-production database: about 300 fictional enterprises across the demo
//! townships with valid credit codes, realistic sectors, licences (some expiring this month,
//! some expired), risk points in all four colours, major hazard sources at hazardous-chemical
//! enterprises (identified with the substances whose Q and β ship confirmed from
//! GB 18218-2018), and the demo `enterprise` account tied to 临江港华化工有限公司.
//! Deterministic; skipped when enterprises exist.

use anyhow::Result;
use beacon_core::audit::Actor;
use beacon_core::clock::china_offset;
use beacon_core::enterprise::Uscc;
use beacon_core::enterprise::uscc::organisation_check;
use beacon_core::page::PageRequest;
use beacon_core::scope::Scope;
use beacon_store::Store;
use beacon_store::enterprise::{
    EnterpriseFilter, EnterpriseWrite, HazardSourceWrite, LicenceWrite, Reach, RiskPointWrite,
};
use chrono::{Days, Utc};
use serde_json::json;

const COUNT: usize = 300;

/// Name parts: a place word, a trade word and what the sector makes.
const PLACES: [&str; 12] = [
    "临江", "港华", "柳塘", "江南", "望江", "滨江", "云岭", "凤溪", "北门", "南湖", "溪口", "渔港",
];
const WORDS: [&str; 10] =
    ["宏达", "恒信", "永安", "金鼎", "瑞丰", "华兴", "远航", "鑫源", "盛达", "安泰"];
/// (sector, section, what the name ends with, accident types of its risk points)
const TRADES: [(&str, &str, &str, [&str; 2]); 9] = [
    ("hazardous_chemicals", "C", "化工有限公司", ["fire", "poisoning_asphyxiation"]),
    ("hazardous_chemicals", "F", "石油化工贸易有限公司", ["fire", "vessel_explosion"]),
    ("non_coal_mining", "B", "矿业有限公司", ["collapse", "blasting"]),
    ("fireworks", "F", "烟花爆竹经营部", ["explosive_explosion", "fire"]),
    ("metallurgy", "C", "钢铁有限公司", ["scald_burn", "lifting"]),
    ("building_materials", "C", "建材有限公司", ["machinery", "collapse"]),
    ("machinery", "C", "精工机械有限公司", ["machinery", "electric_shock"]),
    ("light_industry", "C", "食品有限公司", ["machinery", "other_explosion"]),
    ("commerce_trade", "F", "商业管理有限公司", ["fire", "fall_from_height"]),
];
/// (name, L, E, C) of risk points whose D falls in each colour.
const POINTS: [(&str, f64, f64, f64); 6] = [
    ("储罐区", 6.0, 10.0, 7.0),    // 420 red
    ("装卸作业区", 6.0, 6.0, 7.0), // 252 orange
    ("配电室", 3.0, 6.0, 7.0),     // 126 yellow
    ("有限空间", 3.0, 3.0, 15.0),  // 135 yellow
    ("办公区", 1.0, 6.0, 3.0),     // 18 blue
    ("仓库", 3.0, 6.0, 3.0),       // 54 blue
];

/// A hazard source to seed: the unit, α, what it holds (substance, q in tonnes), and whether it
/// is filed.
struct Planned {
    unit: &'static str,
    alpha: f64,
    held: Vec<(&'static str, f64)>,
    filed: bool,
}

/// Hazard sources of 临江港华化工有限公司.
/// 液氨: S = 6, R = 1.5·2·6 = 18, 三级; 液氯: S = 8, R = 2·4·8 = 64, 二级; the desulphurisation
/// unit holds too little hydrogen sulphide to be a major hazard source (S = 0.4).
fn ganghua_sources() -> Vec<Planned> {
    vec![
        Planned { unit: "液氨储罐区", alpha: 1.5, held: vec![("氨", 60.0)], filed: true },
        Planned { unit: "液氯储存库", alpha: 2.0, held: vec![("氯", 40.0)], filed: true },
        Planned { unit: "脱硫装置", alpha: 1.0, held: vec![("硫化氢", 2.0)], filed: false },
    ]
}
/// What other hazardous-chemical enterprises hold: one of these, in a quantity that varies.
const HELD: [(&str, &str, f64); 4] = [
    ("液氨罐区", "氨", 10.0),
    ("二氧化硫储罐", "二氧化硫", 20.0),
    ("环氧乙烷球罐", "环氧乙烷", 10.0),
    ("氯化氢缓冲罐", "氯化氢(无水)", 20.0),
];
/// GB 18218-2018 Table 5 values, cycled through.
const ALPHAS: [f64; 5] = [1.0, 1.2, 1.5, 2.0, 0.5];

/// A small deterministic generator (the demo must be the same on every machine).
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 =
            self.0.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
        self.0 >> 33
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn unit(&mut self) -> f64 {
        (self.next() % 10_000) as f64 / 10_000.0
    }
}

/// A valid credit code for the i-th demo enterprise registered in `region`.
fn code(region: &str, i: usize) -> Option<Uscc> {
    let org8 = format!("{:08}", 60_000_000 + i * 7_919);
    let check = organisation_check(org8.as_bytes())? as char;
    Uscc::complete(&format!("91{region}{org8}{check}"))
}

pub async fn seed(store: &Store) -> Result<()> {
    let all = Reach::Scope(Scope::Global);
    let one = PageRequest { page: 1, per_page: 1 };
    if store.enterprises(&all, &EnterpriseFilter::default(), one).await?.total > 0 {
        return Ok(());
    }
    let actor = Actor::system("seed-demo");
    let today = Utc::now().with_timezone(&china_offset()).date_naive();
    let towns = crate::demo::township_points();
    let construction =
        store.get_unit_by_code(&Scope::Global, "990100-ZJJ").await.ok().map(|u| u.id);
    let mut rng = Lcg(2026);
    let mut bound = None;
    let mut licences = 0;
    let mut points = 0;
    let mut sources = 0;
    let substances: std::collections::HashMap<String, String> = store
        .hazard_substances()
        .await?
        .into_iter()
        .filter(|s| s.complete)
        .map(|s| (s.name, s.id))
        .collect();
    for i in 0..COUNT {
        let (town_code, place) = &towns[i % towns.len()];
        let unit = store.get_unit_by_code(&Scope::Global, town_code).await?;
        let (sector, section, ending, accidents) = TRADES[rng.below(TRADES.len())];
        let name = if i == 0 {
            "临江港华化工有限公司".to_owned()
        } else {
            format!(
                "{}{}{}",
                PLACES[i % PLACES.len()],
                WORDS[(i / PLACES.len()) % WORDS.len()],
                ending
            )
        };
        let Some(uscc) = code(&town_code[..6], i) else { continue };
        let [lon, lat] = place(rng.unit(), rng.unit());
        let marks: Vec<&str> = match sector {
            "hazardous_chemicals" => vec!["key_supervision", "hazardous_chemicals_use"],
            "metallurgy" => vec!["metal_smelting"],
            "light_industry" if i % 3 == 0 => vec!["dust_explosion"],
            "commerce_trade" if i % 4 == 0 => vec!["ammonia_refrigeration"],
            _ => vec![],
        };
        let legal = format!("{}某", ["张", "王", "李", "赵", "陈", "刘"][i % 6]);
        let principal = format!("{}安全", ["周", "吴", "郑", "孙", "钱", "冯"][i % 6]);
        let write: EnterpriseWrite = serde_json::from_value(json!({
            "uscc": uscc.as_str(),
            "name": name,
            "legal_representative": legal,
            "safety_principal": principal,
            "safety_phone": format!("0571-86{:06}", 100_000 + i),
            "address": format!("{}{}号", unit.name, 1 + i % 200),
            "lon": lon, "lat": lat,
            "unit_id": unit.id,
            "department_id": if section == "E" { construction.clone() } else { None },
            "section": section,
            "sector": sector,
            "employees": 20 + rng.below(800),
            "designated_size": i % 3 != 0,
            "standard_grade": if i % 5 == 0 { Some("third") } else { None },
            "standard_expires": if i % 5 == 0 { Some((today + Days::new(400)).to_string()) } else { None },
            "marks": marks,
        }))?;
        let e = store.create_enterprise(&Scope::Global, &actor, write).await?;
        if i == 0 {
            bound = Some(e.id.clone());
        }
        // Licences for the licensed sectors: one in ten expires within the month, one in
        // twenty-five has expired.
        if ["hazardous_chemicals", "non_coal_mining", "fireworks"].contains(&sector) {
            let expires = if i % 10 == 1 {
                today + Days::new(5 + (i % 20) as u64)
            } else if i % 25 == 2 {
                today - Days::new(10 + (i % 30) as u64)
            } else {
                today + Days::new(200 + (i * 37 % 900) as u64)
            };
            let kind = match sector {
                "fireworks" => "fireworks_business",
                _ if section == "F" => "hazchem_business",
                _ => "safety_production",
            };
            let licence: LicenceWrite = serde_json::from_value(json!({
                "kind": kind,
                "number": format!("（临）WH安许证字〔{}〕{:04}", 2020 + i % 5, i),
                "issuer": "临江市应急管理局",
                "issued_on": (expires - Days::new(3 * 365)).to_string(),
                "expires_on": expires.to_string(),
                "scope_text": "按许可证载明范围",
            }))?;
            store.create_licence(&all, &actor, &e.id, licence).await?;
            licences += 1;
        }
        // Two thirds have risk points; the first few points of the list are the severe ones.
        if i % 3 != 2 {
            let n = 1 + i % 3;
            let start = rng.below(POINTS.len());
            for k in 0..n {
                let (pname, l, e_, c) = POINTS[(start + k) % POINTS.len()];
                let level = ["company", "workshop", "team", "post"][k % 4];
                let person = format!("{}工", ["赵", "钱", "孙", "李"][k % 4]);
                let point: RiskPointWrite = serde_json::from_value(json!({
                    "name": pname,
                    "place": format!("{}厂区", name.chars().take(4).collect::<String>()),
                    "accident_types": accidents,
                    "l": l, "e": e_, "c": c,
                    "measures": "落实岗位安全操作规程，定期巡检，配备应急器材。",
                    "control_level": level,
                    "responsible_person": person,
                    "next_review": (today + Days::new(30 + (i % 300) as u64)).to_string(),
                }))?;
                store.create_risk_point(&all, &actor, &e.id, point).await?;
                points += 1;
            }
        }
        // Hazard sources: the bound enterprise's three, and one at every third hazardous-chemical
        // enterprise, from a fraction of the critical quantity to several times it.
        let planned = if i == 0 {
            ganghua_sources()
        } else if sector == "hazardous_chemicals" && i % 3 == 0 {
            let (unit, substance, critical) = HELD[(i / 3) % HELD.len()];
            let q = critical * (0.4 + (i % 9) as f64 * 0.7);
            let alpha = ALPHAS[i % ALPHAS.len()];
            vec![Planned { unit, alpha, held: vec![(substance, q)], filed: q >= critical }]
        } else {
            Vec::new()
        };
        for (k, Planned { unit, alpha, held, filed }) in planned.into_iter().enumerate() {
            let held: Option<Vec<_>> = held
                .iter()
                .map(|(name, q)| {
                    substances.get(*name).map(|id| json!({ "substance_id": id, "quantity_t": q }))
                })
                .collect();
            // The reference data was edited away from what shipped: leave this one out.
            let Some(held) = held else { continue };
            let filed_on = today - Days::new(100 + (i * 13 % 700) as u64);
            let source: HazardSourceWrite = serde_json::from_value(json!({
                "name": unit,
                "alpha": alpha,
                "substances": held,
                "filing_number": if filed { format!("临应急危源备〔{}〕{:03}号", 2022 + i % 3, i + k) } else { String::new() },
                "filing_date": filed.then(|| filed_on.to_string()),
            }))?;
            store.create_hazard_source(&all, &actor, &e.id, source).await?;
            sources += 1;
        }
    }
    if let (Some(enterprise), Some(user)) = (bound, store.find_login("enterprise").await?) {
        store.bind_enterprise_account(&Scope::Global, &actor, &user.id, Some(&enterprise)).await?;
    }
    println!(
        "Demo enterprises: {COUNT}, with {licences} licences, {points} risk points and {sources} \
         hazard sources."
    );
    Ok(())
}

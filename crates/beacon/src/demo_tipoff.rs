//! The demo's public tip-offs, sent and handled through the store's rules as the public page
//! and the inbox would: an anonymous one in 江南区 that became a hidden danger and was answered,
//! a signed one at a hazardous-chemicals enterprise that became a major hidden danger and whose
//! reporter was rewarded (proposed by the city's inspector, approved by the director, paid),
//! one found untrue and answered, and one still being verified. Skipped when tip-offs exist.

use anyhow::{Context, Result};
use beacon_core::clock::china_offset;
use beacon_core::danger::{DangerCategory, DangerLevel, DangerOrigin};
use beacon_core::page::PageRequest;
use beacon_core::personal::PersonalKey;
use beacon_core::scope::Scope;
use beacon_core::tipoff::{new_query_code, query_code_hash};
use beacon_store::Store;
use beacon_store::danger::DangerWrite;
use beacon_store::enterprise::{Enterprise, EnterpriseFilter, Reach};
use beacon_store::tipoff::{Conclusion, NewTipoff, TipoffFilter, TipoffStep};
use chrono::{Days, Utc};

use crate::demo_danger::account;

struct Sent {
    id: String,
    code: String,
}

/// Sends a tip-off as the public page would (from a documentation address).
async fn send(
    store: &Store,
    key: &PersonalKey,
    e: Option<&Enterprise>,
    content: &str,
    reporter: Option<(&str, &str)>,
    source: &str,
) -> Result<Sent> {
    let code = new_query_code();
    let sealed = reporter
        .map(|(name, phone)| serde_json::json!({ "name": name, "phone": phone }).to_string())
        .map(|text| key.seal(&text));
    let new = NewTipoff {
        content: content.to_owned(),
        place: e.map(|e| e.address.clone()).unwrap_or_else(|| "临江市滨江路北段".to_owned()),
        point: e.and_then(|e| e.lon.zip(e.lat)),
        enterprise_name: e.map(|e| e.name.clone()).unwrap_or_default(),
        reporter_sealed: sealed,
        reporter_phone_hash: reporter.map(|(_, phone)| key.keyed_hash("phone", phone)),
        source_hash: key.keyed_hash("address", source),
        code_hash: query_code_hash(&code).context("demo query code")?,
    };
    let number = store.submit_tipoff(new).await?;
    let found = store
        .tipoffs(&Scope::Global, &TipoffFilter::default(), PageRequest { page: 1, per_page: 200 })
        .await?;
    let id = found.items.into_iter().find(|t| t.number == number).context("demo tip-off")?.id;
    Ok(Sent { id, code })
}

pub async fn seed(store: &Store, key: &PersonalKey) -> Result<()> {
    let one = PageRequest { page: 1, per_page: 1 };
    if store.tipoffs(&Scope::Global, &TipoffFilter::default(), one).await?.total > 0 {
        return Ok(());
    }
    let jiangnan = store.get_unit_by_code(&Scope::Global, "990102").await?;
    let operating = EnterpriseFilter { status: Some("operating".into()), ..Default::default() };
    let page = PageRequest { page: 1, per_page: 200 };
    let in_jiangnan = Reach::Scope(Scope::subtree(&jiangnan.id));
    let local = store.enterprises(&in_jiangnan, &operating, page).await?.items;
    let all = store.enterprises(&Reach::Scope(Scope::Global), &operating, page).await?.items;
    let chemicals = all
        .iter()
        .find(|e| e.sector == "hazardous_chemicals" && e.lon.is_some())
        .context("a demo chemicals enterprise")?;
    let Some(workshop) = local.iter().find(|e| e.lon.is_some()) else { return Ok(()) };
    let today = Utc::now().with_timezone(&china_offset()).date_naive();
    let in_days = |n: u64| today.checked_add_days(Days::new(n)).unwrap_or(today);
    let district = account(store, "jiangnan.inspector").await?;
    let inspector = account(store, "inspector").await?;
    let leader = account(store, "leader").await?;
    let district_scope = Scope::subtree(&jiangnan.id);
    let city = Reach::Scope(Scope::Global);

    // Anonymous, in 江南区: became a hidden danger, answered.
    let anonymous = send(
        store,
        key,
        Some(workshop),
        "厂区东侧仓库晚上有人在里面电焊，旁边堆着油漆桶，没看到灭火器。",
        None,
        "192.0.2.10",
    )
    .await?;
    let hazard = DangerWrite {
        enterprise_id: workshop.id.clone(),
        level: DangerLevel::General,
        category: DangerCategory::Site,
        origin: DangerOrigin::Tipoff,
        place: "东侧仓库".to_owned(),
        description: "仓库内动火作业未办理动火审批，作业点周边存放油漆等可燃物，未配置灭火器材"
            .to_owned(),
        criterion: String::new(),
        found_on: today,
        deadline: in_days(7),
        responsible_person: workshop.safety_principal.clone(),
        fixed_on_spot: false,
    };
    let reach = Reach::Scope(district_scope.clone());
    let conclude = TipoffStep::Conclude {
        conclusion: Conclusion::Founded {
            findings: "现场核查属实，已责令限期整改。".to_owned(),
            hazard,
        },
    };
    store.act_on_tipoff(&district_scope, &reach, &district, &anonymous.id, None, conclude).await?;
    let reply = TipoffStep::Reply {
        text: "您反映的问题经核查属实，我局已责令该企业停止违规动火作业并限期整改，感谢您的监督。"
            .to_owned(),
    };
    store.act_on_tipoff(&district_scope, &reach, &district, &anonymous.id, None, reply).await?;

    // Signed, at a chemicals enterprise: a major hidden danger, the reporter rewarded.
    let signed = send(
        store,
        key,
        Some(chemicals),
        "储罐区的可燃气体报警器坏了好几个月一直没修，夜班经常闻到刺鼻气味。",
        Some(("王建华", "13812345678")),
        "192.0.2.20",
    )
    .await?;
    let hazard = DangerWrite {
        enterprise_id: chemicals.id.clone(),
        level: DangerLevel::Major,
        category: DangerCategory::Site,
        origin: DangerOrigin::Tipoff,
        place: "储罐区".to_owned(),
        description: "涉及有毒气体泄漏的场所检测报警装置失效，长期未修复".to_owned(),
        criterion: "安监总管三〔2017〕121号 第十二项".to_owned(),
        found_on: today,
        deadline: in_days(30),
        responsible_person: chemicals.safety_principal.clone(),
        fixed_on_spot: false,
    };
    let all_units = Scope::Global;
    let steps = [
        TipoffStep::Conclude {
            conclusion: Conclusion::Founded {
                findings: "经现场检查，举报情况属实，已依法立案查处。".to_owned(),
                hazard,
            },
        },
        TipoffStep::ProposeReward { penalty_fen: 5_000_000 },
    ];
    for step in steps {
        store.act_on_tipoff(&all_units, &city, &inspector, &signed.id, None, step).await?;
    }
    let approve = TipoffStep::ReviewReward { approve: true, reason: String::new() };
    store.act_on_tipoff(&all_units, &city, &leader, &signed.id, None, approve).await?;
    let steps = [
        TipoffStep::RecordPayment { paid_on: today, reference: "JL-2026-0017".to_owned() },
        TipoffStep::Reply {
            text: "您举报的重大事故隐患经查属实，我局已依法查处并督促整改；举报奖励已按规定发放。"
                .to_owned(),
        },
    ];
    for step in steps {
        store.act_on_tipoff(&all_units, &city, &inspector, &signed.id, None, step).await?;
    }

    // Found untrue, answered.
    let untrue = send(
        store,
        key,
        local.get(1),
        "这家企业周末偷偷生产，工人都没有培训。",
        Some(("李女士", "13900001111")),
        "192.0.2.30",
    )
    .await?;
    let tipoff = store.tipoff(&Scope::Global, &untrue.id).await?;
    let scope = Scope::subtree(&tipoff.unit_id);
    let reach = Reach::Scope(scope.clone());
    let handler = if tipoff.unit_id == jiangnan.id { &district } else { &inspector };
    let steps = [
        TipoffStep::Conclude {
            conclusion: Conclusion::Unfounded {
                reasons: "经调取监控和考勤记录，该企业周末未生产；员工三级安全教育记录齐全。"
                    .to_owned(),
            },
        },
        TipoffStep::Reply {
            text: "经核查，您反映的情况不属实。如有新的线索，欢迎继续反映。".to_owned(),
        },
    ];
    for step in steps {
        store.act_on_tipoff(&scope, &reach, handler, &untrue.id, None, step).await?;
    }

    // Still being verified.
    send(
        store,
        key,
        None,
        "滨江路北段一处废品收购站存放大量液化气钢瓶，附近就是居民楼。",
        Some(("赵先生", "13700002222")),
        "192.0.2.40",
    )
    .await?;
    println!(
        "Demo tip-offs: 4 received (query codes: anonymous, answered {}; rewarded {}).",
        anonymous.code, signed.code
    );
    Ok(())
}

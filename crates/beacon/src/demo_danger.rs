//! The demo's hidden-danger ledger: about 240 hidden dangers of the demo enterprises in every
//! state (fixed on the spot, rectifying, waiting for acceptance, closed off the ledger, a few
//! overdue with the enterprise's explanation), major ones at hazardous-chemical enterprises
//! judged by the chemicals criteria (安监总管三〔2017〕121号, items confirmed in
//! docs/research/hazard-criteria.md), and two listed for supervision: one by the city at
//! 临江港华化工有限公司 under an approved plan, one by 江南区 past its plan's deadline; and
//! three hundred inspections of the last three months whose findings became hidden dangers in
//! part, a third of them at hazardous-chemical enterprises (the running campaign's checks in its
//! two months). Every step goes through the store's rules, as a user's would. Deterministic; skipped
//! when hidden dangers exist.

use anyhow::{Context, Result};
use beacon_core::audit::Actor;
use beacon_core::campaign::{CampaignStage, StageDates};
use beacon_core::clock::china_offset;
use beacon_core::danger::{
    DangerCategory, DangerLevel, DangerOrigin, Party, Suspension, TreatmentPlan,
};
use beacon_core::enterprise::industry::SECTORS;
use beacon_core::inspection::InspectionKind;
use beacon_core::page::PageRequest;
use beacon_core::scope::Scope;
use beacon_store::Store;
use beacon_store::campaign::CampaignWrite;
use beacon_store::danger::{DangerFilter, DangerStep, DangerWrite};
use beacon_store::enterprise::{Enterprise, EnterpriseFilter, Reach};
use beacon_store::inspection::{FindingDanger, FindingWrite, InspectionWrite};
use chrono::{Days, NaiveDate, Utc};

const COUNT: usize = 240;
/// Inspections of the last three months.
const INSPECTIONS: usize = 300;

/// General ones: (category, where, what).
const GENERAL: [(DangerCategory, &str, &str); 12] = [
    (DangerCategory::Site, "成品仓库", "消防通道被货物堵塞，疏散宽度不足"),
    (DangerCategory::Site, "配电室", "配电柜前未铺设绝缘胶垫"),
    (DangerCategory::Site, "污水处理池", "有限空间入口未设置安全警示标识"),
    (DangerCategory::Site, "储罐区", "可燃气体报警器超过检定有效期"),
    (DangerCategory::Site, "空压机房", "储气罐安全阀超过校验有效期"),
    (DangerCategory::Site, "装卸区", "叉车未按期进行定期检验"),
    (DangerCategory::Site, "生产车间", "车间临时用电线路私拉乱接"),
    (DangerCategory::Site, "楼梯间", "应急照明灯和疏散指示标志损坏"),
    (DangerCategory::Management, "安全管理部", "新入职员工未经三级安全教育即上岗"),
    (DangerCategory::Management, "生产车间", "电焊作业人员特种作业操作证过期"),
    (DangerCategory::Management, "安全管理部", "综合应急预案未按规定组织演练"),
    (DangerCategory::Management, "安全管理部", "隐患排查治理台账记录不全"),
];

/// Major ones at hazardous-chemical enterprises: (where, what, the criterion's item).
const MAJOR: [(&str, &str, &str); 4] = [
    ("液氨充装站", "液氨充装未使用万向管道充装系统", "安监总管三〔2017〕121号 第七项"),
    (
        "罐区",
        "涉及有毒气体泄漏的场所未按国家标准设置检测报警装置",
        "安监总管三〔2017〕121号 第十二项",
    ),
    ("生产装置区", "危险化学品特种作业人员未持证上岗", "安监总管三〔2017〕121号 第二项"),
    ("二级重大危险源罐区", "重大危险源罐区未实现紧急切断功能", "安监总管三〔2017〕121号 第五项"),
];

const PEOPLE: [&str; 6] = ["张建国", "李卫东", "王秀英", "刘志强", "陈海燕", "杨德明"];

/// Who takes a step: a demo account by its login (a regulator), or an enterprise's safety
/// officer (no account of its own in the demo, except the bound enterprise's).
pub(crate) async fn account(store: &Store, username: &str) -> Result<Actor> {
    let user =
        store.find_login(username).await?.with_context(|| format!("no demo user {username}"))?;
    Ok(Actor {
        user_id: Some(user.id),
        name: user.display_name,
        unit_id: Some(user.unit_id),
        ip: None,
        operator: false,
    })
}

fn officer(e: &Enterprise) -> Actor {
    let name = if e.safety_principal.is_empty() {
        "企业安全员".to_owned()
    } else {
        e.safety_principal.clone()
    };
    Actor { user_id: None, name, unit_id: Some(e.unit.id.clone()), ip: None, operator: false }
}

/// Where a hidden danger's life stops in the demo.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Stage {
    OnSpot,
    AwaitingPlan,
    PlanSubmitted,
    Rectifying,
    AwaitingAcceptance,
    Closed,
}

struct Seeder<'a> {
    store: &'a Store,
    all: Reach,
    inspector: Actor,
    today: NaiveDate,
}

impl Seeder<'_> {
    /// Records one and walks it to `stage`; its id.
    #[allow(clippy::too_many_arguments)]
    async fn one(
        &self,
        e: &Enterprise,
        level: DangerLevel,
        (category, place, what, criterion): (DangerCategory, &str, &str, &str),
        found_on: NaiveDate,
        deadline: NaiveDate,
        stage: Stage,
        n: usize,
    ) -> Result<String> {
        let own = officer(e);
        let origin = match n % 4 {
            0 => DangerOrigin::SelfInspection,
            3 => DangerOrigin::Campaign,
            _ => DangerOrigin::Inspection,
        };
        let write = DangerWrite {
            enterprise_id: e.id.clone(),
            level,
            category,
            origin,
            place: place.to_owned(),
            description: what.to_owned(),
            criterion: criterion.to_owned(),
            found_on,
            deadline,
            responsible_person: PEOPLE[n % PEOPLE.len()].to_owned(),
            fixed_on_spot: stage == Stage::OnSpot,
        };
        let d =
            self.store.create_danger(&self.all, &self.inspector, Party::Regulator, write).await?;
        let act = |actor: &Actor, party: Party, step: DangerStep| {
            let (actor, id) = (actor.clone(), d.id.clone());
            async move { self.store.act_on_danger(&self.all, &actor, party, &id, step).await }
        };
        if level == DangerLevel::Major && stage != Stage::AwaitingPlan {
            let plan = TreatmentPlan {
                measures: format!("{what}：局部停产整改，委托有资质单位设计施工并组织验收"),
                responsible_person: PEOPLE[(n + 1) % PEOPLE.len()].to_owned(),
                funds_fen: (50_000 + (n as i64 % 7) * 12_000) * 100,
                deadline,
                contingency_plan: "整改期间落实专人值守和每班巡检，现场配备应急处置器材".to_owned(),
                suspension: Some(Suspension::Partial),
            };
            act(&own, Party::Enterprise, DangerStep::SubmitPlan { plan }).await?;
            if stage != Stage::PlanSubmitted {
                let review = DangerStep::ReviewPlan { approve: true, reason: String::new() };
                act(&self.inspector, Party::Regulator, review).await?;
            }
        }
        if matches!(stage, Stage::AwaitingAcceptance | Stage::Closed) {
            let text = "已按要求整改完毕，整改前后照片和记录已留存".to_owned();
            act(&own, Party::Enterprise, DangerStep::ReportFix { text }).await?;
        }
        if stage == Stage::Closed {
            let pass = DangerStep::Accept { pass: true, reason: String::new() };
            act(&self.inspector, Party::Regulator, pass).await?;
        }
        Ok(d.id)
    }
}

pub async fn seed(store: &Store) -> Result<()> {
    let all = Reach::Scope(Scope::Global);
    let one = PageRequest { page: 1, per_page: 1 };
    if store.dangers(&all, &DangerFilter::default(), one).await?.total > 0 {
        return Ok(());
    }
    let operating = EnterpriseFilter { status: Some("operating".into()), ..Default::default() };
    let mut enterprises = Vec::new();
    for page in 1..=5 {
        let got = store.enterprises(&all, &operating, PageRequest { page, per_page: 200 }).await?;
        let done = got.items.len() < 200;
        enterprises.extend(got.items);
        if done {
            break;
        }
    }
    if enterprises.is_empty() {
        return Ok(());
    }
    let chemicals: Vec<&Enterprise> =
        enterprises.iter().filter(|e| e.sector == "hazardous_chemicals").collect();
    let ganghua = enterprises.iter().find(|e| e.name == "临江港华化工有限公司");
    let today = Utc::now().with_timezone(&china_offset()).date_naive();
    let seeder =
        Seeder { store, all: all.clone(), inspector: account(store, "inspector").await?, today };
    let days_ago = |n: u64| seeder.today - Days::new(n);

    for n in 0..COUNT {
        let major = n % 8 == 0 && !chemicals.is_empty();
        let e = if major {
            chemicals[(n / 8) % chemicals.len()]
        } else {
            &enterprises[(n * 37) % enterprises.len()]
        };
        let (level, what, stage) = if major {
            let (place, what, criterion) = MAJOR[(n / 8) % MAJOR.len()];
            let stage = [
                Stage::AwaitingPlan,
                Stage::PlanSubmitted,
                Stage::Rectifying,
                Stage::AwaitingAcceptance,
                Stage::Closed,
            ][(n / 8) % 5];
            (DangerLevel::Major, (DangerCategory::Site, place, what, criterion), stage)
        } else {
            let (category, place, what) = GENERAL[n % GENERAL.len()];
            let stage = [
                Stage::OnSpot,
                Stage::Closed,
                Stage::AwaitingAcceptance,
                Stage::Rectifying,
                Stage::Rectifying,
                Stage::Closed,
            ][n % 6];
            (DangerLevel::General, (category, place, what, ""), stage)
        };
        let open = !matches!(stage, Stage::OnSpot | Stage::Closed);
        // Closed ones span the last five months; open ones were found in the last three weeks,
        // except every eleventh, found two months ago and now past its deadline.
        let (found_on, deadline) = if !open {
            let found = days_ago(20 + (n as u64 * 13) % 130);
            (found, found + Days::new(30))
        } else if n % 11 == 0 {
            let found = days_ago(60 + n as u64 % 10);
            (found, found + Days::new(30))
        } else {
            let found = days_ago(n as u64 % 21);
            (found, found + Days::new(if major { 90 } else { 30 }))
        };
        let id = seeder.one(e, level, what, found_on, deadline, stage, n).await?;
        if open && deadline < today && n % 2 == 0 {
            let text = "整改所需设备到货延迟，已调整施工计划，预计两周内完成".to_owned();
            store
                .act_on_danger(
                    &all,
                    &officer(e),
                    Party::Enterprise,
                    &id,
                    DangerStep::Explain { text },
                )
                .await?;
        }
    }

    // Two listed for supervision: the city's, at the bound enterprise under an approved plan
    // with a progress report; the district's, past its plan's deadline with an explanation.
    let city = seeder.inspector.clone();
    let district = account(store, "jiangnan.inspector").await?;
    if let Some(e) = ganghua.or(chemicals.first().copied()) {
        let (place, what, criterion) = MAJOR[3];
        let what = (DangerCategory::Site, place, what, criterion);
        let id = seeder
            .one(
                e,
                DangerLevel::Major,
                what,
                days_ago(12),
                today + Days::new(48),
                Stage::Rectifying,
                1,
            )
            .await?;
        store.act_on_danger(&all, &city, Party::Regulator, &id, DangerStep::List).await?;
        let text = "紧急切断阀已完成采购，正在安装调试".to_owned();
        store
            .act_on_danger(
                &all,
                &officer(e),
                Party::Enterprise,
                &id,
                DangerStep::ReportProgress { text },
            )
            .await?;
    }
    let late = chemicals.iter().find(|e| Some(e.id.as_str()) != ganghua.map(|g| g.id.as_str()));
    if let Some(e) = late.copied().or(ganghua) {
        let (place, what, criterion) = MAJOR[1];
        let what = (DangerCategory::Site, place, what, criterion);
        let id = seeder
            .one(e, DangerLevel::Major, what, days_ago(70), days_ago(10), Stage::Rectifying, 2)
            .await?;
        store.act_on_danger(&all, &district, Party::Regulator, &id, DangerStep::List).await?;
        let text = "检测报警装置选型变更，重新报批后安装".to_owned();
        store
            .act_on_danger(&all, &officer(e), Party::Enterprise, &id, DangerStep::Explain { text })
            .await?;
    }
    let inspections = seed_inspections(&seeder, &enterprises, &chemicals, ganghua).await?;
    let open = DangerFilter { open: true, ..Default::default() };
    let late = DangerFilter { overdue: true, ..Default::default() };
    let (recorded, open, late) = (
        store.dangers(&all, &DangerFilter::default(), one).await?,
        store.dangers(&all, &open, one).await?,
        store.dangers(&all, &late, one).await?,
    );
    println!(
        "Demo hidden dangers: {} recorded, {} open ({} overdue), two major ones listed for \
         supervision; {inspections} inspections.",
        recorded.total, open.total, late.total
    );
    Ok(())
}

/// General findings of the demo's inspections: (where, what).
const FINDINGS: [(&str, &str); 6] = [
    ("成品仓库", "灭火器压力不足，未按月检查"),
    ("生产车间", "设备防护罩缺失"),
    ("配电室", "配电箱未上锁，警示标识缺失"),
    ("装卸区", "作业现场无专人监护"),
    ("安全管理部", "安全培训记录不全"),
    ("楼梯间", "疏散通道堆放杂物"),
];

/// Three hundred inspections over the last three months: law-enforcement inspections by the
/// city's and 江南区's inspectors (the chemicals checklist at hazardous-chemical enterprises,
/// its major items found now and then), and self-inspections of the bound enterprise. Every
/// other finding is made a hidden danger, as an inspector would. The number recorded.
async fn seed_inspections(
    seeder: &Seeder<'_>,
    enterprises: &[Enterprise],
    chemicals: &[&Enterprise],
    ganghua: Option<&Enterprise>,
) -> Result<usize> {
    let store = seeder.store;
    let lists = store.checklists().await?;
    let chemical_list = lists.iter().find(|c| c.basis.contains("121号"));
    let district = account(store, "jiangnan.inspector").await?;
    let campaign = seed_campaign(seeder).await?;
    let mut count = 0;
    for n in 0..INSPECTIONS {
        let chemical = n % 3 == 0 && !chemicals.is_empty();
        let e = match (n, ganghua) {
            (0, Some(g)) => g,
            _ if chemical => chemicals[(n / 3) % chemicals.len()],
            _ => &enterprises[(n * 53 + 11) % enterprises.len()],
        };
        // Every day of the last ninety: 7 and 90 share no factor.
        let days_ago = (n as u64 * 7) % 90;
        let inspected_on = seeder.today - Days::new(days_ago);
        let mut findings = Vec::new();
        let checklist = if chemical || n == 0 { chemical_list } else { None };
        if let Some(list) = checklist {
            // Item 十二 (gas detection) or 十五 (safety valves), now and then.
            let item = list.items.iter().filter(|i| i.major && !i.retired).nth(if n % 2 == 0 {
                11
            } else {
                14
            });
            if let (Some(item), true) = (item, n % 18 == 0) {
                findings.push(FindingWrite {
                    item_id: Some(item.id.clone()),
                    place: "罐区".to_owned(),
                    description: item.text.trim_end_matches('。').to_owned(),
                    level: None,
                });
            }
        }
        for k in 0..(n % 3) {
            let (place, what) = FINDINGS[(n + k) % FINDINGS.len()];
            findings.push(FindingWrite {
                item_id: None,
                place: place.to_owned(),
                description: what.to_owned(),
                level: None,
            });
        }
        let by_district = n % 4 == 1;
        let (actor, inspectors) = if by_district {
            (&district, vec![district.name.clone(), "刘执法".to_owned()])
        } else {
            (&seeder.inspector, vec![seeder.inspector.name.clone(), "周执法".to_owned()])
        };
        // The chemical enterprises' checks of the last two months are the campaign's.
        let in_campaign = chemical && n != 0 && days_ago < 60;
        let write = InspectionWrite {
            enterprise_id: e.id.clone(),
            kind: if in_campaign { InspectionKind::Campaign } else { InspectionKind::Enforcement },
            inspected_on,
            inspectors,
            checklist_id: checklist.map(|c| c.id.clone()),
            campaign_id: in_campaign.then(|| campaign.clone()),
            signatory: PEOPLE[n % PEOPLE.len()].to_owned(),
            summary: "检查安全生产责任制落实、现场管理和隐患排查治理情况".to_owned(),
            findings,
        };
        let made = store.create_inspection(&seeder.all, actor, Party::Regulator, write).await?;
        count += 1;
        for f in made.findings.iter().step_by(2) {
            let days = if f.level == DangerLevel::Major { 90 } else { 30 };
            let body = FindingDanger {
                deadline: inspected_on + Days::new(days),
                responsible_person: PEOPLE[(n + 2) % PEOPLE.len()].to_owned(),
                category: None,
                level: None,
            };
            let linked = store
                .finding_to_danger(&seeder.all, actor, Party::Regulator, &made.id, &f.id, body)
                .await?;
            // What was found more than five weeks ago has been fixed and accepted since.
            let danger =
                linked.findings.iter().find(|x| x.id == f.id).and_then(|x| x.danger_id.clone());
            if let (Some(id), true, DangerLevel::General) =
                (danger, inspected_on + Days::new(35) < seeder.today, f.level)
            {
                let fix = DangerStep::ReportFix { text: "已整改完毕".to_owned() };
                store.act_on_danger(&seeder.all, &officer(e), Party::Enterprise, &id, fix).await?;
                let pass = DangerStep::Accept { pass: true, reason: String::new() };
                store.act_on_danger(&seeder.all, actor, Party::Regulator, &id, pass).await?;
            }
        }
    }
    if let Some(g) = ganghua {
        let write = InspectionWrite {
            enterprise_id: g.id.clone(),
            kind: InspectionKind::SelfInspection,
            inspected_on: seeder.today - Days::new(3),
            inspectors: vec!["吴安全员".to_owned()],
            checklist_id: None,
            campaign_id: None,
            signatory: String::new(),
            summary: "月度安全自查".to_owned(),
            findings: vec![FindingWrite {
                item_id: None,
                place: "液氨储罐区".to_owned(),
                description: "洗眼器水压不足".to_owned(),
                level: None,
            }],
        };
        store.create_inspection(&seeder.all, &officer(g), Party::Enterprise, write).await?;
        count += 1;
    }
    Ok(count)
}

/// The city's running hazardous-chemicals campaign: started two months ago, every hazardous-
/// chemical enterprise of the city on its list. Its id.
async fn seed_campaign(seeder: &Seeder<'_>) -> Result<String> {
    let store = seeder.store;
    let today = seeder.today;
    let starts_on = today - Days::new(62);
    let day = |n: u64| starts_on + Days::new(n);
    let stages = vec![
        StageDates { stage: CampaignStage::Deploy, starts_on: day(0), ends_on: day(14) },
        StageDates {
            stage: CampaignStage::InvestigateRectify,
            starts_on: day(15),
            ends_on: day(120),
        },
        StageDates { stage: CampaignStage::SuperviseCheck, starts_on: day(121), ends_on: day(160) },
        StageDates {
            stage: CampaignStage::SummariseAccept,
            starts_on: day(161),
            ends_on: day(180),
        },
    ];
    let write = CampaignWrite {
        name: "危险化学品安全风险集中治理".to_owned(),
        basis: "临安委〔2026〕8号".to_owned(),
        sectors: vec!["hazardous_chemicals".to_owned()],
        unit_ids: Vec::new(),
        starts_on,
        ends_on: day(180),
        stages,
        version: None,
    };
    let city = seeder.inspector.unit_id.clone().unwrap_or_default();
    let sectors: Vec<&str> = SECTORS.iter().map(|(code, _)| *code).collect();
    let made = store.create_campaign(&seeder.inspector, &city, &sectors, write).await?;
    store.start_campaign(&Scope::Global, &seeder.all, &seeder.inspector, &made.id).await?;
    Ok(made.id)
}

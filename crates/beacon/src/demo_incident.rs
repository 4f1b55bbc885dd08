//! The demo's incidents: a dozen closed ones over the last two months, spread over the
//! districts and kinds, mostly `ordinary`, four `relatively_serious` and one `serious`, each
//! with its report chain complete; and one open incident a district desk registered a little
//! over an hour ago, whose report to the city is still pending, so a visitor sees its clock run.
//!
//! Skipped entirely when the database holds any incident.
//!
//! The past is seeded as it happened: a store on a clock of its own walks through each
//! incident, so the district desk registers it at the time of the report, the city's desk
//! acknowledges it within the half hour, reports to the province and the State Council's
//! department are recorded at their times, and it is closed a few days later. The district
//! desk sends its initial report within minutes (approved by its duty leader), a follow-up when
//! casualties changed after it, and a final report before closing; the city writes its own
//! initial report to the province when the grade goes that far.

use anyhow::{Context, Result, bail};
use beacon_core::audit::Actor;
use std::sync::Arc;

use beacon_core::clock::{ManualClock, local_date, local_midnight};
use beacon_core::geo::Boundary;
use beacon_core::incident::{
    Casualties, Grade, Hop, HopMethod, HopStatus, IncidentKind, ReportKind, ReportSections,
    ResponseLevel, Source,
};
use beacon_core::org::Role;
use beacon_core::page::PageRequest;
use beacon_core::scope::Scope;
use beacon_store::Store;
use beacon_store::incident::{
    FactsChange, Incident, IncidentFilter, NewIncident, NewReport, RecordHop, ReportEdit,
};
use chrono::{DateTime, Duration, DurationRound, Utc};

use crate::demo::CITY_CODE;

/// A report passed to a level outside the deployment: the hop, minutes after the previous hop
/// was done, how, and the duty officer's note.
type Upward = (Hop, i64, HopMethod, &'static str);

/// A closed incident of the past, registered at the city bureau's desk.
struct Past {
    days_ago: i64,
    /// Local (Beijing) time of occurrence.
    at: (i64, i64),
    /// Minutes from the occurrence to the city desk's receiving the report.
    reported_after: i64,
    kind: IncidentKind,
    /// The district (or county) where it happened.
    district: &'static str,
    title: &'static str,
    place: &'static str,
    point: (f64, f64),
    enterprise: Option<&'static str>,
    casualties: Casualties,
    description: &'static str,
    source: Source,
    reporter: (&'static str, &'static str),
    /// A follow-up report: the new facts and what it adds to the description.
    follow_up: Option<(Casualties, &'static str)>,
    response: Option<ResponseLevel>,
    grade: Grade,
    upward: &'static [Upward],
    summary: &'static str,
}

const fn facts(deaths: u32, serious: u32, minor: u32, loss: u64) -> Casualties {
    Casualties {
        deaths,
        missing: 0,
        serious_injuries: serious,
        minor_injuries: minor,
        direct_loss_cny: loss,
    }
}

const JIANGNAN: &str = "990102";
const JIANGBEI: &str = "990103";
const LINGANG: &str = "990104";
const QINGSHAN: &str = "990111";
const BAISHA: &str = "990112";
const YUNLING: &str = "990121";
const SHIMEN: &str = "990122";
const FENGXI: &str = "990181";

/// Oldest first, so the city's incident numbers follow the order of the reports.
const PAST: [Past; 11] = [
    Past {
        days_ago: 58,
        at: (14, 20),
        reported_after: 35,
        kind: IncidentKind::Flood,
        district: YUNLING,
        title: "云岭县松坪镇强降雨引发山洪",
        place: "云岭县松坪镇松溪村、坪上村沿河一带",
        point: (117.7712, 30.5068),
        enterprise: None,
        casualties: facts(0, 0, 3, 3_200_000),
        description: "受持续强降雨影响，松溪河水位暴涨，松坪镇松溪村、坪上村沿河低洼地带发生山洪，\
            冲毁村道约1.2公里、农田约300亩，倒塌房屋2间，3人轻伤。已紧急转移群众186人。",
        source: Source::LowerReport,
        reporter: ("陈立新", "13800991001"),
        follow_up: None,
        response: None,
        grade: Grade::Ordinary,
        upward: &[],
        summary: "山洪过程已结束，转移群众已全部返回家中，受损村道已抢通，3名轻伤人员经治疗出院。\
            县政府已启动灾后恢复重建，松溪河沿线隐患点纳入汛期重点巡查。",
    },
    Past {
        days_ago: 52,
        at: (9, 45),
        reported_after: 30,
        kind: IncidentKind::Construction,
        district: LINGANG,
        title: "临港区新港街道某在建项目塔式起重机倒塌事故",
        place: "临港区新港街道海港大道临港国际商务中心项目工地",
        point: (118.1893, 30.5071),
        enterprise: Some("临江市宏达建设工程有限公司"),
        casualties: facts(3, 2, 1, 4_600_000),
        description: "临港国际商务中心项目工地一台塔式起重机在顶升加节作业时发生倒塌，\
            造成3名作业人员死亡、2人重伤、1人轻伤。伤者已送市第一人民医院救治，现场已停工封闭。",
        source: Source::Phone,
        reporter: ("孙志刚", "13800991002"),
        follow_up: None,
        response: None,
        grade: Grade::RelativelySerious,
        upward: &[(
            Hop::CityToProvince,
            40,
            HopMethod::Phone,
            "已电话报告省应急管理厅值班室，书面报告随后报送。",
        )],
        summary: "伤员病情稳定，现场搜救和塔吊残骸清理已完成。市政府已成立事故调查组，\
            责令施工单位全面停工整改，全市开展建筑起重机械专项检查。",
    },
    Past {
        days_ago: 47,
        at: (2, 10),
        reported_after: 40,
        kind: IncidentKind::Fire,
        district: JIANGBEI,
        title: "江北区北门街道北门新村居民楼火灾",
        place: "江北区北门街道北门新村12栋3单元",
        point: (118.0132, 30.5956),
        enterprise: None,
        casualties: facts(1, 0, 2, 450_000),
        description: "北门新村12栋3单元5楼一住户家中起火，火势蔓延至楼道。消防救援队伍出动6车30人，\
            于2时58分扑灭明火，疏散群众40余人。火灾造成1人死亡、2人轻伤，\
            起火原因初步判断为电动自行车电池充电时起火。",
        source: Source::Phone,
        reporter: ("黄建军", "13800991003"),
        follow_up: None,
        response: None,
        grade: Grade::Ordinary,
        upward: &[],
        summary: "起火原因认定为电动自行车锂电池充电故障，善后工作由北门街道负责。\
            江北区已组织开展电动自行车违规停放、充电专项整治。",
    },
    Past {
        days_ago: 43,
        at: (16, 30),
        reported_after: 25,
        kind: IncidentKind::HazardousChemicals,
        district: LINGANG,
        title: "临港区港华化工有限公司储罐区爆炸事故",
        place: "临港区港口街道临港化工园区纬三路8号",
        point: (118.1003, 30.4558),
        enterprise: Some("临江港华化工有限公司"),
        casualties: facts(10, 23, 41, 68_000_000),
        description: "港华化工有限公司储罐区一甲醇储罐在检修动火作业过程中发生爆炸并引发火灾，\
            波及相邻2个储罐。事故造成10人死亡、23人重伤、41人轻伤。\
            消防、医疗、环境监测力量已赶赴现场，园区周边3公里范围内群众已疏散。",
        source: Source::Enterprise,
        reporter: ("郑海峰", "13800991004"),
        follow_up: None,
        response: Some(ResponseLevel::Ii),
        grade: Grade::Serious,
        upward: &[
            (
                Hop::CityToProvince,
                20,
                HopMethod::Phone,
                "市应急管理局主要负责同志电话报告省应急管理厅，书面快报同步报送。",
            ),
            (
                Hop::ProvinceToNational,
                45,
                HopMethod::System,
                "经省应急管理厅同意，已通过突发事件信息报送系统报送应急管理部。",
            ),
        ],
        summary: "明火于次日凌晨扑灭，现场搜救结束，23名重伤人员均在定点医院救治。\
            周边水体、大气监测指标已恢复正常，疏散群众全部返回。\
            事故调查组已进驻开展调查，园区危险化学品企业停产检查。",
    },
    Past {
        days_ago: 38,
        at: (7, 50),
        reported_after: 30,
        kind: IncidentKind::RoadTraffic,
        district: BAISHA,
        title: "S213省道白沙区沙洲镇段客车与货车相撞事故",
        place: "白沙区沙洲镇S213省道K46+300处",
        point: (117.8452, 30.7838),
        enterprise: Some("临江市顺通客运有限公司"),
        casualties: facts(4, 6, 11, 1_900_000),
        description: "顺通客运公司一辆中型客车（载客19人）与一辆重型半挂货车在大雾中迎面相撞，\
            造成4人死亡、6人重伤、11人轻伤。交警、消防、120已到场救援，道路双向交通中断。",
        source: Source::Phone,
        reporter: ("吴志明", "13800991005"),
        follow_up: None,
        response: None,
        grade: Grade::RelativelySerious,
        upward: &[(
            Hop::CityToProvince,
            50,
            HopMethod::Fax,
            "书面快报已传真省应急管理厅，并电话确认收到。",
        )],
        summary: "伤员已全部送医救治，道路于当日中午恢复通行。事故初步原因为大雾天气下货车驾驶人\
            超速、占道行驶。已约谈涉事运输企业，全市开展“两客一危”车辆安全隐患排查。",
    },
    Past {
        days_ago: 33,
        at: (10, 15),
        reported_after: 45,
        kind: IncidentKind::Geological,
        district: YUNLING,
        title: "云岭县高山乡岩口村山体滑坡",
        place: "云岭县高山乡岩口村四组后山",
        point: (117.8402, 30.3990),
        enterprise: None,
        casualties: facts(0, 1, 2, 1_800_000),
        description: "连续降雨后岩口村四组后山发生山体滑坡，滑坡体约2.3万立方米，掩埋民房3间、\
            乡道约150米，1人重伤、2人轻伤。已紧急转移受威胁群众23户71人，\
            县自然资源局专家组到场开展险情研判。",
        source: Source::LowerReport,
        reporter: ("何文斌", "13800991006"),
        follow_up: None,
        response: None,
        grade: Grade::Ordinary,
        upward: &[],
        summary: "滑坡体已趋于稳定，乡道已抢通，转移群众已妥善安置。该点已纳入地质灾害隐患点监测，\
            安排专人巡查，县政府启动搬迁避让方案论证。",
    },
    Past {
        days_ago: 27,
        at: (15, 40),
        reported_after: 35,
        kind: IncidentKind::IndustryTrade,
        district: QINGSHAN,
        title: "青山区柳塘精工机械有限公司机械伤害事故",
        place: "青山区柳塘镇工业集中区柳塘精工机械有限公司冲压车间",
        point: (118.3571, 30.7560),
        enterprise: Some("临江市柳塘精工机械有限公司"),
        casualties: facts(1, 0, 0, 1_200_000),
        description: "一名作业人员在冲压车间处理冲床卡料时设备意外启动，造成该作业人员头部受伤，\
            经送医抢救无效死亡。",
        source: Source::Enterprise,
        reporter: ("冯国强", "13800991007"),
        follow_up: None,
        response: None,
        grade: Grade::Ordinary,
        upward: &[],
        summary: "善后工作已处理完毕。经初步调查，企业未落实设备检修挂牌上锁制度，\
            已责令停产整顿，区应急管理局已立案调查。",
    },
    Past {
        days_ago: 22,
        at: (21, 5),
        reported_after: 30,
        kind: IncidentKind::Fire,
        district: FENGXI,
        title: "凤溪市凤城街道凤城购物广场火灾",
        place: "凤溪市凤城街道人民路88号凤城购物广场",
        point: (118.3021, 30.3671),
        enterprise: Some("凤溪市凤城商业管理有限公司"),
        casualties: facts(0, 0, 5, 6_000_000),
        description: "凤城购物广场三层一服装店铺起火，火势沿吊顶蔓延，过火面积约1800平方米。\
            消防救援力量出动12车65人，疏散顾客及商户约900人，5人因吸入烟雾轻微受伤。\
            初步估计直接经济损失约600万元。",
        source: Source::SensorAlarm,
        reporter: ("钱卫东", "13800991008"),
        follow_up: Some((
            facts(0, 0, 5, 12_500_000),
            "续报：经价格认定机构评估，直接经济损失约1250万元，达到较大火灾等级。",
        )),
        response: None,
        grade: Grade::RelativelySerious,
        upward: &[(
            Hop::CityToProvince,
            90,
            HopMethod::Phone,
            "损失评估逾千万元，已按较大火灾电话报告省应急管理厅。",
        )],
        summary: "明火当晚扑灭，无人员死亡。起火原因为店铺电气线路短路。商场已停业整改，\
            凤溪市开展人员密集场所消防安全专项检查。",
    },
    Past {
        days_ago: 16,
        at: (11, 30),
        reported_after: 40,
        kind: IncidentKind::Meteorological,
        district: SHIMEN,
        title: "石门县河口镇强对流大风冰雹灾害",
        place: "石门县河口镇河口村、沙坪村等5个村",
        point: (118.1541, 30.2289),
        enterprise: None,
        casualties: facts(0, 0, 4, 2_600_000),
        description: "受强对流天气影响，河口镇出现8至10级雷暴大风并伴有冰雹，造成5个村农作物受灾\
            约2100亩，损坏房屋屋面46户，吹倒广告牌、树木多处，4人轻伤。",
        source: Source::LowerReport,
        reporter: ("秦晓梅", "13800991009"),
        follow_up: None,
        response: None,
        grade: Grade::Ordinary,
        upward: &[],
        summary: "灾情核查已完成，受损房屋屋面已全部修复，受灾群众基本生活已妥善保障，\
            农业农村部门已指导开展农作物补种改种。",
    },
    Past {
        days_ago: 11,
        at: (8, 20),
        reported_after: 30,
        kind: IncidentKind::IndustryTrade,
        district: JIANGNAN,
        title: "江南区望江冷链食品有限公司液氨泄漏事故",
        place: "江南区望江街道食品工业园望江冷链食品有限公司制冷机房",
        point: (118.1497, 30.6241),
        enterprise: Some("临江市望江冷链食品有限公司"),
        casualties: facts(0, 12, 9, 1_300_000),
        description: "该公司制冷机房一液氨管道阀门破裂发生泄漏，造成12名员工急性氨中毒、9人轻度不适。\
            消防救援人员已关阀堵漏，厂区外氨气浓度监测未超标，已疏散周边企业员工约300人。",
        source: Source::Enterprise,
        reporter: ("许丽华", "13800991010"),
        follow_up: None,
        response: None,
        grade: Grade::RelativelySerious,
        upward: &[(
            Hop::CityToProvince,
            35,
            HopMethod::System,
            "已通过省突发事件信息报送系统报送，并电话提醒省应急管理厅值班室查收。",
        )],
        summary: "泄漏已完全控制，12名中毒人员经治疗病情稳定，已陆续出院。企业已停产整改并对\
            涉氨制冷系统全面检测，全市开展涉氨制冷企业专项执法检查。",
    },
    Past {
        days_ago: 5,
        at: (13, 55),
        reported_after: 35,
        kind: IncidentKind::Construction,
        district: JIANGBEI,
        title: "江北区城北街道某安置房项目基坑局部坍塌事故",
        place: "江北区城北街道城北安置房二期项目工地",
        point: (118.0012, 30.5015),
        enterprise: Some("临江市建工集团有限公司"),
        casualties: facts(1, 1, 0, 800_000),
        description: "城北安置房二期项目基坑东侧支护结构局部坍塌，2名正在坑底作业的工人被埋。\
            经消防救援人员约40分钟救援，2人被救出，其中1人经抢救无效死亡、1人重伤。",
        source: Source::Phone,
        reporter: ("朱建平", "13800991011"),
        follow_up: None,
        response: None,
        grade: Grade::Ordinary,
        upward: &[],
        summary: "现场救援结束，伤者生命体征平稳。项目已全面停工，区住建局组织专家对基坑安全进行\
            评估，事故调查由江北区人民政府组织开展。",
    },
];

pub async fn seed(store: &Store) -> Result<()> {
    let scope = Scope::Global;
    let existing =
        store.incidents(&scope, &IncidentFilter::default(), PageRequest::default()).await?;
    if existing.total > 0 {
        println!("Demo incidents: {} already registered; none added.", existing.total);
        return Ok(());
    }
    let city = store.get_unit_by_code(&scope, CITY_CODE).await?.id;
    let officer = desk(store, &city, "王值班").await?;
    let leader = desk(store, &city, "李带班").await?;
    let now = store.now();
    let today = local_date(now);

    // The past is registered as it happened: a clock of its own walks through each incident,
    // so every report, acknowledgement and record carries the time it had.
    let past_clock = ManualClock::new(now);
    let then = store.with_clock(Arc::new(past_clock.clone()));
    for past in &PAST {
        check_point(store, past.district, past.point).await?;
        let district = store.get_unit_by_code(&scope, past.district).await?;
        let district_desk = desk(store, &district.id, "").await?;
        let district_leader = person(store, &district.id, Role::DutyLeader).await?;
        let occurred_at = local_midnight(today - Duration::days(past.days_ago))
            + Duration::minutes(past.at.0 * 60 + past.at.1);
        let reported_at = occurred_at + Duration::minutes(past.reported_after);
        let new = NewIncident {
            kind: past.kind,
            title: past.title.to_owned(),
            unit_id: district.id.clone(),
            occurred_at,
            reported_at,
            place: past.place.to_owned(),
            point: Some(past.point),
            enterprise: past.enterprise.map(str::to_owned),
            casualties: past.casualties,
            description: past.description.to_owned(),
            source: past.source,
            reporter: Some(past.reporter.0.to_owned()),
            reporter_phone: Some(past.reporter.1.to_owned()),
            duty_log_id: None,
            duplicate_of: None,
        };
        past_clock.set(reported_at + Duration::minutes(2));
        let mut incident = then
            .create_incident(&scope, &district_desk, new)
            .await
            .with_context(|| format!("registering the demo incident {}", past.title))?;
        let first_measures = format!(
            "接报后，{}立即调度消防救援、医疗急救等力量赶赴现场处置，区政府分管负责同志赶赴现场\
             指挥，同步开展现场警戒和人员疏散。",
            district.name
        );
        let incident_id = incident.id.clone();
        let reporting = Reporting { clock: &past_clock, store: &then, incident: &incident_id };
        reporting
            .send(
                (&district_desk, &district_leader),
                ReportKind::Initial,
                reported_at + Duration::minutes(6),
                &first_measures,
                None,
            )
            .await?;
        if past.follow_up.is_some() || past.response.is_some() {
            past_clock.set(reported_at + Duration::minutes(12));
            let change = FactsChange {
                version: incident.version,
                casualties: past.follow_up.map(|f| f.0),
                description: past.follow_up.map(|f| format!("{}{}", past.description, f.1)),
                response_level: past.response.map(Some),
                ..FactsChange::default()
            };
            incident =
                then.change_incident_facts(&scope, &district_desk, &incident.id, change).await?.0;
            if incident.follow_up_since.is_some() {
                let measures = format!("{first_measures}伤亡情况已进一步核实，救治工作正在进行。");
                reporting
                    .send(
                        (&district_desk, &district_leader),
                        ReportKind::FollowUp,
                        reported_at + Duration::minutes(40),
                        &measures,
                        None,
                    )
                    .await?;
            }
        }
        // The city's desk acknowledges within the half hour.
        past_clock.set(reported_at + Duration::minutes(18 + past.reported_after % 20));
        incident = then.acknowledge_hop(&scope, &officer, &incident.id, Hop::CountyToCity).await?;
        if let Some(&(_, after, _, _)) = past.upward.first() {
            let sent = incident
                .obligations
                .iter()
                .find(|o| o.hop == Hop::CountyToCity)
                .and_then(|o| o.done_at)
                .context("the city's hop is not done")?;
            let measures = "市应急管理局已派员赶赴现场指导处置，并向市政府主要负责同志报告。";
            reporting
                .send(
                    (&officer, &leader),
                    ReportKind::Initial,
                    sent + Duration::minutes(after / 2),
                    measures,
                    Some("省应急管理厅"),
                )
                .await?;
        }
        for &(hop, after, method, note) in past.upward {
            let previous = incident
                .obligations
                .iter()
                .take_while(|o| o.hop != hop)
                .last()
                .and_then(|o| o.done_at)
                .with_context(|| format!("{}: the hop before {hop:?} is not done", past.title))?;
            let at = previous + Duration::minutes(after);
            past_clock.set(at + Duration::minutes(1));
            let record = RecordHop { hop, method, at, note: Some(note.to_owned()) };
            incident = then
                .record_hop(&scope, &officer, &incident.id, record)
                .await
                .with_context(|| format!("recording {hop:?} of {}", past.title))?;
        }
        check_complete(&incident, past.grade)?;
        let closing = (occurred_at + Duration::days(3)).min(now);
        reporting
            .send(
                (&district_desk, &district_leader),
                ReportKind::Final,
                closing - Duration::hours(2),
                past.summary,
                None,
            )
            .await?;
        past_clock.set(closing);
        then.close_incident(&scope, &leader, &incident.id, past.summary).await?;
    }

    let closed_today = seed_today(store, &officer, now).await?;
    check_complete(&closed_today, Grade::Ordinary)?;
    store
        .close_incident(
            &scope,
            &leader,
            &closed_today.id,
            "伤者均为轻微伤，已处置完毕，现场已清理，交通恢复正常，事故责任由交警部门依法认定。",
        )
        .await?;

    let open = seed_open(store, now).await?;
    let due = open
        .obligations
        .iter()
        .find(|o| o.hop == Hop::CountyToCity)
        .and_then(|o| o.due_at)
        .context("the open demo incident has no running clock")?;
    println!(
        "Demo incidents: {} closed over the last {} days, and {} open at {} awaiting the city's \
         acknowledgement (due in {} minutes).",
        PAST.len() + 1,
        PAST[0].days_ago,
        open.number,
        open.unit.name,
        (due - store.now()).num_minutes(),
    );
    Ok(())
}

/// Today's closed incident: registered by the 白沙区 desk, acknowledged on time by the city's.
async fn seed_today(store: &Store, city_desk: &Actor, now: DateTime<Utc>) -> Result<Incident> {
    let scope = Scope::Global;
    let point = (118.0605, 30.8098);
    check_point(store, BAISHA, point).await?;
    let district = store.get_unit_by_code(&scope, BAISHA).await?.id;
    let district_desk = desk(store, &district, "").await?;
    let occurred_at = minute(now - Duration::minutes(150))?;
    let new = NewIncident {
        kind: IncidentKind::RoadTraffic,
        title: "白沙区白沙镇S205省道两车追尾事故".to_owned(),
        unit_id: district,
        occurred_at,
        reported_at: occurred_at + Duration::minutes(40),
        place: "白沙区白沙镇S205省道白沙大桥北侧".to_owned(),
        point: Some(point),
        enterprise: None,
        casualties: facts(0, 0, 3, 60_000),
        description: "一辆小型轿车与一辆厢式货车在白沙大桥北侧发生追尾，造成3人轻伤，\
            伤者已送区人民医院救治。交警已到场处置，现场正在清理。"
            .to_owned(),
        source: Source::Phone,
        reporter: Some("韩磊".to_owned()),
        reporter_phone: Some("13800991012".to_owned()),
        duty_log_id: None,
        duplicate_of: None,
    };
    let made = store.create_incident(&scope, &district_desk, new).await?;
    Ok(store.acknowledge_hop(&scope, city_desk, &made.id, Hop::CountyToCity).await?)
}

/// The open incident: the 江南区 desk registered it 75 minutes ago; the city has two hours from
/// then to acknowledge it. The same overturned tanker the city's duty log took a call about.
async fn seed_open(store: &Store, now: DateTime<Utc>) -> Result<Incident> {
    let scope = Scope::Global;
    let point = (118.2098, 30.5861);
    check_point(store, JIANGNAN, point).await?;
    let district = store.get_unit_by_code(&scope, JIANGNAN).await?.id;
    let district_desk = desk(store, &district, "江南区值班员").await?;
    let occurred_at = minute(now - Duration::minutes(100))?;
    let new = NewIncident {
        kind: IncidentKind::HazardousChemicals,
        title: "江南区滨江路危险化学品运输车侧翻".to_owned(),
        unit_id: district,
        occurred_at,
        reported_at: occurred_at + Duration::minutes(25),
        place: "江南区滨江路与凤城街交叉口".to_owned(),
        point: Some(point),
        enterprise: Some("临江市安达危险货物运输有限公司".to_owned()),
        casualties: facts(0, 0, 0, 150_000),
        description: "一辆运输盐酸（约18吨）的罐式货车在路口转弯时侧翻，罐体阀门处有少量液体渗漏，\
            无人员伤亡。消防救援人员正在进行堵漏和稀释处置，生态环境部门正在监测周边水体，\
            交警已对滨江路实施临时交通管制。"
            .to_owned(),
        source: Source::Phone,
        reporter: Some("刘志强".to_owned()),
        reporter_phone: Some("13800991013".to_owned()),
        duty_log_id: None,
        duplicate_of: None,
    };
    let made = store.create_incident(&scope, &district_desk, new).await?;
    let pending = made
        .obligations
        .iter()
        .any(|o| o.hop == Hop::CountyToCity && o.status == HopStatus::Pending);
    if made.outside_unit || !pending {
        bail!("the open demo incident is not waiting for the city: {:?}", made.obligations);
    }
    Ok(made)
}

/// A unit's duty desk, acting as the person of that name (else its first duty officer).
/// Sends the reports of one past incident at their times.
struct Reporting<'a> {
    clock: &'a ManualClock,
    store: &'a Store,
    incident: &'a str,
}

impl Reporting<'_> {
    /// A report drafted from the facts at `at`, the measures written, submitted, and approved
    /// by the duty leader three minutes later.
    async fn send(
        &self,
        (desk, leader): (&Actor, &Actor),
        kind: ReportKind,
        at: DateTime<Utc>,
        measures: &str,
        addressee: Option<&str>,
    ) -> Result<()> {
        let scope = Scope::Global;
        self.clock.set(at);
        let new = NewReport {
            kind,
            title: None,
            addressee: addressee.map(str::to_owned),
            contact: Some(format!("{}，0791-86000000", desk.name)),
            sections: None,
        };
        let draft = self.store.create_incident_report(&scope, desk, self.incident, new).await?;
        self.clock.set(at + Duration::minutes(1));
        let sections = ReportSections { measures: measures.to_owned(), ..draft.sections };
        let edit = ReportEdit {
            version: draft.version,
            sections: Some(sections),
            ..ReportEdit::default()
        };
        let saved =
            self.store.edit_incident_report(&scope, desk, self.incident, &draft.id, edit).await?;
        self.store
            .submit_incident_report(&scope, desk, self.incident, &draft.id, saved.version)
            .await?;
        self.clock.set(at + Duration::minutes(3));
        self.store
            .approve_incident_report(&scope, leader, self.incident, &draft.id, saved.version)
            .await
            .with_context(|| format!("approving the demo report {:?}", kind))?;
        Ok(())
    }
}

/// A person of the unit holding the role, acting as themself (named as they are named).
async fn person(store: &Store, unit_id: &str, role: Role) -> Result<Actor> {
    let people = store.duty_people(&Scope::Global, unit_id).await?;
    let found = people.iter().find(|p| p.roles.contains(&role));
    Ok(Actor {
        user_id: found.map(|p| p.user_id.clone()),
        name: found.map_or_else(|| "值班员".to_owned(), |p| p.display_name.clone()),
        unit_id: Some(unit_id.to_owned()),
        ip: None,
        operator: false,
    })
}

async fn desk(store: &Store, unit_id: &str, name: &str) -> Result<Actor> {
    let people = store.duty_people(&Scope::Global, unit_id).await?;
    let person = people
        .iter()
        .find(|p| p.display_name == name)
        .or_else(|| people.iter().find(|p| p.roles.contains(&Role::DutyOfficer)));
    Ok(Actor {
        user_id: person.map(|p| p.user_id.clone()),
        name: person.map_or_else(|| "值班员".to_owned(), |p| p.display_name.clone()),
        unit_id: Some(unit_id.to_owned()),
        ip: None,
        operator: false,
    })
}

/// An instant rounded down to the minute, as a duty officer writes it.
fn minute(at: DateTime<Utc>) -> Result<DateTime<Utc>> {
    Ok(at.duration_trunc(Duration::minutes(1))?)
}

/// Refuses a demo point outside the outline of the district it names.
async fn check_point(store: &Store, district: &str, (lon, lat): (f64, f64)) -> Result<()> {
    let unit = store.get_unit_by_code(&Scope::Global, district).await?;
    let outline = store.get_unit(&Scope::Global, &unit.id).await?.boundary;
    let inside = match outline {
        Some(value) => Boundary::parse(&value)
            .map_err(|e| anyhow::anyhow!("outline of {district}: {e}"))?
            .contains(lon, lat),
        None => true,
    };
    if !inside {
        bail!("demo point ({lon}, {lat}) lies outside {}", unit.name);
    }
    Ok(())
}

/// Checks that a demo incident has the grade intended and every hop it requires done on time.
fn check_complete(incident: &Incident, grade: Grade) -> Result<()> {
    if incident.grade != grade {
        bail!("{} graded {:?}, not {grade:?}", incident.title, incident.grade);
    }
    if incident.obligations.iter().any(|o| o.status != HopStatus::Done) {
        bail!("{}: chain not complete on time: {:?}", incident.title, incident.obligations);
    }
    Ok(())
}

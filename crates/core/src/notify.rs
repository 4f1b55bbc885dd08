//! Notifications: what a person is told, in the app and by e-mail. A notification is a kind and
//! its data; the web UI words it in the reader's language from the kind, and [`email_text`]
//! words the e-mail (Chinese first, English below, as the mail has no language choice).

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;

use crate::clock::china_offset;

#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Notification {
    pub id: String,
    pub kind: String,
    pub unit_id: Option<String>,
    pub subject_type: Option<String>,
    pub subject_id: Option<String>,
    #[schema(value_type = Object)]
    pub data: Value,
    pub created_at: DateTime<Utc>,
    pub read_at: Option<DateTime<Utc>>,
    /// The web app's page of the record the notification is about ([`link`]).
    pub link: Option<String>,
}

/// Where a notification leads in the web app: its record when it has one (the incident, the
/// shift), else the page where its kind is worked (the swaps, the duty panel).
pub fn link(kind: &str, subject_type: Option<&str>, subject_id: Option<&str>) -> Option<String> {
    let path = match (subject_type, subject_id) {
        (Some("incident"), Some(id)) => format!("/incidents/{id}"),
        (Some("enterprise"), Some(id)) => format!("/enterprises/{id}"),
        (Some("hidden_danger"), Some(id)) => format!("/hazards/{id}"),
        (Some("tipoff"), Some(id)) => format!("/tipoffs/{id}"),
        // The incoming shift acknowledges a handover on the duty panel.
        (Some("duty_shift"), Some(_)) if kind == "duty.handover_written" => "/duty".to_owned(),
        (Some("duty_shift"), Some(id)) => format!("/duty/roster?shift={id}"),
        (Some("duty_swap"), _) => "/duty/swaps".to_owned(),
        _ if kind == "duty.roster_published" => "/duty/roster".to_owned(),
        _ if kind.starts_with("duty.") => "/duty".to_owned(),
        _ if kind.starts_with("incident.") => "/incidents".to_owned(),
        _ => return None,
    };
    Some(path)
}

/// How an e-mail carries its link: this label, then the path. The sender makes the path
/// absolute with the address users open Beacon at, when one is configured.
pub const EMAIL_LINK_LABEL: &str = "打开 / Open: ";

fn text(data: &Value, key: &str) -> String {
    data.get(key).and_then(Value::as_str).unwrap_or_default().to_owned()
}

fn time(data: &Value, key: &str) -> String {
    data.get(key)
        .and_then(Value::as_str)
        .and_then(|s| DateTime::parse_from_rfc3339(s).ok())
        .map(|t| t.with_timezone(&china_offset()).format("%Y-%m-%d %H:%M").to_string())
        .unwrap_or_default()
}

/// A hop of the reporting chain in both languages.
fn hop_name(data: &Value) -> (&'static str, &'static str) {
    match data.get("hop").and_then(Value::as_str).unwrap_or_default() {
        "unit_to_county" => ("事发单位报县级", "unit to county"),
        "county_to_city" => ("县级报市级", "county to city"),
        "city_to_province" => ("市级报省级", "city to province"),
        "province_to_national" => ("省级报国务院有关部门", "province to the State Council"),
        _ => ("上报", "report"),
    }
}

/// The report a notification is about, in Chinese and English: 首报, 续报（第n报）, 终报.
fn report_name(data: &Value) -> (String, String) {
    let n = data.get("sequence").and_then(Value::as_i64).unwrap_or(0);
    match data.get("report_kind").and_then(Value::as_str).unwrap_or_default() {
        "initial" => ("首报".into(), "initial report".into()),
        "final" => ("终报".into(), "final report".into()),
        _ => (format!("续报（第{n}报）"), format!("follow-up report no. {n}")),
    }
}

/// Subject and body of the e-mail for a notification, with its link when it has one.
pub fn email_text(kind: &str, data: &Value, link: Option<&str>) -> (String, String) {
    let unit = text(data, "unit_name");
    let start = time(data, "starts_at");
    let (zh, en) = match kind {
        "enterprise.licence_expiring" | "enterprise.licence_expired" => {
            let (name, number, expires) =
                (text(data, "enterprise_name"), text(data, "number"), text(data, "expires_on"));
            let kind_zh = crate::enterprise::LICENCE_KINDS
                .iter()
                .find(|(code, _)| *code == text(data, "licence_kind"))
                .map_or("证照", |(_, name)| name);
            if kind == "enterprise.licence_expired" {
                (
                    format!("证照已过期：{name} {kind_zh}（{number}）于 {expires} 到期"),
                    format!("Licence expired: {name}, licence {number} expired on {expires}"),
                )
            } else {
                (
                    format!("证照即将到期：{name} {kind_zh}（{number}）将于 {expires} 到期"),
                    format!("Licence expiring: {name}, licence {number} expires on {expires}"),
                )
            }
        }
        "danger.deadline_near" | "danger.overdue" => {
            let (name, number, deadline) =
                (text(data, "enterprise_name"), text(data, "number"), text(data, "deadline"));
            if kind == "danger.overdue" {
                (
                    format!(
                        "隐患整改超期：{name} 隐患 {number} 的整改期限 {deadline} 已过，请督促并要求书面说明"
                    ),
                    format!("Hidden danger overdue: {name}, {number} was due on {deadline}"),
                )
            } else {
                (
                    format!("隐患整改即将到期：{name} 隐患 {number} 须于 {deadline} 前整改完毕"),
                    format!("Hidden danger due soon: {name}, {number} is due on {deadline}"),
                )
            }
        }
        "tipoff.received"
        | "tipoff.deadline_near"
        | "tipoff.overdue"
        | "tipoff.reward_proposed" => {
            let (number, by) = (text(data, "number"), text(data, "verify_by"));
            match kind {
                "tipoff.received" => (
                    format!("收到举报 {number}，请在核查期限内核查"),
                    format!("Tip-off {number} received: verify it within the period"),
                ),
                "tipoff.deadline_near" => (
                    format!("举报核查即将到期：{number} 须于 {by} 前核查完毕"),
                    format!("Tip-off due soon: {number} is to be verified by {by}"),
                ),
                "tipoff.overdue" => (
                    format!("举报核查超期：{number} 的核查期限 {by} 已过"),
                    format!("Tip-off overdue: {number} was to be verified by {by}"),
                ),
                _ => (
                    format!("举报奖励待审批：{number}"),
                    format!("Tip-off reward to approve: {number}"),
                ),
            }
        }
        "duty.roster_published" => (
            format!(
                "{unit} 值班表已发布（{} 至 {}），您有 {} 个班次",
                text(data, "from"),
                text(data, "to"),
                data.get("shifts").and_then(Value::as_i64).unwrap_or(0)
            ),
            format!(
                "{unit}: the duty roster for {} to {} is published; you have {} shifts",
                text(data, "from"),
                text(data, "to"),
                data.get("shifts").and_then(Value::as_i64).unwrap_or(0)
            ),
        ),
        "duty.shift_reminder" => (
            format!("值班提醒：{unit} {} 班次 {start} 开始", text(data, "shift_name")),
            format!("Duty reminder: {unit}, shift {} starts at {start}", text(data, "shift_name")),
        ),
        "duty.check_in_missed" => (
            format!("未到岗：{unit} {start} 班次 {} 未签到", text(data, "missing")),
            format!(
                "Missed check-in: {unit}, shift at {start}: {} not checked in",
                text(data, "missing")
            ),
        ),
        "duty.swap_requested" => (
            format!("换班申请：{} 请求与您调换 {start} 的班次", text(data, "requester_name")),
            format!(
                "Swap request: {} asks you to take the shift at {start}",
                text(data, "requester_name")
            ),
        ),
        "duty.swap_awaiting_approval" => (
            format!("换班待审批：{unit} {start} 班次",),
            format!("Swap awaiting approval: {unit}, shift at {start}"),
        ),
        "duty.swap_decided" => (
            format!("换班结果：{unit} {start} 班次 {}", text(data, "status")),
            format!("Swap {}: {unit}, shift at {start}", text(data, "status")),
        ),
        "duty.assignment_changed" => (
            format!("值班安排变更：{unit} {start} 班次",),
            format!("Duty change: {unit}, shift at {start}"),
        ),
        "duty.handover_written" => (
            format!("交接班待确认：{unit} {start} 班次",),
            format!("Handover to acknowledge: {unit}, shift at {start}"),
        ),
        "incident.hop_reminder" => (
            format!(
                "报告时限提醒：{} {}「{}」{}，须在 {} 前完成（剩 {} 分钟）",
                text(data, "number"),
                unit,
                text(data, "title"),
                hop_name(data).0,
                time(data, "due_at"),
                data.get("minutes_left").and_then(Value::as_i64).unwrap_or(0)
            ),
            format!(
                "Reporting deadline: {} {} \"{}\", {} due at {} ({} min left)",
                text(data, "number"),
                unit,
                text(data, "title"),
                hop_name(data).1,
                time(data, "due_at"),
                data.get("minutes_left").and_then(Value::as_i64).unwrap_or(0)
            ),
        ),
        "incident.hop_overdue" => (
            format!(
                "报告超时：{} {}「{}」{} 已于 {} 超时未报",
                text(data, "number"),
                unit,
                text(data, "title"),
                hop_name(data).0,
                time(data, "due_at")
            ),
            format!(
                "Report OVERDUE: {} {} \"{}\", {} was due at {}",
                text(data, "number"),
                unit,
                text(data, "title"),
                hop_name(data).1,
                time(data, "due_at")
            ),
        ),
        "incident.report_received" => (
            format!(
                "收到报告：{}「{}」{}（{}）",
                unit,
                text(data, "title"),
                report_name(data).0,
                text(data, "doc_number")
            ),
            format!(
                "Report received: {} \"{}\", {} ({})",
                unit,
                text(data, "title"),
                report_name(data).1,
                text(data, "doc_number")
            ),
        ),
        "incident.follow_up_required" => (
            format!(
                "须续报：{} {}「{}」伤亡人数发生变化，请及时续报",
                text(data, "number"),
                unit,
                text(data, "title")
            ),
            format!(
                "Follow-up report required: casualties of {} {} \"{}\" changed",
                text(data, "number"),
                unit,
                text(data, "title")
            ),
        ),
        other => (format!("Beacon 通知：{other}"), format!("Beacon notification: {other}")),
    };
    let open = link.map(|l| format!("{EMAIL_LINK_LABEL}{l}\n\n")).unwrap_or_default();
    (format!("[Beacon] {zh}"), format!("{zh}\n\n{en}\n\n{open}-- Beacon\n"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_are_worded_in_both_languages_in_beijing_time() {
        let data = serde_json::json!({
            "unit_name": "临江市应急管理局",
            "shift_name": "白班",
            "starts_at": "2026-12-31T00:30:00Z",
        });
        let (subject, body) =
            email_text("duty.shift_reminder", &data, Some("/duty/roster?shift=s1"));
        assert!(subject.contains("2026-12-31 08:30"), "{subject}");
        assert!(body.contains("Duty reminder"), "{body}");
        assert!(body.contains("打开 / Open: /duty/roster?shift=s1"), "{body}");
    }

    #[test]
    fn every_notification_leads_to_its_record_or_its_page() {
        assert_eq!(
            link("incident.hop_overdue", Some("incident"), Some("i1")).as_deref(),
            Some("/incidents/i1")
        );
        assert_eq!(
            link("duty.shift_reminder", Some("duty_shift"), Some("s1")).as_deref(),
            Some("/duty/roster?shift=s1")
        );
        assert_eq!(
            link("duty.handover_written", Some("duty_shift"), Some("s1")).as_deref(),
            Some("/duty")
        );
        assert_eq!(
            link("duty.swap_requested", Some("duty_swap"), Some("w1")).as_deref(),
            Some("/duty/swaps")
        );
        assert_eq!(
            link("duty.roster_published", Some("unit"), Some("u1")).as_deref(),
            Some("/duty/roster")
        );
        assert_eq!(
            link("danger.overdue", Some("hidden_danger"), Some("h1")).as_deref(),
            Some("/hazards/h1")
        );
        assert_eq!(link("something.else", None, None), None);
    }

    #[test]
    fn a_report_received_names_its_kind_and_number() {
        let data = serde_json::json!({
            "unit_name": "江南区", "title": "储罐爆炸", "report_kind": "follow_up",
            "sequence": 2, "doc_number": "江南区〔2026〕3号",
        });
        let (subject, body) = email_text("incident.report_received", &data, None);
        assert_eq!(
            subject,
            "[Beacon] 收到报告：江南区「储罐爆炸」续报（第2报）（江南区〔2026〕3号）"
        );
        assert!(body.contains("follow-up report no. 2"), "{body}");
    }
}

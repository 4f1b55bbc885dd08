//! Records named as a person reads them, with the page that opens each, for whoever shows a
//! record someone else made (the audit page; the search). Each kind of record is named by the
//! module that owns it; a link is given only to a caller whose role may open that page (the
//! page itself still checks the record's scope).

use std::collections::HashMap;

use beacon_core::clock::china_offset;
use beacon_core::org::Permission;
use beacon_store::names::RecordName;
use beacon_store::{Store, StoreError};
use futures::future::BoxFuture;

use crate::AppState;
use crate::http::ApiResult;
use crate::org::Principal;

/// A record's name and, when the caller may open it, the web app's path to it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Named {
    pub label: String,
    pub link: Option<String>,
}

type Fetch =
    for<'a> fn(&'a Store, &'a [String]) -> BoxFuture<'a, Result<Vec<RecordName>, StoreError>>;

/// The page of a record, for the holders of a permission.
type Page = (Permission, fn(&RecordName) -> String);

/// One kind of record: how to name it, and which page opens it for whom.
struct Kind {
    kind: &'static str,
    fetch: Fetch,
    page: Option<Page>,
}

const KINDS: &[Kind] = &[
    Kind {
        kind: "incident",
        fetch: |s, ids| Box::pin(s.incident_names(ids)),
        page: Some((Permission::ReadIncidents, |r| format!("/incidents/{}", r.id))),
    },
    Kind {
        kind: "unit",
        fetch: |s, ids| Box::pin(s.unit_names(ids)),
        page: Some((Permission::ManageOrg, |_| "/units".to_owned())),
    },
    Kind {
        kind: "user",
        fetch: |s, ids| Box::pin(s.user_names(ids)),
        page: Some((Permission::ViewAccounts, |_| "/users".to_owned())),
    },
    Kind {
        kind: "api_token",
        fetch: |s, ids| Box::pin(s.token_names(ids)),
        page: Some((Permission::ManageOrg, |_| "/tokens".to_owned())),
    },
    Kind {
        kind: "duty_shift",
        fetch: |s, ids| Box::pin(s.shift_names(ids)),
        page: Some((Permission::ReadDuty, |r| format!("/duty/roster?shift={}", r.id))),
    },
    Kind {
        kind: "duty_swap",
        fetch: |s, ids| Box::pin(s.swap_names(ids)),
        page: Some((Permission::ReadDuty, |_| "/duty/swaps".to_owned())),
    },
    Kind {
        kind: "duty_log",
        fetch: |s, ids| Box::pin(s.log_entry_names(ids)),
        page: Some((Permission::ReadDutyLog, |_| "/duty/log".to_owned())),
    },
    Kind {
        kind: "duty_period",
        fetch: |s, ids| Box::pin(s.period_names(ids)),
        page: Some((Permission::ManageDuty, |_| "/duty/settings".to_owned())),
    },
    Kind {
        kind: "enterprise",
        fetch: |s, ids| Box::pin(s.enterprise_names(ids)),
        page: Some((Permission::ReadEnterprises, |r| format!("/enterprises/{}", r.id))),
    },
    Kind { kind: "duty_feed", fetch: |s, ids| Box::pin(s.feed_names(ids)), page: None },
];

/// How a record reads: `number title` and, for a moment, its local time.
fn label(r: &RecordName) -> String {
    let mut parts: Vec<String> = Vec::with_capacity(3);
    if let Some(number) = r.number.as_deref().filter(|n| !n.is_empty()) {
        parts.push(number.to_owned());
    }
    parts.push(r.title.clone());
    if let Some(at) = r.at {
        parts.push(at.with_timezone(&china_offset()).format("%Y-%m-%d %H:%M").to_string());
    }
    parts.join(" ")
}

/// Names the records, keyed by (kind, id); kinds nobody names and records that are gone are
/// left out, so the caller falls back to what it knows.
pub async fn name_records(
    state: &AppState,
    principal: &Principal,
    records: impl IntoIterator<Item = (String, String)>,
) -> ApiResult<HashMap<(String, String), Named>> {
    let mut wanted: HashMap<&'static str, Vec<String>> = HashMap::new();
    for (kind, id) in records {
        if let Some(k) = KINDS.iter().find(|k| k.kind == kind) {
            let ids = wanted.entry(k.kind).or_default();
            if !ids.contains(&id) {
                ids.push(id);
            }
        }
    }
    let mut named = HashMap::new();
    for k in KINDS {
        let Some(ids) = wanted.get(k.kind) else { continue };
        for r in (k.fetch)(state.store(), ids).await? {
            let link =
                k.page.and_then(|(permission, page)| principal.can(permission).then(|| page(&r)));
            named.insert((k.kind.to_owned(), r.id.clone()), Named { label: label(&r), link });
        }
    }
    Ok(named)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn a_record_reads_as_number_title_and_local_time() {
        let r = RecordName {
            id: "x".into(),
            unit_id: None,
            number: Some("SJ-2026-0001".into()),
            title: "江南区化工厂爆炸".into(),
            at: None,
        };
        assert_eq!(label(&r), "SJ-2026-0001 江南区化工厂爆炸");
        let shift = RecordName {
            number: None,
            title: "江南区应急管理局 · 夜班".into(),
            at: Some(chrono::Utc.with_ymd_and_hms(2026, 11, 30, 10, 0, 0).unwrap()),
            ..r
        };
        assert_eq!(label(&shift), "江南区应急管理局 · 夜班 2026-11-30 18:00");
    }
}

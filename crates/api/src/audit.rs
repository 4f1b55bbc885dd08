//! The audit administrator's desk: search, page, export and verify the audit trail. There is no
//! route that changes or deletes a record.

use std::collections::HashMap;

use axum::Json;
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use beacon_core::audit::{AuditRecord, ChainBreak, NewAuditRecord, Outcome};
use beacon_core::page::PageRequest;
use beacon_export::{Cell, Ledger, ledger_xlsx};
use beacon_store::audit::{AuditFilter, ChainStatus};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::http::{ApiError, ApiQuery, ApiResult, ErrorBody};
use crate::names::name_records;
use crate::org::Principal;
use crate::org::auth::{Authorized, ReadAudit};
use crate::workbench::{Card, Item, Level};
use beacon_core::org::Permission;
use futures::future::BoxFuture;

/// Most rows one export carries (the newest ones); narrow the filter for older records.
pub const EXPORT_LIMIT: i64 = 50_000;

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AuditQuery {
    /// From this instant (inclusive), RFC 3339.
    pub from: Option<DateTime<Utc>>,
    /// Until this instant (exclusive), RFC 3339.
    pub to: Option<DateTime<Utc>>,
    /// Part of the actor's name.
    pub actor: Option<String>,
    /// An action (`user.create`) or a prefix ending in a dot (`auth.`).
    pub action: Option<String>,
    pub outcome: Option<Outcome>,
    pub target_id: Option<String>,
    /// From 1; default 1.
    #[param(minimum = 1, maximum = 1000000)]
    pub page: Option<u32>,
    /// 1 to 200; default 20.
    #[param(minimum = 1, maximum = 200)]
    pub per_page: Option<u32>,
    /// Language of the export's headers: `zh` (default) or `en`.
    pub lang: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AuditEntry {
    pub seq: i64,
    pub at: DateTime<Utc>,
    pub actor_id: Option<String>,
    pub actor_name: String,
    pub actor_unit_id: Option<String>,
    /// The actor's unit by name.
    pub actor_unit_name: Option<String>,
    pub unit_id: Option<String>,
    pub action: String,
    pub target_type: Option<String>,
    pub target_id: Option<String>,
    /// The target as a person reads it (number and title), when its kind is named.
    pub target_label: Option<String>,
    /// The web page of the target, when the caller's role may open it.
    pub target_link: Option<String>,
    /// The records the detail refers to by id (a unit moved under another, a person put on a
    /// shift), named: id → label.
    pub names: HashMap<String, String>,
    pub ip: Option<String>,
    pub outcome: String,
    /// The change (`before` / `after`) or the reason of a failure.
    #[schema(value_type = Object)]
    pub detail: Value,
    pub hash: String,
}

impl From<AuditRecord> for AuditEntry {
    fn from(r: AuditRecord) -> Self {
        let detail = serde_json::from_str(&r.detail).unwrap_or(Value::String(r.detail));
        Self {
            seq: r.seq,
            at: r.at,
            actor_id: r.actor_id,
            actor_name: r.actor_name,
            actor_unit_id: r.actor_unit_id,
            actor_unit_name: None,
            unit_id: r.unit_id,
            action: r.action,
            target_type: r.target_type,
            target_id: r.target_id,
            target_label: None,
            target_link: None,
            names: HashMap::new(),
            ip: r.ip,
            outcome: r.outcome,
            detail,
            hash: r.hash,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AuditPage {
    pub items: Vec<AuditEntry>,
    pub total: i64,
    pub page: u32,
    pub per_page: u32,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ChainReport {
    pub intact: bool,
    /// Records verified (when intact).
    pub records: i64,
    pub head_hash: Option<String>,
    /// Where the chain breaks, e.g. "audit record #42 was altered".
    pub broken_at: Option<String>,
}

fn filter_of(query: &AuditQuery) -> ApiResult<AuditFilter> {
    let too_long = |s: &Option<String>| s.as_deref().is_some_and(|s| s.chars().count() > 64);
    for (field, value) in
        [("actor", &query.actor), ("action", &query.action), ("target_id", &query.target_id)]
    {
        if too_long(value) {
            return Err(ApiError::field(field, "too_long"));
        }
    }
    if let (Some(from), Some(to)) = (query.from, query.to)
        && from > to
    {
        return Err(ApiError::field("to", "before_from"));
    }
    let non_empty = |s: &Option<String>| s.clone().filter(|s| !s.trim().is_empty());
    Ok(AuditFilter {
        from: query.from,
        to: query.to,
        actor: non_empty(&query.actor),
        action: non_empty(&query.action),
        outcome: query.outcome,
        target_id: non_empty(&query.target_id),
    })
}

/// Audit records in the caller's scope, newest first (audit administrator).
#[utoipa::path(
    get, path = "/audit", tag = "audit", params(AuditQuery),
    responses((status = 200, body = AuditPage), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody))
)]
async fn search(
    State(state): State<AppState>,
    Authorized(principal, _): Authorized<ReadAudit>,
    ApiQuery(query): ApiQuery<AuditQuery>,
) -> ApiResult<Json<AuditPage>> {
    let filter = filter_of(&query)?;
    let page = PageRequest::parse(query.page, query.per_page)?;
    let page = state.store().search_audit(&principal.scope(), &filter, page).await?;
    let mut items: Vec<AuditEntry> = page.items.into_iter().map(AuditEntry::from).collect();
    name_entries(&state, &principal, &mut items).await?;
    Ok(Json(AuditPage { items, total: page.total, page: page.page, per_page: page.per_page }))
}

/// Fills in the actors' units and the targets as a person reads them.
async fn name_entries(
    state: &AppState,
    principal: &Principal,
    items: &mut [AuditEntry],
) -> ApiResult<()> {
    // The records each entry's detail names by id, read once.
    let refs: Vec<Vec<(String, String)>> = items
        .iter()
        .map(|e| {
            let mut mine = Vec::new();
            referenced(&e.detail, &mut mine);
            mine
        })
        .collect();
    let targets = items.iter().filter_map(|e| Some((e.target_type.clone()?, e.target_id.clone()?)));
    let wanted: Vec<(String, String)> = targets.chain(refs.iter().flatten().cloned()).collect();
    let named = name_records(state, principal, wanted).await?;
    let mut unit_ids: Vec<String> = items.iter().filter_map(|e| e.actor_unit_id.clone()).collect();
    unit_ids.sort_unstable();
    unit_ids.dedup();
    let units: HashMap<String, String> =
        state.store().unit_names(&unit_ids).await?.into_iter().map(|u| (u.id, u.title)).collect();
    for (e, mine) in items.iter_mut().zip(refs) {
        e.actor_unit_name = e.actor_unit_id.as_ref().and_then(|u| units.get(u).cloned());
        if let (Some(kind), Some(id)) = (&e.target_type, &e.target_id)
            && let Some(n) = named.get(&(kind.clone(), id.clone()))
        {
            e.target_label = Some(n.label.clone());
            e.target_link = n.link.clone();
        }
        e.names = mine
            .into_iter()
            .filter_map(|key| Some((key.1.clone(), named.get(&key)?.label.clone())))
            .collect();
    }
    Ok(())
}

/// Detail fields that hold another record's id, and the kind of that record.
const ID_FIELDS: [(&str, &str); 6] = [
    ("unit_id", "unit"),
    ("parent_id", "unit"),
    ("user_id", "user"),
    ("target_user_id", "user"),
    ("incident_id", "incident"),
    ("shift_id", "duty_shift"),
];

/// The (kind, id) of every record the detail names by id, at any depth.
fn referenced(detail: &Value, out: &mut Vec<(String, String)>) {
    match detail {
        Value::Object(map) => {
            for (key, value) in map {
                if let (Some((_, kind)), Value::String(id)) =
                    (ID_FIELDS.iter().find(|(field, _)| field == key), value)
                {
                    out.push(((*kind).to_owned(), id.clone()));
                } else {
                    referenced(value, out);
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|v| referenced(v, out)),
        _ => {}
    }
}

const HEADERS_ZH: [&str; 10] =
    ["序号", "时间", "操作人", "操作", "对象类型", "对象", "结果", "来源IP", "详情", "哈希"];
const HEADERS_EN: [&str; 10] = [
    "Seq",
    "Time",
    "Actor",
    "Action",
    "Target type",
    "Target",
    "Outcome",
    "Source IP",
    "Detail",
    "Hash",
];

/// The matching records as an Excel workbook (audit administrator); at most 50,000 rows, the
/// newest. The export itself is audited.
#[utoipa::path(
    get, path = "/audit/export", tag = "audit", params(AuditQuery),
    responses(
        (status = 200, description = "Excel workbook", content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", body = Vec<u8>),
        (status = 403, body = ErrorBody),
    )
)]
async fn export(
    State(state): State<AppState>,
    Authorized(principal, _): Authorized<ReadAudit>,
    ApiQuery(query): ApiQuery<AuditQuery>,
) -> ApiResult<Response> {
    let filter = filter_of(&query)?;
    let english = query.lang.as_deref() == Some("en");
    let records = state.store().export_audit(&principal.scope(), &filter, EXPORT_LIMIT).await?;
    let targets =
        records.iter().filter_map(|r| Some((r.target_type.clone()?, r.target_id.clone()?)));
    let named = name_records(&state, &principal, targets.collect::<Vec<_>>()).await?;
    let rows = records
        .iter()
        .map(|r| {
            vec![
                Cell::Number(r.seq as f64),
                Cell::Time(r.at),
                Cell::from(r.actor_name.clone()),
                Cell::from(r.action.clone()),
                Cell::from(r.target_type.clone()),
                Cell::from(
                    r.target_type
                        .clone()
                        .zip(r.target_id.clone())
                        .and_then(|key| named.get(&key).map(|n| n.label.clone()))
                        .or_else(|| r.target_id.clone()),
                ),
                Cell::from(r.outcome.clone()),
                Cell::from(r.ip.clone()),
                Cell::from(r.detail.clone()),
                Cell::from(r.hash.clone()),
            ]
        })
        .collect();
    let (sheet, title, headers) = if english {
        ("Audit trail", "Beacon audit trail export", &HEADERS_EN)
    } else {
        ("审计记录", "审计记录导出", &HEADERS_ZH)
    };
    let bytes = ledger_xlsx(&Ledger { sheet, title, headers, rows }).map_err(ApiError::internal)?;
    let record =
        NewAuditRecord::new(&principal.actor(), "audit.export", Outcome::Success).detail(json!({
            "rows": records.len(),
            "from": query.from,
            "to": query.to,
            "actor": filter.actor,
            "action": filter.action,
        }));
    state.store().audit(record).await?;
    let filename = format!("audit-{}.xlsx", state.store().now().format("%Y%m%d-%H%M%S"));
    Ok((
        [
            (
                header::CONTENT_TYPE,
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet".to_owned(),
            ),
            (header::CONTENT_DISPOSITION, format!("attachment; filename=\"{filename}\"")),
        ],
        bytes,
    )
        .into_response())
}

/// Walks the hash chain and reports whether it is intact (audit administrator).
#[utoipa::path(
    get, path = "/audit/verify", tag = "audit",
    responses((status = 200, body = ChainReport), (status = 403, body = ErrorBody))
)]
async fn verify(
    State(state): State<AppState>,
    Authorized(_principal, _): Authorized<ReadAudit>,
) -> ApiResult<Json<ChainReport>> {
    let report = match state.store().verify_audit_chain().await? {
        ChainStatus::Intact { records, head_hash } => {
            ChainReport { intact: true, records, head_hash: Some(head_hash), broken_at: None }
        }
        ChainStatus::Broken(broken) => ChainReport {
            intact: false,
            records: 0,
            head_hash: None,
            broken_at: Some(broken.to_string()),
        },
    };
    Ok(Json(report))
}

/// How old the last walk of the chain may be before the workbench starts another.
const CHAIN_CHECK_AGE_MINUTES: i64 = 60;

/// The audit administrator's card: whether the hash chain was intact at the last walk (made in
/// the background at most hourly, or by "verify" on the audit page), and when.
pub fn workbench_cards<'a>(
    state: &'a AppState,
    principal: &'a Principal,
) -> BoxFuture<'a, ApiResult<Vec<Card>>> {
    Box::pin(async move {
        if !principal.can(Permission::ReadAudit) {
            return Ok(Vec::new());
        }
        let store = state.store();
        store.refresh_audit_check(chrono::Duration::minutes(CHAIN_CHECK_AGE_MINUTES));
        let card = match store.last_audit_check() {
            Some((at, ChainStatus::Intact { records, head_hash })) => Card::new(
                "audit.chain",
                records,
                vec![
                    Item::new(format!("{}…", head_hash.chars().take(16).collect::<String>()))
                        .at(at)
                        .level(Level::Ok)
                        .tag("chain_intact")
                        .link("/audit"),
                ],
            ),
            Some((at, ChainStatus::Broken(broken))) => Card::new(
                "audit.chain",
                1,
                vec![{
                    // The record where the chain breaks, and how (worded by the web app).
                    let (seq, how) = match broken {
                        ChainBreak::Removed { seq, .. } => (seq, "chain_removed"),
                        ChainBreak::Altered { seq } => (seq, "chain_altered"),
                        ChainBreak::Relinked { seq } => (seq, "chain_relinked"),
                    };
                    Item::new(format!("#{seq}"))
                        .at(at)
                        .level(Level::Danger)
                        .tag("chain_broken")
                        .tag(how)
                        .link("/audit")
                }],
            ),
            // The first walk is under way: the card says so until the next load.
            None => Card::new("audit.chain", 0, Vec::new())
                .figure("chain_checking", 0)
                .at_least(Level::Info),
        };
        Ok(vec![card])
    })
}

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(search)).routes(routes!(export)).routes(routes!(verify))
}

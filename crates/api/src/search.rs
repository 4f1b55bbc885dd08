//! The global search: one box in the top bar finds incidents by number or title, units, people
//! and duty-log calls, each within the caller's scope and only among the kinds the caller's
//! roles may read. Each module registers a searcher in [`SEARCHERS`]; a later module (the
//! enterprise register, hidden dangers…) adds one line and a function of its own.

use axum::Json;
use axum::extract::State;
use beacon_core::clock::china_offset;
use beacon_core::org::Permission;
use beacon_core::page::PageRequest;
use beacon_store::duty::DutyLogFilter;
use beacon_store::enterprise::{EnterpriseFilter, Reach};
use beacon_store::incident::IncidentFilter;
use beacon_store::org::UserFilter;
use chrono::{DateTime, Utc};
use futures::future::BoxFuture;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::http::{ApiError, ApiQuery, ApiResult, ErrorBody};
use crate::org::Principal;

/// Longest query, in characters.
pub const MAX_QUERY: usize = 64;
/// Most hits per kind.
pub const MAX_LIMIT: u32 = 20;

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SearchParams {
    /// What to look for: part of a number, title, name, code or phone (1 to 64 characters).
    pub q: String,
    /// Hits per kind, 1 to 20; default 5.
    #[param(minimum = 1, maximum = 20)]
    pub limit: Option<u32>,
}

/// One record found.
#[derive(Debug, Serialize, ToSchema)]
pub struct Hit {
    pub id: String,
    /// What the record is called: `990102-2026-0001 化工厂爆炸`, `江南区`, `张三`.
    pub label: String,
    /// A second line: the unit, the time.
    pub detail: String,
    /// The web app's page of the record.
    pub link: String,
}

/// The hits of one kind.
#[derive(Debug, Serialize, ToSchema)]
pub struct SearchGroup {
    /// `incident`, `unit`, `user`, `duty_log`.
    pub kind: String,
    pub items: Vec<Hit>,
    /// Whether there are more than shown (open the kind's list to see them all).
    pub more: bool,
    /// The list page that shows them all, filtered by the query, where there is one.
    pub list: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SearchResults {
    pub q: String,
    pub groups: Vec<SearchGroup>,
}

type Find =
    for<'a> fn(&'a AppState, &'a Principal, &'a str, u32) -> BoxFuture<'a, ApiResult<Found>>;

/// What one searcher found: the hits (at most the limit) and whether there are more.
pub struct Found {
    pub items: Vec<Hit>,
    pub more: bool,
}

/// A module's search: which kind, who may use it (any of the permissions), how.
pub struct Searcher {
    pub kind: &'static str,
    pub permissions: &'static [Permission],
    pub find: Find,
}

pub const SEARCHERS: &[Searcher] = &[
    Searcher {
        kind: "incident",
        permissions: &[Permission::ReadIncidents],
        find: |s, p, q, n| Box::pin(incidents(s, p, q, n)),
    },
    Searcher {
        kind: "unit",
        permissions: &[Permission::ReadDuty, Permission::ManageOrg],
        find: |s, p, q, n| Box::pin(units(s, p, q, n)),
    },
    Searcher {
        kind: "user",
        permissions: &[Permission::ViewAccounts],
        find: |s, p, q, n| Box::pin(users(s, p, q, n)),
    },
    Searcher {
        kind: "enterprise",
        permissions: &[Permission::ReadEnterprises],
        find: |s, p, q, n| Box::pin(enterprises(s, p, q, n)),
    },
    Searcher {
        kind: "duty_log",
        permissions: &[Permission::ReadDutyLog],
        find: |s, p, q, n| Box::pin(calls(s, p, q, n)),
    },
];

fn local(at: DateTime<Utc>) -> String {
    at.with_timezone(&china_offset()).format("%Y-%m-%d %H:%M").to_string()
}

/// A page one longer than the limit tells whether there are more.
fn page_of(limit: u32) -> PageRequest {
    PageRequest { page: 1, per_page: limit + 1 }
}

fn found(mut items: Vec<Hit>, limit: u32) -> Found {
    let more = items.len() > limit as usize;
    items.truncate(limit as usize);
    Found { items, more }
}

async fn incidents(
    state: &AppState,
    principal: &Principal,
    q: &str,
    limit: u32,
) -> ApiResult<Found> {
    let filter = IncidentFilter { text: Some(q.to_owned()), ..IncidentFilter::default() };
    let page = state.store().incidents(&principal.scope(), &filter, page_of(limit)).await?;
    let items = page
        .items
        .into_iter()
        .map(|i| Hit {
            label: format!("{} {}", i.number, i.title),
            detail: format!("{} · {}", i.unit.name, local(i.occurred_at)),
            link: format!("/incidents/{}", i.id),
            id: i.id,
        })
        .collect();
    Ok(found(items, limit))
}

async fn units(state: &AppState, principal: &Principal, q: &str, limit: u32) -> ApiResult<Found> {
    let needle = q.to_lowercase();
    // An administrator opens the unit in the tree; the duty desk, its duty phones.
    let link = if principal.can(Permission::ManageOrg) { "/units" } else { "/duty/directory" };
    let items = state
        .store()
        .list_units(&principal.scope())
        .await?
        .into_iter()
        .filter(|u| {
            u.name.to_lowercase().contains(&needle) || u.code.to_lowercase().contains(&needle)
        })
        .take(limit as usize + 1)
        .map(|u| Hit { label: u.name, detail: u.code, link: link.to_owned(), id: u.id })
        .collect();
    Ok(found(items, limit))
}

async fn users(state: &AppState, principal: &Principal, q: &str, limit: u32) -> ApiResult<Found> {
    let filter = UserFilter { q: Some(q.to_owned()), ..UserFilter::default() };
    let page = state.store().list_users(&principal.scope(), &filter, page_of(limit)).await?;
    let items = page
        .items
        .into_iter()
        .map(|u| Hit {
            link: format!(
                "/users?{}",
                form_urlencoded::Serializer::new(String::new())
                    .append_pair("q", &u.display_name)
                    .finish()
            ),
            label: u.display_name,
            detail: u.unit.name,
            id: u.id,
        })
        .collect();
    Ok(found(items, limit))
}

async fn calls(state: &AppState, principal: &Principal, q: &str, limit: u32) -> ApiResult<Found> {
    let filter = DutyLogFilter { q: Some(q.to_owned()), ..DutyLogFilter::default() };
    let page = state.store().duty_log(&principal.scope(), &filter, page_of(limit)).await?;
    let items = page
        .items
        .into_iter()
        .map(|e| Hit {
            label: e.summary.chars().take(40).collect(),
            detail: format!("{} · {}", e.unit_name, local(e.received_at)),
            link: format!("/duty/log?entry={}", e.id),
            id: e.id,
        })
        .collect();
    Ok(found(items, limit))
}

async fn enterprises(
    state: &AppState,
    principal: &Principal,
    q: &str,
    limit: u32,
) -> ApiResult<Found> {
    let filter = EnterpriseFilter { q: Some(q.to_owned()), ..EnterpriseFilter::default() };
    let reach = Reach::Scope(principal.scope());
    let page = state.store().enterprises(&reach, &filter, page_of(limit)).await?;
    let items = page
        .items
        .into_iter()
        .map(|e| Hit {
            label: e.name,
            detail: format!("{} · {}", e.uscc, e.unit.name),
            link: format!("/enterprises/{}", e.id),
            id: e.id,
        })
        .collect();
    Ok(found(items, limit))
}

/// The list page that shows every hit of a kind.
fn list_of(kind: &str) -> Option<String> {
    match kind {
        "incident" => Some("/incidents".to_owned()),
        "user" => Some("/users".to_owned()),
        "duty_log" => Some("/duty/log".to_owned()),
        "enterprise" => Some("/enterprises".to_owned()),
        _ => None,
    }
}

/// Finds records of every kind the caller may read, within their scope, grouped by kind.
#[utoipa::path(get, path = "/search", tag = "search", params(SearchParams),
    responses((status = 200, body = SearchResults), (status = 401, body = ErrorBody),
        (status = 422, description = "`q: required` or `too_long`; `limit: out_of_range`", body = ErrorBody)))]
async fn search_records(
    State(state): State<AppState>,
    principal: Principal,
    ApiQuery(params): ApiQuery<SearchParams>,
) -> ApiResult<Json<SearchResults>> {
    let q = params.q.trim();
    if q.is_empty() {
        return Err(ApiError::field("q", "required"));
    }
    if q.chars().count() > MAX_QUERY {
        return Err(ApiError::field("q", "too_long"));
    }
    if q.chars().any(char::is_control) {
        return Err(ApiError::field("q", "invalid_characters"));
    }
    let limit = params.limit.unwrap_or(5);
    if !(1..=MAX_LIMIT).contains(&limit) {
        return Err(ApiError::field("limit", "out_of_range"));
    }
    let mut groups = Vec::new();
    for searcher in SEARCHERS.iter().filter(|s| s.permissions.iter().any(|p| principal.can(*p))) {
        let Found { items, more } = (searcher.find)(&state, &principal, q, limit).await?;
        if !items.is_empty() {
            groups.push(SearchGroup {
                kind: searcher.kind.to_owned(),
                items,
                more,
                list: list_of(searcher.kind),
            });
        }
    }
    Ok(Json(SearchResults { q: q.to_owned(), groups }))
}

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(search_records))
}

//! Monthly statistics of incidents by grade, kind and unit, as JSON for the charts and as an
//! Excel ledger for the office.

use axum::Json;
use axum::extract::State;
use axum::response::Response;
use beacon_core::error::ValidationErrors;
use beacon_export::{Cell, Ledger, ledger_xlsx};
use beacon_store::incident::{IncidentStats, StatsFilter, Tally};
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::kind_of;
use crate::AppState;
use crate::http::{ApiError, ApiQuery, ApiResult, ErrorBody};
use crate::http::{XLSX, download};
use crate::org::Principal;
use crate::org::auth::{Authorized, ReadIncidents};
use crate::org::unit_of;

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct StatsParams {
    /// 2000 to 2100.
    pub year: i32,
    /// Unit code: that unit and everything beneath it.
    pub unit: Option<String>,
    pub kind: Option<String>,
    /// `en` for English headers in the workbook; Chinese otherwise.
    pub lang: Option<String>,
}

async fn stats_of(
    state: &AppState,
    principal: &Principal,
    q: &StatsParams,
) -> ApiResult<IncidentStats> {
    let mut errors = ValidationErrors::new();
    if !(2000..=2100).contains(&q.year) {
        errors.add("year", "out_of_range");
    }
    let kind = match q.kind.as_deref().filter(|k| !k.is_empty()) {
        Some(k) => kind_of(&mut errors, k),
        None => None,
    };
    errors.into_result()?;
    let unit_id = match q.unit.as_deref().filter(|u| !u.is_empty()) {
        Some(code) => Some(unit_of(state, principal, Some(code)).await?.id),
        None => None,
    };
    let filter = StatsFilter { year: q.year, unit_id, kind };
    Ok(state.store().incident_stats(&principal.scope(), &filter).await?)
}

/// A year's incidents in the caller's scope per month (by grade, with casualties and loss), per
/// kind and per unit.
#[utoipa::path(get, path = "/incidents/stats", tag = "incidents", params(StatsParams),
    responses((status = 200, body = IncidentStats),
        (status = 422, description = "`year: out_of_range`, `kind: unknown_kind`, `unit: not_found`", body = ErrorBody)))]
async fn stats(
    State(state): State<AppState>,
    Authorized(principal, _): Authorized<ReadIncidents>,
    ApiQuery(q): ApiQuery<StatsParams>,
) -> ApiResult<Json<IncidentStats>> {
    Ok(Json(stats_of(&state, &principal, &q).await?))
}

fn tally_cells(label: String, t: &Tally) -> Vec<Cell> {
    let mut row = vec![Cell::Text(label)];
    row.extend(
        [t.count, t.particularly_serious, t.serious, t.relatively_serious, t.ordinary]
            .map(|n| Cell::Number(f64::from(n))),
    );
    row.extend(
        [t.deaths, t.missing, t.serious_injuries, t.minor_injuries].map(|n| Cell::Number(n as f64)),
    );
    row.push(Cell::Number(t.direct_loss_cny as f64 / 10_000.0));
    row
}

/// The year's statistics as an Excel ledger: the months, then the total, the kinds and the
/// units, each row with the counts by grade, casualties and loss (10,000 yuan).
#[utoipa::path(get, path = "/incidents/stats.xlsx", tag = "incidents", params(StatsParams),
    responses((status = 200, description = "Excel workbook", content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
        (status = 422, body = ErrorBody)))]
async fn stats_xlsx(
    State(state): State<AppState>,
    Authorized(principal, _): Authorized<ReadIncidents>,
    ApiQuery(q): ApiQuery<StatsParams>,
) -> ApiResult<Response> {
    let found = stats_of(&state, &principal, &q).await?;
    let english = q.lang.as_deref() == Some("en");
    let mut rows: Vec<Vec<Cell>> = found
        .months
        .iter()
        .map(|m| {
            let label = if english {
                format!("{}-{:02}", found.year, m.month)
            } else {
                format!("{}月", m.month)
            };
            tally_cells(label, &m.tally)
        })
        .collect();
    rows.push(tally_cells(if english { "Total".into() } else { "合计".into() }, &found.total));
    rows.push(Vec::new());
    for k in &found.kinds {
        let (zh, en) = k.kind.names();
        rows.push(tally_cells(if english { en } else { zh }.to_owned(), &k.tally));
    }
    rows.push(Vec::new());
    for u in &found.units {
        rows.push(tally_cells(u.unit.name.clone(), &u.tally));
    }
    let headers: &[&str] = if english {
        &[
            "Month / kind / unit",
            "Incidents",
            "Particularly serious",
            "Serious",
            "Relatively serious",
            "Ordinary",
            "Deaths",
            "Missing",
            "Serious injuries",
            "Minor injuries",
            "Direct loss (10,000 CNY)",
        ]
    } else {
        &[
            "月份/类型/单位",
            "起数",
            "特别重大",
            "重大",
            "较大",
            "一般",
            "死亡",
            "失踪",
            "重伤",
            "轻伤",
            "直接经济损失（万元）",
        ]
    };
    let title = if english {
        format!("Incidents in {}", found.year)
    } else {
        format!("{}年突发事件统计", found.year)
    };
    let bytes = ledger_xlsx(&Ledger {
        sheet: if english { "Incidents" } else { "事件统计" },
        title: &title,
        headers,
        rows,
    })
    .map_err(ApiError::internal)?;
    Ok(download(&format!("incidents-{}.xlsx", found.year), XLSX, bytes))
}

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(stats)).routes(routes!(stats_xlsx))
}

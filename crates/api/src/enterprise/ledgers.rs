//! Ledgers across the enterprises a caller reaches, each as a page and as an Excel workbook
//! with the same filters: licences (expiring and expired), risk points (most severe first) and
//! major hazard sources (highest R first). Reference values carry the standards' Chinese names
//! in either language, as the register's workbook does.

use axum::Json;
use axum::extract::State;
use axum::response::Response;
use beacon_core::enterprise::risk::{ACCIDENT_TYPES, CONTROL_LEVELS};
use beacon_core::enterprise::{HazardGrade, LICENCE_KINDS, RiskColour};
use beacon_core::error::ValidationErrors;
use beacon_core::page::PageRequest;
use beacon_export::Cell;
use beacon_store::Page;
use beacon_store::enterprise::{
    HazardSourceFilter, HazardSourceLedgerRow, LicenceFilter, LicenceLedgerRow, RiskPointFilter,
    RiskPointLedgerRow,
};
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{optional_id, read_reach, reference_name};
use crate::AppState;
use crate::http::{ApiQuery, ApiResult, ErrorBody};
use crate::ledger::{all_pages, date_cell, workbook};
use crate::org::Principal;

/// The enterprise fragment of a ledger's filter, as long as the register's own (100 characters).
fn fragment(errors: &mut ValidationErrors, q: Option<&str>) -> Option<String> {
    let q = q.map(str::trim).filter(|q| !q.is_empty())?;
    if q.chars().count() > 100 {
        errors.add("q", "too_long");
    }
    Some(q.to_owned())
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct LicenceParams {
    /// `expiring` (in force, expires within `within_days`, default 90) or `expired`.
    pub state: Option<String>,
    #[param(minimum = 1, maximum = 3660)]
    pub within_days: Option<u32>,
    pub kind: Option<String>,
    /// Unit id: licences of enterprises in its territory.
    pub unit: Option<String>,
    /// A fragment of the enterprise's name, code or address.
    pub q: Option<String>,
    #[param(minimum = 1, maximum = 1000000)]
    pub page: Option<u32>,
    #[param(minimum = 1, maximum = 200)]
    pub per_page: Option<u32>,
    /// The workbook's language (`.xlsx` only): `zh` (default) or `en`.
    pub lang: Option<String>,
}

fn licence_filter(q: &LicenceParams) -> ApiResult<LicenceFilter> {
    let mut errors = ValidationErrors::new();
    if q.state.as_deref().is_some_and(|s| !["expiring", "expired"].contains(&s)) {
        errors.add("state", "unknown");
    }
    if q.within_days.is_some_and(|d| !(1..=3660).contains(&d)) {
        errors.add("within_days", "out_of_range");
    }
    if q.kind.as_deref().is_some_and(|k| !LICENCE_KINDS.iter().any(|(c, _)| *c == k)) {
        errors.add("kind", "unknown");
    }
    let unit_id = optional_id(&mut errors, "unit", q.unit.as_deref());
    let search = fragment(&mut errors, q.q.as_deref());
    errors.into_result()?;
    Ok(LicenceFilter {
        state: q.state.clone(),
        within_days: q.within_days,
        kind: q.kind.clone(),
        unit_id,
        q: search,
    })
}

/// The licence ledger: licences in force of the enterprises the caller reaches, soonest expiry
/// first.
#[utoipa::path(get, path = "/licences", tag = "enterprise", params(LicenceParams),
    responses((status = 200, body = Page<LicenceLedgerRow>), (status = 403, description = "the caller does not read the register (the administrators)", body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn licence_ledger(
    State(state): State<AppState>,
    principal: Principal,
    ApiQuery(q): ApiQuery<LicenceParams>,
) -> ApiResult<Json<Page<LicenceLedgerRow>>> {
    let reach = read_reach(&state, &principal).await?;
    let page = PageRequest::parse(q.page, q.per_page)?;
    let filter = licence_filter(&q)?;
    Ok(Json(state.store().licence_ledger(&reach, &filter, page).await?))
}

/// The licence ledger as an Excel ledger, with the ledger's filters.
#[utoipa::path(get, path = "/licences.xlsx", tag = "enterprise", params(LicenceParams),
    responses((status = 200, description = "Excel workbook", content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
        (status = 403, description = "the caller does not read the register (the administrators)", body = ErrorBody),
        (status = 422, description = "`export_too_large`: more than 20,000 rows; narrow the filter", body = ErrorBody)))]
async fn licences_xlsx(
    State(state): State<AppState>,
    principal: Principal,
    ApiQuery(q): ApiQuery<LicenceParams>,
) -> ApiResult<Response> {
    let reach = read_reach(&state, &principal).await?;
    let filter = licence_filter(&q)?;
    let store = state.store();
    let items = all_pages(|page| store.licence_ledger(&reach, &filter, page)).await?;
    let english = q.lang.as_deref() == Some("en");
    let rows = items
        .into_iter()
        .map(|r| {
            let state = match (r.licence.state.as_str(), english) {
                ("expired", false) => "已过期",
                ("expiring", false) => "即将到期",
                ("withdrawn", false) => "已注销",
                (_, false) => "有效",
                ("expired", true) => "Expired",
                ("expiring", true) => "Expiring",
                ("withdrawn", true) => "Withdrawn",
                (_, true) => "Valid",
            };
            vec![
                Cell::from(r.enterprise_name),
                Cell::from(r.enterprise_uscc),
                Cell::from(r.unit_name),
                Cell::Text(reference_name(&LICENCE_KINDS, &r.licence.kind)),
                Cell::from(r.licence.number),
                Cell::from(r.licence.holder_name),
                Cell::from(r.licence.issuer),
                date_cell(Some(r.licence.issued_on)),
                date_cell(Some(r.licence.expires_on)),
                Cell::from(state),
            ]
        })
        .collect();
    let headers: &[&str] = if english {
        &[
            "Enterprise",
            "Credit code",
            "Territory",
            "Licence",
            "Number",
            "Holder",
            "Issuer",
            "Issued",
            "Expires",
            "State",
        ]
    } else {
        &[
            "企业名称",
            "统一社会信用代码",
            "属地",
            "证照类别",
            "证照编号",
            "持证人",
            "发证机关",
            "发证日期",
            "有效期至",
            "状态",
        ]
    };
    let title = if english { "Licence ledger" } else { "证照到期台账" };
    workbook(store.now(), title, headers, rows, "licences")
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RiskPointParams {
    /// Unit id: points of enterprises in its territory.
    pub unit: Option<String>,
    /// A fragment of the enterprise's name, code or address.
    pub q: Option<String>,
    /// `red`, `orange`, `yellow` or `blue`.
    pub colour: Option<String>,
    /// `company`, `workshop`, `team` or `post`.
    pub control_level: Option<String>,
    /// Only points whose review date has passed.
    pub review_overdue: Option<bool>,
    #[param(minimum = 1, maximum = 1000000)]
    pub page: Option<u32>,
    #[param(minimum = 1, maximum = 200)]
    pub per_page: Option<u32>,
    /// The workbook's language (`.xlsx` only): `zh` (default) or `en`.
    pub lang: Option<String>,
}

fn risk_point_filter(q: &RiskPointParams) -> ApiResult<RiskPointFilter> {
    let mut errors = ValidationErrors::new();
    let colour = q.colour.as_deref().and_then(|c| {
        let colour = RiskColour::parse(c);
        if colour.is_none() {
            errors.add("colour", "unknown");
        }
        colour
    });
    if q.control_level.as_deref().is_some_and(|l| !CONTROL_LEVELS.iter().any(|(c, _)| *c == l)) {
        errors.add("control_level", "unknown");
    }
    let unit_id = optional_id(&mut errors, "unit", q.unit.as_deref());
    let search = fragment(&mut errors, q.q.as_deref());
    errors.into_result()?;
    Ok(RiskPointFilter {
        unit_id,
        colour,
        control_level: q.control_level.clone(),
        review_overdue: q.review_overdue.unwrap_or(false),
        q: search,
    })
}

/// The risk-point ledger: points in use of the enterprises the caller reaches, the most severe
/// (highest D) first.
#[utoipa::path(get, path = "/risk-points", tag = "enterprise", params(RiskPointParams),
    responses((status = 200, body = Page<RiskPointLedgerRow>), (status = 403, description = "the caller does not read the register (the administrators)", body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn risk_point_ledger(
    State(state): State<AppState>,
    principal: Principal,
    ApiQuery(q): ApiQuery<RiskPointParams>,
) -> ApiResult<Json<Page<RiskPointLedgerRow>>> {
    let reach = read_reach(&state, &principal).await?;
    let page = PageRequest::parse(q.page, q.per_page)?;
    let filter = risk_point_filter(&q)?;
    Ok(Json(state.store().risk_point_ledger(&reach, &filter, page).await?))
}

/// The risk-point ledger as an Excel workbook (风险点台账), with the ledger's filters.
#[utoipa::path(get, path = "/risk-points.xlsx", tag = "enterprise", params(RiskPointParams),
    responses((status = 200, description = "Excel workbook", content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
        (status = 403, description = "the caller does not read the register (the administrators)", body = ErrorBody),
        (status = 422, description = "`export_too_large`: more than 20,000 rows; narrow the filter", body = ErrorBody)))]
async fn risk_points_xlsx(
    State(state): State<AppState>,
    principal: Principal,
    ApiQuery(q): ApiQuery<RiskPointParams>,
) -> ApiResult<Response> {
    let reach = read_reach(&state, &principal).await?;
    let filter = risk_point_filter(&q)?;
    let store = state.store();
    let items = all_pages(|page| store.risk_point_ledger(&reach, &filter, page)).await?;
    let rows = items
        .into_iter()
        .map(|r| {
            let p = r.point;
            let types: Vec<String> =
                p.accident_types.iter().map(|t| reference_name(&ACCIDENT_TYPES, t)).collect();
            vec![
                Cell::from(r.enterprise_name),
                Cell::from(r.enterprise_uscc),
                Cell::from(r.unit_name),
                Cell::from(p.name),
                Cell::from(p.place),
                Cell::Text(types.join("、")),
                Cell::Text(p.method.to_uppercase()),
                Cell::Number(p.l),
                Cell::Number(p.e),
                Cell::Number(p.c),
                Cell::Number(p.d),
                Cell::from(p.colour.grade_name()),
                Cell::Text(reference_name(&CONTROL_LEVELS, &p.control_level)),
                Cell::from(p.responsible_person),
                date_cell(p.next_review),
                Cell::from(p.measures),
            ]
        })
        .collect();
    let english = q.lang.as_deref() == Some("en");
    let headers: &[&str] = if english {
        &[
            "Enterprise",
            "Credit code",
            "Territory",
            "Risk point",
            "Place or installation",
            "Accident types",
            "Method",
            "L",
            "E",
            "C",
            "D",
            "Risk colour",
            "Control level",
            "Responsible person",
            "Next review",
            "Control measures",
        ]
    } else {
        &[
            "企业名称",
            "统一社会信用代码",
            "属地",
            "风险点名称",
            "场所/设施",
            "可能导致的事故类型",
            "评价方法",
            "L",
            "E",
            "C",
            "D",
            "风险等级",
            "管控层级",
            "责任人",
            "下次评估日期",
            "管控措施",
        ]
    };
    let title = if english { "Risk point ledger" } else { "安全风险点台账" };
    workbook(store.now(), title, headers, rows, "risk-points")
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct HazardSourceParams {
    /// Unit id: sources of enterprises in its territory.
    pub unit: Option<String>,
    /// A fragment of the enterprise's name, code or address.
    pub q: Option<String>,
    /// `first`, `second`, `third` or `fourth` (一级 to 四级).
    pub grade: Option<String>,
    /// Only sources without a filing (备案) number.
    pub unfiled: Option<bool>,
    #[param(minimum = 1, maximum = 1000000)]
    pub page: Option<u32>,
    #[param(minimum = 1, maximum = 200)]
    pub per_page: Option<u32>,
    /// The workbook's language (`.xlsx` only): `zh` (default) or `en`.
    pub lang: Option<String>,
}

fn hazard_source_filter(q: &HazardSourceParams) -> ApiResult<HazardSourceFilter> {
    let mut errors = ValidationErrors::new();
    let grade = q.grade.as_deref().and_then(|g| {
        let grade = HazardGrade::parse(g);
        if grade.is_none() {
            errors.add("grade", "unknown");
        }
        grade
    });
    let unit_id = optional_id(&mut errors, "unit", q.unit.as_deref());
    let search = fragment(&mut errors, q.q.as_deref());
    errors.into_result()?;
    Ok(HazardSourceFilter { unit_id, grade, unfiled: q.unfiled.unwrap_or(false), q: search })
}

/// The major hazard source ledger: major sources in use of the enterprises the caller reaches,
/// the highest R (so the highest grade) first.
#[utoipa::path(get, path = "/hazard-sources", tag = "enterprise", params(HazardSourceParams),
    responses((status = 200, body = Page<HazardSourceLedgerRow>), (status = 403, description = "the caller does not read the register (the administrators)", body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn hazard_source_ledger(
    State(state): State<AppState>,
    principal: Principal,
    ApiQuery(q): ApiQuery<HazardSourceParams>,
) -> ApiResult<Json<Page<HazardSourceLedgerRow>>> {
    let reach = read_reach(&state, &principal).await?;
    let page = PageRequest::parse(q.page, q.per_page)?;
    let filter = hazard_source_filter(&q)?;
    Ok(Json(state.store().hazard_source_ledger(&reach, &filter, page).await?))
}

fn grade_name(grade: Option<HazardGrade>) -> &'static str {
    match grade {
        Some(HazardGrade::First) => "一级",
        Some(HazardGrade::Second) => "二级",
        Some(HazardGrade::Third) => "三级",
        Some(HazardGrade::Fourth) => "四级",
        None => "",
    }
}

/// The major hazard source ledger as an Excel workbook (重大危险源台账), with its filters.
#[utoipa::path(get, path = "/hazard-sources.xlsx", tag = "enterprise", params(HazardSourceParams),
    responses((status = 200, description = "Excel workbook", content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
        (status = 403, description = "the caller does not read the register (the administrators)", body = ErrorBody),
        (status = 422, description = "`export_too_large`: more than 20,000 rows; narrow the filter", body = ErrorBody)))]
async fn hazard_sources_xlsx(
    State(state): State<AppState>,
    principal: Principal,
    ApiQuery(q): ApiQuery<HazardSourceParams>,
) -> ApiResult<Response> {
    let reach = read_reach(&state, &principal).await?;
    let filter = hazard_source_filter(&q)?;
    let store = state.store();
    let items = all_pages(|page| store.hazard_source_ledger(&reach, &filter, page)).await?;
    let rows = items
        .into_iter()
        .map(|r| {
            let h = r.source;
            let substances: Vec<String> = h
                .substances
                .iter()
                .map(|s| format!("{} {} t / {} t", s.name, s.quantity_t, s.critical_t))
                .collect();
            vec![
                Cell::from(r.enterprise_name),
                Cell::from(r.enterprise_uscc),
                Cell::from(r.unit_name),
                Cell::from(h.name),
                Cell::Text(substances.join("；")),
                Cell::Number((h.s * 100.0).round() / 100.0),
                Cell::Number((h.r * 100.0).round() / 100.0),
                Cell::from(grade_name(h.grade)),
                Cell::from(h.filing_number),
                date_cell(h.filing_date),
            ]
        })
        .collect();
    let english = q.lang.as_deref() == Some("en");
    let headers: &[&str] = if english {
        &[
            "Enterprise",
            "Credit code",
            "Territory",
            "Hazard source",
            "Substances (q / Q)",
            "S",
            "R",
            "Grade",
            "Filing number",
            "Filed on",
        ]
    } else {
        &[
            "企业名称",
            "统一社会信用代码",
            "属地",
            "危险源名称",
            "危险化学品（实际存在量 / 临界量）",
            "S",
            "R",
            "级别",
            "备案编号",
            "备案日期",
        ]
    };
    let title = if english { "Major hazard source ledger" } else { "重大危险源台账" };
    workbook(store.now(), title, headers, rows, "hazard-sources")
}

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(licence_ledger))
        .routes(routes!(licences_xlsx))
        .routes(routes!(risk_point_ledger))
        .routes(routes!(risk_points_xlsx))
        .routes(routes!(hazard_source_ledger))
        .routes(routes!(hazard_sources_xlsx))
}

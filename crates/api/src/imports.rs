//! `/imports`: Excel imports of the ledgers (docs/imports.md). Upload a workbook, which starts a
//! dry run in the background; read its problems; commit it, which writes every valid row in one
//! transaction in the background; download the template and the annotated result. The kinds and
//! who may import them are listed here once ([`ImportKindName`]); what a row means belongs to the
//! module that owns the ledger.

use axum::Json;
use axum::body::Body;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use beacon_core::audit::Actor;
use beacon_core::org::Permission;
use beacon_core::page::PageRequest;
use beacon_core::scope::Scope;
use beacon_export::sheet::{Lang, RowNote, annotated_xlsx, template_xlsx};
use beacon_store::danger::{DANGER_IMPORT_COLUMNS, danger_import_samples};
use beacon_store::enterprise::{
    ENTERPRISE_IMPORT_COLUMNS, LICENCE_IMPORT_COLUMNS, RISK_POINT_IMPORT_COLUMNS,
    enterprise_import_samples, licence_import_samples, risk_point_import_samples,
};
use beacon_store::imports::{Import, ImportProblem, MAX_ROWS};
use beacon_store::{Page, Store};
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::http::{ApiError, ApiQuery, ApiResult, ErrorBody, Path, XLSX, download};
use crate::org::{Principal, check_id};

/// The largest workbook accepted: a 100,000-row register is about 8 MiB.
pub const IMPORT_LIMIT: usize = 20 * 1024 * 1024;

/// What can be imported, and the permission it takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ImportKindName {
    Enterprises,
    Licences,
    RiskPoints,
    HiddenDangers,
}

impl ImportKindName {
    fn parse(kind: &str) -> ApiResult<Self> {
        match kind {
            "enterprises" => Ok(Self::Enterprises),
            "licences" => Ok(Self::Licences),
            "risk_points" => Ok(Self::RiskPoints),
            "hidden_dangers" => Ok(Self::HiddenDangers),
            _ => Err(ApiError::field("kind", "unknown")),
        }
    }

    fn permission(self) -> Permission {
        match self {
            // The ledger's regulators: the same right that records and accepts hidden dangers.
            Self::Enterprises | Self::Licences | Self::RiskPoints | Self::HiddenDangers => {
                Permission::ManageEnterprises
            }
        }
    }

    fn name(self) -> &'static str {
        match self {
            Self::Enterprises => "enterprises",
            Self::Licences => "licences",
            Self::RiskPoints => "risk_points",
            Self::HiddenDangers => "hidden_dangers",
        }
    }
}

/// Runs an import's dry run or commit in the background; the import's status tells the end.
fn spawn_run(
    store: Store,
    kind: ImportKindName,
    scope: Scope,
    actor: Actor,
    id: String,
    write: bool,
) {
    tokio::spawn(async move {
        let result = match kind {
            ImportKindName::Enterprises => match store.enterprise_import(&scope, &actor, &id).await
            {
                Ok(k) => store.run_import(&actor, &id, k, write).await,
                Err(e) => Err(e),
            },
            ImportKindName::Licences => {
                store.run_import(&actor, &id, store.licence_import(&scope, &actor), write).await
            }
            ImportKindName::RiskPoints => {
                store.run_import(&actor, &id, store.risk_point_import(&scope, &actor), write).await
            }
            ImportKindName::HiddenDangers => {
                store.run_import(&actor, &id, store.danger_import(&scope, &actor, &id), write).await
            }
        };
        if let Err(e) = result {
            tracing::error!(import = %id, error = %e, "import failed");
        }
    });
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct UploadParams {
    /// `enterprises`, `licences`, `risk_points` or `hidden_dangers`.
    pub kind: String,
    /// The file's name as the user chose it.
    #[serde(default)]
    pub name: Option<String>,
}

fn file_name(name: Option<&str>) -> String {
    let name = name.unwrap_or_default();
    let base = name.rsplit(['/', '\\']).next().unwrap_or_default();
    let clean: String = base.chars().filter(|c| !c.is_control()).take(120).collect();
    if clean.trim().is_empty() { "import.xlsx".to_owned() } else { clean.trim().to_owned() }
}

/// Uploads a workbook (the request body, at most 20 MiB) and starts its dry run.
#[utoipa::path(post, path = "/imports", tag = "import", params(UploadParams),
    request_body(content = Vec<u8>, content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    responses((status = 202, body = Import),
        (status = 413, description = "`file_too_large`", body = ErrorBody),
        (status = 422, description = "`content: not_a_workbook`, `kind: unknown`", body = ErrorBody)))]
async fn upload_import(
    State(state): State<AppState>,
    principal: Principal,
    ApiQuery(q): ApiQuery<UploadParams>,
    body: Body,
) -> ApiResult<(StatusCode, Json<Import>)> {
    let kind = ImportKindName::parse(&q.kind)?;
    principal.require(kind.permission())?;
    let bytes = axum::body::to_bytes(body, IMPORT_LIMIT)
        .await
        .map_err(|_| ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, "file_too_large"))?;
    if bytes.is_empty() {
        return Err(ApiError::field("content", "required"));
    }
    if !bytes.starts_with(b"PK\x03\x04") {
        return Err(ApiError::field("content", "not_a_workbook"));
    }
    let actor = principal.actor();
    let store = state.store().clone();
    let name = file_name(q.name.as_deref());
    let import =
        store.create_import(&actor, &principal.unit.id, kind.name(), &name, bytes.to_vec()).await?;
    spawn_run(store, kind, principal.scope(), actor, import.id.clone(), false);
    Ok((StatusCode::ACCEPTED, Json(import)))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ImportListParams {
    pub kind: Option<String>,
    /// From 1; default 1.
    #[param(minimum = 1, maximum = 1000000)]
    pub page: Option<u32>,
    /// 1 to 200; default 20.
    #[param(minimum = 1, maximum = 200)]
    pub per_page: Option<u32>,
}

/// The imports of the caller's scope, newest first (who, when, what each did).
#[utoipa::path(get, path = "/imports", tag = "import", params(ImportListParams),
    responses((status = 200, body = Page<Import>), (status = 403, body = ErrorBody)))]
async fn list_imports(
    State(state): State<AppState>,
    principal: Principal,
    ApiQuery(q): ApiQuery<ImportListParams>,
) -> ApiResult<Json<Page<Import>>> {
    let kind = q.kind.as_deref().map(ImportKindName::parse).transpose()?;
    principal.require(kind.map_or(Permission::ManageEnterprises, ImportKindName::permission))?;
    let page = PageRequest::parse(q.page, q.per_page)?;
    Ok(Json(state.store().imports(&principal.scope(), kind.map(ImportKindName::name), page).await?))
}

/// An import found in the caller's scope (404 otherwise), then the right to import its kind.
async fn scoped(
    state: &AppState,
    principal: &Principal,
    id: &str,
) -> ApiResult<(Import, ImportKindName)> {
    let id = check_id(id)?;
    let import = state.store().import(&principal.scope(), &id).await?;
    let kind = ImportKindName::parse(&import.kind)?;
    principal.require(kind.permission())?;
    Ok((import, kind))
}

/// One import: its status, progress while it runs, counts and first problems.
#[utoipa::path(get, path = "/imports/{id}", tag = "import",
    responses((status = 200, body = Import), (status = 404, body = ErrorBody)))]
async fn get_import(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
) -> ApiResult<Json<Import>> {
    Ok(Json(scoped(&state, &principal, &id).await?.0))
}

/// Commits a checked import: every valid row is written in one transaction, in the background.
#[utoipa::path(post, path = "/imports/{id}/commit", tag = "import",
    responses((status = 202, body = Import), (status = 404, body = ErrorBody),
        (status = 409, description = "`import_not_checked`, `import_nothing_to_write`", body = ErrorBody)))]
async fn commit_import(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
) -> ApiResult<(StatusCode, Json<Import>)> {
    let (import, kind) = scoped(&state, &principal, &id).await?;
    let store = state.store().clone();
    let import = store.start_commit(&principal.scope(), &import.id).await?;
    spawn_run(store, kind, principal.scope(), principal.actor(), import.id.clone(), true);
    Ok((StatusCode::ACCEPTED, Json(import)))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct LangParams {
    /// `zh` (default) or `en`.
    pub lang: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TemplateParams {
    pub kind: String,
    /// `zh` (default) or `en`.
    pub lang: Option<String>,
}

fn lang_of(lang: Option<&str>) -> Lang {
    if lang == Some("en") { Lang::En } else { Lang::Zh }
}

/// The blank workbook to fill: the headers (required ones marked), a sample row, and notes.
#[utoipa::path(get, path = "/imports/template.xlsx", tag = "import", params(TemplateParams),
    responses((status = 200, description = "Excel workbook", content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
        (status = 422, body = ErrorBody)))]
async fn import_template(
    principal: Principal,
    ApiQuery(q): ApiQuery<TemplateParams>,
) -> ApiResult<Response> {
    let kind = ImportKindName::parse(&q.kind)?;
    principal.require(kind.permission())?;
    let lang = lang_of(q.lang.as_deref());
    let (sheet, columns, samples) = match kind {
        ImportKindName::Enterprises => (
            if lang == Lang::En { "Enterprises" } else { "企业信息" },
            &ENTERPRISE_IMPORT_COLUMNS[..],
            enterprise_import_samples(),
        ),
        ImportKindName::Licences => (
            if lang == Lang::En { "Licences" } else { "证照信息" },
            &LICENCE_IMPORT_COLUMNS[..],
            licence_import_samples(),
        ),
        ImportKindName::RiskPoints => (
            if lang == Lang::En { "Risk points" } else { "风险点" },
            &RISK_POINT_IMPORT_COLUMNS[..],
            risk_point_import_samples(),
        ),
        ImportKindName::HiddenDangers => (
            if lang == Lang::En { "Hidden dangers" } else { "隐患台账" },
            &DANGER_IMPORT_COLUMNS[..],
            danger_import_samples(),
        ),
    };
    let bytes = template_xlsx(sheet, columns, &samples, lang).map_err(ApiError::internal)?;
    Ok(download(&format!("{}-template.xlsx", kind.name()), XLSX, bytes))
}

/// The uploaded workbook with what became of each row: two columns added (outcome, problems) and
/// the cells at fault filled red.
#[utoipa::path(get, path = "/imports/{id}/result.xlsx", tag = "import", params(LangParams),
    responses((status = 200, description = "Excel workbook", content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
        (status = 404, body = ErrorBody), (status = 409, description = "`import_running`", body = ErrorBody)))]
async fn import_result(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
    ApiQuery(q): ApiQuery<LangParams>,
) -> ApiResult<Response> {
    let (import, _) = scoped(&state, &principal, &id).await?;
    if matches!(import.status.as_str(), "checking" | "committing") {
        return Err(ApiError::new(StatusCode::CONFLICT, "import_running"));
    }
    let lang = lang_of(q.lang.as_deref());
    let (import, content, header, problems, outcomes) =
        state.store().import_content(&principal.scope(), &import.id).await?;
    let committed = import.status == "committed";
    let headings = match lang {
        Lang::Zh => (if committed { "导入结果" } else { "预检结果" }, "问题"),
        Lang::En => (if committed { "Outcome" } else { "Dry-run outcome" }, "Problems"),
    };
    let header = header.unwrap_or(0);
    let outcomes: Vec<char> = outcomes.chars().collect();
    let bytes = tokio::task::spawn_blocking(move || {
        annotated_xlsx(&content, MAX_ROWS + 10, headings, header, |row| {
            let index = usize::try_from(row.checked_sub(header + 1)?).ok()?;
            let mark = outcomes.get(index).copied();
            let mine: Vec<&ImportProblem> = problems.iter().filter(|p| p.row == row).collect();
            if mark.is_none() && mine.is_empty() {
                return None;
            }
            Some(RowNote {
                outcome: outcome_word(mark.unwrap_or('r'), committed, lang).to_owned(),
                problems: mine
                    .iter()
                    .map(|p| {
                        let column = p.cell.as_deref().and_then(column_index);
                        let label = p.column.clone().unwrap_or_else(|| p.field.clone());
                        (column, format!("{label}: {}", problem_text(&p.code, lang)))
                    })
                    .collect(),
            })
        })
    })
    .await
    .map_err(ApiError::internal)?
    .map_err(ApiError::internal)?;
    let stem = import.file_name.trim_end_matches(".xlsx");
    let name = format!("{}-{}.xlsx", ascii_stem(stem), if committed { "result" } else { "check" });
    Ok(download(&name, XLSX, bytes))
}

/// A download's name must be plain ASCII in the header; a Chinese file name becomes `import`.
fn ascii_stem(stem: &str) -> String {
    let s: String = stem
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_'))
        .take(60)
        .collect();
    if s.is_empty() { "import".to_owned() } else { s }
}

/// `C` → 2, `AA` → 26.
fn column_index(letters: &str) -> Option<usize> {
    let mut n = 0usize;
    for b in letters.bytes() {
        if !b.is_ascii_uppercase() {
            return None;
        }
        n = n * 26 + usize::from(b - b'A') + 1;
    }
    n.checked_sub(1)
}

fn outcome_word(mark: char, committed: bool, lang: Lang) -> &'static str {
    match (mark, committed, lang) {
        ('c', true, Lang::Zh) => "已新增",
        ('c', false, Lang::Zh) => "将新增",
        ('u', true, Lang::Zh) => "已更新",
        ('u', false, Lang::Zh) => "将更新",
        ('n', _, Lang::Zh) => "无变化",
        (_, _, Lang::Zh) => "拒绝",
        ('c', true, Lang::En) => "created",
        ('c', false, Lang::En) => "to create",
        ('u', true, Lang::En) => "updated",
        ('u', false, Lang::En) => "to update",
        ('n', _, Lang::En) => "unchanged",
        (_, _, Lang::En) => "refused",
    }
}

/// A problem's code in words, for the annotated workbook (the web client has its own table).
fn problem_text(code: &str, lang: Lang) -> String {
    const TABLE: &[(&str, &str, &str)] = &[
        ("required", "必填", "required"),
        ("too_long", "过长", "too long"),
        ("too_many", "项数过多", "too many items"),
        ("invalid_characters", "含不允许的字符", "has characters not allowed"),
        ("invalid_character", "含不允许的字符", "has a character not allowed"),
        ("length", "长度应为 18 位", "must be 18 characters"),
        (
            "organisation_code_check",
            "组织机构代码校验位错误",
            "organisation code check digit is wrong",
        ),
        ("check_character", "校验码错误", "check character is wrong"),
        ("invalid_format", "格式不正确", "format not recognised"),
        ("too_short", "过短", "too short"),
        ("not_found", "在辖区内未找到", "not found in your scope"),
        (
            "ambiguous",
            "同名单位不止一个，请填代码",
            "more than one unit has this name; use its code",
        ),
        ("unknown", "不是可选的值", "not one of the allowed values"),
        ("out_of_range", "超出范围", "out of range"),
        ("date_unreadable", "日期无法识别", "date not readable"),
        ("number_unreadable", "数字无法识别", "number not readable"),
        ("yes_no_unreadable", "应填“是”或“否”", "should be yes or no"),
        ("duplicate_in_file", "文件中重复出现", "appears more than once in the file"),
        ("already_exists", "已由其他单位登记", "already registered by another unit"),
        ("enterprise_closed", "企业已注销，不能导入修改", "the enterprise is closed"),
        ("use_close", "注销请在系统中办理", "close it in Beacon instead"),
        ("not_a_department", "不是部门", "is not a department"),
        ("is_a_department", "应填属地，不是部门", "is a department, not a territory"),
        ("column_missing", "缺少此列", "column missing"),
        ("column_duplicated", "此列重复", "column appears twice"),
        ("licence_withdrawn", "该证照已注销，不能导入修改", "the licence was withdrawn"),
        ("before_issued", "有效期须晚于发证日期", "must be after the issue date"),
        ("not_on_scale", "不是该量表上的取值", "not a value of the scale"),
        ("in_future", "不能晚于今天", "cannot be later than today"),
        ("before_found", "不能早于发现日期", "cannot be before the day it was found"),
        (
            "major_plan_first",
            "重大隐患须先有获批的治理方案，只能导入为整改中或已销号",
            "a major one needs an approved plan first: import it as open or closed",
        ),
        ("not_closed", "未销号的隐患不应填写此项", "leave empty for one not closed"),
        (
            "danger_differs",
            "台账中已有此隐患且此项不同，请在隐患页面办理",
            "already on the ledger with another value here; change it on its page",
        ),
        ("danger_closed", "该隐患已销号，不能导入修改", "the hidden danger is closed"),
    ];
    TABLE.iter().find(|(c, _, _)| *c == code).map_or_else(
        || code.to_owned(),
        |(_, zh, en)| if lang == Lang::En { (*en).to_owned() } else { (*zh).to_owned() },
    )
}

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_imports, upload_import))
        .routes(routes!(import_template))
        .routes(routes!(get_import))
        .routes(routes!(commit_import))
        .routes(routes!(import_result))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn column_letters_read_back() {
        assert_eq!(column_index("A"), Some(0));
        assert_eq!(column_index("Z"), Some(25));
        assert_eq!(column_index("AA"), Some(26));
        assert_eq!(column_index("a"), None);
    }

    #[test]
    fn file_names_lose_their_paths() {
        assert_eq!(file_name(Some("C:\\Users\\a\\企业台账.xlsx")), "企业台账.xlsx");
        assert_eq!(file_name(Some("../../etc/passwd")), "passwd");
        assert_eq!(file_name(None), "import.xlsx");
        assert_eq!(ascii_stem("企业台账"), "import");
    }
}

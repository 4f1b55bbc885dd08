//! A ledger exported as Excel: every page of a list with its filters (at most
//! [`EXPORT_ROWS`] rows), one sheet with a title row and headers, downloaded as
//! `<stem>-<date>.xlsx`. Every module's ledger export goes through here.

use axum::http::StatusCode;
use axum::response::Response;
use beacon_core::page::PageRequest;
use beacon_export::{Cell, Ledger, ledger_xlsx};
use beacon_store::Page;

use crate::http::{ApiError, ApiResult, XLSX, download};

/// At most this many rows in one exported workbook; a larger ledger is exported by territory.
const EXPORT_ROWS: usize = 20_000;
const EXPORT_PAGE: u32 = 200;

/// Every page of a list, for an export; `export_too_large` (422) past [`EXPORT_ROWS`].
pub(crate) async fn all_pages<T, F, Fut>(mut fetch: F) -> ApiResult<Vec<T>>
where
    F: FnMut(PageRequest) -> Fut,
    Fut: std::future::Future<Output = Result<Page<T>, beacon_store::StoreError>>,
{
    let mut rows = Vec::new();
    for page in 1.. {
        let chunk = fetch(PageRequest { page, per_page: EXPORT_PAGE }).await?;
        if chunk.total > EXPORT_ROWS as i64 {
            return Err(ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "export_too_large"));
        }
        let done = chunk.items.len() < EXPORT_PAGE as usize;
        rows.extend(chunk.items);
        if done {
            break;
        }
    }
    Ok(rows)
}

/// A ledger as a workbook download named `<stem>-<date>.xlsx`.
pub(crate) fn workbook(
    now: chrono::DateTime<chrono::Utc>,
    title: &str,
    headers: &[&str],
    rows: Vec<Vec<Cell>>,
    stem: &str,
) -> ApiResult<Response> {
    let bytes =
        ledger_xlsx(&Ledger { sheet: title, title, headers, rows }).map_err(ApiError::internal)?;
    Ok(download(&format!("{stem}-{}.xlsx", now.format("%Y%m%d")), XLSX, bytes))
}

pub(crate) fn date_cell(date: Option<chrono::NaiveDate>) -> Cell {
    date.map_or(Cell::Empty, |d| Cell::Text(d.format("%Y-%m-%d").to_string()))
}

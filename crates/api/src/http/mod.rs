//! HTTP plumbing shared by every domain router: errors, extractors, middleware.

pub mod error;
pub mod extract;
pub mod middleware;

pub use error::{ApiError, ApiResult, ErrorBody};
pub use extract::{ApiJson, ApiQuery, ClientIp, Path};

/// The content type of an Excel workbook.
pub(crate) const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

/// A file to save (an Excel ledger, a calendar), named `filename`.
pub(crate) fn download(
    filename: &str,
    content_type: &str,
    bytes: Vec<u8>,
) -> axum::response::Response {
    use axum::http::header;
    use axum::response::IntoResponse;
    (
        [
            (header::CONTENT_TYPE, content_type.to_owned()),
            (header::CONTENT_DISPOSITION, format!("attachment; filename=\"{filename}\"")),
        ],
        bytes,
    )
        .into_response()
}

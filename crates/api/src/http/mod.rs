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

/// A `Content-Disposition` value (`attachment` or `inline`) naming a file in any script: an
/// ASCII fallback for old clients and the UTF-8 name as RFC 6266 / RFC 5987 give it.
pub(crate) fn content_disposition(kind: &str, filename: &str) -> String {
    let fallback: String = filename
        .chars()
        .map(|c| if c.is_ascii_graphic() && c != '"' && c != '\\' || c == ' ' { c } else { '_' })
        .collect();
    let mut encoded = String::with_capacity(filename.len() * 3);
    for byte in filename.bytes() {
        if byte.is_ascii_alphanumeric() || b"!#$&+-.^_`|~".contains(&byte) {
            encoded.push(char::from(byte));
        } else {
            encoded.push_str(&format!("%{byte:02X}"));
        }
    }
    format!("{kind}; filename=\"{fallback}\"; filename*=UTF-8''{encoded}")
}

#[cfg(test)]
mod tests {
    #[test]
    fn content_disposition_names_any_script() {
        assert_eq!(
            super::content_disposition("attachment", "许可证 1.pdf"),
            "attachment; filename=\"___ 1.pdf\"; filename*=UTF-8''%E8%AE%B8%E5%8F%AF%E8%AF%81%201.pdf"
        );
        assert_eq!(
            super::content_disposition("inline", "a\"b.png"),
            "inline; filename=\"a_b.png\"; filename*=UTF-8''a%22b.png"
        );
    }
}

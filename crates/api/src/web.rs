//! The web UI, embedded in the binary at build time from `web/dist`, and the Swagger UI page.
//! Nothing is loaded from outside the binary.

use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header};
use axum::response::{Html, IntoResponse, Response};
use rust_embed::RustEmbed;

use crate::http::ApiError;

#[derive(RustEmbed)]
#[folder = "../../web/dist"]
#[allow_missing = true]
struct Assets;

const NOT_BUILT: &str = "<!doctype html><meta charset=utf-8><title>Beacon</title>\
<p>The web UI was not built into this binary. Build it with <code>cargo demo</code> or \
<code>npm run build</code> in <code>web/</code>, then rebuild Beacon.</p>";

/// Everything no route matched: unknown API paths answer JSON 404; files of the UI are served
/// from the embedded bundle; any other path is a client-side route and gets `index.html`.
pub async fn fallback(method: Method, uri: Uri, headers: HeaderMap) -> Response {
    let path = uri.path();
    if path == "/api" || path.starts_with("/api/") {
        return ApiError::not_found().into_response();
    }
    if method != Method::GET && method != Method::HEAD {
        return ApiError::not_found().into_response();
    }
    let file = path.trim_start_matches('/');
    if let Some(response) = asset(file, &headers).filter(|_| !file.is_empty()) {
        return response;
    }
    let last = file.rsplit('/').next().unwrap_or(file);
    if last.contains('.') && file != "index.html" {
        return (StatusCode::NOT_FOUND, "not found").into_response();
    }
    asset("index.html", &headers).unwrap_or_else(|| Html(NOT_BUILT).into_response())
}

/// The Swagger UI page for `/api/openapi.json`.
pub async fn swagger(headers: HeaderMap) -> Response {
    asset("swagger/index.html", &headers)
        .unwrap_or_else(|| (StatusCode::NOT_FOUND, Html(NOT_BUILT)).into_response())
}

fn asset(path: &str, request_headers: &HeaderMap) -> Option<Response> {
    let file = Assets::get(path)?;
    let etag = format!("\"{}\"", hex_prefix(&file.metadata.sha256_hash()));
    // Files under assets/ carry a content hash in their names and never change.
    let cache = if path.starts_with("assets/") {
        "public, max-age=31536000, immutable"
    } else {
        "no-cache"
    };
    let matches = request_headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|tag| tag.trim() == etag));
    let mut response = if matches {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        file.data.into_owned().into_response()
    };
    let headers = response.headers_mut();
    if let Ok(value) = HeaderValue::from_str(file.metadata.mimetype()) {
        headers.insert(header::CONTENT_TYPE, value);
    }
    if let Ok(value) = HeaderValue::from_str(&etag) {
        headers.insert(header::ETAG, value);
    }
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    Some(response)
}

fn hex_prefix(hash: &[u8; 32]) -> String {
    hash.iter().take(12).map(|b| format!("{b:02x}")).collect()
}

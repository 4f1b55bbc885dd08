//! Layers every response passes through: security headers, the cross-site check, the audit of
//! refused requests, and request metrics.

use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderValue, Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::AppState;
use crate::http::error::{ApiError, DeniedAccess};

/// Headers on every response: a Content-Security-Policy that allows no inline script and no
/// outside origin (except a configured intranet tile server for map images), no sniffing, no
/// framing, no referrer, and no caching of API answers.
pub async fn security_headers(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    let is_api = request.uri().path().starts_with("/api/");
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    let tiles = state.config().tile_url.as_deref().and_then(origin_of).unwrap_or_default();
    let csp = format!(
        "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; \
         img-src 'self' data: blob: {tiles}; font-src 'self' data:; connect-src 'self'; \
         worker-src 'self' blob:; object-src 'none'; base-uri 'self'; form-action 'self'; \
         frame-ancestors 'none'"
    );
    if let Ok(value) = HeaderValue::from_str(&csp) {
        headers.insert(header::CONTENT_SECURITY_POLICY, value);
    }
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(
        "permissions-policy",
        HeaderValue::from_static("camera=(), microphone=(), payment=(), usb=()"),
    );
    headers.insert("cross-origin-opener-policy", HeaderValue::from_static("same-origin"));
    if is_api && !headers.contains_key(header::CACHE_CONTROL) {
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    response
}

/// `scheme://host[:port]` of a URL, for the CSP.
fn origin_of(url: &str) -> Option<String> {
    let (scheme, rest) = url.split_once("://")?;
    let host = rest.split('/').next()?;
    let host = host.split('{').next()?;
    (!host.is_empty() && (scheme == "http" || scheme == "https"))
        .then(|| format!("{scheme}://{host}"))
}

/// Refuses state-changing requests from other sites (403 `csrf_rejected`): a `Sec-Fetch-Site`
/// of `cross-site`, or an `Origin` that is not ours. Requests without these headers (scripts,
/// integrations with API tokens) pass; the `SameSite=Strict` cookie already keeps browsers from
/// sending a session on cross-site requests, this is the second lock.
pub async fn csrf(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let safe = matches!(*request.method(), Method::GET | Method::HEAD | Method::OPTIONS);
    if !safe && is_cross_site(&state, &request) {
        tracing::warn!(path = %request.uri().path(), "cross-site request refused");
        return ApiError::forbidden("csrf_rejected").into_response();
    }
    next.run(request).await
}

fn is_cross_site(state: &AppState, request: &Request) -> bool {
    let headers = request.headers();
    let fetch_site = headers.get("sec-fetch-site").and_then(|v| v.to_str().ok());
    if fetch_site.is_some_and(|v| v.eq_ignore_ascii_case("cross-site")) {
        return true;
    }
    let Some(origin) = headers.get(header::ORIGIN) else { return false };
    let Ok(origin) = origin.to_str() else { return true };
    if let Some(public) = &state.config().public_origin
        && origin.trim_end_matches('/') == public.trim_end_matches('/')
    {
        return false;
    }
    let origin_host = origin.split_once("://").map(|(_, host)| host.trim_end_matches('/'));
    let host = headers.get(header::HOST).and_then(|v| v.to_str().ok());
    match (origin_host, host) {
        (Some(origin_host), Some(host)) => !origin_host.eq_ignore_ascii_case(host),
        _ => true,
    }
}

/// Writes the audit record a refused request carries (see [`ApiError::audited`]).
pub async fn audit_denials(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    let method = request.method().clone();
    // Bounded: a refused request with a megabyte of path must not bloat the trail (or an export).
    let path: String = request.uri().path().chars().take(256).collect();
    let mut response = next.run(request).await;
    if let Some(DeniedAccess(mut record)) = response.extensions_mut().remove::<DeniedAccess>() {
        if let serde_json::Value::Object(detail) = &mut record.detail {
            detail.insert("method".to_owned(), method.as_str().into());
            detail.insert("path".to_owned(), path.into());
        }
        if let Err(error) = state.store().audit(record).await {
            tracing::error!(%error, "could not audit a refused request");
        }
    }
    response
}

/// Wakes the event relay after every request that may have written: the events a change wrote
/// into the outbox go out at once instead of at the relay's next look.
pub async fn nudge_events(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let writes = !request.method().is_safe();
    let response = next.run(request).await;
    if writes {
        state.nudge_events();
    }
    response
}

/// Request count and latency per route, for the metrics listener.
pub async fn metrics(request: Request, next: Next) -> Response {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "other".to_owned(), |p| p.as_str().to_owned());
    let method = request.method().to_string();
    let started = Instant::now();
    let response = next.run(request).await;
    let status = response.status().as_u16().to_string();
    let labels = [("method", method), ("route", route), ("status", status)];
    metrics::counter!("beacon_http_requests_total", &labels).increment(1);
    metrics::histogram!("beacon_http_request_duration_seconds", &labels)
        .record(started.elapsed().as_secs_f64());
    response
}

#[cfg(test)]
mod tests {
    use super::origin_of;

    #[test]
    fn tile_origins() {
        assert_eq!(
            origin_of("https://tiles.gov.local:8443/{z}/{x}/{y}.png").as_deref(),
            Some("https://tiles.gov.local:8443")
        );
        assert_eq!(origin_of("javascript:alert(1)"), None);
        assert_eq!(origin_of("ftp://x/y"), None);
    }
}

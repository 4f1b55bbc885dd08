//! Extractors that turn every malformed request into a clear error with a stable code.

use std::net::{IpAddr, SocketAddr};

use axum::extract::connect_info::MockConnectInfo;
use axum::extract::path::ErrorKind;
use axum::extract::rejection::PathRejection;
use axum::extract::{ConnectInfo, FromRequest, FromRequestParts, RawPathParams, Request};
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use beacon_core::error::ValidationErrors;
use serde::de::DeserializeOwned;

use crate::AppState;
use crate::http::error::ApiError;

/// A JSON body: `application/json`, at most the configured limit (1 MiB by default), and of the
/// expected shape. Syntax errors answer 400 `invalid_json`; a wrong shape answers 422
/// `validation_failed` naming the field.
pub struct ApiJson<T>(pub T);

impl<T: DeserializeOwned> FromRequest<AppState> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, Self::Rejection> {
        let is_json = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .map(|v| v.trim().to_ascii_lowercase())
            .is_some_and(|v| v == "application/json" || v.ends_with("+json"));
        if !is_json {
            return Err(ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
            ));
        }
        let bytes = axum::body::to_bytes(req.into_body(), state.config().json_limit)
            .await
            .map_err(|_| ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large"))?;
        parse_json(&bytes).map(ApiJson)
    }
}

/// Reads a body: 400 `invalid_json` only for text that is not JSON at all; JSON of the wrong
/// shape answers 422 naming the field.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let mut deserializer = serde_json::Deserializer::from_slice(bytes);
    let value = serde_path_to_error::deserialize(&mut deserializer).map_err(|error| {
        let path = error.path().to_string();
        let inner = error.into_inner();
        match inner.classify() {
            serde_json::error::Category::Data => shape_error(&path, &inner.to_string()),
            // serde_json reports a value of the wrong kind where an enum is expected (`5` or
            // `null` for a `level`) as a syntax error; when the text is valid JSON, it is the
            // field that is wrong, not the JSON.
            serde_json::error::Category::Syntax
                if serde_json::from_slice::<serde::de::IgnoredAny>(bytes).is_ok() =>
            {
                wrong_type(&path)
            }
            _ => ApiError::invalid_json(inner.to_string()),
        }
    })?;
    deserializer.end().map_err(|e| ApiError::invalid_json(e.to_string()))?;
    Ok(value)
}

/// Maps serde's description of a shape mismatch onto a field and a code.
fn shape_error(path: &str, message: &str) -> ApiError {
    let (field, code) = if let Some(rest) = message.strip_prefix("missing field `") {
        let name = rest.split('`').next().unwrap_or("body");
        (join_path(path, name), "required")
    } else if message.starts_with("unknown field `") {
        // The path already ends with the unknown field's name.
        (field_of(path), "unknown_field")
    } else if message.starts_with("unknown variant") {
        (field_of(path), "invalid_value")
    } else if is_time_error(message) {
        (field_of(path), "invalid_time")
    } else if message.starts_with("invalid type") {
        (field_of(path), "invalid_type")
    } else if message.starts_with("invalid value") || message.contains("out of range") {
        (field_of(path), "invalid_value")
    } else {
        (field_of(path), "invalid")
    };
    let mut errors = ValidationErrors::new();
    errors.add(field, code);
    ApiError::validation(errors).with_message(format!("{path}: {message}"))
}

fn wrong_type(path: &str) -> ApiError {
    let field = field_of(path);
    ApiError::field(&field, "invalid_type").with_message(format!("{field}: invalid type"))
}

/// chrono's descriptions of an RFC 3339 time it could not read.
fn is_time_error(message: &str) -> bool {
    [
        "input contains invalid characters",
        "premature end of input",
        "trailing input",
        "input is out of range",
        "input is not enough for unique date and time",
        "no possible date and time matching input",
    ]
    .iter()
    .any(|m| message.starts_with(m))
}

fn field_of(path: &str) -> String {
    if path.is_empty() || path == "." { "body".to_owned() } else { path.to_owned() }
}

fn join_path(path: &str, name: &str) -> String {
    if path.is_empty() || path == "." { name.to_owned() } else { format!("{path}.{name}") }
}

/// Query parameters of the expected shape; a bad one answers 422 naming the parameter.
pub struct ApiQuery<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let query = parts.uri.query().unwrap_or("");
        // No parameter has a use for control characters (and PostgreSQL cannot store a NUL).
        if let Some((name, _)) = form_urlencoded::parse(query.as_bytes())
            .find(|(_, value)| value.chars().any(char::is_control))
        {
            return Err(ApiError::field(&name, "invalid_characters"));
        }
        let deserializer =
            serde_urlencoded::Deserializer::new(form_urlencoded::parse(query.as_bytes()));
        serde_path_to_error::deserialize(deserializer).map(ApiQuery).map_err(|error| {
            let path = error.path().to_string();
            let message = error.into_inner().to_string();
            shape_error(&path, &message)
        })
    }
}

/// Path parameters, read like axum's `Path` (the OpenAPI generator recognises the name) but
/// refused in the API's error shape: a segment that is not UTF-8 names no record (404
/// `not_found`); a segment that is not of its type, such as a year that is not a number, answers
/// 422 naming the parameter (`{"year": "invalid"}`). Ids stay text and answer 404 through
/// `check_id`.
pub struct Path<T>(pub T);

#[allow(clippy::disallowed_types)] // the one place that wraps axum's extractor
impl<T, S> FromRequestParts<S> for Path<T>
where
    T: DeserializeOwned + Send,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match axum::extract::Path::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Path(value)) => Ok(Path(value)),
            Err(PathRejection::FailedToDeserializePathParams(error)) => {
                let key = match error.into_kind() {
                    ErrorKind::InvalidUtf8InPathParam { .. } => return Err(ApiError::not_found()),
                    ErrorKind::ParseErrorAtKey { key, .. }
                    | ErrorKind::DeserializeError { key, .. } => key,
                    ErrorKind::ParseErrorAtIndex { index, .. } => {
                        let names = path_names(parts, state).await;
                        names.into_iter().nth(index).unwrap_or_else(|| "path".to_owned())
                    }
                    // A single value (`Path<i32>`): the route's only parameter.
                    ErrorKind::ParseError { .. } => match path_names(parts, state).await.as_slice()
                    {
                        [one] => one.clone(),
                        _ => "path".to_owned(),
                    },
                    other => return Err(ApiError::internal(other)),
                };
                Err(ApiError::field(&key, "invalid"))
            }
            Err(other) => Err(ApiError::internal(other)),
        }
    }
}

/// The names of the route's parameters, in order.
async fn path_names<S: Send + Sync>(parts: &mut Parts, state: &S) -> Vec<String> {
    RawPathParams::from_request_parts(parts, state)
        .await
        .map(|raw| raw.iter().map(|(name, _)| name.to_owned()).collect())
        .unwrap_or_default()
}

/// The client's address: the peer, or, when the peer is a trusted reverse proxy, the address it
/// reports in `X-Forwarded-For` (the right-most one it did not add itself).
#[derive(Debug, Clone)]
pub struct ClientIp(pub Option<IpAddr>);

impl ClientIp {
    pub fn text(&self) -> Option<String> {
        self.0.map(|ip| ip.to_string())
    }
}

impl FromRequestParts<AppState> for ClientIp {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        Ok(client_ip(parts, state))
    }
}

/// The address of the connection's other end (tests stand in for it with `MockConnectInfo`).
fn peer(parts: &Parts) -> Option<IpAddr> {
    parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip())
        .or_else(|| parts.extensions.get::<MockConnectInfo<SocketAddr>>().map(|m| m.0.ip()))
}

pub fn client_ip(parts: &Parts, state: &AppState) -> ClientIp {
    let Some(peer) = peer(parts) else { return ClientIp(None) };
    let trusted = |ip: &IpAddr| state.config().trusted_proxies.iter().any(|net| net.contains(ip));
    if !trusted(&peer) {
        return ClientIp(Some(peer));
    }
    let forwarded = parts
        .headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|s| s.trim().parse::<IpAddr>().ok())
        .collect::<Vec<_>>();
    let client = forwarded.iter().rev().find(|ip| !trusted(ip)).copied();
    ClientIp(Some(client.unwrap_or(peer)))
}

/// Whether the request reached us over TLS: a trusted proxy says so with `X-Forwarded-Proto`.
pub fn is_https(parts: &Parts, state: &AppState) -> bool {
    let from_proxy = peer(parts)
        .is_some_and(|ip| state.config().trusted_proxies.iter().any(|net| net.contains(&ip)));
    from_proxy
        && parts
            .headers
            .get("x-forwarded-proto")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.eq_ignore_ascii_case("https"))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Body {
        name: String,
        count: u32,
        inner: Option<Inner>,
    }

    #[derive(Debug, serde::Deserialize)]
    #[allow(dead_code)]
    struct Inner {
        level: beacon_core::org::UnitLevel,
    }

    fn code_and_fields(result: Result<Body, ApiError>) -> (String, Option<(String, String)>) {
        let error = result.unwrap_err();
        let field = error.body.fields.and_then(|f| f.into_iter().next());
        (error.body.code, field)
    }

    #[test]
    fn malformed_json_is_400() {
        let (code, _) = code_and_fields(parse_json(b"{\"name\": "));
        assert_eq!(code, "invalid_json");
        let (code, _) = code_and_fields(parse_json(br#"{"name": "a", "count": 1} trailing"#));
        assert_eq!(code, "invalid_json");
    }

    #[test]
    fn wrong_shapes_name_the_field() {
        let (code, field) = code_and_fields(parse_json(b"{\"name\": \"a\"}"));
        assert_eq!(code, "validation_failed");
        assert_eq!(field, Some(("count".into(), "required".into())));
        let (_, field) = code_and_fields(parse_json(b"{\"name\": \"a\", \"count\": -1}"));
        assert_eq!(field.unwrap().0, "count");
        let (_, field) = code_and_fields(parse_json(b"{\"name\": 1, \"count\": 1}"));
        assert_eq!(field, Some(("name".into(), "invalid_type".into())));
        let body = br#"{"name": "a", "count": 1, "inner": {"level": 5}}"#;
        let (code, field) = code_and_fields(parse_json(body));
        assert_eq!(code, "validation_failed");
        assert_eq!(field, Some(("inner.level".into(), "invalid_type".into())));
        let body = br#"{"name": "a", "count": 1, "inner": {"level": null}}"#;
        let (_, field) = code_and_fields(parse_json(body));
        assert_eq!(field, Some(("inner.level".into(), "invalid_type".into())));
        let body = br#"{"name": "a", "count": 1, "inner": {"level": "galaxy"}}"#;
        let (_, field) = code_and_fields(parse_json(body));
        assert_eq!(field, Some(("inner.level".into(), "invalid_value".into())));
        let (_, field) = code_and_fields(parse_json(br#"{"name": "a", "count": 1, "x": 1}"#));
        assert_eq!(field, Some(("x".into(), "unknown_field".into())));
    }
}

//! Assembly of the whole router, and the endpoints that belong to no domain: health and the
//! public configuration the UI reads before sign-in.

use std::sync::Arc;

use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router, middleware};
use serde::Serialize;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::compression::CompressionLayer;
use tower_http::compression::predicate::{DefaultPredicate, NotForContentType, Predicate};
use tower_http::trace::TraceLayer;
use utoipa::{Modify, OpenApi, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::http::{ApiError, middleware as mw};
use crate::openapi::{ApiDoc, StandardResponses};
use crate::{AppState, audit, events, org, web};

#[derive(Debug, Serialize, ToSchema)]
pub struct Health {
    /// `ok`; `degraded` when the database answers but live events do not reach the bus (writes
    /// still succeed, their events wait); `unavailable` when the database does not answer.
    pub status: String,
    /// `sqlite` or `postgres`.
    pub database: String,
    /// The event bus: `ok` or `degraded`.
    pub bus: String,
    /// `in_process` or `nats`.
    pub bus_kind: String,
    /// Committed events waiting for the bus, as this instance last counted.
    pub event_backlog: i64,
}

/// 200 while the database answers (a degraded bus included), 503 otherwise: a load balancer
/// keeps an instance whose live events lag, since its writes still succeed.
#[utoipa::path(
    get, path = "/healthz", tag = "system", security(),
    responses((status = 200, body = Health), (status = 503, body = Health))
)]
async fn healthz(State(state): State<AppState>) -> Response {
    let database = state.store().backend().name().to_owned();
    let bus_state = state.bus().state();
    let bus_ok = bus_state.connected && !state.relay().failing();
    let mut health = Health {
        status: if bus_ok { "ok" } else { "degraded" }.to_owned(),
        database,
        bus: if bus_ok { "ok" } else { "degraded" }.to_owned(),
        bus_kind: bus_state.kind.to_owned(),
        event_backlog: state.relay().backlog(),
    };
    match state.store().ping().await {
        Ok(()) => (StatusCode::OK, Json(health)).into_response(),
        Err(error) => {
            tracing::warn!(%error, "health check failed");
            health.status = "unavailable".into();
            (StatusCode::SERVICE_UNAVAILABLE, Json(health)).into_response()
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PublicConfig {
    pub version: String,
    /// An intranet tile server URL template, if one is configured.
    pub tile_url: Option<String>,
}

/// What the UI needs before sign-in.
#[utoipa::path(get, path = "/config", tag = "system", security(), responses((status = 200, body = PublicConfig)))]
async fn public_config(State(state): State<AppState>) -> Json<PublicConfig> {
    Json(PublicConfig {
        version: env!("CARGO_PKG_VERSION").to_owned(),
        tile_url: state.config().tile_url.clone(),
    })
}

/// The API routes and their OpenAPI description, from one source.
pub(crate) fn api_router() -> (Router<AppState>, utoipa::openapi::OpenApi) {
    let v1 = OpenApiRouter::new()
        .routes(routes!(public_config))
        .merge(org::routes())
        .merge(audit::routes())
        .merge(events::routes())
        .merge(crate::duty::routes())
        .merge(crate::incident::routes())
        .merge(crate::enterprise::routes())
        .merge(crate::danger::routes())
        .merge(crate::inspection::routes())
        .merge(crate::campaign::routes())
        .merge(crate::tipoff::routes())
        .merge(crate::imports::routes())
        .merge(crate::attachment::routes())
        .merge(crate::calendar::routes())
        .merge(crate::notify::routes())
        .merge(crate::workbench::routes())
        .merge(crate::search::routes());
    let (router, mut openapi) = OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(healthz))
        .nest("/api/v1", v1)
        .split_for_parts();
    StandardResponses.modify(&mut openapi);
    (router, openapi)
}

pub fn router(state: AppState) -> Router {
    let (api, openapi) = api_router();
    let document: Arc<str> = openapi.to_pretty_json().unwrap_or_default().into();
    Router::new()
        .merge(api)
        .route(
            "/api/openapi.json",
            get(move || {
                let document = document.clone();
                async move { ([(header::CONTENT_TYPE, "application/json")], document.to_string()) }
            }),
        )
        .route("/api/docs", get(web::swagger))
        // Inside the routes, where the matched path is known (a label of bounded cardinality).
        .route_layer(middleware::from_fn(mw::metrics))
        .fallback(web::fallback)
        .method_not_allowed_fallback(|| async {
            ApiError::new(StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed")
        })
        .layer(middleware::from_fn_with_state(state.clone(), mw::nudge_events))
        .layer(middleware::from_fn_with_state(state.clone(), mw::audit_denials))
        .layer(middleware::from_fn_with_state(state.clone(), mw::csrf))
        .layer(middleware::from_fn_with_state(state.clone(), mw::security_headers))
        // Static files (the UI bundle) are compressed; API answers are small and compressing
        // each of them costs more CPU than the intranet saves in transfer time. Attachments
        // (PDF, Office files: already compressed; images are skipped by default) keep their
        // length.
        .layer(
            CompressionLayer::new().compress_when(
                DefaultPredicate::new()
                    .and(NotForContentType::const_new("application/json"))
                    .and(NotForContentType::const_new("application/pdf"))
                    .and(NotForContentType::const_new("application/vnd.openxmlformats")),
            ),
        )
        .layer(CatchPanicLayer::custom(|_| ApiError::internal("handler panicked").into_response()))
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}

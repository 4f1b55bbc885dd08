//! The OpenAPI document, generated from the routes themselves (utoipa). `beacon export-openapi`
//! prints it; a snapshot test keeps `crates/api/openapi.json` equal to it, and the web client's
//! types are generated from that file.

use utoipa::Modify;
use utoipa::OpenApi;
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Beacon API",
        description = "Beacon, the working platform of a city Emergency Management Bureau. \
            JSON under /api/v1. Errors are {code, message, fields}; the code is stable. \
            Sign in with POST /api/v1/auth/login (session cookie) or send an API token as \
            `Authorization: Bearer bk_…`.",
        license(name = "Apache-2.0")
    ),
    modifiers(&Security),
    // Schemas used only in query parameters are not collected from the routes.
    components(schemas(beacon_core::audit::Outcome, beacon_core::org::Role, beacon_core::org::UnitLevel)),
    security(("session" = []), ("token" = [])),
    tags(
        (name = "auth", description = "Sign-in, sessions and one's own password"),
        (name = "org", description = "Units, users and API tokens"),
        (name = "security", description = "Security policy and account locks"),
        (name = "audit", description = "The audit trail"),
        (name = "events", description = "Live events (Server-Sent Events)"),
        (name = "duty", description = "The duty desk: rosters, check-in, swaps, handover, duty log, calendars"),
        (name = "incidents", description = "Incidents: intake, grading, the reporting chain's clocks"),
        (name = "calendar", description = "Working days and public holidays"),
        (name = "notify", description = "One's notifications"),
        (name = "system", description = "Health and configuration"),
    )
)]
pub struct ApiDoc;

struct Security;

impl Modify for Security {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "session",
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::new(
                crate::org::auth::SESSION_COOKIE,
            ))),
        );
        components.add_security_scheme(
            "token",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

/// The document as JSON text (pretty, stable order).
pub fn document() -> String {
    let (_, openapi) = crate::system::api_router();
    openapi.to_pretty_json().unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"))
}

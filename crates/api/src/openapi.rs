//! The OpenAPI document, generated from the routes themselves (utoipa). `beacon export-openapi`
//! prints it; a snapshot test keeps `crates/api/openapi.json` equal to it, and the web client's
//! types are generated from that file.

use utoipa::Modify;
use utoipa::OpenApi;
use utoipa::openapi::path::{Operation, ParameterIn};
use utoipa::openapi::security::{
    ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityRequirement, SecurityScheme,
};
use utoipa::openapi::{Content, Ref, RefOr, ResponseBuilder};

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
        (name = "enterprise", description = "The safety-production database: enterprises, licences, risk points"),
        (name = "hazard", description = "Hidden dangers: the rectification ledger, treatment plans, listed supervision, acceptance"),
        (name = "inspection", description = "Inspections and their findings; the checklists a finding cites"),
        (name = "campaign", description = "Special rectification campaigns: scope, stages, the frozen target list and progress"),
        (name = "import", description = "Excel imports of the ledgers: template, dry run, commit, annotated result"),
        (name = "attachments", description = "Files attached to records: scans, photos, documents"),
        (name = "notify", description = "One's notifications"),
        (name = "workbench", description = "The home page's cards: what to do or know now"),
        (name = "search", description = "The global search: records of every kind the caller may read, in scope"),
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

/// Adds the refusals every operation of a kind can answer, which the extractors and layers send
/// whatever the handler documents: schemathesis and the generated client read the document as
/// the whole contract. Runs on the assembled document (the routes' operations are added after
/// `ApiDoc`'s own modifiers). A response an operation documents itself is kept.
///
/// - a JSON body (`ApiJson`): 400 `invalid_json`, 413 `payload_too_large`, 415
///   `unsupported_media_type`, 422 `validation_failed`;
/// - signed-in operations: 401 (`unauthenticated`, `session_expired`, `invalid_token`) and 403
///   (`forbidden` from the `Authorized<P>` check, `password_change_required`, `csrf_rejected`);
///   public writes: 403 `csrf_rejected`;
/// - a path parameter: 404 `not_found` (a record outside the caller's scope, an id that cannot
///   exist, a segment that is not UTF-8);
/// - a query parameter (`ApiQuery`) or a path parameter that is not text (a year): 422.
pub struct StandardResponses;

/// The shared responses, under `components/responses`: name, description.
const STANDARD: [(&str, &str); 8] = [
    ("InvalidJson", "`invalid_json`: the body is not JSON."),
    ("PayloadTooLarge", "`payload_too_large`: the body is larger than the configured limit."),
    ("UnsupportedMediaType", "`unsupported_media_type`: send the body as `application/json`."),
    ("Unauthenticated", "`unauthenticated`, `session_expired` or `invalid_token`: sign in first."),
    (
        "Forbidden",
        "`forbidden` (the caller's roles do not allow it), `password_change_required`, \
         `csrf_rejected` (a cross-site write).",
    ),
    ("CsrfRejected", "`csrf_rejected`: a cross-site write."),
    ("NotFound", "`not_found`: no such record in the caller's scope, or an id that cannot exist."),
    (
        "ValidationFailed",
        "`validation_failed`: `fields` names each field or parameter and its error code.",
    ),
];

impl Modify for StandardResponses {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        for (name, description) in STANDARD {
            let response = ResponseBuilder::new()
                .description(description)
                .content("application/json", Content::new(Some(Ref::from_schema_name("ErrorBody"))))
                .build();
            components.responses.insert(name.to_owned(), RefOr::T(response));
        }
        let global = openapi.security.as_deref().is_some_and(requires_credentials);
        for item in openapi.paths.paths.values_mut() {
            let operations = [
                (&mut item.get, false),
                (&mut item.head, false),
                (&mut item.options, false),
                (&mut item.put, true),
                (&mut item.post, true),
                (&mut item.patch, true),
                (&mut item.delete, true),
            ];
            for (operation, writes) in operations {
                if let Some(operation) = operation {
                    add_standard_responses(operation, global, writes);
                }
            }
        }
    }
}

/// Whether a security list asks for credentials: `[]` (public) and `[{}]` (optional) do not.
fn requires_credentials(requirements: &[SecurityRequirement]) -> bool {
    !requirements.is_empty()
        && requirements
            .iter()
            .all(|r| serde_json::to_value(r).is_ok_and(|v| v != serde_json::json!({})))
}

fn add_standard_responses(operation: &mut Operation, global_security: bool, writes: bool) {
    let signed_in = operation.security.as_deref().map_or(global_security, requires_credentials);
    let parameters = operation.parameters.as_deref().unwrap_or_default();
    let in_path = parameters.iter().any(|p| matches!(p.parameter_in, ParameterIn::Path));
    let validated = parameters.iter().any(|p| match p.parameter_in {
        ParameterIn::Query => true,
        ParameterIn::Path => {
            serde_json::to_value(&p.schema).is_ok_and(|schema| schema["type"] != "string")
        }
        _ => false,
    });
    let body = operation.request_body.is_some();
    let mut add = |status: &str, name: &str| {
        let response = RefOr::Ref(Ref::from_response_name(name));
        operation.responses.responses.entry(status.to_owned()).or_insert(response);
    };
    if body {
        add("400", "InvalidJson");
        add("413", "PayloadTooLarge");
        add("415", "UnsupportedMediaType");
    }
    if signed_in {
        add("401", "Unauthenticated");
        add("403", "Forbidden");
    } else if writes {
        add("403", "CsrfRejected");
    }
    if in_path {
        add("404", "NotFound");
    }
    if body || validated {
        add("422", "ValidationFailed");
    }
}

/// The document as JSON text (pretty, stable order).
pub fn document() -> String {
    let (_, openapi) = crate::system::api_router();
    openapi.to_pretty_json().unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"))
}

//! Errors as the API answers them: `{"code", "message", "fields"}` with a stable `code` the UI
//! translates. Nothing a client sends produces a 500; a 500 is a bug or an outage, logged here.

use std::collections::BTreeMap;

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use beacon_core::audit::NewAuditRecord;
use beacon_core::error::ValidationErrors;
use beacon_store::StoreError;
use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ErrorBody {
    /// Stable code, e.g. `validation_failed`, `account_locked`.
    pub code: String,
    /// English explanation for logs and scripts; the UI shows its own translation of `code`.
    pub message: String,
    /// Field → error code, for `validation_failed`.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<BTreeMap<String, String>>)]
    pub fields: Option<Box<BTreeMap<String, String>>>,
    /// For `account_locked`: when the lock ends.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub locked_until: Option<DateTime<Utc>>,
    /// For `invalid_credentials`: failures left before the name is locked.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub remaining_attempts: Option<u32>,
    /// For `validation_failed`: the numbers of the rule a field broke, so that the message can
    /// say which rule (`password: {"min_length": 10, "min_classes": 3, "max_length": 128}`).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub rules: Option<Box<BTreeMap<String, serde_json::Value>>>,
}

/// A refused request that must reach the audit trail; the audit middleware writes it.
#[derive(Debug, Clone)]
pub struct DeniedAccess(pub NewAuditRecord);

#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub body: ErrorBody,
    pub denied: Option<Box<NewAuditRecord>>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &str) -> Self {
        Self {
            status,
            body: ErrorBody {
                code: code.to_owned(),
                message: message_for(code).to_owned(),
                fields: None,
                locked_until: None,
                remaining_attempts: None,
                rules: None,
            },
            denied: None,
        }
    }

    pub fn with_message(mut self, message: impl Into<String>) -> Self {
        self.body.message = message.into();
        self
    }

    pub fn invalid_json(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "invalid_json").with_message(detail)
    }

    pub fn validation(errors: ValidationErrors) -> Self {
        let mut error = Self::new(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
        error.body.message = format!("validation failed: {errors}");
        error.body.fields = Some(Box::new(errors.fields().clone()));
        error
    }

    /// Names the rule behind a field's error ([`ErrorBody::rules`]).
    pub fn with_rule(mut self, field: &str, rule: serde_json::Value) -> Self {
        self.body.rules.get_or_insert_with(Box::default).insert(field.to_owned(), rule);
        self
    }

    pub fn field(field: &str, code: &str) -> Self {
        Self::validation(ValidationErrors::single(field, code))
    }

    pub fn unauthenticated(code: &str) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, code)
    }

    pub fn forbidden(code: &str) -> Self {
        Self::new(StatusCode::FORBIDDEN, code)
    }

    pub fn not_found() -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found")
    }

    pub fn conflict(code: &str) -> Self {
        Self::new(StatusCode::CONFLICT, code)
    }

    pub fn internal(error: impl std::fmt::Display) -> Self {
        tracing::error!(%error, "internal error");
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, "internal")
    }

    pub fn unavailable(error: impl std::fmt::Display) -> Self {
        tracing::error!(%error, "database unavailable");
        Self::new(StatusCode::SERVICE_UNAVAILABLE, "database_unavailable")
    }

    /// Attaches an audit record of the refusal.
    pub fn audited(mut self, record: NewAuditRecord) -> Self {
        self.denied = Some(Box::new(record));
        self
    }
}

impl From<StoreError> for ApiError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::NotFound => ApiError::not_found(),
            StoreError::Invalid(errors) => ApiError::validation(errors),
            StoreError::Conflict(code) => ApiError::conflict(code),
            StoreError::Forbidden(code) => ApiError::forbidden(code),
            StoreError::Locked(until) => {
                let mut error = ApiError::new(StatusCode::LOCKED, "account_locked");
                error.body.locked_until = Some(until);
                error
            }
            StoreError::Unavailable(error) => ApiError::unavailable(error),
            other => ApiError::internal(other),
        }
    }
}

impl From<ValidationErrors> for ApiError {
    fn from(errors: ValidationErrors) -> Self {
        ApiError::validation(errors)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut response = (self.status, Json(self.body)).into_response();
        if let Some(record) = self.denied {
            response.extensions_mut().insert(DeniedAccess(*record));
        }
        response
    }
}

pub type ApiResult<T> = Result<T, ApiError>;

/// English text per code. The UI has its own translations (`web/src/i18n`); this is for logs,
/// scripts and API explorers.
pub fn message_for(code: &str) -> &'static str {
    match code {
        "invalid_json" => "The request body is not valid JSON.",
        "validation_failed" => "Some fields are invalid.",
        "unsupported_media_type" => "Send the body as application/json.",
        "unauthenticated" => "Sign in first.",
        "session_expired" => "The session has ended; sign in again.",
        "invalid_credentials" => "Wrong username or password.",
        "invalid_token" => "The API token is unknown, revoked or expired.",
        "forbidden" => "Your roles do not allow this.",
        "csrf_rejected" => "Cross-site request refused.",
        "password_change_required" => "Change your password before continuing.",
        "account_disabled" => "This account is disabled.",
        "account_locked" => "Too many failed sign-ins; the account is locked for a while.",
        "admin_account_cli_only" => {
            "Administrator accounts are managed with the beacon command on the server."
        }
        "admin_role_cli_only" => {
            "Administrator roles are granted with the beacon command on the server."
        }
        "cannot_change_own_account" => "You cannot disable, move, or change the roles of yourself.",
        "cannot_move_scope_root" => {
            "You cannot move or re-level the unit at the top of your scope."
        }
        "cannot_delete_scope_root" => "You cannot delete the unit at the top of your scope.",
        "policy_top_unit_only" => "Only a security administrator of the top unit sets the policy.",
        "not_found" => "No such record.",
        "export_too_large" => "More than 20,000 rows to export; narrow the filter.",
        "possible_duplicate" => {
            "Open incidents may be the same accident; send allow_duplicate to save it anyway."
        }
        "method_not_allowed" => "This method is not allowed here.",
        "already_exists" => "A record with these values already exists.",
        "still_referenced" => "Other records still refer to this one.",
        "unit_has_children" => "The unit still has units beneath it.",
        "unit_has_users" => "The unit still has users.",
        "unit_has_tokens" => "The unit still has API tokens.",
        "user_has_signed_in" => "This account has been used; disable it instead of deleting it.",
        "already_revoked" => "Already revoked.",
        "wrong_password" => "The current password is wrong.",
        "payload_too_large" => "The request body is too large.",
        "file_too_large" => "The file is larger than its purpose allows.",
        "upload_incomplete" => "The upload broke off; send the file again.",
        "attachment_removed" => "The attachment was removed already.",
        "internal" => "Something went wrong on the server; the error was logged.",
        "database_unavailable" => "The database is not answering.",
        _ => "Request refused.",
    }
}

//! Attachments over HTTP (docs/attachments.md): files attached to a record of any module,
//! uploaded as the raw request body and streamed to a spool file while hashed, checked by their
//! first bytes, kept once per content, and streamed back. Who may read or attach is decided by
//! the module that owns the record ([`owner`]: one arm per kind of owner).

use axum::Json;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use beacon_core::attachment::{FileType, Purpose, SNIFF_BYTES, sanitize_file_name};
use beacon_store::attachment::{Attachment, NewAttachment, Owner};
use beacon_store::blob::Spooled;
use beacon_store::danger::ATTACHMENT_OWNERS as DANGER_OWNERS;
use beacon_store::enterprise::ATTACHMENT_OWNERS;
use beacon_store::inspection::ATTACHMENT_OWNERS as INSPECTION_OWNERS;
use futures::StreamExt;
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::http::{ApiError, ApiJson, ApiQuery, ApiResult, ErrorBody, Path, content_disposition};
use crate::org::{Principal, check_id};

/// The record a file belongs to, resolved by the module that owns its kind within the caller's
/// reach: not found outside it (also for a write), then, for a write, forbidden without the
/// right to change that record. A new kind of owner is one more arm here.
async fn owner(
    state: &AppState,
    principal: &Principal,
    kind: &str,
    id: &str,
    write: bool,
) -> ApiResult<Owner> {
    if ATTACHMENT_OWNERS.contains(&kind) {
        return crate::enterprise::attachment_owner(state, principal, kind, id, write).await;
    }
    if DANGER_OWNERS.contains(&kind) {
        return crate::danger::attachment_owner(state, principal, kind, id, write).await;
    }
    if INSPECTION_OWNERS.contains(&kind) {
        return crate::inspection::attachment_owner(state, principal, kind, id, write).await;
    }
    if kind == beacon_store::tipoff::ATTACHMENT_OWNER {
        return crate::tipoff::attachment_owner(state, principal, id).await;
    }
    Err(ApiError::field("owner_kind", "unknown"))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct OwnerParams {
    /// `enterprise`, `licence`, `risk_point`, `hazard_source`, `hidden_danger` (photos of what
    /// was found), `danger_fix` (photos of the fix), `inspection` or `tipoff`.
    pub owner_kind: String,
    /// The id of the record.
    pub owner_id: String,
    /// Also the removed ones (kept on record).
    pub include_removed: Option<bool>,
}

/// The files attached to a record, oldest first.
#[utoipa::path(get, path = "/attachments", tag = "attachments", params(OwnerParams),
    responses((status = 200, body = Vec<Attachment>),
        (status = 404, description = "`not_found`: no such record in the caller's reach", body = ErrorBody),
        (status = 422, description = "`owner_kind: unknown`", body = ErrorBody)))]
async fn list_attachments(
    State(state): State<AppState>,
    principal: Principal,
    ApiQuery(q): ApiQuery<OwnerParams>,
) -> ApiResult<Json<Vec<Attachment>>> {
    let owner = owner(&state, &principal, &q.owner_kind, &q.owner_id, false).await?;
    let include_removed = q.include_removed.unwrap_or(false);
    Ok(Json(state.store().attachments(&owner, include_removed).await?))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct UploadParams {
    /// `enterprise`, `licence`, `risk_point`, `hazard_source`, `hidden_danger` (photos of what
    /// was found), `danger_fix` (photos of the fix), `inspection` or `tipoff`.
    pub owner_kind: String,
    pub owner_id: String,
    /// `scan` (PDF, JPEG, PNG; 20 MiB), `photo` (JPEG, PNG, WebP; 10 MiB) or `document` (PDF,
    /// JPEG, PNG, WebP, docx, xlsx; 50 MiB).
    pub purpose: String,
    /// The file's name (URL-encoded); paths and control characters are dropped.
    pub name: String,
}

fn too_large(limit: u64) -> ApiError {
    ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, "file_too_large")
        .with_rule("content", serde_json::json!({ "max_bytes": limit }))
}

/// Attaches a file: the request body is the file itself (any Content-Type; the type is found in
/// the content). Images get a 320-pixel JPEG thumbnail.
#[utoipa::path(post, path = "/attachments", tag = "attachments", params(UploadParams),
    request_body(content = Vec<u8>, content_type = "application/octet-stream", description = "The file's bytes"),
    responses((status = 201, body = Attachment),
        (status = 400, description = "`upload_incomplete`: the body broke off", body = ErrorBody),
        (status = 404, description = "`not_found`: no such record in the caller's reach", body = ErrorBody),
        (status = 409, description = "`enterprise_closed`: the record takes no new files", body = ErrorBody),
        (status = 413, description = "`file_too_large`: larger than its purpose allows (`rules.content.max_bytes`)", body = ErrorBody),
        (status = 422, description = "`owner_kind: unknown`, `purpose: unknown`, `name: required`, `content: file_empty`, `content: file_type_not_allowed`", body = ErrorBody)))]
async fn upload_attachment(
    State(state): State<AppState>,
    principal: Principal,
    ApiQuery(q): ApiQuery<UploadParams>,
    body: Body,
) -> ApiResult<(StatusCode, Json<Attachment>)> {
    let owner = owner(&state, &principal, &q.owner_kind, &q.owner_id, true).await?;
    let purpose =
        Purpose::parse(&q.purpose).ok_or_else(|| ApiError::field("purpose", "unknown"))?;
    let file_name = sanitize_file_name(&q.name).map_err(|code| ApiError::field("name", code))?;
    let attachment = accept(&state, &principal.actor(), &owner, purpose, file_name, body).await?;
    Ok((StatusCode::CREATED, Json(attachment)))
}

/// Receives a file for a record already resolved (and checked) by the caller: streamed,
/// checked by its first bytes against the purpose, kept with its thumbnail. The public tip-off
/// page adds its photos through here too.
pub(crate) async fn accept(
    state: &AppState,
    actor: &beacon_core::audit::Actor,
    owner: &Owner,
    purpose: Purpose,
    file_name: String,
    body: Body,
) -> ApiResult<Attachment> {
    let limit = purpose.max_size().min(state.config().upload_limit);
    let (content, file_type) = receive(state, body, purpose, limit).await?;
    let thumbnail = match file_type.is_image() {
        true => thumbnail(state, &content).await,
        false => None,
    };
    let new = NewAttachment {
        purpose,
        file_name,
        content_type: file_type.mime().to_owned(),
        content,
        thumbnail,
    };
    Ok(state.store().add_attachment(actor, owner, new).await?)
}

/// Streams the body into a spool file, hashing and counting: refused as soon as its first bytes
/// show a type the purpose does not take, or it grows past `limit`.
async fn receive(
    state: &AppState,
    body: Body,
    purpose: Purpose,
    limit: u64,
) -> ApiResult<(Spooled, FileType)> {
    let mut stream = body.into_data_stream();
    let mut head: Vec<u8> = Vec::new();
    let mut file_type = None;
    let mut writer = None;
    loop {
        let chunk = match stream.next().await {
            Some(Ok(chunk)) => Some(chunk),
            Some(Err(_)) => {
                return Err(ApiError::new(StatusCode::BAD_REQUEST, "upload_incomplete"));
            }
            None => None,
        };
        let done = chunk.is_none();
        let size = writer.as_ref().map_or(0, beacon_store::blob::BlobWriter::size);
        let chunk = chunk.unwrap_or_default();
        if size + (head.len() + chunk.len()) as u64 > limit {
            return Err(too_large(limit));
        }
        if file_type.is_none() {
            head.extend_from_slice(&chunk);
            if head.len() < SNIFF_BYTES && !done {
                continue;
            }
            if head.is_empty() {
                return Err(ApiError::field("content", "file_empty"));
            }
            file_type =
                Some(purpose.check(&head).map_err(|code| ApiError::field("content", code))?);
            let mut new = state.store().spool().await?;
            new.write(&std::mem::take(&mut head)).await?;
            writer = Some(new);
        } else if let Some(writer) = writer.as_mut() {
            writer.write(&chunk).await?;
        }
        if done {
            break;
        }
    }
    match (writer, file_type) {
        (Some(writer), Some(file_type)) => Ok((writer.finish().await?, file_type)),
        _ => Err(ApiError::field("content", "file_empty")),
    }
}

/// The side of a thumbnail's bounding square, in pixels.
const THUMBNAIL_SIDE: u32 = 320;

/// A JPEG thumbnail of an image, made off the async threads; a failure (a damaged or
/// oversized image) only means no thumbnail.
async fn thumbnail(state: &AppState, content: &Spooled) -> Option<Spooled> {
    let path = content.path().to_owned();
    let made = tokio::task::spawn_blocking(move || make_thumbnail(&path)).await;
    match made {
        Ok(Ok(bytes)) => state.store().spool_bytes(&bytes).await.ok(),
        Ok(Err(error)) => {
            tracing::info!(%error, "no thumbnail for an uploaded image");
            None
        }
        Err(error) => {
            tracing::warn!(%error, "the thumbnail task failed");
            None
        }
    }
}

fn make_thumbnail(path: &std::path::Path) -> Result<Vec<u8>, image::ImageError> {
    let mut reader = image::ImageReader::open(path)?.with_guessed_format()?;
    // A small file can claim an enormous picture (a decompression bomb): the decoder refuses
    // dimensions and allocations past these instead of taking the memory.
    let mut limits = image::Limits::default();
    limits.max_image_width = Some(16_384);
    limits.max_image_height = Some(16_384);
    limits.max_alloc = Some(256 * 1024 * 1024);
    reader.limits(limits);
    let picture = reader.decode()?;
    let small = picture.thumbnail(THUMBNAIL_SIDE, THUMBNAIL_SIDE).to_rgb8();
    let mut out = std::io::Cursor::new(Vec::new());
    small.write_to(&mut out, image::ImageFormat::Jpeg)?;
    Ok(out.into_inner())
}

/// An attachment the caller may see: it exists and the caller reaches its owner.
async fn visible(state: &AppState, principal: &Principal, id: &str) -> ApiResult<Attachment> {
    let id = check_id(id)?;
    let attachment = state.store().attachment(&id).await?;
    owner(state, principal, &attachment.owner_kind, &attachment.owner_id, false).await?;
    Ok(attachment)
}

/// Whether an `If-None-Match` header names the ETag `tag` (quoted), weakly compared as RFC 9110
/// asks for GET: `*`, or a list in which one entry, with or without `W/`, is the tag.
fn names_etag(if_none_match: Option<&HeaderValue>, tag: &str) -> bool {
    let Some(value) = if_none_match.and_then(|v| v.to_str().ok()) else {
        return false;
    };
    value
        .split(',')
        .map(str::trim)
        .any(|entry| entry == "*" || entry.trim_start_matches("W/") == tag)
}

/// A stored content as the answer, streamed: its type, length, ETag (the SHA-256) and how to
/// save it; never sniffed by the browser. When the browser already holds this content (its
/// `If-None-Match` names the ETag), 304 and no body: the content of an ETag never changes, but
/// the answer is still given only after the caller's reach was checked.
async fn stream(
    state: &AppState,
    request: &HeaderMap,
    sha256: &str,
    content_type: &str,
    size: Option<i64>,
    disposition: String,
) -> ApiResult<Response> {
    let tag = format!("\"{sha256}\"");
    let held = names_etag(request.get(header::IF_NONE_MATCH), &tag);
    let mut response = if held {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        Body::from_stream(state.store().read_blob(sha256).await?).into_response()
    };
    let headers = response.headers_mut();
    let mut set = |name: header::HeaderName, value: &str| {
        if let Ok(value) = HeaderValue::from_str(value) {
            headers.insert(name, value);
        }
    };
    if !held {
        set(header::CONTENT_TYPE, content_type);
        if let Some(size) = size {
            set(header::CONTENT_LENGTH, &size.to_string());
        }
        set(header::CONTENT_DISPOSITION, &disposition);
    }
    set(header::ETAG, &tag);
    set(header::X_CONTENT_TYPE_OPTIONS, "nosniff");
    set(header::CACHE_CONTROL, "private, no-cache");
    Ok(response)
}

/// The file, as it was uploaded.
#[utoipa::path(get, path = "/attachments/{id}/content", tag = "attachments",
    responses((status = 200, description = "The file (its type as found in the content)",
            content(("application/pdf"), ("image/jpeg"), ("image/png"), ("image/webp"),
                ("application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
                ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"))),
        (status = 304, description = "Not modified: `If-None-Match` named the file's ETag"),
        (status = 404, body = ErrorBody)))]
async fn attachment_content(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
    request: HeaderMap,
) -> ApiResult<Response> {
    let a = visible(&state, &principal, &id).await?;
    let disposition = content_disposition("attachment", &a.file_name);
    stream(&state, &request, &a.sha256, &a.content_type, Some(a.size), disposition).await
}

/// An image's thumbnail (JPEG, at most 320 pixels a side); 404 for files without one.
#[utoipa::path(get, path = "/attachments/{id}/thumbnail", tag = "attachments",
    responses((status = 200, description = "JPEG thumbnail", content_type = "image/jpeg"),
        (status = 304, description = "Not modified: `If-None-Match` named the thumbnail's ETag"),
        (status = 404, body = ErrorBody)))]
async fn attachment_thumbnail(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
    request: HeaderMap,
) -> ApiResult<Response> {
    let a = visible(&state, &principal, &id).await?;
    let sha256 = a.thumbnail_sha256.ok_or_else(ApiError::not_found)?;
    let disposition = content_disposition("inline", &format!("{}.jpg", a.file_name));
    stream(&state, &request, &sha256, "image/jpeg", None, disposition).await
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RemoveAttachment {
    /// Why (kept with the attachment and on the record's history); 1–500 characters.
    pub reason: String,
}

/// Removes an attachment from its record's list; it stays on record with the reason.
#[utoipa::path(post, path = "/attachments/{id}/remove", tag = "attachments", request_body = RemoveAttachment,
    responses((status = 200, body = Attachment),
        (status = 404, body = ErrorBody),
        (status = 409, description = "`attachment_removed`: removed already; `enterprise_closed`", body = ErrorBody),
        (status = 422, description = "`reason: required`", body = ErrorBody)))]
async fn remove_attachment(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<RemoveAttachment>,
) -> ApiResult<Json<Attachment>> {
    let a = visible(&state, &principal, &id).await?;
    let owner = owner(&state, &principal, &a.owner_kind, &a.owner_id, true).await?;
    let removed =
        state.store().remove_attachment(&principal.actor(), &owner, &a.id, &body.reason).await?;
    Ok(Json(removed))
}

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_attachments, upload_attachment))
        .routes(routes!(attachment_content))
        .routes(routes!(attachment_thumbnail))
        .routes(routes!(remove_attachment))
}

//! Attachments over HTTP: a file streamed up and back byte for byte with its thumbnail, kept
//! once per content, refused by content (not by name), by size and when empty, scoped like the
//! record it belongs to (404 outside, then 403), removal kept on record, and on PostgreSQL
//! reachable from another instance with its own data directory.

use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use beacon_api::AppState;
use beacon_bus::InProcessBus;
use beacon_core::org::Role;
use beacon_store::{Backend, ConnectOptions, Store, backend_tests};
use serde_json::{Value, json};

use crate::{Response, Session, TestApp};

/// A real PNG picture of `w`×`h` pixels.
pub(crate) fn png(w: u32, h: u32, shade: u8) -> Vec<u8> {
    let picture = image::RgbImage::from_fn(w, h, |x, y| {
        image::Rgb([(x % 256) as u8, (y % 256) as u8, shade])
    });
    let mut out = std::io::Cursor::new(Vec::new());
    picture.write_to(&mut out, image::ImageFormat::Png).unwrap();
    out.into_inner()
}

pub(crate) async fn upload(
    t: &TestApp,
    s: &Session,
    owner: (&str, &str),
    purpose: &str,
    name: &str,
    bytes: Vec<u8>,
) -> Response {
    let name: String = url_encode(name);
    let uri = format!(
        "/api/v1/attachments?owner_kind={}&owner_id={}&purpose={purpose}&name={name}",
        owner.0, owner.1
    );
    t.send(
        Request::post(uri)
            .header(header::COOKIE, &s.cookie)
            // The browser's claim is ignored; the content decides.
            .header(header::CONTENT_TYPE, "image/png")
            .body(Body::from(bytes))
            .unwrap(),
    )
    .await
}

fn url_encode(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b == b'.' {
                char::from(b).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

async fn enterprise(t: &TestApp, inspector: &Session, uscc: &str, name: &str) -> (String, String) {
    let made = t.post(inspector, "/api/v1/enterprises", json!({
        "uscc": uscc, "name": name, "unit_id": t.tree.town, "section": "C", "sector": "hazardous_chemicals",
    })).await;
    made.expect(StatusCode::CREATED);
    let id = made.json()["id"].as_str().unwrap().to_owned();
    let today = t.store.now().date_naive();
    let licence = t
        .post(
            inspector,
            &format!("/api/v1/enterprises/{id}/licences"),
            json!({
                "kind": "safety_production", "number": format!("{name}-1"),
                "issued_on": (today - chrono::Duration::days(100)).to_string(),
                "expires_on": (today + chrono::Duration::days(900)).to_string(),
            }),
        )
        .await;
    licence.expect(StatusCode::CREATED);
    (id, licence.json()["id"].as_str().unwrap().to_owned())
}

/// An inspector of the east district whose display name (王检查) differs from the login name.
async fn inspector(t: &TestApp) -> Session {
    let id = t.user("east.inspector", &t.tree.east, &[Role::Inspector]).await;
    let admin = t.signed_in("east.sysadmin", &t.tree.east, &[Role::SystemAdmin]).await;
    t.patch(&admin, &format!("/api/v1/users/{id}"), json!({ "display_name": "王检查" }))
        .await
        .expect(StatusCode::OK);
    t.login("east.inspector", crate::PASSWORD).await.session()
}

fn list_path(kind: &str, id: &str) -> String {
    format!("/api/v1/attachments?owner_kind={kind}&owner_id={id}")
}

backend_tests! {
    async fn files_go_up_and_come_back_once_per_content(t: TestApp) {
        let inspector = inspector(&t).await;
        let (_, licence) = enterprise(&t, &inspector, "91350100M000100Y43", "临江甲化工").await;
        let picture = png(800, 400, 7);
        let up = upload(&t, &inspector, ("licence", &licence), "scan", "许可证 正本.png", picture.clone()).await;
        up.expect(StatusCode::CREATED);
        let a = up.json();
        assert_eq!(a["content_type"], "image/png");
        assert_eq!(a["file_name"], "许可证 正本.png");
        assert_eq!(a["size"], picture.len());
        assert_eq!(a["has_thumbnail"], true);
        assert_eq!(a["uploaded_by"], "王检查", "the display name, not the login name");
        let id = a["id"].as_str().unwrap().to_owned();

        let listed = t.get(&inspector, &list_path("licence", &licence)).await;
        listed.expect(StatusCode::OK);
        assert_eq!(listed.json().as_array().unwrap().len(), 1);

        let down = t.get(&inspector, &format!("/api/v1/attachments/{id}/content")).await;
        down.expect(StatusCode::OK);
        assert_eq!(down.bytes, picture);
        assert_eq!(down.headers[header::CONTENT_TYPE], "image/png");
        assert_eq!(down.headers[header::CONTENT_LENGTH], picture.len().to_string().as_str());
        assert_eq!(down.headers[header::X_CONTENT_TYPE_OPTIONS], "nosniff");
        assert_eq!(down.headers[header::ETAG], format!("\"{}\"", a["sha256"].as_str().unwrap()).as_str());
        let disposition = down.headers[header::CONTENT_DISPOSITION].to_str().unwrap();
        assert!(disposition.starts_with("attachment;") && disposition.contains("UTF-8''%E8%AE%B8"), "{disposition}");

        // A browser that holds the file asks again with its ETag: 304, no body; another tag, or
        // none, the file. A caller outside the scope gets 404 whatever the tag.
        let etag = down.headers[header::ETAG].to_str().unwrap().to_owned();
        let cached = |tag: &str| {
            let request = Request::get(format!("/api/v1/attachments/{id}/content"))
                .header(header::COOKIE, &inspector.cookie)
                .header(header::IF_NONE_MATCH, tag)
                .body(Body::empty())
                .unwrap();
            t.send(request)
        };
        for tag in [etag.clone(), format!("\"x\", W/{etag}"), "*".to_owned()] {
            let again = cached(&tag).await;
            again.expect(StatusCode::NOT_MODIFIED);
            assert!(again.bytes.is_empty());
            assert_eq!(again.headers[header::ETAG], etag.as_str());
        }
        assert_eq!(cached("\"other\"").await.bytes, picture);

        let thumb = t.get(&inspector, &format!("/api/v1/attachments/{id}/thumbnail")).await;
        thumb.expect(StatusCode::OK);
        assert_eq!(thumb.headers[header::CONTENT_TYPE], "image/jpeg");
        let small = image::load_from_memory(&thumb.bytes).unwrap();
        assert_eq!((small.width(), small.height()), (320, 160));

        // The same bytes again (as a photo, under another name) are stored once; the thumbnail
        // too.
        let (blobs, _) = t.store.blob_counts().await.unwrap();
        assert_eq!(blobs, 2, "the file and its thumbnail");
        let again = upload(&t, &inspector, ("licence", &licence), "photo", "copy.png", picture.clone()).await;
        again.expect(StatusCode::CREATED);
        assert_eq!(again.json()["sha256"], a["sha256"]);
        assert_eq!(t.store.blob_counts().await.unwrap().0, 2);

        // The history of the enterprise tells it; so does the audit trail.
        assert_eq!(t.audit_actions("attachment.added").await.len(), 2);

        // A PDF gets no thumbnail.
        let pdf = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n".to_vec();
        let doc = upload(&t, &inspector, ("licence", &licence), "scan", "scan.pdf", pdf).await;
        doc.expect(StatusCode::CREATED);
        assert_eq!(doc.json()["has_thumbnail"], false);
        let doc_id = doc.json()["id"].as_str().unwrap().to_owned();
        t.get(&inspector, &format!("/api/v1/attachments/{doc_id}/thumbnail")).await.expect(StatusCode::NOT_FOUND);
    }

    async fn files_are_refused_by_content_size_and_emptiness(t: TestApp) {
        let inspector = t.signed_in("east.inspector", &t.tree.east, &[Role::Inspector]).await;
        let (_, licence) = enterprise(&t, &inspector, "91350100M000100Y43", "临江甲化工").await;
        let owner = ("licence", licence.as_str());
        let before = t.store.blob_counts().await.unwrap();

        let text = upload(&t, &inspector, owner, "scan", "x.png", b"just some text, named x.png".to_vec()).await;
        text.expect(StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(text.json()["fields"]["content"], "file_type_not_allowed");
        // A PDF is a scan but not a photo.
        let pdf = upload(&t, &inspector, owner, "photo", "p.jpg", b"%PDF-1.4\n".to_vec()).await;
        assert_eq!(pdf.json()["fields"]["content"], "file_type_not_allowed");

        // One byte over a photo's 10 MiB: 413, nothing stored, no spool file left.
        let mut big = png(4, 4, 1);
        big.resize(10 * 1024 * 1024 + 1, 0);
        let over = upload(&t, &inspector, owner, "photo", "big.png", big).await;
        over.expect(StatusCode::PAYLOAD_TOO_LARGE);
        assert_eq!(over.code(), "file_too_large");
        assert_eq!(over.json()["rules"]["content"]["max_bytes"], 10 * 1024 * 1024);

        let empty = upload(&t, &inspector, owner, "scan", "e.png", Vec::new()).await;
        empty.expect(StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(empty.json()["fields"]["content"], "file_empty");

        let kind = upload(&t, &inspector, ("petition", &licence), "scan", "a.png", png(2, 2, 0)).await;
        assert_eq!(kind.json()["fields"]["owner_kind"], "unknown");
        let purpose = upload(&t, &inspector, owner, "selfie", "a.png", png(2, 2, 0)).await;
        assert_eq!(purpose.json()["fields"]["purpose"], "unknown");
        let name = upload(&t, &inspector, owner, "scan", "../", png(2, 2, 0)).await;
        assert_eq!(name.json()["fields"]["name"], "required");
        let listed = t.get(&inspector, &list_path("petition", &licence)).await;
        assert_eq!(listed.json()["fields"]["owner_kind"], "unknown");

        assert_eq!(t.store.blob_counts().await.unwrap(), before);
        assert_eq!(t.get(&inspector, &list_path("licence", &licence)).await.json(), json!([]));
        // (On PostgreSQL the spool is the system's temporary directory, shared with the tests
        // running beside this one.)
        if t.store.backend() == Backend::Sqlite
            && let Ok(spool) = std::fs::read_dir(t.store.files_dir().join("tmp"))
        {
            assert_eq!(spool.count(), 0, "refused uploads leave no spool file");
        }
    }

    async fn files_are_scoped_like_their_record(t: TestApp) {
        let inspector = inspector(&t).await;
        let west = t.signed_in("west.inspector", &t.tree.west, &[Role::Inspector]).await;
        let viewer = t.signed_in("east.viewer", &t.tree.east, &[Role::Viewer]).await;
        let admin = t.signed_in("east.admin", &t.tree.east, &[Role::SystemAdmin]).await;
        let (jia, jia_licence) = enterprise(&t, &inspector, "91350100M000100Y43", "临江甲化工").await;
        let (_, yi_licence) = enterprise(&t, &inspector, "91110000802100433B", "临江乙机械").await;
        let up = upload(&t, &inspector, ("licence", &jia_licence), "scan", "a.png", png(10, 10, 1)).await;
        let id = up.json()["id"].as_str().unwrap().to_owned();

        // Another district: 404 for the list, an upload and a download alike.
        t.get(&west, &list_path("licence", &jia_licence)).await.expect(StatusCode::NOT_FOUND);
        upload(&t, &west, ("licence", &jia_licence), "scan", "b.png", png(10, 10, 2)).await.expect(StatusCode::NOT_FOUND);
        t.get(&west, &format!("/api/v1/attachments/{id}/content")).await.expect(StatusCode::NOT_FOUND);
        t.get(&west, &format!("/api/v1/attachments/{id}/thumbnail")).await.expect(StatusCode::NOT_FOUND);
        let guess = Request::get(format!("/api/v1/attachments/{id}/content"))
            .header(header::COOKIE, &west.cookie)
            .header(header::IF_NONE_MATCH, "*")
            .body(Body::empty())
            .unwrap();
        t.send(guess).await.expect(StatusCode::NOT_FOUND);
        t.post(&west, &format!("/api/v1/attachments/{id}/remove"), json!({ "reason": "x" })).await.expect(StatusCode::NOT_FOUND);
        // A reader in scope reads but does not attach (403 only once the record is reached).
        t.get(&viewer, &format!("/api/v1/attachments/{id}/content")).await.expect(StatusCode::OK);
        upload(&t, &viewer, ("licence", &jia_licence), "scan", "b.png", png(10, 10, 2)).await.expect(StatusCode::FORBIDDEN);
        t.post(&viewer, &format!("/api/v1/attachments/{id}/remove"), json!({ "reason": "x" })).await.expect(StatusCode::FORBIDDEN);
        // The administrators read nothing of the register, nor its files.
        t.get(&admin, &list_path("licence", &jia_licence)).await.expect(StatusCode::FORBIDDEN);

        // The enterprise's own account attaches to its licence, and reaches no other.
        let officer = t.user("jia.safety", &t.tree.town, &[Role::Enterprise]).await;
        t.put(&admin, &format!("/api/v1/users/{officer}/enterprise"), json!({ "enterprise_id": jia })).await.expect(StatusCode::NO_CONTENT);
        let own = t.login("jia.safety", crate::PASSWORD).await.session();
        upload(&t, &own, ("licence", &jia_licence), "scan", "自己的.png", png(10, 10, 3)).await.expect(StatusCode::CREATED);
        upload(&t, &own, ("licence", &yi_licence), "scan", "别人的.png", png(10, 10, 4)).await.expect(StatusCode::NOT_FOUND);
        t.get(&own, &list_path("licence", &yi_licence)).await.expect(StatusCode::NOT_FOUND);
        assert_eq!(t.get(&own, &list_path("licence", &jia_licence)).await.json().as_array().unwrap().len(), 2);

        // Removal keeps the row, hides it from the list, and says who and why.
        t.post(&inspector, &format!("/api/v1/attachments/{id}/remove"), json!({ "reason": " " })).await.expect(StatusCode::UNPROCESSABLE_ENTITY);
        let removed = t.post(&inspector, &format!("/api/v1/attachments/{id}/remove"), json!({ "reason": "扫描不清" })).await;
        removed.expect(StatusCode::OK);
        assert_eq!(removed.json()["removed"], true);
        assert_eq!(removed.json()["removed_reason"], "扫描不清");
        let listed = t.get(&inspector, &list_path("licence", &jia_licence)).await.json();
        assert!(listed.as_array().unwrap().iter().all(|a| a["id"] != id.as_str()));
        let all = t.get(&inspector, &format!("{}&include_removed=true", list_path("licence", &jia_licence))).await.json();
        let kept: Vec<&Value> = all.as_array().unwrap().iter().filter(|a| a["id"] == id.as_str()).collect();
        assert_eq!(kept.len(), 1);
        assert_eq!(kept[0]["removed_by"], "王检查");
        t.post(&inspector, &format!("/api/v1/attachments/{id}/remove"), json!({ "reason": "再次" })).await.expect(StatusCode::CONFLICT);
        let history = t.get(&inspector, &format!("/api/v1/enterprises/{jia}/history")).await.json();
        let kinds: Vec<&str> = history.as_array().unwrap().iter().map(|h| h["kind"].as_str().unwrap()).collect();
        assert!(kinds.contains(&"attachment_removed"), "{kinds:?}");
    }
}

/// Several instances on one PostgreSQL, each with its own data directory: a file uploaded
/// through one is downloaded through another.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_file_uploaded_on_one_instance_is_read_on_another() {
    let t = TestApp::new(Backend::Postgres).await;
    let inspector = t.signed_in("east.inspector", &t.tree.east, &[Role::Inspector]).await;
    let (_, licence) = enterprise(&t, &inspector, "91350100M000100Y43", "临江甲化工").await;
    // Larger than a chunk, so it is read back in pieces.
    let mut picture = png(64, 64, 9);
    picture.resize(3 * 1024 * 1024 + 17, 0);
    let up = upload(&t, &inspector, ("licence", &licence), "scan", "a.png", picture.clone()).await;
    up.expect(StatusCode::CREATED);
    let id = up.json()["id"].as_str().unwrap().to_owned();

    let elsewhere = tempfile::tempdir().unwrap();
    let options = ConnectOptions {
        files_dir: Some(elsewhere.path().to_owned()),
        ..ConnectOptions::default()
    };
    let other = Store::connect(&t.db.url, &options, t.store.clock().clone()).await.unwrap();
    let bus = Arc::new(InProcessBus::new(other.clock().clone()));
    let state = AppState::new(other, bus, TestApp::config()).unwrap();
    let b = beacon_api::app(state);
    let response = tower::ServiceExt::oneshot(
        b,
        Request::get(format!("/api/v1/attachments/{id}/content"))
            .header(header::COOKIE, &inspector.cookie)
            .body(Body::empty())
            .unwrap(),
    )
    .await
    .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let bytes = http_body_util::BodyExt::collect(response.into_body()).await.unwrap().to_bytes();
    assert_eq!(bytes.to_vec(), picture);
}

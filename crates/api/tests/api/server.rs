//! The server on a real socket: a client that never finishes its headers is dropped, and a
//! shutdown is not held up by it nor by an open event stream.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use beacon_api::{ApiConfig, AppState, PasswordParams};
use beacon_bus::InProcessBus;
use beacon_core::org::Role;
use beacon_store::Backend;
use std::sync::Arc;

use crate::TestApp;

/// Reads until the server closes the connection (or `limit` passes); returns what it sent.
fn read_until_closed(stream: &mut TcpStream, limit: Duration) -> (String, Duration) {
    let started = Instant::now();
    stream.set_read_timeout(Some(Duration::from_millis(100))).unwrap();
    let mut got = Vec::new();
    let mut buffer = [0u8; 4096];
    while started.elapsed() < limit {
        match stream.read(&mut buffer) {
            Ok(0) => break,
            Ok(n) => got.extend_from_slice(&buffer[..n]),
            Err(e)
                if e.kind() == std::io::ErrorKind::WouldBlock
                    || e.kind() == std::io::ErrorKind::TimedOut => {}
            Err(_) => break,
        }
    }
    (String::from_utf8_lossy(&got).into_owned(), started.elapsed())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_headers_are_cut_off_and_shutdown_has_a_deadline() {
    let t = TestApp::new(Backend::Sqlite).await;
    let session = t.signed_in("city.viewer", &t.tree.city, &[Role::Viewer]).await;
    let config = ApiConfig {
        password_params: PasswordParams::insecure_fast(),
        header_timeout: Duration::from_millis(500),
        shutdown_grace: Duration::from_secs(1),
        ..ApiConfig::default()
    };
    let bus = Arc::new(InProcessBus::new(t.store.clock().clone()));
    let state = AppState::new(t.store.clone(), bus, config).unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(beacon_api::serve(listener, state, async {
        let _ = stopped.await;
    }));

    let outcome = tokio::task::spawn_blocking(move || {
        // A complete request is answered.
        let mut ok = TcpStream::connect(address).unwrap();
        ok.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").unwrap();
        let (answer, _) = read_until_closed(&mut ok, Duration::from_secs(5));
        assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");

        // Headers that never end: the connection is closed after the timeout, not held.
        let mut slow = TcpStream::connect(address).unwrap();
        slow.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ").unwrap();
        let (_, waited) = read_until_closed(&mut slow, Duration::from_secs(10));
        assert!(waited < Duration::from_secs(3), "held for {waited:?}");

        // An idle connection that sends nothing is closed too.
        let mut idle = TcpStream::connect(address).unwrap();
        let (_, waited) = read_until_closed(&mut idle, Duration::from_secs(10));
        assert!(waited < Duration::from_secs(3), "idle held for {waited:?}");

        // An open event stream and another slow client at shutdown time.
        let mut events = TcpStream::connect(address).unwrap();
        events
            .write_all(
                format!(
                    "GET /api/v1/events HTTP/1.1\r\nHost: x\r\nCookie: {}\r\n\r\n",
                    session.cookie
                )
                .as_bytes(),
            )
            .unwrap();
        let mut first = [0u8; 12];
        events.read_exact(&mut first).unwrap();
        assert_eq!(&first, b"HTTP/1.1 200");
        let mut trickle = TcpStream::connect(address).unwrap();
        trickle.write_all(b"GET / HTTP/1.1\r\n").unwrap();
        (events, trickle)
    })
    .await
    .unwrap();

    let started = Instant::now();
    stop.send(()).unwrap();
    tokio::time::timeout(Duration::from_secs(5), server)
        .await
        .expect("the server stops within its grace period")
        .unwrap()
        .unwrap();
    assert!(started.elapsed() < Duration::from_secs(3), "took {:?}", started.elapsed());
    drop(outcome);
}

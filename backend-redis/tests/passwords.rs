//! Passwords made of what URL syntax gives a meaning to (`/ ? # @ : %`) and of
//! non-ASCII characters: they work when percent-encoded, and no piece of them shows in
//! any message, source chain or `Debug` output, whether the URL is right, wrong,
//! unencoded, or points at no server.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail by panicking

mod common;

use optimist_core::{Error, ErrorKind, Key, Operation, Version, VersionedStore};
use optimist_redis::RedisStore;
use redis::{ConnectionAddr, IntoConnectionInfo};
use serde_json::json;

/// Words the password is made of, so the tests can check that no piece shows.
const WORDS: [&str; 8] = [
    "alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel",
];

fn password() -> String {
    "alpha/bravo?charlie#delta@echo:foxtrot%golfé€hotel".to_string()
}

/// Every byte but ASCII letters and digits as `%XX`.
fn encoded(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Everything that can be seen of an error: its message, every cause, its Debug.
fn everything(err: &Error) -> String {
    let mut text = format!("{err} // {err:?}");
    let mut cause = std::error::Error::source(err);
    while let Some(err) = cause {
        text.push_str(" // ");
        text.push_str(&err.to_string());
        text.push_str(&format!(" {err:?}"));
        cause = err.source();
    }
    text
}

fn assert_hidden(shown: &str, what: &str) {
    for word in WORDS {
        assert!(!shown.contains(word), "{what}: {word:?} shows in {shown}");
    }
    for c in ['é', '€'] {
        assert!(!shown.contains(c), "{what}: {c:?} shows in {shown}");
    }
    assert!(!shown.contains(&encoded(&password())), "{what}: {shown}");
}

/// The test server's host and port.
fn server(url: &str) -> (String, u16) {
    let info = url
        .into_connection_info()
        .unwrap_or_else(|e| panic!("bad test URL: {e}"));
    match info.addr() {
        ConnectionAddr::Tcp(host, port) => (host.clone(), *port),
        other => panic!("the test server must be reached over TCP, not {other:?}"),
    }
}

#[tokio::test]
async fn a_hostile_password_works_encoded_and_never_shows() {
    let Some(admin) = common::store_or_skip("a_hostile_password_works").await else {
        return;
    };
    let url = common::url().unwrap_or_default();
    let (host, port) = server(&url);
    let user = format!("u-{}", common::fresh_prefix());
    let mut conn = admin.connection();
    let _: () = redis::cmd("ACL")
        .arg("SETUSER")
        .arg(&user)
        .arg("on")
        .arg(format!(">{}", password()))
        .arg("~*")
        .arg("+@all")
        .query_async(&mut conn)
        .await
        .unwrap_or_else(|e| panic!("ACL SETUSER: {e}"));

    // Right, percent-encoded: it connects, and nothing shows it.
    let good = format!("redis://{user}:{}@{host}:{port}/0", encoded(&password()));
    let builder = RedisStore::builder()
        .url(good.clone())
        .prefix(admin.prefix());
    assert_hidden(&format!("{builder:?}"), "builder");
    let store = builder.build().await.unwrap_or_else(|e| panic!("{e:?}"));
    assert_hidden(&format!("{store:?}"), "store");
    let k = Key::new("k");
    assert_eq!(store.insert(&k, json!(1)).await.ok(), Some(Version::FIRST));

    // Wrong (the password with one more character): refused by the server.
    let wrong = format!("redis://{user}:{}x@{host}:{port}/0", encoded(&password()));
    let err = RedisStore::builder()
        .url(wrong)
        .prefix("p")
        .build()
        .await
        .err()
        .unwrap_or_else(|| panic!("a wrong password connected"));
    assert!(
        matches!(
            err,
            Error::Backend {
                operation: Operation::Setup,
                kind: ErrorKind::Rejected,
                ..
            }
        ),
        "{err:?}"
    );
    println!("wrong password: {}", everything(&err));
    assert_hidden(&everything(&err), "wrong password");

    // Unencoded: whatever the driver makes of it, nothing shows.
    for raw in [
        format!("redis://{user}:{}@{host}:{port}/0", password()),
        format!("redis://:{}@{host}:{port}", password()),
    ] {
        let builder = RedisStore::builder().url(raw.clone()).prefix("p");
        assert_hidden(&format!("{builder:?}"), "builder with a raw password");
        match builder.build().await {
            Ok(store) => assert_hidden(&format!("{store:?}"), "store with a raw password"),
            Err(err) => {
                println!("raw password: {}", everything(&err));
                assert_hidden(&everything(&err), &raw);
            }
        }
    }

    let _: i64 = redis::cmd("ACL")
        .arg("DELUSER")
        .arg(&user)
        .query_async(&mut conn)
        .await
        .unwrap_or_else(|e| panic!("ACL DELUSER: {e}"));
}

#[tokio::test]
async fn a_hostile_password_for_a_server_that_is_down_never_shows() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap_or_else(|e| panic!("{e}"));
    for url in [
        format!("redis://user:{}@127.0.0.1:{port}/0", encoded(&password())),
        format!("redis://user:{}@127.0.0.1:{port}/0", password()),
        format!("redis+unix:///nonexistent/redis.sock?pass={}", password()),
    ] {
        let builder = RedisStore::builder().url(url.clone()).prefix("p");
        assert_hidden(&format!("{builder:?}"), "builder");
        let err = builder
            .build()
            .await
            .err()
            .unwrap_or_else(|| panic!("{} connected", optimist_core::redact::redact_url(&url)));
        println!("server down: {}", everything(&err));
        assert_hidden(&everything(&err), "server down");
    }
    // A client holds the password decoded: neither the builder nor the error shows it.
    let url = format!("redis://user:{}@127.0.0.1:{port}/0", encoded(&password()));
    let client = redis::Client::open(url).unwrap_or_else(|e| panic!("{e}"));
    let builder = RedisStore::builder().client(client).prefix("p");
    assert_hidden(&format!("{builder:?}"), "builder with a client");
    let err = builder
        .build()
        .await
        .err()
        .unwrap_or_else(|| panic!("a client to a closed port connected"));
    println!("server down, client: {}", everything(&err));
    assert_hidden(&everything(&err), "server down, client");
}

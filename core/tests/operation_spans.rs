//! The span and closing event of each operation, on a store the engine serves at once
//! (the memory store answers `read_now` and `write_value_now`): the same span, fields
//! and event as an operation that awaits its store.

#![allow(clippy::expect_used)] // a test fails by panicking

use std::sync::{Arc, Mutex, PoisonError};

use optimist_core::{Key, Version, VersionedStore};
use optimist_memory::MemoryStore;
use serde_json::json;
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Metadata, Subscriber};

/// One closing event: its span's name and `operation` field, and its own fields.
#[derive(Clone, Debug, PartialEq)]
struct Closed {
    span: String,
    operation: String,
    outcome: String,
    attempts: u64,
}

/// Spans by id (name and `operation`), and the closing events seen.
#[derive(Default)]
struct Recorder {
    spans: Mutex<Vec<(String, String)>>,
    closed: Arc<Mutex<Vec<Closed>>>,
}

#[derive(Default)]
struct Fields {
    operation: String,
    outcome: String,
    attempts: Option<u64>,
}

impl Visit for Fields {
    fn record_u64(&mut self, field: &Field, value: u64) {
        if field.name() == "attempts" {
            self.attempts = Some(value);
        }
    }
    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "outcome" {
            self.outcome = value.to_string();
        }
    }
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        if field.name() == "operation" {
            self.operation = format!("{value:?}");
        }
    }
}

impl Subscriber for Recorder {
    fn enabled(&self, _: &Metadata<'_>) -> bool {
        true
    }
    fn new_span(&self, span: &Attributes<'_>) -> Id {
        let mut fields = Fields::default();
        span.record(&mut fields);
        let mut spans = self.spans.lock().unwrap_or_else(PoisonError::into_inner);
        spans.push((span.metadata().name().to_string(), fields.operation));
        Id::from_u64(spans.len() as u64)
    }
    fn record(&self, _: &Id, _: &Record<'_>) {}
    fn record_follows_from(&self, _: &Id, _: &Id) {}
    fn event(&self, event: &Event<'_>) {
        let mut fields = Fields::default();
        event.record(&mut fields);
        let (Some(attempts), Some(parent)) = (fields.attempts, event.parent()) else {
            return;
        };
        let spans = self.spans.lock().unwrap_or_else(PoisonError::into_inner);
        let (span, operation) = spans[parent.into_u64() as usize - 1].clone();
        self.closed
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(Closed {
                span,
                operation,
                outcome: fields.outcome,
                attempts,
            });
    }
    fn enter(&self, _: &Id) {}
    fn exit(&self, _: &Id) {}
}

fn closed(operation: &str, outcome: &str) -> Closed {
    Closed {
        span: "optimist".to_string(),
        operation: operation.to_string(),
        outcome: outcome.to_string(),
        attempts: 1,
    }
}

#[test]
fn operations_served_at_once_close_their_spans() {
    let recorder = Recorder::default();
    let seen = recorder.closed.clone();
    let _guard = tracing::subscriber::set_default(recorder);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("a runtime");
    runtime.block_on(async {
        let store = MemoryStore::new();
        let key = Key::new("k");
        let v1 = store.insert(&key, json!(1)).await.expect("insert");
        store.update(&key, v1, json!(2)).await.expect("update");
        let stale = store.update(&key, v1, json!(3)).await;
        assert!(stale.expect_err("a stale update").is_conflict());
        assert!(store.get(&key).await.expect("get").is_some());
        let invalid = store.get(&Key::new("")).await;
        assert!(invalid.expect_err("an empty key").is_invalid_input());
        assert_eq!(
            store.update(&key, Version::new(2), json!(4)).await.ok(),
            Some(Version::new(3))
        );
    });
    let seen = seen.lock().unwrap_or_else(PoisonError::into_inner).clone();
    let invalid = Closed {
        attempts: 0,
        ..closed("get", "invalid input")
    };
    assert_eq!(
        seen,
        vec![
            closed("insert", "ok"),
            closed("update", "ok"),
            closed("update", "conflict"),
            closed("get", "ok"),
            invalid,
            closed("update", "ok"),
        ]
    );
}

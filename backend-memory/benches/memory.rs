//! The memory store's operations, beside the same compare-and-swap done on a bare
//! `Mutex<HashMap>` in the same run: the difference is what the contract costs
//! (input checks, the `Versioned` clone, the async call).

#![allow(missing_docs)] // criterion_group! generates an undocumented public function.

use std::collections::HashMap;
use std::hint::black_box;
use std::sync::Mutex;

use criterion::{Criterion, criterion_group, criterion_main};
use optimist_core::{Key, Version, VersionedStore};
use optimist_memory::MemoryStore;
use serde_json::{Value, json};

fn value() -> Value {
    json!({"title": "Dune", "author": "Frank Herbert", "copies": 3, "tags": ["sf", "classic"]})
}

/// The baseline: the same conditional write on a bare map, no checks, no async.
struct Bare(Mutex<HashMap<Key, (Value, u64)>>);

impl Bare {
    fn update(&self, key: &Key, expected: u64, value: Value) -> Result<u64, (Value, u64)> {
        let mut map = self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        match map.get_mut(key) {
            Some((v, version)) if *version == expected => {
                *v = value;
                *version += 1;
                Ok(*version)
            }
            Some((v, version)) => Err((v.clone(), *version)),
            None => Err((Value::Null, 0)),
        }
    }
}

fn bench(c: &mut Criterion) {
    let Ok(runtime) = tokio::runtime::Builder::new_current_thread().build() else {
        eprintln!("cannot build a tokio runtime");
        return;
    };
    let store = MemoryStore::new();
    let key = Key::new("book#1");
    runtime.block_on(async {
        let _ = store.put(&key, value()).await;
    });
    let bare = Bare(Mutex::new(HashMap::from([(key.clone(), (value(), 1))])));

    let mut group = c.benchmark_group("memory");
    group.bench_function("get", |b| {
        b.iter(|| runtime.block_on(store.get(black_box(&key))))
    });
    group.bench_function("insert+remove", |b| {
        let fresh = Key::new("fresh");
        b.iter(|| {
            runtime.block_on(async {
                let _ = store.insert(black_box(&fresh), value()).await;
                let _ = store.remove(&fresh).await;
            })
        })
    });
    group.bench_function("update", |b| {
        b.iter(|| {
            runtime.block_on(async {
                let current = store
                    .get(&key)
                    .await
                    .ok()
                    .flatten()
                    .map_or(Version::FIRST, |i| i.version);
                let _ = store.update(black_box(&key), current, value()).await;
            })
        })
    });
    group.bench_function("update_conflict", |b| {
        b.iter(|| runtime.block_on(store.update(black_box(&key), Version::UNVERSIONED, value())))
    });
    group.bench_function("bare_map_update", |b| {
        let mut version = 1;
        b.iter(|| {
            if let Ok(v) = bare.update(black_box(&key), version, value()) {
                version = v;
            }
        })
    });
    group.bench_function("bare_map_update_conflict", |b| {
        b.iter(|| bare.update(black_box(&key), 0, value()))
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);

//! The typed layer's cases (contract R20–R24) on SQLite: in memory, and on a WAL file
//! where 16 writers really contend for the database lock.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail by panicking

mod common;

mod memory {
    async fn sqlite_memory() -> Option<optimist_sqlite::SqliteStore> {
        optimist_sqlite::SqliteStore::builder()
            .memory()
            .build()
            .await
            .map(Some)
            .expect("an in-memory SQLite database")
    }

    crate::typed_cases!(sqlite_memory);
}

mod file {
    use std::sync::atomic::{AtomicUsize, Ordering};

    async fn sqlite_file() -> Option<optimist_sqlite::SqliteStore> {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let dir = std::env::temp_dir().join(format!("optimist-typed-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("a temporary directory");
        let path = dir.join(format!("case-{}.db", NEXT.fetch_add(1, Ordering::SeqCst)));
        let _ = std::fs::remove_file(&path);
        optimist_sqlite::SqliteStore::builder()
            .path(&path)
            .build()
            .await
            .map(Some)
            .expect("a SQLite file database")
    }

    crate::typed_cases!(sqlite_file);
}

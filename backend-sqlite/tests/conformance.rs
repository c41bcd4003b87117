//! The whole conformance suite, twice: on an in-memory database and on a fresh WAL file
//! per case.

mod common;

mod memory {
    use optimist_conformance::{Unavailable, factory_fn};
    use optimist_sqlite::SqliteStore;

    optimist_conformance::suite!(factory_fn("sqlite :memory:", || async {
        SqliteStore::builder()
            .memory()
            .build()
            .await
            .map_err(|e| Unavailable::new("SQLite in memory", e.to_string()))
    }));
}

mod file {
    use optimist_conformance::{Unavailable, factory_fn};

    optimist_conformance::suite!(factory_fn("sqlite file (WAL)", || async {
        super::common::file_store("conformance")
            .await
            .map_err(|e| Unavailable::new("SQLite file", e.to_string()))
    }));
}

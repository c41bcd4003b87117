//! Fresh tables and prefixes for `check`, `bench` and `demo`: each store they make is
//! isolated from the user's data and from every other, and removed at the end.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};

use optimist::redact::Secrets;
use optimist::{StoreConfig, VersionedStore};
use sqlx::Connection as _;

use crate::target::Target;

/// Where one fresh store keeps its items, to be removed at the end.
#[derive(Clone, Debug)]
enum Namespace {
    /// A table of a SQLite file.
    SqliteTable {
        path: std::path::PathBuf,
        table: String,
    },
    /// A PostgreSQL table (maybe `schema.table`).
    PostgresTable { url: String, table: String },
    /// A Redis key prefix.
    RedisPrefix { url: String, prefix: String },
    /// A DynamoDB table.
    DynamoDbTable(Box<optimist::dynamodb::DynamoDbConfig>),
}

impl Namespace {
    fn describe(&self) -> String {
        match self {
            Namespace::SqliteTable { table, .. } | Namespace::PostgresTable { table, .. } => {
                format!("table {table}")
            }
            Namespace::RedisPrefix { prefix, .. } => format!("prefix {prefix}"),
            Namespace::DynamoDbTable(config) => format!("table {}", config.table),
        }
    }
}

/// What the fresh stores of a run were, and how their removal went.
#[derive(Clone, Debug, Default)]
pub(crate) struct Removal {
    /// Tables or prefixes created.
    pub(crate) created: usize,
    /// Of those, removed.
    pub(crate) removed: usize,
    /// Why the others were not, one line each.
    pub(crate) failures: Vec<String>,
}

/// Makes fresh stores for the target and remembers where, to remove them all.
pub(crate) struct Fresh {
    target: Target,
    purpose: &'static str,
    run: u32,
    next: AtomicU32,
    made: Mutex<Vec<Namespace>>,
}

impl Fresh {
    /// Fresh stores on `target`, named after `purpose` (`check`, `bench`, `demo`).
    pub(crate) fn new(target: &Target, purpose: &'static str) -> Arc<Self> {
        Arc::new(Self {
            target: target.clone(),
            purpose,
            run: rand::random(),
            next: AtomicU32::new(0),
            made: Mutex::new(Vec::new()),
        })
    }

    /// What each store is, for reports: "a fresh table per store of PostgreSQL at …".
    pub(crate) fn describe(&self) -> String {
        let what = match &self.target {
            Target::Config(config) => match config.as_ref() {
                StoreConfig::Sqlite(sqlite) if sqlite.path.is_some() => "a fresh table per store",
                StoreConfig::Postgres(_) | StoreConfig::DynamoDb(_) => "a fresh table per store",
                StoreConfig::Redis(_) => "a fresh key prefix per store",
                _ => "a new store each time",
            },
            Target::Custom { .. } => "a new store each time",
        };
        format!("{}, {what}", self.target.shown())
    }

    /// A fresh, isolated store. Its table or prefix is remembered before it is made,
    /// so one half made is removed too.
    pub(crate) async fn make(&self) -> Result<Arc<dyn VersionedStore>, optimist::Error> {
        let n = self.next.fetch_add(1, Ordering::Relaxed);
        let name = format!("{}_{:08x}_{n}", self.purpose, self.run);
        let config = match &self.target {
            Target::Custom { make, .. } => return make().await,
            Target::Config(config) => config,
        };
        let (fresh, namespace) = match config.as_ref() {
            StoreConfig::Sqlite(sqlite) => match &sqlite.path {
                Some(path) => {
                    let mut fresh = sqlite.clone();
                    fresh.table = format!("optimist_{name}");
                    let namespace = Namespace::SqliteTable {
                        path: path.clone(),
                        table: fresh.table.clone(),
                    };
                    (StoreConfig::Sqlite(fresh), Some(namespace))
                }
                None => (config.as_ref().clone(), None),
            },
            StoreConfig::Postgres(pg) => {
                let mut fresh = pg.clone();
                fresh.create_table = true;
                fresh.table = match pg.table.rsplit_once('.') {
                    Some((schema, _)) => format!("{schema}.optimist_{name}"),
                    None => format!("optimist_{name}"),
                };
                let namespace = Namespace::PostgresTable {
                    url: pg.url.clone(),
                    table: fresh.table.clone(),
                };
                (StoreConfig::Postgres(fresh), Some(namespace))
            }
            StoreConfig::Redis(redis) => {
                let mut fresh = redis.clone();
                fresh.prefix = format!("{}:{}", redis.prefix, name.replace('_', "-"));
                let namespace = Namespace::RedisPrefix {
                    url: redis.url.clone(),
                    prefix: fresh.prefix.clone(),
                };
                (StoreConfig::Redis(fresh), Some(namespace))
            }
            StoreConfig::DynamoDb(dynamo) => {
                let mut fresh = dynamo.clone();
                fresh.create_table = true;
                fresh.table = format!("{}-{}", dynamo.table, name.replace('_', "-"));
                let namespace = Namespace::DynamoDbTable(Box::new(fresh.clone()));
                (StoreConfig::DynamoDb(fresh), Some(namespace))
            }
            _ => (config.as_ref().clone(), None),
        };
        if let Some(namespace) = namespace {
            if let Ok(mut made) = self.made.lock() {
                made.push(namespace);
            }
        }
        fresh.connect().await
    }

    /// Removes every table and prefix made so far.
    pub(crate) async fn remove_all(&self) -> Removal {
        let made = self.made.lock().map(|m| m.clone()).unwrap_or_default();
        let mut removal = Removal {
            created: made.len(),
            ..Removal::default()
        };
        for namespace in made {
            match remove(&namespace).await {
                Ok(()) => removal.removed += 1,
                Err(why) => removal
                    .failures
                    .push(format!("{} was not removed: {why}", namespace.describe())),
            }
        }
        removal
    }
}

async fn remove(namespace: &Namespace) -> Result<(), String> {
    match namespace {
        Namespace::SqliteTable { path, table } => {
            let options = sqlx::sqlite::SqliteConnectOptions::new().filename(path);
            let mut conn = sqlx::SqliteConnection::connect_with(&options)
                .await
                .map_err(|e| e.to_string())?;
            // The name is ours: optimist_<purpose>_<hex>_<n>.
            sqlx::query(&format!("DROP TABLE IF EXISTS \"{table}\""))
                .execute(&mut conn)
                .await
                .map_err(|e| e.to_string())?;
            conn.close().await.map_err(|e| e.to_string())
        }
        Namespace::PostgresTable { url, table } => {
            let secrets = Secrets::from_url(url);
            let shown = |e: sqlx::Error| secrets.scrub_chain(&e);
            if !table.split('.').all(is_identifier) {
                return Err(format!("{table:?} is not a plain identifier"));
            }
            let mut conn = sqlx::PgConnection::connect(url).await.map_err(shown)?;
            sqlx::query(&format!("DROP TABLE IF EXISTS {table}"))
                .execute(&mut conn)
                .await
                .map_err(shown)?;
            conn.close().await.map_err(shown)
        }
        Namespace::RedisPrefix { url, prefix } => remove_prefix(url, prefix).await,
        Namespace::DynamoDbTable(config) => {
            let client = config.client().map_err(|e| e.to_string())?;
            optimist::dynamodb::delete_table(&client, &config.table)
                .await
                .map_err(|e| crate::exit::one_line(&e))
        }
    }
}

/// Deletes every key of a store's prefix (`{prefix}…`), in `SCAN` steps.
async fn remove_prefix(url: &str, prefix: &str) -> Result<(), String> {
    use optimist::redis::redis;
    let secrets = Secrets::from_url(url);
    let shown = |e: redis::RedisError| secrets.scrub_chain(&e);
    let client = redis::Client::open(url).map_err(shown)?;
    let mut conn = client
        .get_multiplexed_async_connection()
        .await
        .map_err(shown)?;
    let pattern = format!("{{{prefix}}}*");
    let mut cursor: u64 = 0;
    loop {
        let (next, keys): (u64, Vec<Vec<u8>>) = redis::cmd("SCAN")
            .arg(cursor)
            .arg("MATCH")
            .arg(&pattern)
            .arg("COUNT")
            .arg(1000)
            .query_async(&mut conn)
            .await
            .map_err(shown)?;
        if !keys.is_empty() {
            let _: i64 = redis::cmd("DEL")
                .arg(keys)
                .query_async(&mut conn)
                .await
                .map_err(shown)?;
        }
        if next == 0 {
            return Ok(());
        }
        cursor = next;
    }
}

fn is_identifier(part: &str) -> bool {
    part.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
        && part.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

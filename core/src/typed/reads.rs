//! Typed reads beyond one key (contract R16, R17): `load_many`, and `query` as pages
//! of entities or as a stream that fetches the pages as it goes.

use std::collections::VecDeque;

use futures_core::Stream;

use crate::{Cursor, Operation, QueryOptions, SortRange, VersionedStore};

use super::{AsKeyPart, Context, Entity, IntoKey, Result};

/// One page of a typed [`query`](Context::query): the entities, each with its version,
/// and the cursor of the next page (`None` on the last).
///
/// A page may hold fewer entities than the limit, even none, while more follow.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct EntityPage<T> {
    /// The entities, in the query's order.
    pub entities: Vec<T>,
    /// Where the next page starts; `None` when this page is the last.
    pub next: Option<Cursor>,
}

impl<S: VersionedStore> Context<S> {
    /// Loads the entities stored under `keys`, in the order asked, `None` where a key
    /// holds nothing, each with its version, in one
    /// [`get_many`](VersionedStore::get_many) (contract R16): each reflects every write
    /// completed before the call. An empty list, a key asked twice or more keys than
    /// the store's [`max_get_many`](crate::Capabilities::max_get_many) is
    /// `InvalidInput`.
    ///
    /// ```
    /// use optimist_core::typed::{Context, Entity};
    /// # use serde::{Deserialize, Serialize};
    /// # #[derive(Entity, Serialize, Deserialize)]
    /// # struct Book { #[entity(partition_key)] id: u64, title: String, #[entity(version)] version: Option<u64> }
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// let ctx = Context::new(optimist_memory::MemoryStore::new());
    /// ctx.save(&mut Book { id: 1, title: "Dune".into(), version: None }).await?;
    /// ctx.save(&mut Book { id: 3, title: "Emma".into(), version: None }).await?;
    ///
    /// let books = ctx.load_many::<Book, _>([3, 2, 1]).await?;
    /// let titles: Vec<_> = books.iter().map(|b| b.as_ref().map(|b| b.title.as_str())).collect();
    /// assert_eq!(titles, [Some("Emma"), None, Some("Dune")]);
    /// assert_eq!(books[0].as_ref().and_then(|b| b.version), Some(1));
    /// # Ok::<(), optimist_core::typed::Error>(())
    /// # }).unwrap();
    /// ```
    pub async fn load_many<T: Entity, K: IntoKey>(
        &self,
        keys: impl IntoIterator<Item = K>,
    ) -> Result<Vec<Option<T>>> {
        let keys: Vec<_> = keys.into_iter().map(IntoKey::into_key).collect();
        let items = self.store().get_many(&keys).await?;
        keys.iter()
            .zip(items)
            .map(|(key, item)| {
                item.map(|item| T::from_item(key, item, Operation::GetMany))
                    .transpose()
            })
            .collect()
    }

    /// One page of the entities of `partition` whose sort key lies in `range`, in the
    /// byte order of the sort key (contract R17), as
    /// [`VersionedStore::query`]: the options give the page size, the direction and
    /// the cursor of the previous page. The entity type needs a sort key; `partition` is
    /// its partition key's value (`"author-7"`, `42`).
    ///
    /// ```
    /// use optimist_core::typed::{Context, Entity};
    /// use optimist_core::{QueryOptions, SortRange};
    /// # use serde::{Deserialize, Serialize};
    /// #[derive(Entity, Serialize, Deserialize)]
    /// struct Order {
    ///     #[entity(partition_key)]
    ///     customer: String,
    ///     #[entity(sort_key)]
    ///     date: String,
    ///     total: u32,
    ///     #[entity(version)]
    ///     version: Option<u64>,
    /// }
    ///
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// let ctx = Context::new(optimist_memory::MemoryStore::new());
    /// for (date, total) in [("2026-01-05", 10), ("2026-02-11", 25), ("2026-03-30", 7)] {
    ///     let mut order = Order { customer: "c-9".into(), date: date.into(), total, version: None };
    ///     ctx.save(&mut order).await?;
    /// }
    /// let page = ctx
    ///     .query::<Order>("c-9", SortRange::All, QueryOptions::new().descending().limit(2))
    ///     .await?;
    /// let dates: Vec<_> = page.entities.iter().map(|o| o.date.as_str()).collect();
    /// assert_eq!(dates, ["2026-03-30", "2026-02-11"]);
    ///
    /// let rest = ctx
    ///     .query::<Order>("c-9", SortRange::All, QueryOptions::new().descending().limit(2).cursor(page.next))
    ///     .await?;
    /// assert_eq!(rest.entities.len(), 1);
    /// assert!(rest.next.is_none());
    /// # Ok::<(), optimist_core::typed::Error>(())
    /// # }).unwrap();
    /// ```
    pub async fn query<T: Entity>(
        &self,
        partition: impl AsKeyPart,
        range: SortRange,
        options: QueryOptions,
    ) -> Result<EntityPage<T>> {
        let partition = partition.as_key_part();
        let page = self.store().query(&partition, range, options).await?;
        let entities = page
            .items
            .into_iter()
            .map(|(key, item)| T::from_item(&key, item, Operation::Query))
            .collect::<Result<Vec<T>>>()?;
        Ok(EntityPage {
            entities,
            next: page.next,
        })
    }

    /// The entities of [`query`](Self::query) as a stream that fetches the next page
    /// when the entities of the last one are used up, starting at the options' cursor;
    /// the options' limit is the size of each page fetched. An error ends the stream
    /// after it is yielded.
    ///
    /// ```
    /// use futures_util::TryStreamExt;
    /// use optimist_core::typed::{Context, Entity};
    /// use optimist_core::{QueryOptions, SortRange};
    /// # use serde::{Deserialize, Serialize};
    /// # #[derive(Entity, Serialize, Deserialize)]
    /// # struct Order {
    /// #     #[entity(partition_key)] customer: String,
    /// #     #[entity(sort_key)] date: String,
    /// #     #[entity(version)] version: Option<u64>,
    /// # }
    ///
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// let ctx = Context::new(optimist_memory::MemoryStore::new());
    /// for day in 1..=25 {
    ///     let date = format!("2026-01-{day:02}");
    ///     ctx.save(&mut Order { customer: "c-9".into(), date, version: None }).await?;
    /// }
    /// // Pages of 10 fetched as the stream is read: three queries for 25 orders.
    /// let january: Vec<Order> = ctx
    ///     .query_stream::<Order>("c-9", SortRange::prefix("2026-01"), QueryOptions::new().limit(10))
    ///     .try_collect()
    ///     .await?;
    /// assert_eq!(january.len(), 25);
    /// assert_eq!(january[24].date, "2026-01-25");
    /// # Ok::<(), optimist_core::typed::Error>(())
    /// # }).unwrap();
    /// ```
    pub fn query_stream<T: Entity + 'static>(
        &self,
        partition: impl AsKeyPart,
        range: SortRange,
        options: QueryOptions,
    ) -> impl Stream<Item = Result<T>> + Send + '_ {
        let state = Paging {
            context: self,
            partition: partition.as_key_part(),
            range,
            cursor: options.page_cursor().cloned(),
            options,
            buffer: VecDeque::new(),
            more: true,
        };
        futures_util::stream::unfold(state, Paging::next)
    }
}

/// Where a [`query_stream`](Context::query_stream) stands: the entities fetched and not
/// yet yielded, and whether another page follows.
struct Paging<'a, S, T> {
    context: &'a Context<S>,
    partition: String,
    range: SortRange,
    options: QueryOptions,
    cursor: Option<Cursor>,
    buffer: VecDeque<T>,
    more: bool,
}

impl<S: VersionedStore, T: Entity> Paging<'_, S, T> {
    /// The next entity, fetching pages until one holds any (pages may be empty while
    /// more follow); `None` at the end, or after an error was yielded.
    async fn next(mut self) -> Option<(Result<T>, Self)> {
        loop {
            if let Some(entity) = self.buffer.pop_front() {
                return Some((Ok(entity), self));
            }
            if !self.more {
                return None;
            }
            let options = self.options.clone().cursor(self.cursor.take());
            let page = self
                .context
                .query::<T>(&self.partition, self.range.clone(), options)
                .await;
            match page {
                Ok(page) => {
                    self.buffer.extend(page.entities);
                    self.more = page.next.is_some();
                    self.cursor = page.next;
                }
                Err(err) => {
                    self.more = false;
                    return Some((Err(err), self));
                }
            }
        }
    }
}

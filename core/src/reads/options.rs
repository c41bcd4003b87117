//! How a query or a scan pages.

use super::Cursor;

/// The page size when none is given.
pub const DEFAULT_PAGE_SIZE: usize = 100;

/// The order a query returns a partition's items in.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Direction {
    /// Lowest sort part first.
    #[default]
    Ascending,
    /// Highest sort part first.
    Descending,
}

/// The options of a [`query`](crate::VersionedStore::query): page size, order, and
/// the cursor of the previous page.
///
/// ```
/// use optimist_core::{Direction, QueryOptions};
///
/// let options = QueryOptions::new().limit(25).descending();
/// assert_eq!(options.page_limit(), 25);
/// assert_eq!(options.direction(), Direction::Descending);
/// assert!(options.page_cursor().is_none());
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct QueryOptions {
    limit: usize,
    direction: Direction,
    cursor: Option<Cursor>,
}

impl QueryOptions {
    /// Ascending, pages of [`DEFAULT_PAGE_SIZE`], from the start.
    ///
    /// ```
    /// assert_eq!(optimist_core::QueryOptions::new().page_limit(), 100);
    /// ```
    pub fn new() -> Self {
        Self {
            limit: DEFAULT_PAGE_SIZE,
            direction: Direction::Ascending,
            cursor: None,
        }
    }

    /// At most `limit` items per page: from 1 to the store's
    /// [`max_page_size`](crate::Capabilities::max_page_size), else `InvalidInput`.
    ///
    /// ```
    /// assert_eq!(optimist_core::QueryOptions::new().limit(7).page_limit(), 7);
    /// ```
    pub fn limit(mut self, limit: usize) -> Self {
        self.limit = limit;
        self
    }

    /// Highest sort part first.
    ///
    /// ```
    /// use optimist_core::{Direction, QueryOptions};
    /// assert_eq!(QueryOptions::new().descending().direction(), Direction::Descending);
    /// ```
    pub fn descending(mut self) -> Self {
        self.direction = Direction::Descending;
        self
    }

    /// Sets the order.
    ///
    /// ```
    /// use optimist_core::{Direction, QueryOptions};
    /// let options = QueryOptions::new().direction_of(Direction::Descending);
    /// assert_eq!(options.direction(), Direction::Descending);
    /// ```
    pub fn direction_of(mut self, direction: Direction) -> Self {
        self.direction = direction;
        self
    }

    /// Continues where the page that returned `cursor` ended (`None`: from the start),
    /// so `options.cursor(page.next)` asks for the next page. The query must be the
    /// same as the one that returned it (partition, range, order), on the same store.
    ///
    /// ```
    /// assert!(optimist_core::QueryOptions::new().cursor(None).page_cursor().is_none());
    /// ```
    pub fn cursor(mut self, cursor: Option<Cursor>) -> Self {
        self.cursor = cursor;
        self
    }

    /// The page size asked for.
    pub fn page_limit(&self) -> usize {
        self.limit
    }

    /// The order asked for.
    pub fn direction(&self) -> Direction {
        self.direction
    }

    /// The cursor to continue from, if any.
    pub fn page_cursor(&self) -> Option<&Cursor> {
        self.cursor.as_ref()
    }
}

impl Default for QueryOptions {
    fn default() -> Self {
        Self::new()
    }
}

/// The options of a [`scan`](crate::VersionedStore::scan): page size and the cursor of
/// the previous page.
///
/// ```
/// let options = optimist_core::ScanOptions::new().limit(500);
/// assert_eq!(options.page_limit(), 500);
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScanOptions {
    limit: usize,
    cursor: Option<Cursor>,
}

impl ScanOptions {
    /// Pages of [`DEFAULT_PAGE_SIZE`], from the start.
    ///
    /// ```
    /// assert!(optimist_core::ScanOptions::new().page_cursor().is_none());
    /// ```
    pub fn new() -> Self {
        Self {
            limit: DEFAULT_PAGE_SIZE,
            cursor: None,
        }
    }

    /// At most `limit` items per page: from 1 to the store's
    /// [`max_page_size`](crate::Capabilities::max_page_size), else `InvalidInput`.
    ///
    /// ```
    /// assert_eq!(optimist_core::ScanOptions::new().limit(3).page_limit(), 3);
    /// ```
    pub fn limit(mut self, limit: usize) -> Self {
        self.limit = limit;
        self
    }

    /// Continues where the page that returned `cursor` ended (`None`: from the start).
    ///
    /// ```
    /// assert!(optimist_core::ScanOptions::new().cursor(None).page_cursor().is_none());
    /// ```
    pub fn cursor(mut self, cursor: Option<Cursor>) -> Self {
        self.cursor = cursor;
        self
    }

    /// The page size asked for.
    pub fn page_limit(&self) -> usize {
        self.limit
    }

    /// The cursor to continue from, if any.
    pub fn page_cursor(&self) -> Option<&Cursor> {
        self.cursor.as_ref()
    }
}

impl Default for ScanOptions {
    fn default() -> Self {
        Self::new()
    }
}

//! Where a store's keys live: on one server every key of the store shares the hash tag
//! `{prefix}`; on a Redis Cluster each partition goes to one of [`BUCKETS`] buckets,
//! each with a hash tag of its own (`{prefix/b0042}`), so the store spreads over every
//! shard while a partition's items, its index and its bucket's partitions set share
//! one hash slot, and every script touches one slot.

use optimist_core::Key;

use crate::Prefix;

/// How many buckets a store's partitions spread over on a Redis Cluster. Part of the
/// stored layout: changing it moves every partition, so it never changes.
pub(crate) const BUCKETS: u16 = 1024;

/// Which layout a store's keys follow.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Layout {
    /// One server: every key under the tag `{prefix}` (one hash slot).
    Single,
    /// A Redis Cluster: each partition under its bucket's tag `{prefix/bNNNN}`.
    Cluster,
}

/// The spelling of a store's keys: its prefix and its layout.
#[derive(Clone, Debug)]
pub(crate) struct Keys {
    prefix: Prefix,
    layout: Layout,
}

impl Keys {
    pub(crate) fn new(prefix: Prefix, layout: Layout) -> Self {
        Self { prefix, layout }
    }

    pub(crate) fn prefix(&self) -> &Prefix {
        &self.prefix
    }

    pub(crate) fn layout(&self) -> Layout {
        self.layout
    }

    /// The bucket of a partition (always 0 on one server).
    pub(crate) fn bucket(&self, partition: &str) -> u16 {
        match self.layout {
            Layout::Single => 0,
            Layout::Cluster => bucket_of(partition),
        }
    }

    /// The hash tag of a bucket: `{prefix}` on one server, `{prefix/bNNNN}` on a
    /// cluster. A prefix holds no `/`, `{` or `}`, so no two stores share a tag.
    pub(crate) fn bucket_tag(&self, bucket: u16) -> Vec<u8> {
        match self.layout {
            Layout::Single => self.prefix.tag(),
            Layout::Cluster => format!("{{{}/b{bucket:04}}}", self.prefix).into_bytes(),
        }
    }

    /// The Redis key of an item: its partition's tag, then the key's parts, each as
    /// its byte length, `:` and its bytes (see [`Prefix::redis_key`]).
    pub(crate) fn item(&self, key: &Key) -> Vec<u8> {
        let (partition, sort) = key.parts();
        Prefix::spell_parts(self.key_tag(partition, sort), partition, sort)
    }

    /// The tag of `partition`'s bucket, in a buffer with room for the rest of the key.
    fn key_tag(&self, partition: &str, sort: Option<&str>) -> Vec<u8> {
        match self.layout {
            Layout::Single => self
                .prefix
                .tag_with_room(Prefix::spelled_len(partition, sort)),
            Layout::Cluster => self.bucket_tag(bucket_of(partition)),
        }
    }

    /// The Redis key of a partition's index (see [`Prefix::index_key`]).
    pub(crate) fn index(&self, partition: &str) -> Vec<u8> {
        let mut out = Prefix::spell_parts(self.key_tag(partition, None), partition, None);
        out.extend_from_slice(crate::prefix::INDEX_SUFFIX);
        out
    }

    /// The partitions set that holds `partition`: the store's (one server) or its
    /// bucket's (cluster), in the partition's hash slot.
    pub(crate) fn partitions(&self, partition: &str) -> Vec<u8> {
        self.bucket_partitions(self.bucket(partition))
    }

    /// The partitions set of a bucket.
    pub(crate) fn bucket_partitions(&self, bucket: u16) -> Vec<u8> {
        let mut out = self.bucket_tag(bucket);
        out.extend_from_slice(b"#partitions");
        out
    }

    /// How many buckets a scan walks.
    pub(crate) fn buckets(&self) -> u16 {
        match self.layout {
            Layout::Single => 1,
            Layout::Cluster => BUCKETS,
        }
    }

    /// The `SCAN MATCH` pattern of every key of the store.
    pub(crate) fn pattern(&self) -> Vec<u8> {
        match self.layout {
            Layout::Single => format!("{{{}}}*", self.prefix).into_bytes(),
            Layout::Cluster => format!("{{{}/b*", self.prefix).into_bytes(),
        }
    }
}

/// A partition's bucket on a cluster: FNV-1a (32 bits) of its bytes, modulo
/// [`BUCKETS`]. Part of the stored layout, so it never changes.
pub(crate) fn bucket_of(partition: &str) -> u16 {
    let mut hash: u32 = 0x811c_9dc5;
    for byte in partition.bytes() {
        hash ^= u32::from(byte);
        hash = hash.wrapping_mul(0x0100_0193);
    }
    u16::try_from(hash % u32::from(BUCKETS)).unwrap_or(0)
}

/// The Redis Cluster hash slot of a key (CRC16/XMODEM of its hash tag, or of the
/// whole key without one, modulo 16384), as the cluster computes it.
pub(crate) fn slot(key: &[u8]) -> u16 {
    let tagged = key
        .iter()
        .position(|&b| b == b'{')
        .and_then(|open| {
            let rest = key.get(open + 1..)?;
            let close = rest.iter().position(|&b| b == b'}')?;
            (close > 0).then(|| rest.get(..close)).flatten()
        })
        .unwrap_or(key);
    crc16(tagged) % 16384
}

/// CRC16/XMODEM (polynomial 0x1021, initial 0), the checksum of Redis Cluster slots.
fn crc16(bytes: &[u8]) -> u16 {
    let mut crc: u16 = 0;
    for &byte in bytes {
        crc ^= u16::from(byte) << 8;
        for _ in 0..8 {
            crc = if crc & 0x8000 != 0 {
                (crc << 1) ^ 0x1021
            } else {
                crc << 1
            };
        }
    }
    crc
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(layout: Layout) -> Keys {
        Keys::new(
            Prefix::new("p").unwrap_or_else(|e| unreachable!("{e}")),
            layout,
        )
    }

    #[test]
    fn the_single_layout_is_the_prefix_tag() {
        let k = keys(Layout::Single);
        assert_eq!(k.item(&Key::with_sort("a", "b")), b"{p}1:a1:b");
        assert_eq!(k.index("a"), b"{p}1:a#index");
        assert_eq!(k.partitions("a"), b"{p}#partitions");
        assert_eq!(k.pattern(), b"{p}*");
    }

    #[test]
    fn the_cluster_layout_puts_a_partition_in_its_bucket_slot() {
        let k = keys(Layout::Cluster);
        let bucket = bucket_of("a");
        let tag = format!("{{p/b{bucket:04}}}");
        assert_eq!(
            k.item(&Key::with_sort("a", "b")),
            format!("{tag}1:a1:b").as_bytes()
        );
        assert_eq!(k.index("a"), format!("{tag}1:a#index").as_bytes());
        assert_eq!(k.partitions("a"), format!("{tag}#partitions").as_bytes());
        let slots: std::collections::HashSet<u16> = [
            k.item(&Key::new("a")),
            k.item(&Key::with_sort("a", "}{")),
            k.index("a"),
            k.partitions("a"),
        ]
        .iter()
        .map(|key| slot(key))
        .collect();
        assert_eq!(slots.len(), 1);
        assert_eq!(k.pattern(), b"{p/b*");
    }

    #[test]
    fn buckets_spread_partitions() {
        let used: std::collections::HashSet<u16> = (0..10_000)
            .map(|i| bucket_of(&format!("customer-{i}")))
            .collect();
        assert!(used.len() > 1000 * 9 / 10, "{}", used.len());
        assert!(used.iter().all(|&b| b < BUCKETS));
    }

    #[test]
    fn slots_follow_the_cluster_specification() {
        // The specification's reference value, and hash tags.
        assert_eq!(crc16(b"123456789"), 0x31c3);
        assert_eq!(slot(b"{user1000}.following"), slot(b"user1000"));
        assert_eq!(slot(b"foo{}{bar}"), crc16(b"foo{}{bar}") % 16384);
        assert_eq!(slot(b"foo{{bar}}zap"), crc16(b"{bar") % 16384);
    }
}

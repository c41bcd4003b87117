//! The commit function: a PL/pgSQL function, created by `build` next to the table, that
//! runs a whole transaction in one statement, so `commit` is one round trip.
//!
//! It does what the stepwise transaction does (see `transaction.rs`), on the server:
//! 1. lock every key the writes name, in one stable order, with the same statement
//!    (`INSERT … ON CONFLICT DO UPDATE` in key order; an absent key gets an uncommitted
//!    placeholder row, so a concurrent insert of it waits);
//! 2. judge every write against the record it locked, as core's `Write::decide` does:
//!    the precondition (`absent`, `at` a version, `tomb` a tombstone's version, `any`),
//!    then the change (`put`: version 1 on nothing, else the record's version + 1;
//!    `delete`: the item removed, or a tombstone at its version in tombstone mode;
//!    `keep` and a delete of nothing change nothing);
//! 3. if any write is refused, remove the placeholders and answer each refused write
//!    with its record; if a version would pass BIGINT's end, the same with
//!    `exhausted`; otherwise write every new value and version with the transaction's
//!    token, delete what ends absent, and answer each write with what its key held.
//!
//! The statement runs in its own transaction (autocommit), which commits when the
//! function returns: all or nothing, every key locked from step 1 to the commit. A
//! refused transaction commits too, having changed nothing anyone can see: the
//! placeholders it inserted are deleted before it ends, and a locked row was updated
//! to its own version. Every statement in the function takes a new snapshot (READ
//! COMMITTED, a VOLATILE function), so the writes see the rows as locked.
//!
//! The function's name carries [`VERSION`]: a store of a later release that changes
//! the body creates a function of another name, so stores of both releases can share a
//! table.

use std::fmt::Write as _;

use optimist_core::Applied;
use sqlx::Row;

use crate::connection::Connection;
use crate::error;

/// The body's version, in the function's name.
const VERSION: u32 = 1;

/// PostgreSQL's longest identifier (NAMEDATALEN - 1).
const MAX_IDENTIFIER_BYTES: usize = 63;

/// The commit function of one table.
#[derive(Debug)]
pub(crate) struct CommitFunction {
    /// `"schema"."name"`.
    qualified: String,
    schema: String,
    name: String,
    /// `CREATE OR REPLACE FUNCTION …`.
    create: String,
    /// The body, as `pg_proc.prosrc` holds it.
    body: String,
    /// The statement a transaction sends.
    pub(crate) call: String,
}

/// Whether the function exists as this store needs it.
const FIND: &str = "SELECT p.prosrc FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace \
     WHERE n.nspname = $1 AND p.proname = $2";

impl CommitFunction {
    /// The function of the table `relation` (`"schema"."table"`, as the catalog resolved
    /// it) in `schema`.
    pub(crate) fn new(schema: &str, table: &str) -> Self {
        let name = function_name(table);
        let qualified = format!("{}.{}", quote(schema), quote(&name));
        let t = format!("{}.{}", quote(schema), quote(table));
        let body = body(&t);
        let create = format!(
            "CREATE OR REPLACE FUNCTION {qualified}(\
             in_p text[], in_s text[], in_expects text[], in_versions bigint[], \
             in_changes text[], in_values text[], in_token text, in_tombstones boolean) \
             RETURNS TABLE(o_i integer, o_outcome text, o_held text, o_value text, \
             o_version bigint, o_token text) \
             LANGUAGE plpgsql VOLATILE AS $optimist${body}$optimist$"
        );
        let call = format!(
            "SELECT o_i, o_outcome, o_held, o_value, o_version, o_token FROM {qualified}(\
             $1::text[], $2::text[], $3::text[], $4::bigint[], $5::text[], $6::text[], \
             $7::text, $8::boolean)"
        );
        Self {
            qualified,
            schema: schema.to_string(),
            name,
            create,
            body,
            call,
        }
    }

    /// Whether the function exists with this body.
    async fn present(&self, conn: &mut Connection) -> Result<bool, optimist_core::StorageError> {
        let query = sqlx::query(FIND).bind(&self.schema).bind(&self.name);
        let row = conn.fetch_optional(query, Applied::No).await?;
        let body: Option<String> = match row {
            Some(row) => row.try_get(0).map_err(|e| error::sent(e, Applied::No))?,
            None => None,
        };
        Ok(body.as_deref() == Some(self.body.as_str()))
    }

    /// Makes sure the function exists (creating it if `may_create`); `Ok(false)` when it
    /// does not and cannot be had, with the reason logged: transactions then take the
    /// stepwise way.
    pub(crate) async fn install(
        &self,
        conn: &mut Connection,
        may_create: bool,
    ) -> Result<bool, optimist_core::StorageError> {
        if self.present(conn).await? {
            return Ok(true);
        }
        if !may_create {
            tracing::warn!(
                function = %self.qualified,
                "the commit function is missing and create_table is off: each transaction \
                 takes four round trips instead of one; the README tells how to create it"
            );
            return Ok(false);
        }
        let created = conn
            .fetch_optional(sqlx::query(&self.create), Applied::Maybe)
            .await;
        match created {
            Ok(_) => Ok(true),
            Err(err) => {
                // Two stores creating it at once (a unique violation, or "tuple
                // concurrently updated"): one of them made it; look again.
                if self.present(conn).await? {
                    return Ok(true);
                }
                tracing::warn!(
                    function = %self.qualified,
                    %err,
                    "cannot create the commit function: each transaction takes four round \
                     trips instead of one"
                );
                Ok(false)
            }
        }
    }
}

/// `"{table}_optimist_commit_v{VERSION}"`, or for a long table name its start and a
/// hash of the whole, so that it stays within PostgreSQL's limit and distinct.
fn function_name(table: &str) -> String {
    let suffix = format!("_optimist_commit_v{VERSION}");
    if table.len() + suffix.len() <= MAX_IDENTIFIER_BYTES {
        return format!("{table}{suffix}");
    }
    let hash = format!("_{:016x}", fnv1a(table.as_bytes()));
    let mut keep = MAX_IDENTIFIER_BYTES - suffix.len() - hash.len();
    while !table.is_char_boundary(keep) {
        keep -= 1;
    }
    format!("{}{hash}{suffix}", &table[..keep])
}

/// FNV-1a, 64 bits: stable across Rust releases, unlike std's hasher.
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, byte| {
        (hash ^ u64::from(*byte)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

/// An identifier double-quoted, its quotes doubled.
fn quote(identifier: &str) -> String {
    format!("\"{}\"", identifier.replace('"', "\"\""))
}

/// The function's body for the table `t` (quoted).
fn body(t: &str) -> String {
    let mut body = String::new();
    // Written with `write!` line by line so the SQL reads as SQL.
    let lines = [
        "\n#variable_conflict use_column",
        "DECLARE",
        "  n integer := coalesce(array_length(in_p, 1), 0);",
        "  held_kind text[]; held_version bigint[]; held_value text[]; held_token text[];",
        "  refused integer[] := '{}'; exhausted integer[] := '{}';",
        "  w_p text[] := '{}'; w_s text[] := '{}'; w_v text[] := '{}'; w_ver bigint[] := '{}';",
        "  d_p text[] := '{}'; d_s text[] := '{}';",
        "  fresh_p text[] := '{}'; fresh_s text[] := '{}';",
        "  admitted boolean; done integer;",
        "BEGIN",
        "  IF n = 0 THEN RETURN; END IF;",
        // Step 1: lock every key, in one order.
        "  WITH l AS (",
        &format!("    INSERT INTO {t} AS t (partition, sort, value, version)"),
        "    SELECT k.p, k.s, 'null'::json, 0 FROM unnest(in_p, in_s) AS k(p, s)",
        "    ORDER BY k.p COLLATE \"C\", k.s COLLATE \"C\"",
        "    ON CONFLICT (partition, sort) DO UPDATE SET version = t.version",
        "    RETURNING t.partition, t.sort, t.xmax = 0 AS fresh, t.value::text AS value,",
        "      t.version, t.token)",
        "  SELECT array_agg(CASE WHEN l.fresh THEN 'n' WHEN l.value IS NULL THEN 't' ELSE 'i' END",
        "      ORDER BY k.i),",
        "    array_agg(l.version ORDER BY k.i), array_agg(l.value ORDER BY k.i),",
        "    array_agg(l.token ORDER BY k.i)",
        "  INTO held_kind, held_version, held_value, held_token",
        "  FROM unnest(in_p, in_s) WITH ORDINALITY AS k(p, s, i)",
        "  JOIN l ON l.partition = k.p AND l.sort = k.s;",
        "  IF coalesce(array_length(held_kind, 1), 0) <> n THEN",
        "    RAISE EXCEPTION 'optimist: locking the transaction''s keys returned other rows';",
        "  END IF;",
        // Step 2: judge each write.
        "  FOR k IN 1..n LOOP",
        "    IF held_kind[k] = 'n' THEN",
        "      fresh_p := fresh_p || in_p[k]; fresh_s := fresh_s || in_s[k];",
        "    END IF;",
        "    admitted := CASE in_expects[k]",
        "      WHEN 'absent' THEN held_kind[k] = 'n'",
        "      WHEN 'any' THEN true",
        "      WHEN 'at' THEN held_kind[k] = 'i' AND held_version[k] = in_versions[k]",
        "      WHEN 'tomb' THEN held_kind[k] = 't' AND held_version[k] = in_versions[k]",
        "    END;",
        "    IF admitted IS NULL THEN",
        "      RAISE EXCEPTION 'optimist: unknown precondition %', in_expects[k];",
        "    END IF;",
        "    IF NOT admitted THEN refused := refused || k; CONTINUE; END IF;",
        "    CASE in_changes[k]",
        "      WHEN 'put' THEN",
        "        IF held_kind[k] = 'n' THEN",
        "          w_p := w_p || in_p[k]; w_s := w_s || in_s[k];",
        "          w_v := w_v || in_values[k]; w_ver := w_ver || 1::bigint;",
        "        ELSIF held_version[k] = 9223372036854775807 THEN",
        "          exhausted := exhausted || k;",
        "        ELSE",
        "          w_p := w_p || in_p[k]; w_s := w_s || in_s[k];",
        "          w_v := w_v || in_values[k]; w_ver := w_ver || (held_version[k] + 1);",
        "        END IF;",
        "      WHEN 'delete' THEN",
        "        IF held_kind[k] = 'i' AND in_tombstones THEN",
        "          w_p := w_p || in_p[k]; w_s := w_s || in_s[k];",
        "          w_v := w_v || NULL::text; w_ver := w_ver || held_version[k];",
        "        ELSIF held_kind[k] = 'i' OR held_kind[k] = 'n' THEN",
        "          d_p := d_p || in_p[k]; d_s := d_s || in_s[k];",
        "        END IF;",
        "      WHEN 'keep' THEN",
        "        IF held_kind[k] = 'n' THEN d_p := d_p || in_p[k]; d_s := d_s || in_s[k]; END IF;",
        "      ELSE",
        "        RAISE EXCEPTION 'optimist: unknown change %', in_changes[k];",
        "    END CASE;",
        "  END LOOP;",
        // Step 3: refused, or exhausted: the placeholders go, nothing else changed.
        "  IF array_length(refused, 1) > 0 OR array_length(exhausted, 1) > 0 THEN",
        &format!("    DELETE FROM {t} AS t USING unnest(fresh_p, fresh_s) AS v(p, s)"),
        "      WHERE t.partition = v.p AND t.sort = v.s;",
        "    IF array_length(refused, 1) > 0 THEN",
        "      RETURN QUERY SELECT r.k, 'refused'::text, held_kind[r.k],",
        "        CASE WHEN held_kind[r.k] = 'n' THEN NULL ELSE held_value[r.k] END,",
        "        held_version[r.k],",
        "        CASE WHEN held_kind[r.k] = 'n' THEN NULL ELSE held_token[r.k] END",
        "        FROM unnest(refused) AS r(k);",
        "    ELSE",
        "      RETURN QUERY SELECT r.k, 'exhausted'::text, held_kind[r.k], NULL::text,",
        "        held_version[r.k], NULL::text FROM unnest(exhausted) AS r(k);",
        "    END IF;",
        "    RETURN;",
        "  END IF;",
        // Step 3: every write passed.
        &format!("  UPDATE {t} AS t SET value = v.value::json, version = v.version,"),
        "    token = in_token, deleted_at = CASE WHEN v.value IS NULL THEN now() END",
        "    FROM unnest(w_p, w_s, w_v, w_ver) AS v(p, s, value, version)",
        "    WHERE t.partition = v.p AND t.sort = v.s;",
        "  GET DIAGNOSTICS done = ROW_COUNT;",
        "  IF done <> coalesce(array_length(w_p, 1), 0) THEN",
        "    RAISE EXCEPTION 'optimist: the transaction''s locked rows changed (writes)';",
        "  END IF;",
        &format!("  DELETE FROM {t} AS t USING unnest(d_p, d_s) AS v(p, s)"),
        "    WHERE t.partition = v.p AND t.sort = v.s;",
        "  GET DIAGNOSTICS done = ROW_COUNT;",
        "  IF done <> coalesce(array_length(d_p, 1), 0) THEN",
        "    RAISE EXCEPTION 'optimist: the transaction''s locked rows changed (deletes)';",
        "  END IF;",
        "  RETURN QUERY SELECT k::integer, 'applied'::text, held_kind[k], NULL::text,",
        "    CASE WHEN held_kind[k] = 'n' THEN NULL ELSE held_version[k] END, NULL::text",
        "    FROM generate_series(1, n) AS k;",
        "END;",
        "",
    ];
    for line in lines {
        let _ = writeln!(body, "{line}");
    }
    body
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_fit_and_stay_apart() {
        assert_eq!(function_name("items"), "items_optimist_commit_v1");
        let long_a = "a".repeat(63);
        let long_b = format!("{}b", "a".repeat(62));
        let (a, b) = (function_name(&long_a), function_name(&long_b));
        assert!(a.len() <= MAX_IDENTIFIER_BYTES && b.len() <= MAX_IDENTIFIER_BYTES);
        assert_ne!(a, b);
        assert!(a.ends_with("_optimist_commit_v1"));
    }

    #[test]
    fn quotes_are_doubled() {
        assert_eq!(quote("we\"ird"), "\"we\"\"ird\"");
    }
}

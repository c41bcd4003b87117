//! The contract's rules in one line each, in the words of `docs/CONTRACT.md`, so a
//! failing case can say which rule it checks without the reader opening the contract.
//! `tests/contract.rs` checks the titles against the contract's headings.

/// One rule of the contract.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rule {
    /// How the contract names it: `R6`, or a span of rules for the model cases.
    pub number: &'static str,
    /// The heading's title in `docs/CONTRACT.md` (`update`).
    pub title: &'static str,
    /// What it requires, in one line.
    pub summary: &'static str,
}

/// Every rule, R1 to R25, in order.
pub const RULES: [Rule; 25] = [
    rule(
        "R1",
        "Keys",
        "a key is a partition part and an optional sort part, each a non-empty UTF-8 string of at most 1024 bytes that comes back exactly as written; two keys are the same item only when both parts are byte for byte equal; a bad key is InvalidInput for every operation, and nothing is written",
    ),
    rule(
        "R2",
        "Values",
        "what is read back equals what was written (field order aside; numbers by their exact value, -0.0 may read as 0.0, and on decimal stores 1.0 as 1); a value outside the declared limits is InvalidInput with nothing sent",
    ),
    rule(
        "R3",
        "Versions",
        "insert, and a put on an absent key, create version 1; every successful write to an existing item, checked or not, sets the version to the previous one plus one",
    ),
    rule(
        "R4",
        "get",
        "get returns the item with its version, or None when there is none, and reflects every write that completed before the read began, including writes made through an earlier store on the same storage",
    ),
    rule(
        "R5",
        "insert",
        "insert writes only when the key holds no item, and returns version 1; when an item is there, the answer is Conflict::AlreadyExists with that item, and nothing changes",
    ),
    rule(
        "R6",
        "update",
        "update writes only when the item exists at version `expected`, and returns expected + 1; no item: Conflict::NotFound; any other version, including one never issued: Conflict::VersionMismatch with the expected version and the current item; a refused update changes nothing",
    ),
    rule(
        "R7",
        "delete",
        "delete removes the item only when it exists at version `expected`; it is refused exactly as an update would be (R6), and a refused delete removes nothing",
    ),
    rule(
        "R8",
        "put",
        "put writes without a version check: on an absent key it creates version 1, on an existing item it overwrites and returns the previous version plus one; it never answers with a conflict",
    ),
    rule(
        "R9",
        "remove",
        "remove deletes without a version check and returns the version of the item it removed, or None when there was nothing to remove; it never answers with a conflict",
    ),
    rule(
        "R10",
        "transact",
        "transact applies ops on different keys all together or not at all and returns one result per op, in order; when any op's condition fails, no op is applied and the error is TransactionConflict with one entry per failing op; bad input is InvalidInput, and nothing is written",
    ),
    rule(
        "R11",
        "The current item comes with every conflict",
        "every Conflict holds the item as it stood when the condition failed, value and version; only NotFound holds none",
    ),
    rule(
        "R12",
        "A failed operation changes nothing",
        "every error except Indeterminate means nothing was written; an operation whose future is dropped takes effect whole or not at all, and the store answers every later call correctly",
    ),
    rule(
        "R13",
        "Linearizable",
        "any history of concurrent operations on one store, from any number of clients, is linearizable with respect to the sequential rules, transactions across keys included",
    ),
    rule(
        "R14",
        "A retry never conflicts with its own first attempt",
        "a resent request whose first attempt took effect answers success or Indeterminate, never a conflict caused by its own earlier attempt",
    ),
    rule(
        "R15",
        "Delete, then insert again",
        "by default an insert after a delete starts again at version 1; in tombstone mode a delete leaves a tombstone that reads never show, that writes expecting a version meet as NotFound, after which the version keeps counting, and purge removes only tombstones older than asked",
    ),
    rule(
        "R16",
        "get_many",
        "get_many returns, for each key in the order asked, its item with its version or None, each reflecting every write completed before the call began; an empty list, a key asked twice, a bad key or too many keys is InvalidInput",
    ),
    rule(
        "R17",
        "query",
        "query returns the items of one partition whose sort part lies in the range, ordered by the UTF-8 bytes of the sort part, each with its version, in pages that join without gaps or duplicates; bad input and a cursor of another query or store are InvalidInput",
    ),
    rule(
        "R18",
        "scan",
        "scan returns the whole store in pages, with query's page sizes, cursors, bad-input checks and guarantees across pages; every item comes, exactly once",
    ),
    rule(
        "R19",
        "Leases with fencing tokens",
        "a lease is an ordinary item; its fencing token is the record's version at acquisition, greater for every new holder; a held lease is taken over only after its full duration unchanged; every guarded write checks the record in one transaction, and a holder that lost the lease is refused with nothing written",
    ),
    rule(
        "R20",
        "Entities",
        "an entity is a plain serde struct with a key field and an Option<u64> version field, None meaning never saved; the stored document holds neither the key nor the version",
    ),
    rule(
        "R21",
        "save",
        "save inserts when the version is None and updates expecting v when it is Some(v); on success the new version is written into the entity, on any error the entity is exactly as it was",
    ),
    rule(
        "R22",
        "load, delete, delete_key",
        "load returns the entity with its version filled in, or None; delete checks the entity's version; delete_key deletes without a check and reports what it removed",
    ),
    rule(
        "R23",
        "Skipping the version check",
        "the check can be switched off for a whole context or for one operation (in a transaction too): save then puts and delete removes; the version still advances",
    ),
    rule(
        "R24",
        "update_with: retry on conflict",
        "update_with loads, applies the closure and saves; on a conflict it applies the closure again to the item the conflict carried, without another read, for a bounded number of attempts, then fails with RetryExhausted; an abort writes nothing; a missing item is NotFound",
    ),
    rule(
        "R25",
        "Write combining",
        "concurrent update_with calls through a combining context are merged into one compare-and-swap; each change is applied exactly once, in the order the calls arrived, and a change that gives up is left out while the others land",
    ),
];

const fn rule(number: &'static str, title: &'static str, summary: &'static str) -> Rule {
    Rule {
        number,
        title,
        summary,
    }
}

/// What the model-based cases check: every sequential rule at once.
const MODEL: Rule = rule(
    "R3-R12, R16-R18",
    "model-based property",
    "every operation, in any sequence, answers and leaves the store exactly as a sequential model of the contract's rules does",
);

/// The rule a case checks, from its name: `rN_...` checks rule N; the `input_` cases
/// check the rule of what they give (a key R1, a value R2, a transaction R10); the
/// `model_` cases check the sequential rules together.
///
/// ```
/// use optimist_conformance::verdict::rule_of;
/// assert_eq!(rule_of("r6_update_stale_version_conflicts").map(|r| r.number), Some("R6"));
/// assert_eq!(rule_of("input_oversized_value_is_rejected").map(|r| r.number), Some("R2"));
/// assert_eq!(rule_of("boom"), None);
/// ```
pub fn rule_of(case: &str) -> Option<Rule> {
    let numbered = |n: usize| RULES.get(n.checked_sub(1)?).copied();
    if let Some(rest) = case.strip_prefix('r') {
        let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
        if rest[digits.len()..].starts_with('_') {
            return numbered(digits.parse().ok()?);
        }
    }
    if case.starts_with("model_") {
        return Some(MODEL);
    }
    if case.starts_with("input_") {
        return numbered(if case.contains("transaction") {
            10
        } else if case.contains("value") {
            2
        } else {
            1
        });
    }
    None
}

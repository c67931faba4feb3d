//! Moving stored settings to `v2` under the current key: from legacy ciphertext, or from a previous
//! key (rotation).
//!
//! Each table is walked in key order, in batches. A batch's updates run in one transaction, each a
//! compare-and-swap on the value read, so a concurrent admin write is never overwritten (the row is
//! re-read and retried, or left to the writer). Rows already `v2` under the current key are skipped,
//! which makes the job idempotent and resumable: stop it anywhere, run it again, and it finishes.
//! Values never leave this module in a report, a message or `Debug` output; keys (setting names) do.

#[cfg(feature = "postgres")]
pub mod postgres;
#[cfg(feature = "sqlite")]
pub mod sqlite;
pub mod store;

use std::ops::ControlFlow;

use crate::error::VaultError;
use crate::vault::{Rewrap, SettingsVault};
use store::{CasUpdate, SettingsStore, StoredValue, TableName};

/// The tables the reference migrates.
pub const DEFAULT_TABLES: &[&str] = &["ciam_settings", "iam_settings"];
/// Rows per batch (and per transaction) unless configured.
pub const DEFAULT_BATCH_SIZE: usize = 100;
/// How often a row that keeps changing under us is re-read before it is left to the writer.
const CAS_RETRIES: usize = 3;
/// Cap on the row keys a report lists per category (counts are always complete).
const MAX_LISTED_KEYS: usize = 100;
/// The failure code of a row whose value is not readable text (see [`StoredValue::Unreadable`]).
pub const UNREADABLE_VALUE: &str = "unreadable_value";
/// The failure code of a row whose key is not readable text (see
/// [`SettingsStore::unreadable_keys`]).
pub const UNREADABLE_KEY: &str = "unreadable_key";
/// The failure code of a row the database would not let the migration write although nobody
/// changed it: every compare-and-swap matched no row while the value stayed as read (row-level
/// security that hides the row from updates, a trigger that cancels them).
pub const WRITE_REFUSED: &str = "write_refused";

/// Progress after each batch, for a progress bar.
#[derive(Clone, Debug)]
pub struct Progress<'a> {
    /// The table being migrated.
    pub table: &'a TableName,
    /// Encrypted rows in this table when it started.
    pub total: u64,
    /// The table's counts so far.
    pub report: &'a TableReport,
}

/// Counts for one table. `skipped()` = current + empty + plain + concurrent.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TableReport {
    /// The table.
    pub table: String,
    /// Rows looked at.
    pub processed: u64,
    /// Rows rewritten to `v2` under the current key (in a dry run: that would be).
    pub migrated: u64,
    /// Rows already `v2` under the current key.
    pub already_current: u64,
    /// Rows holding `""`.
    pub empty: u64,
    /// Rows holding plain text although marked encrypted (left as they are).
    pub plain: u64,
    /// Rows changed by someone else during the migration (their write was kept).
    pub concurrent: u64,
    /// Rows that no configured key decrypts, malformed `v2:` values, values that are not
    /// readable text ([`UNREADABLE_VALUE`]), keys that are not ([`UNREADABLE_KEY`]), and rows
    /// the database would not let the migration write ([`WRITE_REFUSED`]). All are left
    /// untouched.
    pub failed: u64,
    /// Keys (names) of failed rows with the error code, up to 100. A key that is not readable
    /// text is listed as an SQL expression for it (`NULL`, `X'00FF'`).
    pub failed_keys: Vec<(String, &'static str)>,
    /// Keys (names) of plain-text and empty rows, up to 100.
    pub unencrypted_keys: Vec<String>,
    /// The verification count afterwards (`encrypted = true` rows whose value is not `v2:`,
    /// `NULL` included); `None` when the run was stopped before this table finished.
    pub remaining_not_v2: Option<u64>,
}

impl TableReport {
    /// Rows left alone: already current, empty, plain text or concurrently changed.
    pub fn skipped(&self) -> u64 {
        self.already_current + self.empty + self.plain + self.concurrent
    }
}

/// The outcome of a migration run.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MigrationReport {
    /// One entry per table, in order.
    pub tables: Vec<TableReport>,
    /// Nothing was written.
    pub dry_run: bool,
    /// The run stopped early (progress callback or `stop_after_batches`); run again to finish.
    pub interrupted: bool,
}

impl MigrationReport {
    /// Totals over all tables (`table` is `"total"`): counts only, since a key means something
    /// only with its table, the key lists stay empty (they are in [`MigrationReport::tables`]).
    pub fn total(&self) -> TableReport {
        let mut t = TableReport {
            table: "total".to_owned(),
            ..TableReport::default()
        };
        let mut remaining = Some(0);
        for r in &self.tables {
            t.processed += r.processed;
            t.migrated += r.migrated;
            t.already_current += r.already_current;
            t.empty += r.empty;
            t.plain += r.plain;
            t.concurrent += r.concurrent;
            t.failed += r.failed;
            remaining = remaining.zip(r.remaining_not_v2).map(|(a, b)| a + b);
        }
        t.remaining_not_v2 = remaining;
        t
    }

    /// True when any row failed.
    pub fn has_failures(&self) -> bool {
        self.tables.iter().any(|t| t.failed > 0)
    }
}

/// Runs the migration over a [`SettingsStore`].
///
/// ```
/// # #[cfg(feature = "sqlite")] {
/// use sealkit_vault::migrate::{Migrator, sqlite::SqliteStore};
/// use sealkit_vault::{EncryptionKey, SettingsVault};
///
/// let conn = rusqlite::Connection::open_in_memory().unwrap();
/// conn.execute_batch(
///     "CREATE TABLE ciam_settings (key TEXT PRIMARY KEY, value TEXT NOT NULL,
///        encrypted BOOLEAN NOT NULL DEFAULT FALSE, updated_at TEXT);
///      INSERT INTO ciam_settings VALUES
///        ('smtp_password', '1X0XULmDyRGmmCBZ:PLxpsykmRaWlV2YEwD8e3A==:HhbYarnBeosvBuVEKPyI', 1, NULL);",
/// ).unwrap();
/// let vault = SettingsVault::new(&EncryptionKey::new("test-encryption-key-exactly-32b!")).unwrap();
/// let mut store = SqliteStore::from_connection(conn).unwrap();
/// let report = Migrator::new(&vault).tables(&["ciam_settings"]).unwrap()
///     .run(&mut store, |_| std::ops::ControlFlow::Continue(())).unwrap();
/// assert_eq!(report.total().migrated, 1);
/// assert_eq!(report.total().remaining_not_v2, Some(0));
/// # }
/// ```
#[derive(Debug)]
pub struct Migrator<'v> {
    vault: &'v SettingsVault,
    tables: Vec<TableName>,
    batch_size: usize,
    dry_run: bool,
    stop_after_batches: Option<usize>,
}

impl<'v> Migrator<'v> {
    /// Migrates `ciam_settings` and `iam_settings` in batches of 100 with this vault (current key
    /// plus any previous keys).
    pub fn new(vault: &'v SettingsVault) -> Self {
        Self {
            vault,
            tables: DEFAULT_TABLES
                .iter()
                .map(|t| TableName::new(t).expect("default table names are valid"))
                .collect(),
            batch_size: DEFAULT_BATCH_SIZE,
            dry_run: false,
            stop_after_batches: None,
        }
    }

    /// Other tables.
    ///
    /// # Errors
    /// [`VaultError::TableName`] for a name that is not a plain identifier.
    pub fn tables<S: AsRef<str>>(mut self, names: &[S]) -> Result<Self, VaultError> {
        self.tables = names
            .iter()
            .map(|n| TableName::new(n.as_ref()))
            .collect::<Result<_, _>>()?;
        Ok(self)
    }

    /// Rows per batch and transaction (at least 1).
    pub fn batch_size(mut self, n: usize) -> Self {
        self.batch_size = n.max(1);
        self
    }

    /// Read and decrypt everything, write nothing.
    pub fn dry_run(mut self, yes: bool) -> Self {
        self.dry_run = yes;
        self
    }

    /// Stop after this many batches that rewrote rows (or would have, in a dry run), in total: to
    /// bound a maintenance window, or to test resumption; the report says `interrupted` (also when
    /// the last allowed batch happened to end the last table: finding out would mean reading on,
    /// and a rerun then finishes at once). Batches
    /// with nothing to rewrite do not count: a rerun reads again through the rows earlier runs
    /// migrated, and counting those would stop every rerun before it got any further.
    pub fn stop_after_batches(mut self, n: Option<usize>) -> Self {
        self.stop_after_batches = n;
        self
    }

    /// Runs the migration. `progress` is called after each batch; returning `Break` stops the run
    /// cleanly (everything committed so far stays committed).
    ///
    /// # Errors
    /// [`VaultError::TableUnreadable`] for a table that does not exist, lacks a column or cannot
    /// be read, and [`VaultError::TableNotWritable`] (not in a dry run) for one this connection
    /// cannot update, both found before anything is written; [`VaultError::Store`] when the
    /// database fails later;
    /// [`VaultError::DuplicateKeys`] for a table with a key on more than one encrypted row, also
    /// before anything is written. Rows that cannot be decrypted are counted as failed in the
    /// report instead.
    pub fn run(
        &self,
        store: &mut dyn SettingsStore,
        mut progress: impl FnMut(&Progress<'_>) -> ControlFlow<()>,
    ) -> Result<MigrationReport, VaultError> {
        let mut report = MigrationReport {
            dry_run: self.dry_run,
            ..MigrationReport::default()
        };
        // Every table is checked before anything is written: a missing table or column, one this
        // connection cannot write, or one the paging cannot walk stops the run while the database
        // is still as it was.
        let mut totals = Vec::with_capacity(self.tables.len());
        for table in &self.tables {
            // The first queries on each table: a failure here is about the table (missing, a
            // missing column, no permission), so it names it.
            let about_the_table = |e| match e {
                VaultError::Store { backend, message } => VaultError::TableUnreadable {
                    table: table.as_str().to_owned(),
                    backend,
                    message,
                },
                other => other,
            };
            store
                .check_table(table, !self.dry_run)
                .map_err(about_the_table)?;
            totals.push(store.count_encrypted(table).map_err(about_the_table)?);
            let keys = store.duplicate_keys(table).map_err(about_the_table)?;
            if keys > 0 {
                return Err(VaultError::DuplicateKeys {
                    table: table.as_str().to_owned(),
                    keys,
                });
            }
        }
        let mut rewriting_batches = 0usize;
        for (table, total) in self.tables.iter().zip(totals) {
            let mut t = TableReport {
                table: table.as_str().to_owned(),
                ..TableReport::default()
            };
            // The fetches skip rows whose key cannot be read (they can be neither paged past nor
            // updated by key); they are counted here, up front, so that every run reports them.
            let unreadable = store.unreadable_keys(table, MAX_LISTED_KEYS)?;
            t.processed += unreadable.count;
            t.failed += unreadable.count;
            for key in unreadable.listed {
                push_capped(&mut t.failed_keys, (key, UNREADABLE_KEY));
            }
            let mut after: Option<String> = None;
            let mut finished = false;
            loop {
                if self
                    .stop_after_batches
                    .is_some_and(|max| rewriting_batches >= max)
                {
                    break;
                }
                let rows = store.fetch_encrypted(table, after.as_deref(), self.batch_size)?;
                let Some(last) = rows.last() else {
                    finished = true;
                    break;
                };
                after = Some(last.key.clone());
                let mut updates = Vec::new();
                for row in rows {
                    t.processed += 1;
                    if let Some(update) = self.classify(&mut t, row.key, row.value) {
                        updates.push(update);
                    }
                }
                if !updates.is_empty() {
                    rewriting_batches += 1;
                }
                if self.dry_run {
                    t.migrated += updates.len() as u64;
                } else {
                    self.apply(store, table, &mut t, updates)?;
                }
                let flow = progress(&Progress {
                    table,
                    total,
                    report: &t,
                });
                if flow.is_break() {
                    break;
                }
            }
            if finished {
                t.remaining_not_v2 = Some(store.count_not_v2(table)?);
            }
            report.tables.push(t);
            if !finished {
                report.interrupted = true;
                break;
            }
        }
        Ok(report)
    }

    /// Decides what to do with one row; `Some` when it needs rewriting.
    fn classify(&self, t: &mut TableReport, key: String, value: StoredValue) -> Option<CasUpdate> {
        let StoredValue::Text(value) = value else {
            failed(t, key, UNREADABLE_VALUE);
            return None;
        };
        match self.vault.rewrap(&value) {
            Ok(Rewrap::Current) => t.already_current += 1,
            Ok(Rewrap::Empty) => {
                t.empty += 1;
                push_capped(&mut t.unencrypted_keys, key);
            }
            Ok(Rewrap::Plain) => {
                t.plain += 1;
                push_capped(&mut t.unencrypted_keys, key);
            }
            Ok(Rewrap::Rewrapped(new)) => {
                return Some(CasUpdate {
                    key,
                    old: value,
                    new,
                });
            }
            Err(e) => failed(t, key, e.code()),
        }
        None
    }

    /// Writes a batch; rows that changed meanwhile are re-read and retried a few times, and left
    /// to the concurrent writer when they keep changing. A row whose swap keeps matching nothing
    /// while its value stays as read was not changed by anyone: the database refuses the write,
    /// and the row fails ([`WRITE_REFUSED`]) instead of being put down to a writer that does not
    /// exist.
    fn apply(
        &self,
        store: &mut dyn SettingsStore,
        table: &TableName,
        t: &mut TableReport,
        updates: Vec<CasUpdate>,
    ) -> Result<(), VaultError> {
        let matched = swap(store, table, &updates)?;
        for (update, ok) in updates.into_iter().zip(matched) {
            if ok {
                t.migrated += 1;
                continue;
            }
            let (mut key, mut expected) = (update.key, update.old);
            let mut resolved = false;
            let mut changed = false;
            for _ in 0..CAS_RETRIES {
                let Some(row) = store.fetch_one(table, &key)? else {
                    changed = true;
                    break; // deleted, or no longer marked encrypted: the writer owns it
                };
                changed |= !matches!(&row.value, StoredValue::Text(value) if *value == expected);
                // The row is already counted as processed: classify into a scratch report and
                // fold only the outcome into `t`.
                let mut scratch = TableReport::default();
                match self.classify(&mut scratch, row.key, row.value) {
                    Some(retry) => {
                        key = retry.key.clone();
                        expected = retry.old.clone();
                        if swap(store, table, std::slice::from_ref(&retry))? == [true] {
                            t.migrated += 1;
                            resolved = true;
                            break;
                        }
                    }
                    None => {
                        // The new value is current, empty, plain or undecryptable: whatever the
                        // writer put there, it is theirs. Report a failure if it is one.
                        t.failed += scratch.failed;
                        for failure in scratch.failed_keys {
                            push_capped(&mut t.failed_keys, failure);
                        }
                        t.concurrent += 1 - scratch.failed.min(1);
                        resolved = true;
                        break;
                    }
                }
            }
            if !resolved {
                if changed {
                    t.concurrent += 1;
                } else {
                    failed(t, key, WRITE_REFUSED);
                }
            }
        }
        Ok(())
    }
}

/// [`SettingsStore::compare_and_swap`], holding a store written elsewhere to its contract of one
/// answer per update: a short answer would otherwise leave rows silently unaccounted for.
fn swap(
    store: &mut dyn SettingsStore,
    table: &TableName,
    updates: &[CasUpdate],
) -> Result<Vec<bool>, VaultError> {
    let matched = store.compare_and_swap(table, updates)?;
    if matched.len() != updates.len() {
        return Err(VaultError::Store {
            backend: store.backend(),
            message: format!(
                "compare-and-swap answered {} of {} updates",
                matched.len(),
                updates.len()
            ),
        });
    }
    Ok(matched)
}

fn failed(t: &mut TableReport, key: String, code: &'static str) {
    t.failed += 1;
    push_capped(&mut t.failed_keys, (key, code));
}

/// Adds to a report's key list, which stops growing at [`MAX_LISTED_KEYS`]: every path that lists
/// a key goes through here, so a table with many bad rows cannot make a report of unbounded size.
fn push_capped<T>(keys: &mut Vec<T>, entry: T) {
    if keys.len() < MAX_LISTED_KEYS {
        keys.push(entry);
    }
}

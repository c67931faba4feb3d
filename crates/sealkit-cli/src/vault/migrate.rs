//! `sealkit vault migrate`: the operator's job of moving stored settings to `v2` under the current
//! key. The database work lives in `sealkit::vault::migrate`; this file owns the process concerns:
//! flags, the progress bar on a terminal, the summary and the exit status.

use std::borrow::Cow;
use std::io::{IsTerminal as _, Write as _};
use std::ops::ControlFlow;
use std::path::PathBuf;
use std::process::ExitCode;

use sealkit::vault::migrate::{self, MigrationReport, Migrator, Progress, TableReport};
use sealkit::vault::{SettingsVault, VaultError};

use super::{current_key, previous_keys, vault_error};
use crate::failure::{CliError, CliResult, one_line};
use crate::io;

/// The embedded default when neither `--database-url` nor `DATABASE_URL` is given.
const DEFAULT_DATABASE_URL: &str = "sqlite://settings.db";

/// Flags of `sealkit vault migrate`.
#[derive(clap::Args)]
pub struct Args {
    /// `sqlite://PATH` or just `PATH` (an existing SQLite file; the default is
    /// sqlite://settings.db) or `postgres://USER@HOST/DB`. Prefer the DATABASE_URL variable when
    /// the URL holds a password.
    #[arg(long, env = "DATABASE_URL", hide_env_values = true, value_name = "URL")]
    database_url: Option<String>,
    /// A PEM file of CA certificates that the PostgreSQL server's TLS certificate is checked
    /// against, besides the system's trust store (add sslmode=require to the URL to insist on TLS).
    #[arg(long, value_name = "FILE")]
    database_ca_file: Option<PathBuf>,
    /// Decrypt and count everything, write nothing.
    #[arg(long)]
    dry_run: bool,
    /// A file holding a previous ENCRYPTION_KEY whose values should move to the current key
    /// (repeatable). A trailing newline in the file is tried both as part of the key and not.
    #[arg(long, value_name = "FILE")]
    previous_key_file: Vec<PathBuf>,
    /// A settings table to migrate (repeatable; default: ciam_settings and iam_settings).
    #[arg(long = "table", value_name = "NAME")]
    tables: Vec<String>,
    /// Rows per batch (each batch is one transaction).
    #[arg(long, default_value_t = migrate::DEFAULT_BATCH_SIZE, value_name = "N")]
    batch_size: usize,
    /// Stop after N batches that rewrote rows (a bounded maintenance window); run again to continue.
    #[arg(long, value_name = "N")]
    max_batches: Option<usize>,
    /// Print the report as one JSON object instead of text.
    #[arg(long)]
    json: bool,
}

/// The database URL to open: the default when none is given; a plain path (no `scheme:` in front,
/// not a libpq `keyword=value` string, which only the store can refuse) names a SQLite file, as
/// the default does. An empty value is refused: it is more likely a variable that was meant to
/// be set than a wish for the default.
fn database_url(given: Option<&str>) -> Result<Cow<'_, str>, CliError> {
    const LIBPQ_KEYWORDS: [&str; 8] = [
        "host", "hostaddr", "port", "dbname", "user", "password", "sslmode", "service",
    ];
    match given {
        None => Ok(Cow::Borrowed(DEFAULT_DATABASE_URL)),
        Some(url) if url.trim().is_empty() => Err(CliError::new(
            "database_url",
            "DATABASE_URL (or --database-url) is empty: give a SQLite file, sqlite://PATH or \
             postgres://…, or leave it unset for sqlite://settings.db",
        )),
        Some(url)
            if url.contains("://")
                || url.starts_with("sqlite:")
                || url
                    .split_once('=')
                    .is_some_and(|(keyword, _)| LIBPQ_KEYWORDS.contains(&keyword.trim())) =>
        {
            Ok(Cow::Borrowed(url))
        }
        Some(path) => Ok(Cow::Owned(format!("sqlite://{path}"))),
    }
}

/// Runs the migration.
pub fn run(args: Args) -> CliResult {
    let mut vault = SettingsVault::new(&current_key()?).map_err(|e| vault_error(&e))?;
    for path in &args.previous_key_file {
        for key in previous_keys(path)? {
            vault = vault.with_previous_key(&key).map_err(|e| vault_error(&e))?;
        }
    }
    let mut migrator = Migrator::new(&vault)
        .batch_size(args.batch_size)
        .dry_run(args.dry_run)
        .stop_after_batches(args.max_batches);
    if !args.tables.is_empty() {
        migrator = migrator.tables(&args.tables).map_err(|e| vault_error(&e))?;
    }
    let url = database_url(args.database_url.as_deref())?;
    let mut options = migrate::store::StoreOptions::default();
    if let Some(path) = &args.database_ca_file {
        options = options.ca_file(path);
    }
    let mut store = migrate::store::open_store_with(&url, &options).map_err(|e| {
        if args.database_url.is_some() {
            return vault_error(&e);
        }
        // Nothing was given, so there is no password to hide: say which file was tried.
        CliError::new(
            e.code(),
            format!(
                "{e} (the default, ./settings.db: DATABASE_URL and --database-url are unset; set \
                 one to migrate another database)"
            ),
        )
    })?;

    let mut bar = ProgressBar::new(std::io::stderr().is_terminal());
    let report = migrator
        .run(store.as_mut(), |p| {
            bar.update(p);
            ControlFlow::Continue(())
        })
        .map_err(|e| match e {
            // The commonest first-run failure is a database whose settings live under other
            // names ("no such table", "relation … does not exist"): say what was looked for.
            VaultError::TableUnreadable { .. } if args.tables.is_empty() => CliError::new(
                e.code(),
                format!(
                    "{e} (migrating the default tables {}, each with columns key, value, \
                     encrypted and updated_at; name others with --table)",
                    migrate::DEFAULT_TABLES.join(" and ")
                ),
            ),
            _ => vault_error(&e),
        });
    bar.finish();
    let report = report?;

    if args.json {
        io::print_line(&report_json(&report).to_string())?;
    } else {
        print_summary(&report)?;
    }
    if report.has_failures() {
        return Err(CliError::new(
            "migration_failed",
            format_args!(
                "{} row(s) could not be migrated and were left as they are: values that no configured \
                 key decrypts to text, malformed values, or values or setting names that are not \
                 readable text (the report lists each row's key with its error code, up to 100 per \
                 table)",
                report.total().failed
            ),
        ));
    }
    Ok(ExitCode::SUCCESS)
}

/// A one-line bar on stderr, redrawn after each batch; silent when stderr is not a terminal.
struct ProgressBar {
    enabled: bool,
    drawn: bool,
}

impl ProgressBar {
    fn new(enabled: bool) -> Self {
        Self {
            enabled,
            drawn: false,
        }
    }

    fn update(&mut self, p: &Progress<'_>) {
        if !self.enabled {
            return;
        }
        const WIDTH: u64 = 30;
        let done = p.report.processed.min(p.total.max(1));
        let filled = (done * WIDTH).checked_div(p.total).unwrap_or(WIDTH);
        let bar: String = (0..WIDTH)
            .map(|i| if i < filled { '#' } else { '-' })
            .collect();
        let mut err = std::io::stderr().lock();
        let _ = write!(
            err,
            "\r{} [{bar}] {}/{} migrated {} failed {}",
            p.table, p.report.processed, p.total, p.report.migrated, p.report.failed
        );
        let _ = err.flush();
        self.drawn = true;
    }

    fn finish(&mut self) {
        if self.drawn {
            let _ = writeln!(std::io::stderr());
            self.drawn = false;
        }
    }
}

fn table_line(t: &TableReport) -> String {
    format!(
        "{}: processed {}, migrated {}, skipped {} (already current {}, empty {}, plain text {}, changed concurrently {}), failed {}",
        t.table,
        t.processed,
        t.migrated,
        t.skipped(),
        t.already_current,
        t.empty,
        t.plain,
        t.concurrent,
        t.failed
    )
}

fn print_summary(report: &MigrationReport) -> Result<(), CliError> {
    if report.dry_run {
        io::print_line("dry run: nothing was written; \"migrated\" counts rows that would be")?;
    }
    for t in &report.tables {
        io::print_line(&table_line(t))?;
        // A stored key is anyone's text: through `one_line`, a newline in it cannot forge a
        // summary line, nor a terminal escape hide one.
        for key in &t.unencrypted_keys {
            io::print_line(&format!(
                "  not encrypted (marked encrypted but holds plain text or \"\"): {}",
                one_line(key)
            ))?;
        }
        for (key, code) in &t.failed_keys {
            io::print_line(&format!("  failed [{code}]: {}", one_line(key)))?;
        }
    }
    let total = report.total();
    io::print_line(&table_line(&total))?;
    if report.interrupted {
        io::print_line("stopped early: run the same command again to continue")?;
    } else if let Some(remaining) = total.remaining_not_v2 {
        io::print_line(&format!(
            "verification: {remaining} encrypted row(s) not in v2 format"
        ))?;
    }
    Ok(())
}

fn table_json(t: &TableReport) -> serde_json::Value {
    serde_json::json!({
        "table": t.table,
        "processed": t.processed,
        "migrated": t.migrated,
        "skipped": t.skipped(),
        "already_current": t.already_current,
        "empty": t.empty,
        "plain": t.plain,
        "concurrent": t.concurrent,
        "failed": t.failed,
        "failed_keys": t.failed_keys.iter().map(|(k, c)| serde_json::json!({"key": k, "code": c})).collect::<Vec<_>>(),
        "unencrypted_keys": t.unencrypted_keys,
        "remaining_not_v2": t.remaining_not_v2,
    })
}

fn report_json(report: &MigrationReport) -> serde_json::Value {
    serde_json::json!({
        "dry_run": report.dry_run,
        "interrupted": report.interrupted,
        "tables": report.tables.iter().map(table_json).collect::<Vec<_>>(),
        "total": total_json(report),
    })
}

/// The totals: counts only. A key means something only with its table, so the key lists are
/// under `tables`, and an empty list here would wrongly say there are none.
fn total_json(report: &MigrationReport) -> serde_json::Value {
    let mut total = table_json(&report.total());
    if let Some(fields) = total.as_object_mut() {
        fields.remove("failed_keys");
        fields.remove("unencrypted_keys");
    }
    total
}

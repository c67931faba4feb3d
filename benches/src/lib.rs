//! Support shared by the sealkit benchmarks: recording what criterion measured, printing each
//! component beside its baseline as a ratio, and asking external baselines (`openssl speed`) for
//! their figures in the same run.
//!
//! Timings are taken inside criterion's own measurement loop ([`timed`] wraps
//! `Bencher::iter_custom`). Criterion's warm-up runs through the same routine (1, 2, 4, …
//! iterations, where the clock's own cost still shows), so only the last [`SAMPLE_SIZE`] samples of
//! each benchmark — the ones criterion measures and reports — enter the medians.

use std::collections::BTreeMap;
use std::process::Command;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use criterion::{Bencher, Criterion};

/// Per-benchmark samples, in nanoseconds per iteration.
static SAMPLES: Mutex<BTreeMap<String, Vec<f64>>> = Mutex::new(BTreeMap::new());

/// Samples criterion measures per benchmark (after its warm-up). A `--sample-size` given on the
/// command line changes criterion's count, not this one: the medians then use the last 20 of them.
pub const SAMPLE_SIZE: usize = 20;

/// The criterion configuration every sealkit benchmark uses: short enough for a whole suite to run
/// in a few minutes on two cores, long enough for stable medians.
pub fn criterion() -> Criterion {
    Criterion::default()
        .warm_up_time(Duration::from_millis(300))
        .measurement_time(Duration::from_millis(1500))
        .sample_size(SAMPLE_SIZE)
        .configure_from_args()
}

/// The measured samples recorded under `key`: the last [`SAMPLE_SIZE`], the warm-up's left out.
fn measured<'s>(samples: &'s BTreeMap<String, Vec<f64>>, key: &str) -> Option<&'s [f64]> {
    let all = samples.get(key)?;
    Some(&all[all.len().saturating_sub(SAMPLE_SIZE)..])
}

/// Runs `routine` under criterion, recording each sample under `key` for [`median_ns`].
pub fn timed<F: FnMut()>(bencher: &mut Bencher<'_>, key: &str, mut routine: F) {
    bencher.iter_custom(|iters| {
        let start = Instant::now();
        for _ in 0..iters {
            routine();
        }
        let elapsed = start.elapsed();
        let per_iter = elapsed.as_nanos() as f64 / iters.max(1) as f64;
        SAMPLES
            .lock()
            .unwrap()
            .entry(key.to_owned())
            .or_default()
            .push(per_iter);
        elapsed
    });
}

/// Median nanoseconds per iteration recorded under `key`, if that benchmark ran.
pub fn median_ns(key: &str) -> Option<f64> {
    let samples = SAMPLES.lock().unwrap();
    Some(median(measured(&samples, key)?.to_vec()))
}

/// The median of some measurements (the upper middle one for an even count), as every figure
/// these benches report is taken. Panics on no measurements.
pub fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

/// Fastest sample recorded under `key`, ns per iteration: on a shared machine, where other work
/// only ever adds time, the figure least disturbed by it.
pub fn fastest_ns(key: &str) -> Option<f64> {
    let samples = SAMPLES.lock().unwrap();
    measured(&samples, key)?
        .iter()
        .copied()
        .min_by(f64::total_cmp)
}

/// One line of a ratio table.
pub struct Row {
    /// What is compared (e.g. `seal aegis-256 1 KiB`).
    pub label: String,
    /// Our median, ns per operation.
    pub ours_ns: f64,
    /// The baseline's median, ns per operation.
    pub baseline_ns: f64,
    /// Bytes processed per operation, for a throughput column (0 for none).
    pub bytes: usize,
}

/// Prints a table of ours vs baseline; ratio > 1 means we are faster (baseline time / our time).
pub fn print_table(title: &str, baseline_name: &str, rows: &[Row]) {
    println!("\n== {title} ==");
    let width = rows
        .iter()
        .map(|row| row.label.len())
        .max()
        .unwrap_or(0)
        .max(28);
    println!(
        "{:<width$} {:>12} {:>12} {:>10} {:>12}",
        "case",
        "ours ns/op",
        format!("{baseline_name} ns/op"),
        "ratio",
        "ours MB/s"
    );
    for row in rows {
        // A row without a byte count (a whole operation, not a stream of bytes) has no throughput.
        let mbps = if row.bytes > 0 {
            format!("{:.0}", row.bytes as f64 / row.ours_ns * 1e3)
        } else {
            "-".to_owned()
        };
        println!(
            "{:<width$} {:>12.1} {:>12.1} {:>9.3}x {:>12}",
            row.label,
            row.ours_ns,
            row.baseline_ns,
            row.baseline_ns / row.ours_ns,
            mbps
        );
    }
}

/// Throughput in bytes per second that `openssl speed -aead -evp <cipher>` reports for
/// `bytes`-byte records, measured now on this machine (one core). `None` when openssl is absent,
/// fails, or prints something else.
///
/// `-aead` makes each block a record as ours are: a fresh IV, associated data and a tag per block
/// (without it OpenSSL 3.0 streams every block through one context, with none of the three).
pub fn openssl_evp_bytes_per_sec(cipher: &str, bytes: usize) -> Option<f64> {
    let out = Command::new("openssl")
        .args([
            "speed",
            "-aead",
            "-evp",
            cipher,
            "-bytes",
            &bytes.to_string(),
            "-seconds",
            "2",
        ])
        .output()
        .ok()
        .filter(|out| out.status.success())?;
    let text = String::from_utf8_lossy(&out.stdout);
    // The last line is `<NAME>  <N>k`, N in thousands of bytes per second.
    let last = text.lines().rev().find(|l| !l.trim().is_empty())?;
    let value = last.split_whitespace().last()?.strip_suffix('k')?;
    value.parse::<f64>().ok().map(|k| k * 1000.0)
}

/// Operations per second for `openssl speed <alg>` private-key operations (e.g. `rsa2048`),
/// measured now. `None` when openssl is absent, fails, or prints something else. Returns
/// (sign/s, verify/s) as openssl prints them.
pub fn openssl_rsa_ops_per_sec(alg: &str) -> Option<(f64, f64)> {
    let out = Command::new("openssl")
        .args(["speed", "-seconds", "2", alg])
        .output()
        .ok()
        .filter(|out| out.status.success())?;
    let text = String::from_utf8_lossy(&out.stdout);
    let bits = alg.trim_start_matches("rsa");
    let line = text.lines().find(|l| {
        let mut words = l.split_whitespace();
        words.next() == Some("rsa") && words.next() == Some(bits)
    })?;
    // OpenSSL 3.0: `rsa 2048 bits 0.000600s 0.000018s 1666.7 55555.6`; 3.2 and later add encrypt
    // and decrypt columns: `rsa  2048 bits 0.000600s 0.000018s 0.000019s 0.000600s 1666.7
    // 55555.6 52631.6 1666.7`. The times end in `s` and do not parse, so in both the numbers are
    // the bit count, then sign/s and verify/s first.
    let nums: Vec<f64> = line
        .split_whitespace()
        .filter_map(|w| w.parse().ok())
        .collect();
    match nums.as_slice() {
        [_bits, sign, verify, ..] => Some((*sign, *verify)),
        _ => None,
    }
}

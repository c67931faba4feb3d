//! Where "now" comes from: the system clock in production, a settable clock in tests.
//!
//! Times are whole seconds since the Unix epoch, the resolution tokens carry.

use std::sync::atomic::{AtomicI64, Ordering};

/// How far apart two servers' clocks may be before a token is refused: a token stays valid for
/// this long after its expiry, and one issued up to this far in the future is accepted.
pub const DEFAULT_CLOCK_SKEW_SECS: i64 = 30;

/// A source of the current time.
pub trait Clock: Send + Sync {
    /// Seconds since the Unix epoch.
    fn now_unix(&self) -> i64;
}

/// The operating system's wall clock.
///
/// On Linux, Android and FreeBSD it reads `CLOCK_REALTIME_COARSE`: the time as of the last kernel
/// tick (a few milliseconds old at most), which the vDSO returns without reading the CPU's
/// timestamp counter, at about a quarter of the cost of [`std::time::SystemTime::now`];
/// verification reads the clock on every request. Tokens carry whole seconds, so the coarser
/// reading changes no decision. Elsewhere it is [`std::time::SystemTime::now`].
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    #[cfg(any(target_os = "linux", target_os = "android", target_os = "freebsd"))]
    fn now_unix(&self) -> i64 {
        rustix::time::clock_gettime(rustix::time::ClockId::RealtimeCoarse).tv_sec
    }

    #[cfg(not(any(target_os = "linux", target_os = "android", target_os = "freebsd")))]
    fn now_unix(&self) -> i64 {
        system_time_now()
    }
}

/// [`std::time::SystemTime::now`] in whole seconds since the Unix epoch.
#[cfg(any(
    test,
    not(any(target_os = "linux", target_os = "android", target_os = "freebsd"))
))]
fn system_time_now() -> i64 {
    match std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH) {
        Ok(since) => i64::try_from(since.as_secs()).unwrap_or(i64::MAX),
        // A clock set before 1970: report it as such rather than panic.
        Err(before) => i64::try_from(before.duration().as_secs()).map_or(i64::MIN, |s| -s),
    }
}

/// A clock that says what it is told, for tests.
#[derive(Debug, Default)]
pub struct FixedClock {
    now: AtomicI64,
}

impl FixedClock {
    /// A clock stopped at `now_unix`.
    pub fn new(now_unix: i64) -> Self {
        Self {
            now: AtomicI64::new(now_unix),
        }
    }

    /// Moves the clock to `now_unix`.
    pub fn set(&self, now_unix: i64) {
        self.now.store(now_unix, Ordering::Relaxed);
    }

    /// Moves the clock forward by `secs`.
    pub fn advance(&self, secs: i64) {
        self.now.fetch_add(secs, Ordering::Relaxed);
    }
}

impl Clock for FixedClock {
    fn now_unix(&self) -> i64 {
        self.now.load(Ordering::Relaxed)
    }
}

#[cfg(test)]
mod tests {
    use super::{Clock, SystemClock, system_time_now};

    #[test]
    fn system_clock_agrees_with_the_standard_library() {
        // The coarse clock lags by at most a kernel tick; allow a second either side for the tick
        // and the moment between the two readings.
        let before = system_time_now();
        let now = SystemClock.now_unix();
        let after = system_time_now();
        assert!(
            (before - 1..=after + 1).contains(&now),
            "{before} <= {now} <= {after}"
        );
    }
}

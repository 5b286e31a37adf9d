//! The configured legal calendar, shared by every worker of an instance and reloaded when the
//! holiday file changes (polled) or on SIGHUP. The rules live in
//! [`crate::domain::legal_clock::LegalCalendar`]; this module only loads and shares them.

use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};
use std::time::{Duration, SystemTime};

use crate::config::CalendarSettings;
use crate::domain::legal_clock::{HolidayLineError, LegalCalendar, parse_holidays};

#[derive(Debug, thiserror::Error)]
pub enum CalendarError {
    #[error("cannot read the holiday file {}", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("holiday file {}", path.display())]
    Parse {
        path: PathBuf,
        #[source]
        source: HolidayLineError,
    },
}

/// Loads the calendar the settings describe: their zone, and the holidays of their file (none
/// without a file).
pub fn load(settings: &CalendarSettings) -> Result<LegalCalendar, CalendarError> {
    let holidays = match &settings.holidays_file {
        Some(path) => read_holidays(path)?,
        None => Default::default(),
    };
    Ok(LegalCalendar::new(settings.zone, holidays))
}

fn read_holidays(path: &Path) -> Result<std::collections::BTreeSet<chrono::NaiveDate>, CalendarError> {
    let text = std::fs::read_to_string(path).map_err(|source| CalendarError::Read {
        path: path.to_owned(),
        source,
    })?;
    parse_holidays(&text).map_err(|source| CalendarError::Parse {
        path: path.to_owned(),
        source,
    })
}

/// The calendar in force. Cheap to clone; every clone sees a reload. A use case takes one
/// [`CalendarHandle::current`] snapshot and counts with it throughout, so a reload never
/// changes the rules half-way through a transaction.
#[derive(Debug, Clone)]
pub struct CalendarHandle(Arc<RwLock<Arc<LegalCalendar>>>);

impl Default for CalendarHandle {
    fn default() -> Self {
        Self::new(LegalCalendar::default())
    }
}

impl CalendarHandle {
    pub fn new(calendar: LegalCalendar) -> Self {
        Self(Arc::new(RwLock::new(Arc::new(calendar))))
    }

    pub fn current(&self) -> Arc<LegalCalendar> {
        // A panic while holding the lock cannot leave a half-written Arc behind.
        self.0.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    pub fn replace(&self, calendar: LegalCalendar) {
        *self.0.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(calendar);
    }

    /// The controller's zone, in which dates are shown.
    pub fn zone(&self) -> chrono_tz::Tz {
        self.current().zone()
    }
}

/// What identifies a version of the holiday file without reading it.
fn stamp(path: &Path) -> Option<(SystemTime, u64)> {
    let meta = std::fs::metadata(path).ok()?;
    Some((meta.modified().ok()?, meta.len()))
}

/// Re-reads the holiday file into `handle`. A file that cannot be read or parsed keeps the
/// calendar in force, and says why in the log.
pub fn reload(handle: &CalendarHandle, settings: &CalendarSettings, trigger: &'static str) {
    match load(settings) {
        Ok(calendar) => {
            if *handle.current() != calendar {
                tracing::info!(
                    trigger,
                    zone = %calendar.zone(),
                    holidays = calendar.holidays().len(),
                    "loaded a new legal calendar"
                );
                handle.replace(calendar);
            } else {
                tracing::debug!(trigger, "the legal calendar is unchanged");
            }
        }
        Err(e) => tracing::error!(
            trigger,
            error = %crate::error::cause_chain(&e),
            "the holiday file cannot be loaded; keeping the calendar in force"
        ),
    }
}

/// Watches the holiday file: polls its modification time and size every `reload_interval`, and
/// reloads at once on SIGHUP (Unix). Runs until dropped; without a holiday file it waits forever.
pub async fn watch(handle: CalendarHandle, settings: CalendarSettings) {
    let Some(path) = settings.holidays_file.clone() else {
        return std::future::pending().await;
    };
    let mut seen = stamp(&path);
    let mut ticks = tokio::time::interval(settings.reload_interval.max(Duration::from_millis(10)));
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    ticks.tick().await;
    let mut hangups = hangups();
    loop {
        let trigger = tokio::select! {
            _ = ticks.tick() => "file changed",
            () = next_hangup(&mut hangups) => "SIGHUP",
        };
        let now = stamp(&path);
        if trigger == "SIGHUP" || now != seen {
            seen = now;
            let (handle, settings) = (handle.clone(), settings.clone());
            // File I/O off the async workers.
            let done = tokio::task::spawn_blocking(move || reload(&handle, &settings, trigger)).await;
            if let Err(e) = done {
                tracing::error!(error = %e, "reloading the legal calendar failed");
            }
        }
    }
}

#[cfg(unix)]
type Hangups = Option<tokio::signal::unix::Signal>;
#[cfg(not(unix))]
type Hangups = ();

#[cfg(unix)]
fn hangups() -> Hangups {
    use tokio::signal::unix::{SignalKind, signal};
    match signal(SignalKind::hangup()) {
        Ok(s) => Some(s),
        Err(e) => {
            tracing::warn!(error = %e, "cannot listen for SIGHUP; the holiday file is still polled");
            None
        }
    }
}

#[cfg(not(unix))]
fn hangups() -> Hangups {}

#[cfg(unix)]
async fn next_hangup(hangups: &mut Hangups) {
    let received = match hangups {
        Some(s) => s.recv().await.is_some(),
        None => false,
    };
    if !received {
        std::future::pending::<()>().await;
    }
}

#[cfg(not(unix))]
async fn next_hangup(_: &mut Hangups) {
    std::future::pending().await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bad_file_names_itself_and_the_line() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("holidays.txt");
        std::fs::write(&path, "2026-12-25\n\n2026-12-32\n").unwrap();
        let settings = CalendarSettings {
            holidays_file: Some(path.clone()),
            ..CalendarSettings::default()
        };
        let e = crate::error::cause_chain(&load(&settings).unwrap_err());
        assert!(e.contains("holidays.txt: line 3: \"2026-12-32\""), "{e}");
        let missing = CalendarSettings {
            holidays_file: Some(dir.path().join("nope.txt")),
            ..CalendarSettings::default()
        };
        assert!(load(&missing).unwrap_err().to_string().contains("nope.txt"));
    }

    #[test]
    fn a_failed_reload_keeps_the_calendar_in_force() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("holidays.txt");
        std::fs::write(&path, "2026-12-25\n").unwrap();
        let settings = CalendarSettings {
            holidays_file: Some(path.clone()),
            ..CalendarSettings::default()
        };
        let handle = CalendarHandle::new(load(&settings).unwrap());
        std::fs::write(&path, "2026-12-25\n2026-12-26\n").unwrap();
        reload(&handle, &settings, "test");
        assert_eq!(handle.current().holidays().len(), 2);
        std::fs::write(&path, "Christmas\n").unwrap();
        reload(&handle, &settings, "test");
        assert_eq!(handle.current().holidays().len(), 2);
    }
}

//! The legal calendar end to end (GDPR Art. 12(3), Regulation 1182/71): deadlines at the end of
//! a working day in the controller's zone, a reloadable holiday file, the extension counted from
//! the original end, and start-up refusing a bad zone or holiday file.
//!
//! Appeals are filed "now", so concrete dates are the unit tests' job (src/domain/legal_clock.rs);
//! here the expectations come from a small computation of their own, independent of the library.

use std::collections::BTreeSet;
use std::path::Path;
use std::time::Duration;

use chrono::{DateTime, Datelike, Months, NaiveDate, NaiveTime, TimeDelta, TimeZone, Utc, Weekday};
use chrono_tz::Tz;
use recourse::domain::Role;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{spawn_app, spawn_app_with};

pub fn time(v: &Value) -> DateTime<Utc> {
    v.as_str().unwrap().parse().unwrap()
}

fn is_working_day(d: NaiveDate, holidays: &BTreeSet<NaiveDate>) -> bool {
    !matches!(d.weekday(), Weekday::Sat | Weekday::Sun) && !holidays.contains(&d)
}

/// The working day on or after `d`.
pub fn roll(mut d: NaiveDate, holidays: &BTreeSet<NaiveDate>) -> NaiveDate {
    while !is_working_day(d, holidays) {
        d = d.succ_opt().unwrap();
    }
    d
}

/// The last microsecond of local day `d` (for zones whose midnights exist, as Berlin's do).
pub fn end_of_local_day(tz: Tz, d: NaiveDate) -> DateTime<Utc> {
    let next_midnight = d.succ_opt().unwrap().and_time(NaiveTime::MIN);
    tz.from_local_datetime(&next_midnight)
        .earliest()
        .unwrap()
        .with_timezone(&Utc)
        - TimeDelta::microseconds(1)
}

/// The local day an answer to a request received at `received` is due.
pub fn expected_due_on(received: DateTime<Utc>, tz: Tz, holidays: &BTreeSet<NaiveDate>) -> NaiveDate {
    let start = received.with_timezone(&tz).date_naive();
    roll(start.checked_add_months(Months::new(1)).unwrap(), holidays)
}

pub fn expected_due(received: DateTime<Utc>, tz: Tz, holidays: &BTreeSet<NaiveDate>) -> DateTime<Utc> {
    end_of_local_day(tz, expected_due_on(received, tz, holidays))
}

/// The deadline after extending by `months`: the original period's end (not moved) + `months`.
pub fn expected_extended(
    received: DateTime<Utc>,
    tz: Tz,
    holidays: &BTreeSet<NaiveDate>,
    months: u32,
) -> DateTime<Utc> {
    let start = received.with_timezone(&tz).date_naive();
    let original_end = start.checked_add_months(Months::new(1)).unwrap();
    let end = original_end.checked_add_months(Months::new(months)).unwrap();
    end_of_local_day(tz, roll(end, holidays))
}

fn long_date(d: NaiveDate) -> String {
    d.format("%-d %B %Y").to_string()
}

fn write_holidays(path: &Path, days: &[NaiveDate]) {
    let mut text = String::from("# Public holidays for the tests\n\n");
    for d in days {
        text.push_str(&format!("{d}  # a holiday\n"));
    }
    std::fs::write(path, text).unwrap();
}

const BERLIN: Tz = chrono_tz::Europe::Berlin;

#[tokio::test]
async fn a_due_date_is_the_end_of_a_working_day_in_the_controllers_zone() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("holidays.txt");
    // The day the deadline would fall on without holidays, and the day after: both holidays.
    let plain = expected_due_on(Utc::now(), BERLIN, &BTreeSet::new());
    let holidays: BTreeSet<NaiveDate> = [plain, plain.succ_opt().unwrap()].into();
    write_holidays(&file, &holidays.iter().copied().collect::<Vec<_>>());
    let path = file.clone();
    let app = spawn_app_with(move |s| {
        s.calendar.zone = BERLIN;
        s.calendar.holidays_file = Some(path);
    })
    .await;
    let decision = app.decision_for("c-1", "subject-1").await;
    let res = app.file_appeal_as_subject(&decision, "subject-1").await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let appeal: Value = res.json().await.unwrap();
    let received = time(&appeal["received_at"]);
    let due = time(&appeal["due_at"]);

    assert_eq!(due, expected_due(received, BERLIN, &holidays));
    let calendar = recourse::domain::legal_clock::LegalCalendar::new(BERLIN, holidays.clone());
    assert_eq!(due, calendar.due_at(received));
    let local = due.with_timezone(&BERLIN);
    assert_eq!(
        local.time(),
        NaiveTime::from_hms_micro_opt(23, 59, 59, 999_999).unwrap()
    );
    assert!(is_working_day(local.date_naive(), &holidays), "{local}");
    if received.with_timezone(&BERLIN).date_naive() == Utc::now().with_timezone(&BERLIN).date_naive() {
        // Moved past both holidays (unless midnight passed while the test ran).
        assert!(local.date_naive() > plain.succ_opt().unwrap(), "{local} vs {plain}");
    }

    // The acknowledgement gives the dates in Berlin.
    let body = appeal["notices"][0]["body"].as_str().unwrap();
    assert!(
        body.contains(&format!("We will reply by {}.", long_date(local.date_naive()))),
        "{body}"
    );
    assert!(
        body.contains(&format!(
            "We received your appeal on {}",
            long_date(received.with_timezone(&BERLIN).date_naive())
        )),
        "{body}"
    );
}

#[tokio::test]
async fn the_holiday_file_is_reloaded_when_it_changes() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("holidays.txt");
    write_holidays(&file, &[]);
    let path = file.clone();
    let app = spawn_app_with(move |s| {
        s.calendar.zone = BERLIN;
        s.calendar.holidays_file = Some(path);
        s.calendar.reload_interval = Duration::from_millis(50);
    })
    .await;
    let file_one = |n: String| {
        let app = &app;
        async move {
            let decision = app.decision_for(&n, "subject-1").await;
            let res = app.file_appeal_as_subject(&decision, "subject-1").await;
            assert_eq!(res.status(), StatusCode::CREATED);
            let appeal: Value = res.json().await.unwrap();
            (time(&appeal["received_at"]), time(&appeal["due_at"]))
        }
    };
    let (received, due) = file_one("r-1".into()).await;
    assert_eq!(due, expected_due(received, BERLIN, &BTreeSet::new()));

    // Make that due day a holiday: once the file is reloaded, the next appeal's deadline moves.
    let holiday = due.with_timezone(&BERLIN).date_naive();
    let holidays: BTreeSet<NaiveDate> = [holiday].into();
    write_holidays(&file, &[holiday]);
    let mut attempt = 0;
    let (received, due) = loop {
        attempt += 1;
        let (received, due) = file_one(format!("r-2-{attempt}")).await;
        if due == expected_due(received, BERLIN, &holidays) || attempt == 50 {
            break (received, due);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(
        due,
        expected_due(received, BERLIN, &holidays),
        "not reloaded after {attempt} tries"
    );
    assert!(due.with_timezone(&BERLIN).date_naive() > holiday, "{due}");

    // A file that no longer parses keeps the calendar in force.
    std::fs::write(&file, "2026-12-25\nnot a date\n").unwrap();
    tokio::time::sleep(Duration::from_millis(500)).await;
    let (received, due) = file_one("r-3".into()).await;
    assert_eq!(due, expected_due(received, BERLIN, &holidays));
}

#[tokio::test]
async fn an_extension_adds_its_months_to_the_original_end_not_to_receipt() {
    use diesel::prelude::*;
    use recourse::db::schema::appeals::dsl;
    let app = spawn_app().await;
    let appeal = app.queued_appeal("x-1", "subject-1").await;
    // Received on 31 January next year: the period ends on the last day of February.
    let year = Utc::now().year() + 1;
    let received = Utc.with_ymd_and_hms(year, 1, 31, 9, 0, 0).unwrap();
    let due = expected_due(received, Tz::UTC, &BTreeSet::new());
    let id = appeal.clone();
    app.with_db(move |c| {
        diesel::update(dsl::appeals.find(id))
            .set((
                dsl::received_at.eq(received.naive_utc()),
                dsl::due_at.eq(due.naive_utc()),
            ))
            .execute(c)
    })
    .await;

    let res = app
        .post_json(
            &format!("/v1/appeals/{appeal}/extension"),
            &app.token_for(Role::Supervisor),
            &json!({"months": 2, "reason": "Awaiting bank records"}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let after: Value = res.json().await.unwrap();
    let new_due = time(&after["due_at"]);

    // The end of February + 2 months: 28 (or 29) April, moved past a weekend if need be.
    let february_end = NaiveDate::from_ymd_opt(year, 3, 1).unwrap().pred_opt().unwrap();
    let april = february_end.checked_add_months(Months::new(2)).unwrap();
    assert_eq!(april.month(), 4);
    assert_eq!(new_due, end_of_local_day(Tz::UTC, roll(april, &BTreeSet::new())));
    assert_eq!(new_due, expected_extended(received, Tz::UTC, &BTreeSet::new(), 2));
    // Receipt + 3 months would be 30 April: the strict reading is earlier.
    let receipt_plus_three = received.checked_add_months(Months::new(3)).unwrap();
    assert!(new_due < receipt_plus_three, "{new_due} vs {receipt_plus_three}");
    let notice = after["notices"][1]["body"].as_str().unwrap();
    assert!(
        notice.contains(&format!("reply by {}.", long_date(new_due.date_naive()))),
        "{notice}"
    );
}

#[tokio::test]
async fn a_bad_holiday_file_stops_start_up_naming_the_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("feiertage.txt");
    std::fs::write(&file, "# Feiertage\n2026-12-25\n2026-12-26\n26.12.2026\n").unwrap();
    let mut settings = recourse::config::Settings::for_database(
        recourse::db::DatabaseUrl::parse(dir.path().join("r.db").to_str().unwrap()).unwrap(),
        crate::helpers::hs256_args(),
    );
    settings.bind = "127.0.0.1:0".parse().unwrap();
    settings.calendar.holidays_file = Some(file);
    let Err(e) = recourse::startup::Application::build(settings).await else {
        panic!("started with a bad holiday file");
    };
    let message = recourse::error::cause_chain(&e);
    assert!(message.contains("feiertage.txt: line 4"), "{message}");
    assert!(message.contains("26.12.2026"), "{message}");
}

#[test]
fn an_unknown_time_zone_stops_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_recourse"))
        .args(["serve", "--bind", "127.0.0.1:0", "--legal-time-zone", "Europe/Atlantis"])
        .arg("--database-url")
        .arg(dir.path().join("r.db"))
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("Europe/Atlantis") && stderr.contains("IANA"),
        "{stderr}"
    );
}

#[test]
fn the_calendar_flags_have_environment_variables() {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_recourse"))
        .args(["serve", "--help"])
        .output()
        .unwrap();
    assert!(output.status.success());
    let help = String::from_utf8(output.stdout).unwrap();
    for (flag, env) in [
        ("--legal-time-zone", "RECOURSE_LEGAL_TIME_ZONE"),
        ("--legal-holidays", "RECOURSE_LEGAL_HOLIDAYS"),
        ("--legal-holidays-reload", "RECOURSE_LEGAL_HOLIDAYS_RELOAD"),
    ] {
        assert!(
            help.contains(flag) && help.contains(env),
            "{flag} / {env} missing from:\n{help}"
        );
    }
}

#[tokio::test]
async fn a_kill_switch_review_task_counts_in_the_controllers_zone_too() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("holidays.txt");
    let plain = expected_due_on(Utc::now(), BERLIN, &BTreeSet::new());
    let holidays: BTreeSet<NaiveDate> = [plain].into();
    write_holidays(&file, &[plain]);
    let path = file.clone();
    let app = spawn_app_with(move |s| {
        s.calendar.zone = BERLIN;
        s.calendar.holidays_file = Some(path);
    })
    .await;
    app.decision_for("before", "subject-0").await;
    let res = app
        .post_json(
            "/v1/models/limits/suspension",
            &app.token_for(Role::Supervisor),
            &json!({"reason": "Drift alarm"}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let res = app
        .post_decision("engine-1", &crate::helpers::decision_body("during", "subject-1"))
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    app.configure_reviewer("rev-1", &["credit_limit"], 5).await;
    let (_, _, claimed) = app.claim("rev-1").await.expect("the review task is claimable");
    assert_eq!(claimed["appeal"]["queue"], "mandatory_review");
    let received = time(&claimed["appeal"]["received_at"]);
    assert_eq!(
        time(&claimed["appeal"]["due_at"]),
        expected_due(received, BERLIN, &holidays)
    );
}

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::json;

use super::repo::{self, InitialViewRow};
use crate::appeals::model::{AppealDetail, AppealRow};
use crate::appeals::queue::service::{Case, Lease, case_in_tx};
use crate::appeals::routing::repo as routing_repo;
use crate::appeals::service::{audit_appeal, detail_in_tx, load_appeal};
use crate::appeals::{AppealError, repo as appeal_repo};
use crate::audit;
use crate::db::{self, Db, DbConnection, write_tx};
use crate::decisions::{self, Decision};
use crate::domain::appeal::AppealStatus;
use crate::domain::review::ValidReview;
use crate::domain::validation::Checker;
use crate::domain::{Actor, FieldError, Role};

/// One queue as a reviewer sees it.
#[derive(Debug, Clone, Serialize)]
pub struct QueueLine {
    pub name: String,
    pub description: String,
    pub blind_first: bool,
    /// All queued appeals.
    pub depth: i64,
    /// Queued appeals this reviewer may claim.
    pub eligible: i64,
    /// The nearest deadline among the appeals this reviewer may claim.
    pub nearest_due_at: Option<DateTime<Utc>>,
}

/// A case the reviewer holds a live lease on.
#[derive(Debug, Clone, Serialize)]
pub struct MyCase {
    pub appeal_id: String,
    pub decision_type: String,
    pub queue: String,
    pub due_at: DateTime<Utc>,
    pub lease_expires_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ReviewerOverview {
    /// Whether an admin has configured this reviewer (authorities and capacity).
    pub configured: bool,
    pub authorities: Vec<String>,
    pub capacity: i32,
    pub queues: Vec<QueueLine>,
    pub cases: Vec<MyCase>,
}

/// The queues a reviewer may work, with what waits there for them, and the cases they hold.
#[tracing::instrument(skip_all, fields(reviewer = %actor.id))]
pub async fn reviewer_overview(db: &Db, actor: Actor) -> Result<ReviewerOverview, AppealError> {
    let queues = crate::appeals::routing::service::list_queues(db)
        .await
        .map_err(|e| match e {
            crate::appeals::routing::RoutingError::Db(e) => AppealError::Db(e),
            crate::appeals::routing::RoutingError::Invalid(errors) => AppealError::Invalid(errors),
        })?;
    db.run(move |conn| {
        let reviewer = routing_repo::reviewer(conn, &actor.id)?;
        let authorities = reviewer
            .as_ref()
            .map(|r| crate::appeals::routing::service::parse_authorities(&r.authorities))
            .unwrap_or_default();
        let eligible: HashMap<String, (i64, Option<chrono::NaiveDateTime>)> =
            repo::eligible_depths(conn, &actor.id, &authorities)?
                .into_iter()
                .map(|(q, n, due)| (q, (n, due)))
                .collect();
        let queues = queues
            .into_iter()
            .map(|q| {
                let (n, due) = eligible.get(&q.name).copied().unwrap_or((0, None));
                QueueLine {
                    name: q.name,
                    description: q.description,
                    blind_first: q.blind_first,
                    depth: q.depth,
                    eligible: n,
                    nearest_due_at: due.map(|d| d.and_utc()),
                }
            })
            .collect();
        let cases = repo::live_leases_of(conn, &actor.id, db::now())?
            .into_iter()
            .map(|a| MyCase {
                appeal_id: a.id,
                decision_type: a.decision_type,
                queue: a.queue,
                due_at: a.due_at.and_utc(),
                lease_expires_at: a.lease_expires_at.map(|t| t.and_utc()),
            })
            .collect();
        Ok(ReviewerOverview {
            configured: reviewer.is_some(),
            capacity: reviewer.map(|r| r.capacity).unwrap_or(0),
            authorities,
            queues,
            cases,
        })
    })
    .await
}

/// A reviewer's first impression of a case, before seeing what the model decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Leaning {
    /// The facts support what the subject asks for.
    Favourable,
    /// The facts support the original outcome.
    Unfavourable,
    Unsure,
}

impl Leaning {
    pub const ALL: [Leaning; 3] = [Leaning::Favourable, Leaning::Unfavourable, Leaning::Unsure];

    pub fn as_str(self) -> &'static str {
        match self {
            Leaning::Favourable => "favourable",
            Leaning::Unfavourable => "unfavourable",
            Leaning::Unsure => "unsure",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|l| l.as_str() == s)
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct InitialView {
    pub leaning: String,
    pub note: Option<String>,
    pub recorded_at: DateTime<Utc>,
}

impl From<InitialViewRow> for InitialView {
    fn from(r: InitialViewRow) -> Self {
        Self {
            leaning: r.leaning,
            note: r.note,
            recorded_at: r.recorded_at.and_utc(),
        }
    }
}

/// The case behind the reviewer's live lease. In a blind-first queue, until the reviewer has
/// recorded an initial view, everything that shows what the model decided is withheld here, in
/// the service, so no screen can show it by mistake.
#[derive(Debug, Serialize)]
pub struct LeasedCase {
    pub case: Case,
    pub lease: Lease,
    pub blind_first: bool,
    pub initial_view: Option<InitialView>,
}

impl LeasedCase {
    /// Whether the model's outcome and score may be shown.
    pub fn revealed(&self) -> bool {
        !self.blind_first || self.initial_view.is_some()
    }
}

/// Removes the model's outcome, score and reasoning from a case (blind-first).
fn blind(case: &mut Case) {
    let d = &mut case.decision;
    d.outcome.clear();
    d.effective_outcome.clear();
    d.score = None;
    d.threshold = None;
    d.explanation.contributions.clear();
    d.explanation.reason_codes.clear();
    d.explanation.counterfactual = None;
    for entry in &mut case.history {
        entry.reviews.clear();
    }
}

/// Loads the appeal and checks that `actor` holds its live lease.
fn leased_row(conn: &mut DbConnection, actor: &Actor, id: &str) -> Result<AppealRow, AppealError> {
    let row = load_appeal(conn, id)?;
    let live = row.status()? == AppealStatus::InReview
        && row.reviewer_id.as_deref() == Some(actor.id.as_str())
        && row.lease_expires_at.is_some_and(|t| t > db::now());
    if live { Ok(row) } else { Err(AppealError::StaleLease) }
}

fn is_blind_first(conn: &mut DbConnection, queue: &str) -> Result<bool, AppealError> {
    Ok(routing_repo::queue(conn, queue)?.is_some_and(|q| q.blind_first))
}

#[tracing::instrument(skip_all, fields(appeal_id = %id))]
pub async fn leased_case(db: &Db, actor: Actor, id: String) -> Result<LeasedCase, AppealError> {
    db.run(move |conn| {
        write_tx(conn, |conn| {
            let row = leased_row(conn, &actor, &id)?;
            let blind_first = is_blind_first(conn, &row.queue)?;
            let initial_view = repo::initial_view(conn, &id, &actor.id)?.map(InitialView::from);
            let mut case = case_in_tx(conn, &row)?;
            let revealed = !blind_first || initial_view.is_some();
            if !revealed {
                blind(&mut case);
            }
            audit_appeal(
                conn,
                &actor,
                "appeal.case_viewed",
                &id,
                json!({"model_revealed": revealed}),
            )?;
            Ok(LeasedCase {
                lease: Lease {
                    token: row.lease_token.clone().unwrap_or_default(),
                    expires_at: row.lease_expires_at.map(|t| t.and_utc()).unwrap_or_else(Utc::now),
                },
                case,
                blind_first,
                initial_view,
            })
        })
    })
    .await
}

/// Records the reviewer's initial view of a blind-first case. Needs the current lease token,
/// like every other step on a leased case. Recording it twice keeps the first.
#[tracing::instrument(skip_all, fields(appeal_id = %id))]
pub async fn record_initial_view(
    db: &Db,
    actor: Actor,
    id: String,
    lease_token: String,
    leaning: Option<Leaning>,
    note: Option<String>,
) -> Result<(), AppealError> {
    let mut c = Checker::default();
    if leaning.is_none() {
        c.fail(
            "/leaning",
            "choose what the facts seem to support before the model's view is shown",
        );
    }
    if let Some(note) = &note {
        c.prose("/note", note, 2000);
    }
    let leaning = c
        .finish(leaning)
        .map_err(AppealError::Invalid)?
        .unwrap_or(Leaning::Unsure);
    db.run(move |conn| {
        write_tx(conn, |conn| {
            let row = leased_row(conn, &actor, &id)?;
            if row.lease_token.as_deref() != Some(lease_token.as_str()) {
                return Err(AppealError::StaleLease);
            }
            if repo::initial_view(conn, &id, &actor.id)?.is_some() {
                return Ok(());
            }
            repo::insert_initial_view(
                conn,
                &InitialViewRow {
                    appeal_id: id.clone(),
                    reviewer_id: actor.id.clone(),
                    leaning: leaning.as_str().to_owned(),
                    note,
                    recorded_at: db::now(),
                },
            )?;
            audit_appeal(
                conn,
                &actor,
                "appeal.initial_view_recorded",
                &id,
                json!({"leaning": leaning.as_str()}),
            )?;
            Ok(())
        })
    })
    .await
}

/// Submits a review through the review service, after checking the blind-first rule: in a
/// blind-first queue the reviewer must have recorded an initial view first.
#[tracing::instrument(skip_all, fields(appeal_id = %id))]
pub async fn submit_review(
    db: &Db,
    calendar: &crate::calendar::CalendarHandle,
    actor: Actor,
    id: String,
    review: ValidReview,
) -> Result<AppealDetail, AppealError> {
    let (check_id, check_actor) = (id.clone(), actor.id.clone());
    db.run(move |conn| {
        let row = load_appeal(conn, &check_id)?;
        if is_blind_first(conn, &row.queue)? && repo::initial_view(conn, &check_id, &check_actor)?.is_none() {
            return Err(AppealError::Invalid(vec![FieldError::new(
                "/initial_view",
                "this queue is blind-first: record your initial view before reviewing",
            )]));
        }
        Ok(())
    })
    .await?;
    crate::appeals::reviews::service::submit(db, calendar, actor, id, review).await
}

/// A decision with its appeals (each with notices and outcome), as the viewer may see them.
#[derive(Debug, Serialize)]
pub struct DecisionFile {
    pub decision: Decision,
    pub appeals: Vec<AppealDetail>,
}

impl DecisionFile {
    /// The appeal still open on this decision, if any.
    pub fn open_appeal(&self) -> Option<&AppealDetail> {
        self.appeals.iter().find(|a| a.appeal.status.is_open())
    }
}

fn file_in_tx(
    conn: &mut DbConnection,
    viewer: Role,
    row: decisions::model::DecisionRow,
) -> Result<DecisionFile, AppealError> {
    let appeals = appeal_repo::for_decision(conn, &row.id)?
        .iter()
        .map(|a| detail_in_tx(conn, a, viewer))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(DecisionFile {
        decision: Decision::try_from(row)?,
        appeals,
    })
}

/// Most decisions listed for one subject on one screen.
pub const MAX_FILES: i64 = 200;

/// A subject's decisions with their appeals, newest first. A subject asking for anyone else's
/// gets `NotFound`; a staff lookup is audited.
#[tracing::instrument(skip_all)]
pub async fn subject_files(db: &Db, actor: Actor, subject_id: String) -> Result<Vec<DecisionFile>, AppealError> {
    if !actor.may_read_subject(&subject_id) {
        return Err(if actor.is(Role::Subject) {
            AppealError::NotFound
        } else {
            AppealError::Forbidden(format!("role '{}' may not read subjects' decisions", actor.role))
        });
    }
    audit::access::read(db, actor.role, move |conn| {
        let rows = decisions::repo::page_for_subject(conn, &subject_id, None, None, MAX_FILES)?;
        let ids: Vec<String> = rows.iter().map(|r| r.id.clone()).collect();
        audit::access::record_reads(conn, &actor, "decision", &ids, "subject_lookup")?;
        let mut files = rows
            .into_iter()
            .map(|row| file_in_tx(conn, actor.role, row))
            .collect::<Result<Vec<_>, _>>()?;
        files.reverse();
        Ok(files)
    })
    .await
}

/// One decision with its appeals. `NotFound` unless the viewer may read it.
#[tracing::instrument(skip_all, fields(decision_id = %decision_id))]
pub async fn decision_file(db: &Db, actor: Actor, decision_id: String) -> Result<DecisionFile, AppealError> {
    audit::access::read(db, actor.role, move |conn| {
        let row = decisions::repo::find(conn, &decision_id)?
            .filter(|row| actor.may_read_subject(&row.subject_id))
            .ok_or(AppealError::NotFound)?;
        audit::access::record_reads(conn, &actor, "decision", std::slice::from_ref(&row.id), "decision_file")?;
        file_in_tx(conn, actor.role, row)
    })
    .await
}

/// Whether a decision was ever appealed (demo seeding stays idempotent with it).
pub async fn ever_appealed(db: &Db, decision_id: String) -> Result<bool, AppealError> {
    db.run(move |conn| Ok(repo::any_appeal(conn, &decision_id)?)).await
}

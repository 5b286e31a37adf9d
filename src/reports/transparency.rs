//! The transparency report (DSA Art. 15(1)(d), GDPR Art. 22 practice): how many appeals came in,
//! on what grounds, how they ended, how long they took, how many decisions were reversed, how
//! many were answered within the legal deadline, and how many deadlines were extended. Only
//! complaints count: review tasks filed by the system itself are left out.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use serde::Serialize;

use crate::appeals::AppealError;
use crate::db::schema::{appeals, reviews};
use crate::db::{Db, DbConnection, DbError};

/// What the report needs to know about one appeal.
#[derive(Debug, Clone)]
pub struct AppealFacts {
    pub decision_type: String,
    pub grounds: Vec<String>,
    pub status: String,
    pub received_at: NaiveDateTime,
    pub due_at: NaiveDateTime,
    pub decided_at: Option<NaiveDateTime>,
    pub extended: bool,
    /// `uphold`, `overturn` or `amend` once a human outcome is in force.
    pub outcome: Option<String>,
}

#[derive(Debug, Serialize, PartialEq, utoipa::ToSchema)]
pub struct TransparencyReport {
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    pub appeals_received: usize,
    pub by_decision_type: BTreeMap<String, usize>,
    pub by_ground: BTreeMap<String, usize>,
    /// Human outcomes in force, plus `pending` and `withdrawn`.
    pub outcomes: BTreeMap<String, usize>,
    /// Overturned or amended.
    pub reversed: usize,
    pub reversal_rate: Option<f64>,
    pub median_handling_hours: Option<f64>,
    /// Share of decided appeals answered by their deadline (as extended).
    pub decided_within_deadline: Option<f64>,
    pub extensions_used: usize,
}

/// Folds appeal facts into the report. Pure, so it is unit-tested without a database.
pub fn summarize(from: DateTime<Utc>, to: DateTime<Utc>, appeals: &[AppealFacts]) -> TransparencyReport {
    let mut by_decision_type = BTreeMap::new();
    let mut by_ground = BTreeMap::new();
    let mut outcomes = BTreeMap::new();
    let mut hours = Vec::new();
    let (mut decided, mut on_time, mut extensions) = (0usize, 0usize, 0usize);
    for a in appeals {
        *by_decision_type.entry(a.decision_type.clone()).or_insert(0) += 1;
        for g in &a.grounds {
            *by_ground.entry(g.clone()).or_insert(0) += 1;
        }
        let outcome = match (&a.outcome, a.status.as_str()) {
            (Some(o), _) => o.clone(),
            (None, "withdrawn") => "withdrawn".to_owned(),
            (None, _) => "pending".to_owned(),
        };
        *outcomes.entry(outcome).or_insert(0) += 1;
        if a.extended {
            extensions += 1;
        }
        if let (Some(at), Some(_)) = (a.decided_at, &a.outcome) {
            decided += 1;
            hours.push((at - a.received_at).num_seconds() as f64 / 3600.0);
            if at <= a.due_at {
                on_time += 1;
            }
        }
    }
    let reversed = outcomes.get("overturn").copied().unwrap_or(0) + outcomes.get("amend").copied().unwrap_or(0);
    hours.sort_by(f64::total_cmp);
    let median = match hours.len() {
        0 => None,
        n if n % 2 == 1 => Some(hours[n / 2]),
        n => Some((hours[n / 2 - 1] + hours[n / 2]) / 2.0),
    };
    TransparencyReport {
        from,
        to,
        appeals_received: appeals.len(),
        by_decision_type,
        by_ground,
        outcomes,
        reversed,
        reversal_rate: (decided > 0).then(|| reversed as f64 / decided as f64),
        median_handling_hours: median,
        decided_within_deadline: (decided > 0).then(|| on_time as f64 / decided as f64),
        extensions_used: extensions,
    }
}

impl TransparencyReport {
    /// The same figures as `metric,value` lines.
    pub fn to_csv(&self) -> String {
        let mut out = String::from("metric,value\n");
        let opt = |v: Option<f64>| v.map(|v| format!("{v:.4}")).unwrap_or_default();
        out.push_str(&format!(
            "from,{}\nto,{}\n",
            self.from.to_rfc3339(),
            self.to.to_rfc3339()
        ));
        out.push_str(&format!("appeals_received,{}\n", self.appeals_received));
        for (k, v) in &self.by_decision_type {
            out.push_str(&format!("decision_type:{k},{v}\n"));
        }
        for (k, v) in &self.by_ground {
            out.push_str(&format!("ground:{k},{v}\n"));
        }
        for (k, v) in &self.outcomes {
            out.push_str(&format!("outcome:{k},{v}\n"));
        }
        out.push_str(&format!(
            "reversed,{}\nreversal_rate,{}\n",
            self.reversed,
            opt(self.reversal_rate)
        ));
        out.push_str(&format!("median_handling_hours,{}\n", opt(self.median_handling_hours)));
        out.push_str(&format!(
            "decided_within_deadline,{}\n",
            opt(self.decided_within_deadline)
        ));
        out.push_str(&format!("extensions_used,{}\n", self.extensions_used));
        out
    }
}

type Row = (
    String,
    String,
    String,
    NaiveDateTime,
    NaiveDateTime,
    Option<NaiveDateTime>,
    Option<String>,
    String,
);

fn load(conn: &mut DbConnection, from: NaiveDateTime, to: NaiveDateTime) -> Result<Vec<AppealFacts>, DbError> {
    let rows: Vec<Row> = appeals::table
        // Complaints are what people filed. Review tasks the system files itself (a suspended
        // model's decisions, AI Act Art. 26(5)) are nobody's complaint and are not counted.
        .filter(appeals::filed_by_role.ne(crate::domain::Role::System.as_str()))
        .filter(appeals::received_at.ge(from))
        .filter(appeals::received_at.lt(to))
        .select((
            appeals::decision_type,
            appeals::grounds,
            appeals::status,
            appeals::received_at,
            appeals::due_at,
            appeals::decided_at,
            appeals::extension_reason,
            appeals::id,
        ))
        .load(conn)?;
    let ids: Vec<&str> = rows.iter().map(|r| r.7.as_str()).collect();
    let outcomes: BTreeMap<String, String> = reviews::table
        .filter(reviews::appeal_id.eq_any(&ids))
        .filter(reviews::status.eq_any(crate::appeals::model::review_status::EFFECTIVE))
        .select((reviews::appeal_id, reviews::outcome))
        .load::<(String, String)>(conn)?
        .into_iter()
        .collect();
    Ok(rows
        .into_iter()
        .map(
            |(decision_type, grounds, status, received_at, due_at, decided_at, extension, id)| AppealFacts {
                decision_type,
                grounds: serde_json::from_str(&grounds).unwrap_or_default(),
                status,
                received_at,
                due_at,
                decided_at,
                extended: extension.is_some(),
                outcome: outcomes.get(&id).cloned(),
            },
        )
        .collect())
}

pub async fn transparency(db: &Db, from: DateTime<Utc>, to: DateTime<Utc>) -> Result<TransparencyReport, AppealError> {
    if to <= from {
        return Err(AppealError::invalid("/to", "must be after from"));
    }
    let facts = db
        .run(move |conn| load(conn, from.naive_utc(), to.naive_utc()).map_err(AppealError::from))
        .await?;
    Ok(summarize(from, to, &facts))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> NaiveDateTime {
        s.parse().unwrap()
    }

    fn facts(outcome: Option<&str>, status: &str, decided: Option<&str>, extended: bool) -> AppealFacts {
        AppealFacts {
            decision_type: "credit_limit".into(),
            grounds: vec!["inaccurate_data".into()],
            status: status.into(),
            received_at: t("2026-01-01T00:00:00"),
            due_at: t("2026-02-01T00:00:00"),
            decided_at: decided.map(t),
            extended,
            outcome: outcome.map(str::to_owned),
        }
    }

    #[test]
    fn counts_rates_median_and_deadline_share() {
        let appeals = vec![
            facts(Some("overturn"), "decided", Some("2026-01-01T10:00:00"), false),
            facts(Some("uphold"), "decided", Some("2026-01-01T20:00:00"), true),
            facts(Some("amend"), "decided", Some("2026-02-05T00:00:00"), false),
            facts(None, "queued", None, false),
            facts(None, "withdrawn", None, false),
        ];
        let r = summarize(Utc::now(), Utc::now(), &appeals);
        assert_eq!(r.appeals_received, 5);
        assert_eq!(r.reversed, 2);
        assert_eq!(r.reversal_rate, Some(2.0 / 3.0));
        assert_eq!(r.median_handling_hours, Some(20.0));
        assert_eq!(r.decided_within_deadline, Some(2.0 / 3.0));
        assert_eq!(r.extensions_used, 1);
        assert_eq!(r.outcomes["pending"], 1);
        assert_eq!(r.outcomes["withdrawn"], 1);
        assert_eq!(r.by_ground["inaccurate_data"], 5);
        assert!(r.to_csv().contains("appeals_received,5\n"));
    }

    #[test]
    fn an_empty_window_has_no_rates() {
        let r = summarize(Utc::now(), Utc::now(), &[]);
        assert_eq!(
            (r.reversal_rate, r.median_handling_hours, r.decided_within_deadline),
            (None, None, None)
        );
    }
}

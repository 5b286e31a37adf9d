//! Charts as inline SVG, drawn on the server: no script, no external asset. Colours come from
//! classes in app.css (the content security policy allows no inline styles). Every chart has a
//! title and a text description for screen readers, and the pages show the numbers as text too.

use maud::{Markup, html};

use super::format::{num, percent};
use crate::domain::decision::Contribution;
use crate::reports::{ModelRate, SlaBuckets};
use crate::ui::words::humanize;

const WIDTH: f64 = 640.0;

fn px(v: f64) -> String {
    format!("{v:.1}")
}

/// The `svg` element of every chart: `WIDTH` wide and `height` high, labelled by its `title`
/// and described by `desc` for screen readers.
fn frame(id: &str, class: &str, height: f64, title: &str, desc: &str, content: Markup) -> Markup {
    html! {
        svg class=(class) id=(id) role="img" viewBox=(format!("0 0 {WIDTH} {height}")) width="100%"
            aria-labelledby=(format!("{id}-title {id}-desc")) xmlns="http://www.w3.org/2000/svg" {
            title id=(format!("{id}-title")) { (title) }
            desc id=(format!("{id}-desc")) { (desc) }
            (content)
        }
    }
}

/// Horizontal bars diverging from zero: how much each input pushed the score up or down.
pub fn contributions(id: &str, items: &[Contribution]) -> Markup {
    let mut sorted: Vec<&Contribution> = items.iter().collect();
    sorted.sort_by(|a, b| b.weight.abs().total_cmp(&a.weight.abs()));
    let max = sorted.iter().map(|c| c.weight.abs()).fold(0.0_f64, f64::max).max(1e-9);
    let row = 30.0;
    let label_w = 210.0;
    let half = (WIDTH - label_w - 20.0) / 2.0;
    let zero = label_w + half;
    let height = row * sorted.len() as f64 + 30.0;
    let desc = sorted
        .iter()
        .map(|c| format!("{}: {}", humanize(&c.feature), num(c.weight)))
        .collect::<Vec<_>>()
        .join("; ");
    let bars = html! {
        text.axis-label x=(px(zero - 6.0)) y="14" text-anchor="end" { "lowers the score" }
        text.axis-label x=(px(zero + 6.0)) y="14" { "raises the score" }
        @for (i, c) in sorted.iter().enumerate() {
            @let y = 24.0 + row * i as f64;
            @let len = (c.weight.abs() / max) * (half - 50.0);
            @let x = if c.weight < 0.0 { zero - len } else { zero };
            text.bar-label x=(px(label_w - 8.0)) y=(px(y + 15.0)) text-anchor="end" { (humanize(&c.feature)) }
            rect class=(if c.weight < 0.0 { "bar bar-neg" } else { "bar bar-pos" })
                x=(px(x)) y=(px(y + 2.0)) width=(px(len.max(1.0))) height="18" {}
            text.bar-value
                x=(px(if c.weight < 0.0 { x - 4.0 } else { x + len + 4.0 }))
                y=(px(y + 15.0))
                text-anchor=(if c.weight < 0.0 { "end" } else { "start" }) { (num(c.weight)) }
        }
        line.axis x1=(px(zero)) x2=(px(zero)) y1="20" y2=(px(height - 4.0)) {}
    };
    frame(id, "chart", height, "How much each input counted", &desc, bars)
}

/// Where the score fell against the threshold, on one scale.
pub fn score_gauge(id: &str, score: f64, threshold: Option<f64>) -> Markup {
    let lo = [0.0, score, threshold.unwrap_or(0.0)]
        .into_iter()
        .fold(f64::INFINITY, f64::min);
    let hi = [1.0, score, threshold.unwrap_or(1.0)]
        .into_iter()
        .fold(f64::NEG_INFINITY, f64::max);
    let (left, right) = (20.0, WIDTH - 20.0);
    let at = |v: f64| left + (v - lo) / (hi - lo).max(1e-9) * (right - left);
    let summary = match threshold {
        Some(t) if score >= t => format!("Score {} is at or above the threshold {}.", num(score), num(t)),
        Some(t) => format!("Score {} is below the threshold {}.", num(score), num(t)),
        None => format!("Score {}; no threshold was given.", num(score)),
    };
    let scale = html! {
        rect.track x=(px(left)) y="34" width=(px(right - left)) height="8" rx="4" {}
        text.tick x=(px(left)) y="62" text-anchor="start" { (num(lo)) }
        text.tick x=(px(right)) y="62" text-anchor="end" { (num(hi)) }
        @if let Some(t) = threshold {
            line.threshold x1=(px(at(t))) x2=(px(at(t))) y1="22" y2="54" {}
            text.threshold-label x=(px(at(t))) y="16" text-anchor="middle" { "threshold " (num(t)) }
        }
        circle.score-dot cx=(px(at(score))) cy="38" r="8" {}
        text.score-label x=(px(at(score))) y="68" text-anchor="middle" { "score " (num(score)) }
    };
    frame(id, "chart gauge", 74.0, "Score against threshold", &summary, scale)
}

/// Per model version, the share of reviewed decisions overturned, amended and upheld.
pub fn overturn_rates(id: &str, models: &[ModelRate]) -> Markup {
    let row = 34.0;
    let label_w = 230.0;
    let bar_w = WIDTH - label_w - 130.0;
    let height = row * models.len() as f64 + 34.0;
    let desc = models
        .iter()
        .map(|m| {
            format!(
                "{} {}: {} overturned, {} amended of {} reviewed",
                m.model_name,
                m.model_version,
                percent(m.overturn_rate()),
                percent(m.amend_rate()),
                m.decided()
            )
        })
        .collect::<Vec<_>>()
        .join("; ");
    let bars = html! {
        rect.seg-overturn x=(px(label_w)) y="4" width="12" height="12" {}
        text.legend x=(px(label_w + 16.0)) y="14" { "overturned" }
        rect.seg-amend x=(px(label_w + 110.0)) y="4" width="12" height="12" {}
        text.legend x=(px(label_w + 126.0)) y="14" { "amended" }
        rect.seg-uphold x=(px(label_w + 210.0)) y="4" width="12" height="12" {}
        text.legend x=(px(label_w + 226.0)) y="14" { "upheld" }
        @for (i, m) in models.iter().enumerate() {
            @let y = 26.0 + row * i as f64;
            @let o = m.overturn_rate() * bar_w;
            @let a = m.amend_rate() * bar_w;
            @let u = bar_w - o - a;
            text.bar-label x=(px(label_w - 8.0)) y=(px(y + 15.0)) text-anchor="end" {
                (m.model_name) " " (m.model_version) " (n=" (m.decided()) ")"
            }
            rect.seg-overturn x=(px(label_w)) y=(px(y + 2.0)) width=(px(o)) height="18" {}
            rect.seg-amend x=(px(label_w + o)) y=(px(y + 2.0)) width=(px(a)) height="18" {}
            rect.seg-uphold x=(px(label_w + o + a)) y=(px(y + 2.0)) width=(px(u.max(0.0))) height="18" {}
            text.bar-value x=(px(label_w + bar_w + 6.0)) y=(px(y + 15.0)) {
                (percent(m.overturn_rate())) " overturned"
            }
        }
    };
    frame(id, "chart", height, "Overturn rate by model and version", &desc, bars)
}

/// Open appeals by time left on the legal clock.
pub fn sla_burndown(id: &str, sla: &SlaBuckets) -> Markup {
    let buckets = [
        ("Overdue", sla.overdue, "sla-overdue"),
        ("Due in under 3 days", sla.within_3_days, "sla-3"),
        ("Due in 3 to 7 days", sla.within_7_days, "sla-7"),
        ("Due in 7 days or more", sla.later, "sla-later"),
    ];
    let max = buckets.iter().map(|b| b.1).max().unwrap_or(0).max(1) as f64;
    let (top, base) = (24.0, 150.0);
    let col = WIDTH / 4.0;
    let desc = buckets
        .iter()
        .map(|(label, n, _)| format!("{label}: {n}"))
        .collect::<Vec<_>>()
        .join("; ");
    let columns = html! {
        @for (i, (label, n, class)) in buckets.iter().enumerate() {
            @let h = (*n as f64 / max) * (base - top);
            @let x = col * i as f64 + col * 0.2;
            rect class=(format!("bar {class}")) x=(px(x)) y=(px(base - h)) width=(px(col * 0.6)) height=(px(h.max(1.0))) {}
            text.bar-value x=(px(x + col * 0.3)) y=(px(base - h - 6.0)) text-anchor="middle" { (n) }
            text.bar-label x=(px(x + col * 0.3)) y="172" text-anchor="middle" { (label) }
        }
        line.axis x1="0" x2=(px(WIDTH)) y1=(px(base)) y2=(px(base)) {}
    };
    frame(
        id,
        "chart",
        190.0,
        "SLA burn-down: open appeals by time left",
        &desc,
        columns,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn charts_are_self_describing_svg() {
        let c = contributions(
            "c",
            &[
                Contribution {
                    feature: "annual_income".into(),
                    weight: -0.21,
                },
                Contribution {
                    feature: "x".into(),
                    weight: 0.05,
                },
            ],
        )
        .into_string();
        assert!(c.starts_with("<svg"));
        assert!(c.contains("<title id=\"c-title\">") && c.contains("Annual income: -0.21"));
        assert!(c.contains("bar bar-neg") && c.contains("bar bar-pos"));
        assert!(!c.contains("style="), "the CSP forbids inline styles");

        let g = score_gauge("g", 0.41, Some(0.55)).into_string();
        assert!(g.contains("Score 0.41 is below the threshold 0.55."));

        let rates = overturn_rates(
            "o",
            &[ModelRate {
                model_name: "m".into(),
                model_version: "1".into(),
                upheld: 3,
                overturned: 1,
                amended: 0,
            }],
        )
        .into_string();
        assert!(rates.contains("25% overturned") && rates.contains("(n=4)"));

        let sla = sla_burndown(
            "s",
            &SlaBuckets {
                overdue: 2,
                ..Default::default()
            },
        )
        .into_string();
        assert!(sla.contains("Overdue: 2"));
    }
}

//! Casework read models and the blind-first rule, over the appeals, queue and review services:
//! what a reviewer may work on and holds now, the case behind a live lease (with the model's
//! outcome and score withheld in a blind-first queue until the reviewer records an initial
//! view), and a subject's decisions with their appeals for the portal and the agent console.

pub mod repo;
pub mod service;

pub use service::{DecisionFile, InitialView, Leaning, LeasedCase, MyCase, QueueLine, ReviewerOverview};

//! What the import worker hands back to the page (issue 16, first-load size): the HAR is read
//! and graded in a Web Worker built as its own wasm, so neither the reader nor the importer
//! ships in the first load, and the untrusted file is parsed off the page's thread and heap.
//! The [`Report`] crosses as JSON (masks only: the timeline's serialisation skips its secret
//! store); the revealable values cross apart, as [`Revealable`] triples that are never
//! serialised, and go straight back into the page's memory-only store. PURE.

use super::{findings_markdown, Imported, Severity};
use crate::flow::timeline::{Param, StepId, Timeline};
use serde::{Deserialize, Serialize};

/// One import as the page shows it: the rebuilt run (masks only), the findings worst first,
/// what could not be checked, and the Markdown export.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Report {
    /// The file's name, as the person picked it.
    pub file: String,
    /// The tool that wrote the file.
    pub creator: String,
    /// Entries read.
    pub entries: usize,
    /// Entries that were not part of an OAuth exchange.
    pub left_out: usize,
    /// Findings, worst first.
    pub findings: Vec<ReportedFinding>,
    /// What could not be checked, and why.
    pub not_checked: Vec<String>,
    /// The findings as Markdown (untrusted text escaped).
    pub markdown: String,
    /// The rebuilt run: its steps only, each secret as its mask.
    pub timeline: Timeline,
}

/// A finding as the page lists it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReportedFinding {
    /// Fail or warn.
    pub severity: Severity,
    /// The security checklist row (or RFC rule) it comes from.
    pub row: String,
    /// Short title.
    pub title: String,
    /// What the HAR shows (masked; untrusted text sanitized).
    pub detail: String,
    /// The step (row of the diagram) it belongs to.
    pub step: StepId,
}

/// A value the inspector may reveal: (step, parameter name, value). Memory only: it crosses
/// from the worker to the page as plain strings of a message, never as JSON or storage.
pub type Revealable = (StepId, String, String);

/// The worker's side: the report of a finished import, and apart from it the values its
/// timeline keeps to reveal.
pub fn report(imported: Imported, file: &str) -> (Report, Vec<Revealable>) {
    let markdown = findings_markdown(&imported, file);
    let mut revealable = Vec::new();
    for (id, step) in imported.timeline.steps().iter().enumerate() {
        for param in step.params.iter().filter(|p| p.secret) {
            if let Some(value) = imported.timeline.revealable(id, &param.name) {
                revealable.push((id, param.name.clone(), value.expose().to_owned()));
            }
        }
    }
    let report = Report {
        file: file.to_owned(),
        creator: imported.creator,
        entries: imported.entries,
        left_out: imported.left_out,
        findings: imported
            .findings
            .into_iter()
            .map(|f| ReportedFinding {
                severity: f.severity,
                row: f.row.to_owned(),
                title: f.title,
                detail: f.detail,
                step: f.step,
            })
            .collect(),
        not_checked: imported.not_checked,
        markdown,
        timeline: imported.timeline.masked_copy(),
    };
    (report, revealable)
}

/// The page's side: reads the worker's JSON and puts the revealable values back into the
/// timeline's memory-only store (a value for a parameter that is not a secret of that step is
/// ignored, so the worker cannot unmask a public field).
pub fn received(json: &str, revealable: Vec<Revealable>) -> Result<Report, String> {
    let mut report: Report = serde_json::from_str(json).map_err(|e| {
        format!("The import worker's answer was unreadable ({e}); reload the page and try again.")
    })?;
    let mut timeline = Timeline::new();
    for (id, step) in report.timeline.steps().iter().enumerate() {
        let mut step = step.clone();
        for param in step.params.iter_mut().filter(|p| p.secret) {
            if let Some((_, _, value)) = revealable
                .iter()
                .find(|(s, name, _)| *s == id && *name == param.name)
            {
                *param = Param::secret(&param.name, param.shown.clone(), value);
            }
        }
        timeline.push(step);
    }
    report.timeline = timeline;
    Ok(report)
}

//! The progress bar: an observer that draws on a terminal only (indicatif draws nothing when
//! stderr is not a TTY, and we do not even create it then), throttled by indicatif itself.

use decide_core::{Control, Iteration, Observer, Report, RunInfo};
use indicatif::{ProgressBar, ProgressStyle};

/// Shows iterations and the certified gap while a solve runs.
pub struct Progress {
    bar: Option<ProgressBar>,
}

impl Progress {
    /// A bar when `enabled` (a terminal and not `--quiet`), nothing otherwise.
    pub fn new(enabled: bool) -> Self {
        Progress {
            bar: enabled.then(|| {
                let bar = ProgressBar::new_spinner();
                bar.set_style(
                    ProgressStyle::with_template("{spinner} {elapsed_precise} {msg}")
                        .unwrap_or_else(|_| ProgressStyle::default_spinner()),
                );
                bar
            }),
        }
    }
}

impl Observer for Progress {
    fn on_start(&mut self, info: &RunInfo) {
        if let Some(bar) = &self.bar {
            bar.set_message(format!(
                "{} on {} states, {} transitions",
                info.algorithm, info.n_states, info.n_transitions
            ));
        }
    }

    fn on_iteration(&mut self, it: &Iteration) -> Control {
        if let Some(bar) = &self.bar {
            let gap = it
                .policy_gap
                .map_or_else(|| "-".to_string(), |g| format!("{g:.3e}"));
            bar.set_message(format!(
                "iteration {}  change {:.3e}  certified gap {gap}",
                it.index, it.max_change
            ));
            bar.tick();
        }
        Control::Continue
    }

    fn on_finish(&mut self, _report: &Report) {
        if let Some(bar) = self.bar.take() {
            bar.finish_and_clear();
        }
    }
}

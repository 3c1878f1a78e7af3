//! A terminal progress bar for a bulk run (the `indicatif` crate), fed by the same
//! [`Progress`] the `on_progress` callback gets. Behind the `progress-bar` feature.

use std::borrow::Cow;
use std::time::Duration;

use indicatif::{HumanCount, HumanDuration, ProgressStyle};

use std::sync::Arc;

use super::{Bulk, Notify, Progress, Totals};
use crate::Instruct;

/// The bar's layout when the number of inputs is known.
const BAR: &str = "{spinner} [{elapsed_precise}] {bar:30.cyan/blue} {pos}/{len} {msg}";
/// The layout when it is not.
const SPINNER: &str = "{spinner} [{elapsed_precise}] {pos} done {msg}";

/// A terminal progress bar showing a bulk run: items done out of the total (skipped ones
/// count as done), then failed, in flight, tokens used, items per second and the ETA (at
/// the run's rate so far). At the end it shows the totals and stays on screen.
///
/// [`Bulk::progress_bar`](super::Bulk::progress_bar) draws one on standard error; or make
/// one from your own `indicatif` bar and pass it to
/// [`Bulk::progress_bar_with`](super::Bulk::progress_bar_with), or feed it from
/// [`on_progress`](super::Bulk::on_progress) yourself. Needs the `progress-bar` feature.
///
/// ```
/// # async fn demo() -> Result<(), instructor_core::Error> {
/// use instructor_core::{bulk::ProgressBar, Client, testing::ScriptedProvider};
/// let client = Client::new(ScriptedProvider::new().with_text(r#""a""#).with_text(r#""b""#));
/// let bar = ProgressBar::hidden();
/// let totals = client
///     .extract_many::<String>([("1", "first"), ("2", "second")])
///     .progress_bar_with(bar.clone())
///     .run()?
///     .drain()
///     .await;
/// assert_eq!(totals.succeeded, 2);
/// assert_eq!(bar.indicatif().position(), 2);
/// assert!(bar.indicatif().is_finished());
/// # Ok(()) }
/// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(demo()).unwrap();
/// ```
#[derive(Debug, Clone)]
pub struct ProgressBar {
    bar: indicatif::ProgressBar,
}

impl ProgressBar {
    /// A bar drawn on standard error (hidden when it is not a terminal), for `total`
    /// inputs if known, redrawn four times a second.
    ///
    /// ```
    /// let bar = instructor_core::bulk::ProgressBar::new(Some(1000));
    /// assert_eq!(bar.indicatif().length(), Some(1000));
    /// ```
    pub fn new(total: Option<u64>) -> Self {
        let bar = Self::from_indicatif(indicatif::ProgressBar::no_length());
        if let Some(total) = total {
            bar.set_total_if_unknown(total);
        }
        bar.bar.enable_steady_tick(Duration::from_millis(250));
        bar
    }

    /// A bar that draws nothing, whose counts can still be read through
    /// [`indicatif`](Self::indicatif) (for tests, or a run without a terminal).
    ///
    /// ```
    /// let bar = instructor_core::bulk::ProgressBar::hidden();
    /// assert!(bar.indicatif().is_hidden());
    /// ```
    pub fn hidden() -> Self {
        Self::from_indicatif(indicatif::ProgressBar::hidden())
    }

    /// Shows the run on `bar` (hidden, styled, part of a `MultiProgress`...). Its style is
    /// replaced by the bulk layout.
    ///
    /// ```
    /// use instructor_core::bulk::ProgressBar;
    /// let bar = ProgressBar::from_indicatif(indicatif::ProgressBar::hidden());
    /// # let _ = bar;
    /// ```
    pub fn from_indicatif(bar: indicatif::ProgressBar) -> Self {
        let this = Self { bar };
        this.restyle();
        this
    }

    /// The `indicatif` bar underneath.
    ///
    /// ```
    /// let bar = instructor_core::bulk::ProgressBar::new(None);
    /// assert_eq!(bar.indicatif().position(), 0);
    /// ```
    pub fn indicatif(&self) -> &indicatif::ProgressBar {
        &self.bar
    }

    fn restyle(&self) {
        let layout = if self.bar.length().is_some() {
            BAR
        } else {
            SPINNER
        };
        if let Ok(style) = ProgressStyle::with_template(layout) {
            self.bar.set_style(style.progress_chars("=> "));
        }
    }

    /// Sets the number of inputs, unless the bar already has one.
    pub(crate) fn set_total_if_unknown(&self, total: u64) {
        if self.bar.length().is_none() {
            self.bar.set_length(total);
            self.restyle();
        }
    }

    /// Shows where the run stands.
    ///
    /// ```
    /// # use instructor_core::{Client, testing::ScriptedProvider};
    /// # let client = Client::new(ScriptedProvider::new());
    /// use instructor_core::bulk::ProgressBar;
    /// let bar = ProgressBar::new(None);
    /// let bulk = client
    ///     .extract_many::<String>([("a", "text")])
    ///     .on_progress(move |p| bar.update(p));
    /// # let _ = bulk;
    /// ```
    pub fn update(&self, progress: &Progress) {
        if let Some(total) = progress.total {
            self.set_total_if_unknown(total);
        }
        self.bar.set_position(progress.done + progress.skipped);
        self.bar.set_message(message(progress));
    }

    /// Shows the totals and stops the bar, leaving it on screen (done by the run itself
    /// when its stream ends, for a bar given to
    /// [`progress_bar_with`](super::Bulk::progress_bar_with)).
    ///
    /// ```
    /// # use instructor_core::bulk::{ProgressBar, Totals};
    /// let bar = ProgressBar::hidden();
    /// bar.finish(&Totals::default());
    /// assert!(bar.indicatif().is_finished());
    /// ```
    pub fn finish(&self, totals: &Totals) {
        let done = totals.succeeded + totals.failed + totals.skipped;
        self.bar.set_position(done);
        let mut text = format!(
            "{} succeeded, {} failed",
            HumanCount(totals.succeeded),
            HumanCount(totals.failed)
        );
        if totals.skipped > 0 {
            text.push_str(&format!(", {} skipped", HumanCount(totals.skipped)));
        }
        text.push_str(&format!(
            ", {} tokens in {}",
            HumanCount(totals.usage.total_tokens),
            HumanDuration(totals.elapsed)
        ));
        self.bar.finish_with_message(text);
    }
}

impl<'c, T: Instruct + Send> Bulk<'c, T> {
    /// Shows the run on a terminal progress bar on standard error (hidden when it is not
    /// a terminal): done out of the total, failed, in flight, tokens, rate and ETA; see
    /// [`ProgressBar`]. Works beside [`on_progress`](Self::on_progress). Needs the
    /// `progress-bar` feature.
    ///
    /// ```
    /// # use instructor_core::{Client, testing::ScriptedProvider};
    /// # let client = Client::new(ScriptedProvider::new());
    /// let bulk = client.extract_many::<String>([("a", "text")]).progress_bar();
    /// # let _ = bulk;
    /// ```
    pub fn progress_bar(self) -> Self {
        self.progress_bar_with(ProgressBar::new(None))
    }

    /// Shows the run on `bar`: one made from your own `indicatif` bar (styled, in a
    /// `MultiProgress`, drawn elsewhere). Its length is set to the run's total if it has
    /// none. Needs the `progress-bar` feature.
    ///
    /// ```
    /// # use instructor_core::{Client, testing::ScriptedProvider};
    /// use instructor_core::bulk::ProgressBar;
    /// # let client = Client::new(ScriptedProvider::new());
    /// let bar = ProgressBar::from_indicatif(indicatif::ProgressBar::hidden());
    /// let bulk = client.extract_many::<String>([("a", "text")]).progress_bar_with(bar);
    /// # let _ = bulk;
    /// ```
    pub fn progress_bar_with(mut self, bar: ProgressBar) -> Self {
        self.bar = Some(bar);
        self
    }

    /// The callback told of each finished item: the caller's, and the progress bar's.
    pub(super) fn notify(&self) -> Option<Notify<'c>> {
        let Some(bar) = self.bar.clone() else {
            return self.on_progress.clone();
        };
        if let Some(total) = self.total {
            bar.set_total_if_unknown(total);
        }
        let theirs = self.on_progress.clone();
        Some(Arc::new(move |p: &Progress| {
            bar.update(p);
            if let Some(theirs) = &theirs {
                theirs(p);
            }
        }))
    }
}

/// The text after the bar: failed, in flight, tokens, rate and ETA.
fn message(p: &Progress) -> Cow<'static, str> {
    let mut text = format!(
        "{} failed, {} in flight, {} tokens, {:.1}/s",
        HumanCount(p.failed),
        HumanCount(p.in_flight),
        HumanCount(p.usage.total_tokens),
        p.rate()
    );
    if let Some(eta) = p.eta() {
        text.push_str(&format!(", ETA {}", HumanDuration(eta)));
    }
    Cow::Owned(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_message_shows_failed_in_flight_tokens_rate_and_eta() {
        let p = Progress {
            done: 10,
            failed: 2,
            in_flight: 4,
            skipped: 0,
            total: Some(30),
            usage: crate::Usage::new(1000, 234),
            elapsed: Duration::from_secs(5),
            limit: 8,
        };
        assert_eq!(
            message(&p),
            "2 failed, 4 in flight, 1,234 tokens, 2.0/s, ETA 10 seconds"
        );
        let bar = ProgressBar::hidden();
        bar.update(&p);
        assert_eq!(bar.indicatif().length(), Some(30));
        assert_eq!(bar.indicatif().position(), 10);
    }
}

//! The only place that writes to the terminal.
//!
//! stdout carries data, stderr carries status and hints. Color is decided by
//! `--color`, `NO_COLOR` and whether the stream is a terminal (anstream strips
//! styles otherwise). Progress bars appear only on a terminal, not with
//! `--quiet`, and only after a short delay so quick runs stay quiet.

use super::ColorWhen;
use anstream::{AutoStream, ColorChoice};
use anstyle::AnsiColor;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::{self, IsTerminal, Write};
use std::time::Duration;

/// Terminal access for commands.
pub struct Ui {
    choice: ColorChoice,
    quiet: bool,
}

impl Ui {
    /// Set up from the global flags.
    pub fn new(color: ColorWhen, quiet: bool) -> Self {
        let choice = match color {
            ColorWhen::Auto => ColorChoice::Auto,
            ColorWhen::Always => ColorChoice::Always,
            ColorWhen::Never => ColorChoice::Never,
        };
        Ui { choice, quiet }
    }

    /// stdout, with styles stripped when color is off.
    pub fn stdout(&self) -> AutoStream<io::StdoutLock<'static>> {
        AutoStream::new(io::stdout().lock(), self.choice)
    }

    /// stderr, with styles stripped when color is off.
    pub fn stderr(&self) -> AutoStream<io::StderrLock<'static>> {
        AutoStream::new(io::stderr().lock(), self.choice)
    }

    /// A status line on stderr (suppressed by --quiet).
    pub fn status(&self, message: &str) {
        if !self.quiet {
            let style = AnsiColor::Green.on_default().bold();
            let _ = writeln!(self.stderr(), "{style}{message}{style:#}");
        }
    }

    /// A warning line on stderr (suppressed by --quiet).
    pub fn warn(&self, message: &str) {
        if !self.quiet {
            let style = AnsiColor::Yellow.on_default().bold();
            let _ = writeln!(self.stderr(), "{style}warning:{style:#} {message}");
        }
    }

    /// An error report on stderr, always shown.
    pub fn error(&self, message: &str, hint: Option<&str>) {
        let style = AnsiColor::Red.on_default().bold();
        let hint_style = AnsiColor::Cyan.on_default();
        let mut err = self.stderr();
        let _ = writeln!(err, "{style}error:{style:#} {message}");
        if let Some(h) = hint {
            let _ = writeln!(err, "{hint_style}hint:{hint_style:#} {h}");
        }
    }

    /// A progress bar for `len` items, or a hidden one when not on a
    /// terminal, quiet, or producing machine output.
    pub fn progress(&self, len: u64, what: &str, machine_output: bool) -> ProgressBar {
        if self.quiet
            || machine_output
            || !io::stderr().is_terminal()
            || std::env::var_os("CI").is_some()
        {
            return ProgressBar::hidden();
        }
        let bar = ProgressBar::with_draw_target(Some(len), ProgressDrawTarget::stderr());
        bar.set_style(
            ProgressStyle::with_template("{msg} [{bar:30}] {pos}/{len}")
                .unwrap_or_else(|_| ProgressStyle::default_bar())
                .progress_chars("=> "),
        );
        bar.set_message(what.to_string());
        bar.enable_steady_tick(Duration::from_millis(200));
        bar
    }
}

/// A warning before the terminal settings are known (while opening the
/// repository): plain text on stderr.
pub fn early_warning(message: &str) {
    let mut err = io::stderr().lock();
    let _ = writeln!(err, "warning: {message}");
}

/// A library progress callback driving `bar`: `Some(total)` sets its
/// length, `None` counts one item done.
pub fn ticker(bar: &ProgressBar) -> impl Fn(Option<u64>) + Sync + '_ {
    move |n| match n {
        Some(total) => bar.set_length(total),
        None => bar.inc(1),
    }
}

/// Run `write` against stdout, treating a closed pipe as success.
pub fn write_stdout(
    ui: &Ui,
    write: impl FnOnce(&mut dyn Write) -> io::Result<()>,
) -> io::Result<()> {
    let mut out = ui.stdout();
    match write(&mut out).and_then(|()| out.flush()) {
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => Ok(()),
        other => other,
    }
}

//! What the binary shows on the terminal: logs on stderr (text or JSON lines), a spinner only
//! on a terminal, and the signal handler that asks a run to stop.

use std::io::{IsTerminal, Write};
use tracing::{error, warn};

/// Log format on stderr: `text` for people, `json` (one object per line) for schedulers.
#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

/// Logging on stderr (text or JSON lines) and, on a terminal, a progress spinner.
pub struct Ui {
    bar: Option<indicatif::ProgressBar>,
}

impl Ui {
    pub fn init(format: LogFormat, quiet: bool) -> Ui {
        use tracing_subscriber::prelude::*;
        let show_bar = format == LogFormat::Text && !quiet && std::io::stderr().is_terminal();
        let bar = show_bar.then(|| {
            let b = indicatif::ProgressBar::new_spinner();
            b.enable_steady_tick(std::time::Duration::from_millis(120));
            b
        });
        let level = if quiet { tracing::Level::WARN } else { tracing::Level::INFO };
        // The summary line is logged under its own target, kept even with -q.
        let filter = tracing_subscriber::filter::Targets::new().with_target("summary", tracing::Level::INFO).with_default(level);
        let writer = BarWriter(bar.clone());
        let registry = tracing_subscriber::registry();
        match format {
            LogFormat::Json => {
                let layer = tracing_subscriber::fmt::layer().json().flatten_event(true).with_writer(writer).with_filter(filter);
                registry.with(layer).init();
            }
            LogFormat::Text => {
                let ansi = std::io::stderr().is_terminal();
                let layer = tracing_subscriber::fmt::layer().with_ansi(ansi).with_target(false).with_writer(writer).with_filter(filter);
                registry.with(layer).init();
            }
        }
        Ui { bar }
    }

    pub fn stage(&self, name: &str) {
        if let Some(b) = &self.bar {
            b.set_message(name.to_string());
        }
    }

    pub fn done(&self) {
        if let Some(b) = &self.bar {
            b.finish_and_clear();
        }
    }
}

/// stderr, with the spinner lifted while a log line is written.
#[derive(Clone)]
struct BarWriter(Option<indicatif::ProgressBar>);

impl Write for BarWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        match &self.0 {
            Some(b) => b.suspend(|| std::io::stderr().write(buf)),
            None => std::io::stderr().write(buf),
        }
    }
    fn flush(&mut self) -> std::io::Result<()> {
        std::io::stderr().flush()
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for BarWriter {
    type Writer = BarWriter;
    fn make_writer(&'a self) -> BarWriter {
        self.clone()
    }
}

/// SIGINT / SIGTERM: ask the pipeline to stop at its next stage boundary (it then removes its
/// partial folder and exits 130); if a long stage keeps it from noticing within 10 s, exit 130
/// anyway: the kernel drops the lock and the next run removes the partial folder.
pub fn install_signal_handler() {
    let r = ctrlc::set_handler(|| {
        gridgov::vocab::interrupt::request();
        error!("interrupted: stopping; the previous run stays published");
        std::thread::sleep(std::time::Duration::from_secs(10));
        std::process::exit(130);
    });
    if let Err(e) = r {
        warn!("cannot install the signal handler ({e}); an interrupted run exits without cleaning up its partial folder");
    }
}

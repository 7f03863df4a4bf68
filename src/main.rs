//! The `gridgov` binary: parse arguments, set up logging and signals, run, exit with a code.

mod cli;

use clap::Parser;

fn main() {
    let cli = cli::Cli::parse();
    let ui = cli::Ui::init(cli.log_format, cli.quiet);
    cli::install_signal_handler();
    let code = match cli::run(cli, &ui) {
        Ok(code) => code,
        Err(e) => {
            tracing::error!("{e:#}");
            4
        }
    };
    std::process::exit(code);
}

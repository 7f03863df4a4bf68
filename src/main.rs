//! The `gridgov` binary: parse arguments, run, turn the result into an exit code.

mod cli;

use clap::Parser;

fn main() {
    let cli = cli::Cli::parse();
    let code = match cli::run(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            4
        }
    };
    std::process::exit(code);
}

//! The `gridgov` binary: parse arguments, set up logging and signals, run, exit with a code.

mod cli;

use clap::Parser;

// Batches allocate and free buffers of tens of megabytes. glibc's malloc hands them back to
// the kernel, and every new batch page-faults them in again: a first touch costs about a
// microsecond per kilobyte on this kind of virtual machine, and `clear_page_erms` was a fifth
// of a run in `perf`. mimalloc keeps freed memory for reuse, and with purging off
// (`configure_allocator`) it never gives it back before the process ends.
#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// `mi_option_purge_delay` in mimalloc.h (v3, as bundled by libmimalloc-sys 0.1.49; the
/// sys crate has no constant for it). Its default is 10 ms; -1 turns purging off.
const MI_OPTION_PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

fn configure_allocator() {
    // SAFETY: plain FFI calls on an option index; mimalloc reads options under its own lock.
    // The index is checked against the option's documented default before it is set.
    unsafe {
        if libmimalloc_sys::mi_option_get(MI_OPTION_PURGE_DELAY) == 10 {
            libmimalloc_sys::mi_option_set(MI_OPTION_PURGE_DELAY, -1);
        }
    }
}

fn main() {
    configure_allocator();
    let cli = cli::Cli::parse();
    let ui = cli::Ui::init(cli.log_format, cli.quiet);
    cli::install_signal_handler();
    let code = match cli::run(cli, &ui) {
        Ok(code) => code,
        Err(failure) => {
            // Messages already carry their cause (see vocab/error.rs): one line per failure.
            let code = failure.exit_code();
            tracing::error!(exit_code = code, "{failure}");
            code
        }
    };
    std::process::exit(code);
}

//! The binary: parses arguments and hands over to `cli::run`.

use clap::Parser;

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    let cli = bucket_access_operator::cli::Cli::parse();
    bucket_access_operator::cli::run(cli).into()
}
